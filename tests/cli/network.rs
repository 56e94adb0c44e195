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
