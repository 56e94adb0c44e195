//! Living with iptables firewalls, dockerd's above all. A dockerd that
//! turned on forwarding itself sets the FORWARD policy to DROP, and a drop
//! in any table wins over Berth's own accept, so container traffic would
//! die there. Berth's bridges are let through that chain — in DOCKER-USER,
//! the chain dockerd keeps for its users, when it exists — and Berth's own
//! nftables table still decides what may pass.

use std::process::{Command, Stdio};

/// Both back ends: iptables-nft and the legacy xtables one.
const TOOLS: &[&str] = &["iptables", "iptables-legacy"];
const MARK: &str = "berth";

/// Lets `bridge`'s traffic through every iptables FORWARD chain that
/// would drop it; a no-op where nothing drops (or iptables is absent).
pub fn allow(bridge: &str) {
    for tool in TOOLS {
        let Some(chain) = gate(tool) else { continue };
        for dir in ["-i", "-o"] {
            let rule = rule(chain, dir, bridge);
            if !iptables(tool, "-C", &rule) && !iptables(tool, "-I", &rule) {
                tracing::warn!(tool, chain, bridge, "failed to let the bridge through the iptables firewall");
            } else {
                tracing::debug!(tool, chain, bridge, dir, "bridge let through the iptables firewall");
            }
        }
    }
}

/// Removes what [`allow`] added for a bridge that is gone.
pub fn forget(bridge: &str) {
    // Each iptables call costs a process: none where there is no table.
    for tool in TOOLS.iter().filter(|t| has_filter_table(t)) {
        for chain in ["DOCKER-USER", "FORWARD"] {
            for dir in ["-i", "-o"] {
                while iptables(tool, "-D", &rule(chain, dir, bridge)) {}
            }
        }
    }
}

/// Where a rule must go for forwarded traffic to pass `tool`'s filter
/// table: DOCKER-USER when dockerd made it, else FORWARD when its policy
/// drops; `None` when the table lets everything through.
fn gate(tool: &str) -> Option<&'static str> {
    // Only look where a filter table exists: listing would create one.
    if !has_filter_table(tool) {
        return None;
    }
    let out = Command::new(tool).args(["-w", "-S", "FORWARD"]).stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    if iptables(tool, "-S", &["DOCKER-USER"]) {
        return Some("DOCKER-USER");
    }
    String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == "-P FORWARD DROP").then_some("FORWARD")
}

/// Whether `tool`'s back end has a filter table, asked without creating one.
fn has_filter_table(tool: &str) -> bool {
    if tool == "iptables-legacy" {
        std::fs::read_to_string("/proc/net/ip_tables_names").is_ok_and(|t| t.lines().any(|l| l == "filter"))
    } else {
        Command::new("nft")
            .args(["list", "table", "ip", "filter"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

fn rule<'a>(chain: &'a str, dir: &'a str, bridge: &'a str) -> [&'a str; 9] {
    [chain, dir, bridge, "-m", "comment", "--comment", MARK, "-j", "ACCEPT"]
}

fn iptables(tool: &str, op: &str, args: &[&str]) -> bool {
    Command::new(tool)
        .args(["-w", op])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
