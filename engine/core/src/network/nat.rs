//! NAT for bridge networks in Berth's own nftables table (`ip berth` for
//! the default bridge, `ip berth_<device>` for others), replaced whole each
//! time so it never touches anyone else's rules.

use std::fmt::Write as _;
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use super::ipam::Subnet;
use super::NetworkError;

/// A published port as a DNAT rule: traffic from outside the bridge to a
/// host address (any local one when `host_ip` is `None`) goes straight to
/// the container, keeping its source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dnat {
    pub protocol: String,
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub ip: Ipv4Addr,
    pub port: u16,
}

/// Masquerades traffic leaving `bridge`'s subnet for other interfaces and
/// lets it through the forward hook; new connections into the bridge from
/// anywhere else (another network, the LAN) are dropped, which isolates
/// networks from each other. The host itself is not forwarded traffic and
/// still reaches every container. Published ports are DNAT rules for
/// traffic to the host's addresses, loopback excepted: the kernel does not
/// route 127.0.0.0/8 out, so the userland proxy serves it, and traffic from
/// the bridge itself (hairpin) too.
pub fn apply(bridge: &str, subnet: &Subnet, internal: bool, published: &[Dnat]) -> Result<(), NetworkError> {
    let table = table_name(bridge);
    // An internal network may talk only to itself.
    let egress = if internal {
        format!("iifname \"{bridge}\" oifname != \"{bridge}\" drop")
    } else {
        format!("iifname \"{bridge}\" accept")
    };
    let masquerade =
        if internal { String::new() } else { format!("ip saddr {subnet} oifname != \"{bridge}\" masquerade") };
    let mut dnat = String::new();
    for d in published {
        let daddr = d.host_ip.map(|ip| format!("ip daddr {ip} ")).unwrap_or_default();
        let _ = writeln!(
            dnat,
            "iifname != \"{bridge}\" {daddr}{proto} dport {hp} dnat to {ip}:{port}",
            proto = d.protocol,
            hp = d.host_port,
            ip = d.ip,
            port = d.port
        );
    }
    let ruleset = format!(
        "table ip {table} {{}}\n\
         delete table ip {table}\n\
         table ip {table} {{\n\
           chain postrouting {{\n\
             type nat hook postrouting priority srcnat; policy accept;\n\
             {masquerade}\n\
           }}\n\
           chain forward {{\n\
             type filter hook forward priority filter; policy accept;\n\
             {egress}\n\
             oifname \"{bridge}\" ct state established,related accept\n\
             oifname \"{bridge}\" iifname != \"{bridge}\" ct status dnat accept\n\
             oifname \"{bridge}\" iifname != \"{bridge}\" drop\n\
           }}\n\
           chain prerouting {{\n\
             type nat hook prerouting priority dstnat; policy accept;\n\
             fib daddr type local jump published\n\
           }}\n\
           chain output {{\n\
             type nat hook output priority -100; policy accept;\n\
             ip daddr != 127.0.0.0/8 fib daddr type local jump published\n\
           }}\n\
           chain published {{\n\
             {dnat}\
           }}\n\
         }}\n"
    );
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NetworkError::Nat(format!("failed to run nft (install nftables): {e}")))?;
    child
        .stdin
        .take()
        .ok_or_else(|| NetworkError::Nat("nft has no stdin".into()))?
        .write_all(ruleset.as_bytes())
        .map_err(|e| NetworkError::Nat(e.to_string()))?;
    let out = child.wait_with_output().map_err(|e| NetworkError::Nat(e.to_string()))?;
    if !out.status.success() {
        return Err(NetworkError::Nat(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    Ok(())
}

/// Deletes a bridge's table (its network is gone).
pub fn remove(bridge: &str) {
    let _ = Command::new("nft").args(["delete", "table", "ip", &table_name(bridge)]).stderr(Stdio::null()).status();
}

/// The nftables table of a bridge.
pub fn table_name(bridge: &str) -> String {
    if bridge == "berth0" {
        "berth".into()
    } else {
        format!("berth_{}", bridge.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
    }
}

/// Turns on IPv4 forwarding, which NAT needs, saying so when it changes.
pub fn enable_forwarding() -> Result<(), NetworkError> {
    let path = "/proc/sys/net/ipv4/ip_forward";
    if std::fs::read_to_string(path).map(|v| v.trim() == "1").unwrap_or(false) {
        return Ok(());
    }
    std::fs::write(path, "1").map_err(|e| NetworkError::Nat(format!("failed to enable ip_forward: {e}")))?;
    tracing::info!("enabled net.ipv4.ip_forward for container networking");
    Ok(())
}
