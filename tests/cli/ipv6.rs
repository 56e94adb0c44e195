//! IPv6 on user-defined networks with the real docker CLI: dual-stack
//! addresses, a fixed `--ip6`, names answered over AAAA, NAT, and a
//! published port reached over IPv6 from another machine.

use std::process::Command;

use berth_e2e::outside::Outside;
use berth_e2e::{engine_with_busybox, free_host_port, text};

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
    // address (the proxy listens on IPv4 only), which sees the client.
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
