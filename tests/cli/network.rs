//! The default bridge network with the real docker CLI: addresses, NAT
//! rules, container-to-container traffic and published ports.

use std::io::Read;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use berth_e2e::outside::Outside;
use berth_e2e::{engine_with_busybox, free_host_port, text};

/// Reads what a TCP server says on connect, retrying while it starts.
fn read_from(addr: &str) -> String {
    for _ in 0..50 {
        if let Ok(mut s) = TcpStream::connect(addr) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if !out.is_empty() {
                return out;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing answered on {addr}");
}

const SERVE: &str = "while true; do nc -l -p 80 -e echo hello-from-$(hostname); done";

#[tokio::test]
async fn bridge_addresses_and_container_traffic() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "-d", "--name", "web", &img, "sh", "-c", SERVE]);
    let ip = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.IPAddress}}", "web"]).trim().to_string();
    let subnet = d.docker_ok(&["network", "inspect", "--format", "{{(index .IPAM.Config 0).Subnet}}", "bridge"]);
    let prefix = subnet.trim().rsplit_once('.').unwrap().0.to_string();
    assert!(ip.starts_with(&prefix), "{ip} not in {subnet}");
    let inside = d.docker_ok(&["exec", "web", "ip", "-o", "-4", "addr", "show", "eth0"]);
    assert!(inside.contains(&format!("{ip}/")), "{inside}");

    // Host → container and container → container, by address.
    let host_id = d.docker_ok(&["inspect", "--format", "{{.Config.Hostname}}", "web"]).trim().to_string();
    assert_eq!(read_from(&format!("{ip}:80")).trim(), format!("hello-from-{host_id}"));
    let out = d.docker_ok(&["run", "--rm", &img, "sh", "-c", &format!("nc {ip} 80 </dev/null")]);
    assert_eq!(out.trim(), format!("hello-from-{host_id}"));
    // The container's own name resolves through /etc/hosts.
    assert!(d.docker_ok(&["exec", "web", "cat", "/etc/hosts"]).contains(&format!("{ip}\t{host_id}")));

    let members = d.docker_ok(&["network", "inspect", "--format", "{{range .Containers}}{{.Name}}{{end}}", "bridge"]);
    assert_eq!(members.trim(), "web");
    let names = d.docker_ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    assert_eq!(names, "bridge bridge\nhost host\nnone null\n");

    let rules = Command::new("nft").args(["list", "table", "inet", &format!("berth_{}", d.bridge())]).output().unwrap();
    assert!(text(&rules.stdout).contains("masquerade"), "{}", text(&rules.stdout));

    d.docker_ok(&["rm", "-f", "web"]);
    let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    let veth = format!("vb{}", &host_id[..12.min(host_id.len())]);
    assert!(!text(&links.stdout).contains(&veth), "veth left behind");
}

#[tokio::test]
async fn published_ports() {
    let (_reg, d, img) = engine_with_busybox().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    d.docker_ok(&["run", "-d", "--name", "pub", "-p", &format!("{port}:80"), &img, "sh", "-c", SERVE]);
    assert!(read_from(&format!("127.0.0.1:{port}")).starts_with("hello-from-"));
    // No host IP means every address of both families, as with dockerd: the IPv6 loopback reaches
    // this IPv4-only container through the [::] proxy.
    let mapping = d.docker_ok(&["port", "pub", "80"]);
    assert_eq!(mapping, format!("0.0.0.0:{port}\n[::]:{port}\n"));
    assert!(read_from(&format!("[::1]:{port}")).starts_with("hello-from-"));
    let ps = d.docker_ok(&["ps", "--format", "{{.Ports}}"]);
    assert!(ps.contains(&format!("0.0.0.0:{port}->80/tcp, [::]:{port}->80/tcp")), "{ps}");

    // The same host port again is refused, and nothing is left running.
    let clash = d.docker(&["run", "-d", "--name", "clash", "-p", &format!("{port}:80"), &img, "sleep", "30"]);
    assert!(!clash.status.success());
    assert!(text(&clash.stderr).contains("port is already allocated"), "{}", text(&clash.stderr));

    // -P publishes exposed ports on free host ports.
    d.docker_ok(&["run", "-d", "--name", "any", "--expose", "80", "-P", &img, "sh", "-c", SERVE]);
    let bound = d.docker_ok(&["port", "any", "80/tcp"]);
    let host_port = bound.lines().next().unwrap().rsplit(':').next().unwrap().trim().to_string();
    assert_eq!(bound, format!("0.0.0.0:{host_port}\n[::]:{host_port}\n"), "one port on both families");
    assert!(read_from(&format!("127.0.0.1:{host_port}")).starts_with("hello-from-"));
    assert!(read_from(&format!("[::1]:{host_port}")).starts_with("hello-from-"));

    // Stopping frees the port on both families ([::] without IPV6_V6ONLY checks both).
    d.docker_ok(&["rm", "-f", "pub"]);
    std::net::TcpListener::bind(("::", port)).expect("port still held after rm");
}

