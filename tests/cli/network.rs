//! The default bridge network with the real docker CLI: addresses, NAT
//! rules, container-to-container traffic and published ports.

use std::io::Read;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use berth_e2e::{engine_with_busybox, text};

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

    let rules = Command::new("nft").args(["list", "table", "ip", &format!("berth_{}", d.bridge())]).output().unwrap();
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
    let mapping = d.docker_ok(&["port", "pub", "80"]);
    assert!(mapping.contains(&format!("0.0.0.0:{port}")), "{mapping}");
    let ps = d.docker_ok(&["ps", "--format", "{{.Ports}}"]);
    assert!(ps.contains(&format!("0.0.0.0:{port}->80/tcp")), "{ps}");

    // The same host port again is refused, and nothing is left running.
    let clash = d.docker(&["run", "-d", "--name", "clash", "-p", &format!("{port}:80"), &img, "sleep", "30"]);
    assert!(!clash.status.success());
    assert!(text(&clash.stderr).contains("port is already allocated"), "{}", text(&clash.stderr));

    // -P publishes exposed ports on free host ports.
    d.docker_ok(&["run", "-d", "--name", "any", "--expose", "80", "-P", &img, "sh", "-c", SERVE]);
    let bound = d.docker_ok(&["port", "any", "80/tcp"]);
    let host_port = bound.lines().next().unwrap().rsplit(':').next().unwrap().trim().to_string();
    assert!(read_from(&format!("127.0.0.1:{host_port}")).starts_with("hello-from-"));

    // Stopping frees the port.
    d.docker_ok(&["rm", "-f", "pub"]);
    std::net::TcpListener::bind(("0.0.0.0", port)).expect("port still held after rm");
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
    let rules = text(&Command::new("nft").args(["list", "table", "ip", &table]).output().unwrap().stdout);
    assert!(rules.contains("drop") && !rules.contains("masquerade"), "{rules}");
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
