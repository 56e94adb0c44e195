//! Another machine on the LAN, as a network namespace behind a veth pair,
//! for tests of traffic that does not start on the host: it reaches the host
//! at `host_ip` (IPv4) and `host_ip6` (IPv6).

use std::process::Command;
use std::time::Duration;

use crate::text;

pub struct Outside {
    pub ns: String,
    host_if: String,
    pub host_ip: String,
    pub host_ip6: String,
}

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(out.status.success(), "{cmd}: {}", text(&out.stderr));
    text(&out.stdout)
}

impl Outside {
    pub fn new() -> Self {
        // Tests of one binary run in parallel: each machine gets its own names and /30.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 64;
        let pid = std::process::id();
        let (ns, host_if) = (format!("berth-out-{pid}-{n}"), format!("bo{pid}x{n}"));
        let (net, a) = (format!("10.98.{}", pid % 250), 4 * n);
        let net6 = format!("fd98:{:x}:{:x}:{n:x}:", pid >> 16, pid & 0xffff);
        let out = Self {
            ns: ns.clone(),
            host_if: host_if.clone(),
            host_ip: format!("{net}.{}", a + 1),
            host_ip6: format!("{net6}:1"),
        };
        // `nodad`: usable at once, not after seconds of duplicate detection.
        sh(&format!(
            "ip netns add {ns} && ip link add {host_if} type veth peer name eth0 netns {ns} && \
             ip addr add {net}.{h}/30 dev {host_if} && ip addr add {net6}:1/64 dev {host_if} nodad && \
             ip link set {host_if} up && \
             ip -n {ns} addr add {net}.{p}/30 dev eth0 && ip -n {ns} addr add {net6}:2/64 dev eth0 nodad && \
             ip -n {ns} link set eth0 up && ip -n {ns} link set lo up && \
             ip -n {ns} route add default via {net}.{h} && ip -n {ns} -6 route add default via {net6}:1",
            h = a + 1,
            p = a + 2,
        ));
        out
    }

    /// Runs a shell command there.
    pub fn run(&self, cmd: &str) -> String {
        let out = Command::new("ip").args(["netns", "exec", &self.ns, "sh", "-c", cmd]).output().unwrap();
        text(&out.stdout)
    }

    /// What a TCP server at the host's `addr` and `port` answers, retrying
    /// while it starts.
    pub fn read(&self, addr: &str, port: u16) -> String {
        for _ in 0..30 {
            let out = self.run(&format!("busybox nc -w 3 {addr} {port} </dev/null"));
            if !out.is_empty() {
                return out;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("nothing answered on {addr} port {port} from outside");
    }
}

impl Default for Outside {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.host_if]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}