#[tokio::test]
async fn user_defined_networks() {
    let (_reg, d, img) = engine_with_busybox().await;
    let id = d.docker_ok(&["network", "create", "--subnet", "10.99.7.0/24", "--label", "app=berth", "appnet"]);
    assert_eq!(id.trim().len(), 64);
    let dup = d.docker(&["network", "create", "appnet"]);
    assert!(text(&dup.stderr).contains("network with name appnet already exists"), "{}", text(&dup.stderr));
    let overlap = d.docker(&["network", "create", "--subnet", "10.99.7.128/25", "other"]);
    assert!(text(&overlap.stderr).contains("overlaps"), "{}", text(&overlap.stderr));
    let custom = d.docker_ok(&["network", "ls", "--filter", "type=custom", "--format", "{{.Name}}"]);
    assert_eq!(custom.trim(), "appnet");

    // Members find each other by name and alias.
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "db",
        "--network",
        "appnet",
        "--network-alias",
        "database",
        &img,
        "sh",
        "-c",
        "while true; do nc -l -p 5432 -e echo db-here; done",
    ]);
    let ip = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.Networks.appnet.IPAddress}}", "db"]);
    assert!(ip.starts_with("10.99.7."), "{ip}");
    let out = d.docker_ok(&[
        "run",
        "--rm",
        "--network",
        "appnet",
        &img,
        "sh",
        "-c",
        "sleep 0.3; nc db 5432 </dev/null; sleep 0.5; nc database 5432 </dev/null",
    ]);
    assert_eq!(out, "db-here\ndb-here\n");
    // The default bridge has no names, as in Docker.
    let hosts = d.docker_ok(&["run", "--rm", &img, "cat", "/etc/hosts"]);
    assert!(!hosts.contains(" db"), "{hosts}");

    let members = d.docker_ok(&["network", "inspect", "--format", "{{range .Containers}}{{.Name}}{{end}}", "appnet"]);
    assert_eq!(members.trim(), "db");
    let busy = d.docker(&["network", "rm", "appnet"]);
    assert!(text(&busy.stderr).contains("has active endpoints"), "{}", text(&busy.stderr));
    d.docker_ok(&["rm", "-f", "db"]);
    d.docker_ok(&["network", "rm", "appnet"]);
    let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    assert!(!text(&links.stdout).contains(&format!("br-{}", &id.trim()[..12])), "bridge left behind");

    // An internal network has no way out: no NAT, forwarding dropped.
    d.docker_ok(&["network", "create", "--internal", "--subnet", "10.99.8.0/24", "sealed"]);
    d.docker_ok(&["run", "--rm", "--network", "sealed", &img, "true"]);
    let dev = d.docker_ok(&[
        "network",
        "inspect",
        "--format",
        "{{index .Options \"com.docker.network.bridge.name\"}}",
        "sealed",
    ]);
    let table = format!("berth_{}", dev.trim().replace('-', "_"));
    let rules = text(&Command::new("nft").args(["list", "table", "inet", &table]).output().unwrap().stdout);
    assert!(rules.contains("drop") && !rules.contains("masquerade"), "{rules}");
    // --gateway and --ip-range: addresses come from the range (aux addresses
    // held back), the bridge and the default route use the gateway; --ip
    // may pick any free one.
    d.docker_ok(&[
        "network",
        "create",
        "--subnet",
        "10.99.9.0/24",
        "--gateway",
        "10.99.9.254",
        "--ip-range",
        "10.99.9.128/25",
        "--aux-address",
        "router=10.99.9.129",
        "--attachable",
        "ranged",
    ]);
    let shape = d.docker_ok(&[
        "network",
        "inspect",
        "--format",
        "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}} {{.Attachable}}",
        "ranged",
    ]);
    assert_eq!(shape.trim(), "10.99.9.0/24 10.99.9.254 10.99.9.128/25 true");
    let aux = d.docker_ok(&[
        "network",
        "inspect",
        "--format",
        "{{json (index .IPAM.Config 0).AuxiliaryAddresses}}",
        "ranged",
    ]);
    assert_eq!(aux.trim(), r#"{"router":"10.99.9.129"}"#);
    let route =
        d.docker_ok(&["run", "--rm", "--network", "ranged", &img, "sh", "-c", "ip -o -4 addr show eth0; ip route"]);
    assert!(route.contains("inet 10.99.9.130/24") && route.contains("default via 10.99.9.254"), "{route}");
    let fixed =
        d.docker_ok(&["run", "--rm", "--network", "ranged", "--ip", "10.99.9.10", &img, "ip", "-o", "-4", "addr"]);
    assert!(fixed.contains("10.99.9.10/24"), "{fixed}");
    let on_gateway = d.docker(&["run", "--rm", "--network", "ranged", "--ip", "10.99.9.254", &img, "true"]);
    assert!(text(&on_gateway.stderr).contains("Address already in use"), "{}", text(&on_gateway.stderr));
    let on_bridge = d.docker(&["run", "--rm", "--ip", "10.99.9.10", &img, "true"]);
    assert!(text(&on_bridge.stderr).contains("supported on user defined networks only"), "{}", text(&on_bridge.stderr));
    let outside = d.docker(&["network", "create", "--subnet", "10.99.10.0/24", "--gateway", "10.99.11.1", "x"]);
    assert!(text(&outside.stderr).contains("no matching subnet for gateway 10.99.11.1"), "{}", text(&outside.stderr));
    let wide = d.docker(&["network", "create", "--subnet", "10.99.10.0/24", "--ip-range", "10.99.0.0/16", "x"]);
    assert!(text(&wide.stderr).contains("no matching subnet for range"), "{}", text(&wide.stderr));

    let missing = d.docker(&["network", "rm", "nope"]);
    assert!(text(&missing.stderr).contains("network nope not found"), "{}", text(&missing.stderr));
    d.docker_ok(&["network", "prune", "-f"]);
    assert_eq!(d.docker_ok(&["network", "ls", "--filter", "type=custom", "-q"]), "");
}

