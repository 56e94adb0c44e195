//! IPv6 with the real docker CLI: dual-stack user-defined networks (addresses,
//! a fixed `--ip6`, names answered over AAAA, NAT, a published port reached
//! over IPv6 from another machine) and the default bridge with daemon.json's
//! `ipv6` and `fixed-cidr-v6`.

use std::process::Command;

use berth_e2e::outside::Outside;
use berth_e2e::{engine_with_busybox, fixtures, free_host_port, text, Berthd, Registry};

#[tokio::test]
async fn dual_stack_networks() {
    let (_reg, d, img) = engine_with_busybox().await;
    let outside = Outside::new();
    d.docker_ok(&["network", "create", "--ipv6", "--subnet", "fd42:b0:1::/64", "--gateway", "fd42:b0:1::fffe", "dual"]);
    let pools = d.docker_ok(&[
        "network",
        "inspect",
        "--format",
        "{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}},{{.Gateway}} {{end}}",
        "dual",
    ]);
    assert!(pools.starts_with("true ") && pools.contains(" fd42:b0:1::/64,fd42:b0:1::fffe"), "{pools}");

    // Each answer tells who asked: the peer of its connection.
    let port = free_host_port();
    let serve = "while true; do nc -l -p 80 -e netstat -tn; done";
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "dual",
        "-p",
        &format!("{port}:80"),
        &img,
        "sh",
        "-c",
        serve,
    ]);
    let v6 = d.docker_ok(&[
        "inspect",
        "--format",
        "{{with index .NetworkSettings.Networks \"dual\"}}{{.GlobalIPv6Address}}/{{.GlobalIPv6PrefixLen}} {{.IPv6Gateway}}{{end}}",
        "web",
    ]);
    assert_eq!(v6.trim(), "fd42:b0:1::1/64 fd42:b0:1::fffe");
    let members =
        d.docker_ok(&["network", "inspect", "--format", "{{range .Containers}}{{.IPv6Address}}{{end}}", "dual"]);
    assert_eq!(members.trim(), "fd42:b0:1::1/64");

    // A fixed address; the other container by name over AAAA, and reached.
    let probe = "ip -6 addr show eth0; grep fd42 /etc/hosts; nslookup -type=AAAA web; ping6 -c1 -W3 web";
    let out = d.docker_ok(&["run", "--rm", "--network", "dual", "--ip6", "fd42:b0:1::99", &img, "sh", "-c", probe]);
    assert!(out.contains("inet6 fd42:b0:1::99/64"), "{out}");
    assert!(out.contains("fd42:b0:1::99\t"), "hosts file: {out}");
    assert!(out.contains("Address: fd42:b0:1::1"), "AAAA: {out}");
    assert!(out.contains("64 bytes from fd42:b0:1::1"), "ping6: {out}");
    let taken = d.docker(&["run", "--rm", "--network", "dual", "--ip6", "fd42:b0:1::1", &img, "true"]);
    assert!(text(&taken.stderr).contains("Address already in use: fd42:b0:1::1"), "{}", text(&taken.stderr));
    let on_default = d.docker(&["run", "--rm", "--ip6", "fd42:b0:1::7", &img, "true"]);
    assert!(
        text(&on_default.stderr).contains("user specified IP address is supported on user defined networks only"),
        "{}",
        text(&on_default.stderr)
    );

    // From another machine over IPv6: DNAT straight to the container's IPv6
    // address (not the [::] proxy), so it sees the client.
    let seen = outside.read(&outside.host_ip6, port);
    assert!(seen.contains("fd42:b0:1::1:80") && seen.contains("fd98:"), "{seen}");
    let device = d.docker_ok(&[
        "network",
        "inspect",
        "--format",
        "{{index .Options \"com.docker.network.bridge.name\"}}",
        "dual",
    ]);
    let table = format!("berth_{}", device.trim().replace('-', "_"));
    let rules = || text(&Command::new("nft").args(["list", "table", "inet", &table]).output().unwrap().stdout);
    let now = rules();
    assert!(now.contains("ip6 saddr fd42:b0:1::/64") && now.contains("masquerade"), "{now}");
    assert!(now.contains(" dnat ip6 to [fd42:b0:1::1]:80") && now.contains(" dnat ip to "), "{now}");
    d.docker_ok(&["rm", "-f", "web"]);
    let after = rules();
    assert!(!after.contains(" dnat ip"), "{after}");
    d.docker_ok(&["network", "rm", "dual"]);
    assert!(rules().is_empty(), "table left behind");

    // Without a subnet: a unique local /64 of its own; overlaps refused.
    d.docker_ok(&["network", "create", "--ipv6", "auto6"]);
    let auto = d.docker_ok(&["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", "auto6"]);
    let v6 = auto.split_whitespace().nth(1).unwrap_or_default().to_string();
    assert!(v6.starts_with("fd") && v6.ends_with("::/64"), "{auto}");
    let clash = d.docker(&["network", "create", "--ipv6", "--subnet", &v6.replace("/64", "/48"), "clash"]);
    assert!(text(&clash.stderr).contains("Pool overlaps"), "{}", text(&clash.stderr));
    let no_flag = d.docker(&["network", "create", "--subnet", "fd42:b0:2::/64", "half"]);
    assert!(text(&no_flag.stderr).contains("IPv6 is not enabled"), "{}", text(&no_flag.stderr));
    d.docker_ok(&["network", "rm", "auto6"]);
}

