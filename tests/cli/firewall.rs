//! Berth next to a firewall that drops forwarded traffic, as dockerd
//! leaves one: its FORWARD chain with a DROP policy and a DOCKER-USER chain.
//! A test binary of its own, since it changes the host's firewall for the
//! time it runs.

use std::process::Command;

use berth_e2e::{engine_with_busybox, text};

fn iptables(args: &[&str]) -> String {
    let out = Command::new("iptables").args(args).output().expect("iptables (scripts/test installs it)");
    assert!(out.status.success(), "iptables {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// dockerd's firewall, taken down again when the test ends, whatever happens.
struct DockerLikeFirewall {
    /// iptables-nft's table was there before (else it goes too).
    had_table: bool,
}

impl DockerLikeFirewall {
    fn raise() -> Self {
        let had_table = Command::new("nft").args(["list", "table", "ip", "filter"]).output().unwrap().status.success();
        iptables(&["-N", "DOCKER-USER"]);
        iptables(&["-A", "DOCKER-USER", "-j", "RETURN"]);
        iptables(&["-I", "FORWARD", "-j", "DOCKER-USER"]);
        iptables(&["-P", "FORWARD", "DROP"]);
        Self { had_table }
    }
}

impl Drop for DockerLikeFirewall {
    fn drop(&mut self) {
        for args in [
            &["-P", "FORWARD", "ACCEPT"][..],
            &["-D", "FORWARD", "-j", "DOCKER-USER"],
            &["-F", "DOCKER-USER"],
            &["-X", "DOCKER-USER"],
        ] {
            let _ = Command::new("iptables").args(args).status();
        }
        if !self.had_table {
            let _ = Command::new("nft").args(["delete", "table", "ip", "filter"]).status();
        }
    }
}

#[tokio::test]
async fn containers_talk_through_a_dropping_forward_chain() {
    let _firewall = DockerLikeFirewall::raise();
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["network", "create", "--subnet", "10.99.40.0/24", "fw"]);
    d.docker_ok(&["run", "-d", "--name", "srv", "--network", "fw", &img, "sh", "-c", "nc -ll -p 80 -e echo through"]);
    let out =
        d.docker_ok(&["run", "--rm", "--network", "fw", &img, "sh", "-c", "sleep 0.3; nc -w 5 srv 80 </dev/null"]);
    assert_eq!(out.trim(), "through");

    // Let through in DOCKER-USER, dockerd's chain for its users, and only there.
    let dev =
        d.docker_ok(&["network", "inspect", "--format", "{{index .Options \"com.docker.network.bridge.name\"}}", "fw"]);
    let rules = iptables(&["-S", "DOCKER-USER"]);
    assert!(rules.contains(&format!("-i {} ", dev.trim())) && rules.contains("berth"), "{rules}");
    assert!(!iptables(&["-S", "FORWARD"]).contains("berth"));

    // And taken out with the network.
    d.docker_ok(&["rm", "-f", "srv"]);
    d.docker_ok(&["network", "rm", "fw"]);
    let rules = iptables(&["-S", "DOCKER-USER"]);
    assert!(!rules.contains(dev.trim()), "{rules}");
}