#[tokio::test]
async fn add_host_and_host_gateway() {
    let (_reg, d, img) = engine_with_busybox().await;
    let gateway = d.docker_ok(&["network", "inspect", "--format", "{{(index .IPAM.Config 0).Gateway}}", "bridge"]);
    let hosts = d.docker_ok(&[
        "run",
        "--rm",
        "--add-host",
        "db.local:10.9.8.7",
        "--add-host",
        "host.docker.internal:host-gateway",
        &img,
        "cat",
        "/etc/hosts",
    ]);
    assert!(hosts.contains("10.9.8.7\tdb.local"), "{hosts}");
    assert!(hosts.contains(&format!("{}\thost.docker.internal", gateway.trim())), "{hosts}");
    let none =
        d.docker_ok(&["run", "--rm", "--network", "none", "--add-host", "x.local:10.1.1.1", &img, "cat", "/etc/hosts"]);
    assert!(none.contains("10.1.1.1\tx.local"), "{none}");
    let bad = d.docker(&["run", "--rm", "--add-host", "bad:notanip", &img, "true"]);
    assert!(
        text(&bad.stderr).contains("invalid IP address in add-host") || !bad.status.success(),
        "{}",
        text(&bad.stderr)
    );
}

/// The address `name` resolves to from a container on `network`, via the
/// embedded DNS server; empty if it does not resolve.
fn lookup(d: &berth_e2e::berthd::Berthd, img: &str, network: &str, name: &str) -> String {
    let script = format!("nslookup {name} 2>/dev/null | sed -n '/^Name:/,$ s/^Address: *//p' | tail -n 1");
    d.docker_ok(&["run", "--rm", "--network", network, img, "sh", "-c", &script]).trim().to_string()
}