/// daemon.json's `bridge`, `bip`, `ipv6` and `fixed-cidr-v6` shape the default bridge, as dockerd's.
#[tokio::test]
async fn ipv6_on_the_default_bridge() {
    let reg = Registry::start().await;
    let fx = fixtures::push_all(&reg).await;
    let n = std::process::id() % 250;
    let device = format!("b6d{n}");
    let config = format!(
        r#"{{"bridge": "{device}", "bip": "10.199.{n}.1/24", "ipv6": true, "fixed-cidr-v6": "fd42:b0:d{n}::/64"}}"#
    );
    let mut d = Berthd::start_with(&[], &config);
    assert!(!d.log().contains("not supported"), "{}", d.log());
    let img = fx.single;
    d.docker_ok(&["pull", "-q", &img]);
    let outside = Outside::new();

    let pools = d.docker_ok(&[
        "network",
        "inspect",
        "--format",
        "{{.EnableIPv6}} {{index .Options \"com.docker.network.bridge.name\"}} {{range .IPAM.Config}}{{.Subnet}} {{end}}",
        "bridge",
    ]);
    assert_eq!(pools.trim(), format!("true {device} 10.199.{n}.0/24 fd42:b0:d{n}::/64"));

    let port = free_host_port();
    let serve = "while true; do nc -l -p 80 -e netstat -tn; done";
    d.docker_ok(&["run", "-d", "--name", "web", "-p", &format!("{port}:80"), &img, "sh", "-c", serve]);
    let v6 = d.docker_ok(&["inspect", "--format", "{{.NetworkSettings.GlobalIPv6Address}}", "web"]);
    let v6 = v6.trim();
    assert!(v6.starts_with(&format!("fd42:b0:d{n}::")), "{v6}");

    // Container to container over IPv6, and to the outside through NAT.
    let out = d.docker_ok(&["run", "--rm", &img, "sh", "-c", &format!("ip -6 addr show eth0; ping6 -c1 -W3 {v6}")]);
    assert!(out.contains(&format!("inet6 fd42:b0:d{n}::")), "{out}");
    assert!(out.contains(&format!("64 bytes from {v6}")), "{out}");
    // From another machine over IPv6, straight to the container, which sees the client.
    let seen = outside.read(&outside.host_ip6, port);
    assert!(seen.contains(&format!("{v6}:80")) && seen.contains("fd98:"), "{seen}");

    // Another IPv6 subnet after a restart: the bridge's old gateway address goes.
    d.stop();
    let moved = config.replace(&format!("fd42:b0:d{n}::/64"), &format!("fd42:b1:d{n}::/64"));
    std::fs::write(&d.config_file, moved).unwrap();
    d.restart();
    let out = d.docker_ok(&["run", "--rm", &img, "sh", "-c", "ip -6 addr show eth0"]);
    assert!(out.contains(&format!("inet6 fd42:b1:d{n}::")), "{out}");
    let addrs =
        text(&std::process::Command::new("ip").args(["-6", "addr", "show", "dev", &device]).output().unwrap().stdout);
    assert!(addrs.contains(&format!("fd42:b1:d{n}::")) && !addrs.contains(&format!("fd42:b0:d{n}::")), "{addrs}");
}