#[tokio::test]
async fn embedded_dns_isolation_and_runtime_connect() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["network", "create", "--subnet", "10.99.11.0/24", "front"]);
    d.docker_ok(&["network", "create", "--subnet", "10.99.12.0/24", "back"]);
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "front",
        "--network-alias",
        "www",
        &img,
        "sh",
        "-c",
        SERVE,
    ]);
    let ip = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.Networks.front.IPAddress}}", "web"]);
    let ip = ip.trim().to_string();

    // Names and aliases resolve through the network's DNS server.
    let resolv = d.docker_ok(&["run", "--rm", "--network", "front", &img, "cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 10.99.11.1"), "{resolv}");
    assert_eq!(lookup(&d, &img, "front", "web"), ip);
    assert_eq!(lookup(&d, &img, "front", "www"), ip);
    assert_eq!(lookup(&d, &img, "front", "web.front"), ip);
    let dns_names = d.docker_ok(&["inspect", "--format", "{{json .NetworkSettings.Networks.front.DNSNames}}", "web"]);
    assert!(dns_names.contains("\"web\"") && dns_names.contains("\"www\""), "{dns_names}");
    // Not from another network, nor from the default bridge (as in Docker).
    assert_eq!(lookup(&d, &img, "back", "web"), "");
    assert_eq!(lookup(&d, &img, "bridge", "web"), "");
    // Networks are isolated from each other, even by address.
    let probe = format!("nc -w 2 {ip} 80 </dev/null || echo blocked");
    assert_eq!(d.docker_ok(&["run", "--rm", "--network", "back", &img, "sh", "-c", &probe]).trim(), "blocked");

    // Connected at runtime: a second interface, reachable and resolvable.
    d.docker_ok(&["network", "connect", "--alias", "api", "back", "web"]);
    let inside = d.docker_ok(&["exec", "web", "ip", "-o", "-4", "addr", "show", "eth1"]);
    assert!(inside.contains("10.99.12."), "{inside}");
    let back_ip = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.Networks.back.IPAddress}}", "web"]);
    assert_eq!(lookup(&d, &img, "back", "api"), back_ip.trim());
    let reply = d.docker_ok(&["run", "--rm", "--network", "back", &img, "sh", "-c", "nc -w 5 web 80 </dev/null"]);
    assert!(reply.starts_with("hello-from-"), "{reply}");
    let again = d.docker(&["network", "connect", "back", "web"]);
    assert!(text(&again.stderr).contains("already exists in network back"), "{}", text(&again.stderr));

    // And disconnected: the interface and the name go.
    d.docker_ok(&["network", "disconnect", "back", "web"]);
    let links = d.docker_ok(&["exec", "web", "ip", "-o", "link"]);
    assert!(!links.contains("eth1"), "{links}");
    assert_eq!(lookup(&d, &img, "back", "api"), "");
    let gone = d.docker(&["network", "disconnect", "back", "web"]);
    assert!(text(&gone.stderr).contains("is not connected to network back"), "{}", text(&gone.stderr));

    // A stopped container keeps a connected network for its next start;
    // `--network` twice joins both at once.
    d.docker_ok(&["create", "--name", "late", "--network", "front", &img, "sleep", "300"]);
    d.docker_ok(&["network", "connect", "back", "late"]);
    d.docker_ok(&["start", "late"]);
    let nets =
        d.docker_ok(&["inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "late"]);
    assert_eq!(nets.trim(), "back front");
    let both = d.docker_ok(&[
        "run",
        "--rm",
        "--network",
        "front",
        "--network",
        "back",
        &img,
        "sh",
        "-c",
        "ip -o -4 addr | grep -c eth",
    ]);
    assert_eq!(both.trim(), "2");
    let filtered = d.docker_ok(&["ps", "--filter", "network=back", "--format", "{{.Names}}"]);
    assert_eq!(filtered.trim(), "late");

    // A renamed container answers to its new name.
    d.docker_ok(&["rename", "web", "site"]);
    assert_eq!(lookup(&d, &img, "front", "site"), ip);
    assert_eq!(lookup(&d, &img, "front", "web"), "");

    // Names survive an engine restart.
    let late_ip = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.Networks.back.IPAddress}}", "late"]);
    let mut d = d;
    d.crash_and_restart();
    assert_eq!(lookup(&d, &img, "back", "late"), late_ip.trim());
    d.docker_ok(&["rm", "-f", "site", "late"]);
}

/// A UDP socket bound in the network namespace at `ns` (only the thread
/// that makes it enters the namespace; the socket stays there).
fn udp_socket_in(ns: &str, addr: &str) -> std::net::UdpSocket {
    let (ns, addr) = (std::fs::File::open(ns).unwrap(), addr.to_string());
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        std::net::UdpSocket::bind(addr).unwrap()
    })
    .join()
    .unwrap()
}

/// A UDP server answering `pong` in the container whose init is `pid`
/// (busybox has no UDP server).
fn udp_pong_in(pid: &str, port: u16) {
    let s = udp_socket_in(&format!("/proc/{pid}/ns/net"), &format!("0.0.0.0:{port}"));
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((_, peer)) = s.recv_from(&mut buf) {
            let _ = s.send_to(b"pong\n", peer);
        }
    });
}

/// Sends `ping` from `s` to a UDP server and returns its first answer.
fn udp_ask(s: &std::net::UdpSocket, addr: &str) -> String {
    s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut buf = [0u8; 512];
    for _ in 0..50 {
        s.send_to(b"ping\n", addr).unwrap();
        if let Ok(n) = s.recv(&mut buf) {
            return String::from_utf8_lossy(&buf[..n]).into_owned();
        }
    }
    panic!("no UDP answer from {addr}");
}

#[tokio::test]
async fn outside_traffic_udp_and_port_ranges() {
    let (_reg, d, img) = engine_with_busybox().await;
    let outside = Outside::new();
    let (tcp, udp) = (free_host_port(), free_host_port());
    // The first port of the range is taken: the next one is bound.
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let first = taken.local_addr().unwrap().port();
    let range = format!("{first}-{}:8080", first + 2);
    // Each answer tells who asked: the peer of its connection.
    let serve = "while true; do nc -l -p 80 -e netstat -tn; done & \
                 while true; do nc -l -p 8080 -e echo ranged; done";
    let udp_map = format!("{udp}:53/udp");
    let tcp_map = format!("{tcp}:80");
    d.docker_ok(&["run", "-d", "--name", "who", "-p", &tcp_map, "-p", &udp_map, "-p", &range, &img, "sh", "-c", serve]);
    let ip = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.IPAddress}}", "who"]).trim().to_string();
    udp_pong_in(d.docker_ok(&["inspect", "--format", "{{.State.Pid}}", "who"]).trim(), 53);

    // From another machine: DNAT straight to the container, which sees the
    // client's own address.
    let seen = outside.read(&outside.host_ip, tcp);
    assert!(seen.contains(&format!("{}:80", ip)) && seen.contains("10.98."), "{seen}");
    // From the host's loopback: the proxy.
    let local = read_from(&format!("127.0.0.1:{tcp}"));
    assert!(local.contains(&format!("{ip}:80")), "{local}");

    // UDP, through the proxy and from outside.
    let local = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(udp_ask(&local, &format!("127.0.0.1:{udp}")), "pong\n");
    let remote = udp_socket_in(&format!("/run/netns/{}", outside.ns), "0.0.0.0:0");
    assert_eq!(udp_ask(&remote, &format!("{}:{udp}", outside.host_ip)), "pong\n");
    let mapping = d.docker_ok(&["port", "who", "53/udp"]);
    assert_eq!(mapping.trim(), format!("0.0.0.0:{udp}\n[::]:{udp}"));

    let ranged = d.docker_ok(&["port", "who", "8080"]);
    let bound: u16 = ranged.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert!(bound > first && bound <= first + 2, "{ranged}");
    assert!(read_from(&format!("127.0.0.1:{bound}")).starts_with("ranged"));
    let full = d.docker(&["run", "-d", "-p", &format!("{first}-{first}:80"), &img, "sleep", "30"]);
    assert!(text(&full.stderr).contains("port is already allocated"), "{}", text(&full.stderr));
    let bad = d.docker(&["run", "-d", "-p", "5000:80/sctp", &img, "sleep", "30"]);
    assert!(text(&bad.stderr).contains("use tcp or udp"), "{}", text(&bad.stderr));

    // With the engine down, outside traffic still flows; after its restart
    // the rules are the same, not doubled.
    let table = format!("berth_{}", d.bridge());
    let dnat_rules = || -> usize {
        let out = Command::new("nft").args(["list", "table", "inet", &table]).output().unwrap();
        text(&out.stdout).matches(" dnat ip to ").count()
    };
    assert_eq!(dnat_rules(), 3);
    let mut d = d;
    d.crash();
    assert!(outside.read(&outside.host_ip, tcp).contains("10.98."));
    d.restart();
    assert_eq!(dnat_rules(), 3);
    assert!(read_from(&format!("127.0.0.1:{tcp}")).contains(&format!("{ip}:80")));

    // Gone with the container.
    d.docker_ok(&["rm", "-f", "who"]);
    assert_eq!(dnat_rules(), 0);
    std::net::UdpSocket::bind(("0.0.0.0", udp)).expect("udp port still held after rm");
    drop(taken);
}

#[tokio::test]
async fn links_legacy_and_on_user_networks() {
    let (_reg, d, img) = engine_with_busybox().await;
    // Legacy links on the default bridge: /etc/hosts and the variables.
    d.docker_ok(&["run", "-d", "--name", "db", "-e", "SECRET=s3", "--expose", "5432", &img, "sleep", "300"]);
    let ip = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.IPAddress}}", "db"]).trim().to_string();
    let host = d.docker_ok(&["inspect", "--format", "{{.Config.Hostname}}", "db"]).trim().to_string();
    let seen =
        d.docker_ok(&["run", "--rm", "--name", "web", "--link", "db:data", &img, "sh", "-c", "env; cat /etc/hosts"]);
    for line in [
        "DATA_NAME=/web/data".to_string(),
        "DATA_ENV_SECRET=s3".to_string(),
        format!("DATA_PORT=tcp://{ip}:5432"),
        format!("DATA_PORT_5432_TCP_ADDR={ip}"),
        "DATA_PORT_5432_TCP_PROTO=tcp".to_string(),
        format!("{ip}\tdata {host} db"),
    ] {
        assert!(seen.lines().any(|l| l == line), "{line} missing from:\n{seen}");
    }
    assert!(!seen.contains("DATA_ENV_PATH="), "{seen}");
    d.docker_ok(&["create", "--name", "idle", &img, "true"]);
    let stopped = d.docker(&["run", "--rm", "--link", "idle", &img, "true"]);
    assert!(
        text(&stopped.stderr).contains("Cannot link to a non running container: /idle AS"),
        "{}",
        text(&stopped.stderr)
    );
    // A link is removed by its name, `PARENT/ALIAS` (docker-py sends a double slash).
    d.docker_ok(&["create", "--name", "site", "--link", "db:data", &img, "true"]);
    assert_eq!(d.request("DELETE", "/containers//site/data?link=1", &[], b"").status, 204);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{json .HostConfig.Links}}", "site"]).trim(), "[]");
    assert_eq!(d.request("DELETE", "/containers/site/data?link=1", &[], b"").status, 404);
    assert_eq!(d.request("DELETE", "/containers/site/data", &[], b"").message(), "page not found");
    let missing = d.docker(&["run", "--rm", "--link", "nope:x", &img, "true"]);
    assert!(text(&missing.stderr).contains("could not get container for nope"), "{}", text(&missing.stderr));

    // On a user-defined network: a name only the linking container resolves.
    d.docker_ok(&["network", "create", "--subnet", "10.99.41.0/24", "linknet"]);
    d.docker_ok(&["run", "-d", "--name", "api", "--network", "linknet", &img, "sleep", "300"]);
    let api_ip = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.Networks.linknet.IPAddress}}", "api"]);
    let resolve = |extra: &[&str]| {
        let mut args = vec!["run", "--rm", "--network", "linknet"];
        args.extend_from_slice(extra);
        let script = "nslookup backend 2>/dev/null | sed -n '/^Name:/,$ s/^Address: *//p' | tail -n 1";
        args.extend([img.as_str(), "sh", "-c", script]);
        d.docker_ok(&args).trim().to_string()
    };
    assert_eq!(resolve(&["--link", "api:backend"]), api_ip.trim());
    assert_eq!(resolve(&[]), "");
    // Connected with a link: inspect shows it.
    d.docker_ok(&["run", "-d", "--name", "late", &img, "sleep", "300"]);
    d.docker_ok(&["network", "connect", "--link", "api:svc", "linknet", "late"]);
    let links = d.docker_ok(&["inspect", "--format", "{{json .NetworkSettings.Networks.linknet.Links}}", "late"]);
    assert_eq!(links.trim(), r#"["api:svc"]"#);
    d.docker_ok(&["rm", "-f", "db", "idle", "api", "late", "site"]);
}
