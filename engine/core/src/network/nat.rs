//! NAT for bridge networks in Berth's own nftables table (`inet berth` for
//! the default bridge, `inet berth_<device>` for others, IPv4 and IPv6 in
//! one), replaced whole each time so it never touches anyone else's rules.

use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use super::ipam::{Subnet, Subnet6};
use super::NetworkError;

/// A published port as a DNAT rule: traffic from outside the bridge to a
/// host address (any local one when `host_ip` is `None`) goes straight to
/// the container, keeping its source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dnat {
    pub protocol: String,
    pub host_ip: Option<IpAddr>,
    pub host_port: u16,
    /// The container's address, of the family the rule matches.
    pub ip: IpAddr,
    pub port: u16,
}

impl Dnat {
    fn rule(&self, bridge: &str) -> String {
        let (daddr, nfproto, to) = match self.ip {
            IpAddr::V4(ip) => ("ip daddr", "ipv4", format!("ip to {ip}:{}", self.port)),
            IpAddr::V6(ip) => ("ip6 daddr", "ipv6", format!("ip6 to [{ip}]:{}", self.port)),
        };
        let matched = match self.host_ip {
            Some(host) => format!("{daddr} {host}"),
            None => format!("meta nfproto {nfproto}"),
        };
        format!("iifname != \"{bridge}\" {matched} {} dport {} dnat {to}\n", self.protocol, self.host_port)
    }
}

/// Masquerades traffic leaving `bridge`'s subnet for other interfaces and
/// lets it through the forward hook; new connections into the bridge from
/// anywhere else (another network, the LAN) are dropped, which isolates
/// networks from each other. The host itself is not forwarded traffic and
/// still reaches every container. Published ports are DNAT rules for
/// traffic to the host's addresses, loopback excepted: the kernel does not
/// route 127.0.0.0/8 out, so the userland proxy serves it, and traffic from
/// the bridge itself (hairpin) too.
pub fn apply(
    bridge: &str,
    subnet: &Subnet,
    subnet6: Option<&Subnet6>,
    internal: bool,
    published: &[Dnat],
) -> Result<(), NetworkError> {
    let table = table_name(bridge);
    // An internal network may talk only to itself.
    let egress = if internal {
        format!("iifname \"{bridge}\" oifname != \"{bridge}\" drop")
    } else {
        format!("iifname \"{bridge}\" accept")
    };
    let mut masquerade = String::new();
    if !internal {
        let _ = writeln!(masquerade, "ip saddr {subnet} oifname != \"{bridge}\" masquerade");
        if let Some(s6) = subnet6 {
            let _ = writeln!(masquerade, "ip6 saddr {s6} oifname != \"{bridge}\" masquerade");
        }
    }
    let dnat: String = published.iter().map(|d| d.rule(bridge)).collect();
    let ruleset = format!(
        "{drop}\
         table inet {table} {{\n\
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
             ip6 daddr != ::1 fib daddr type local jump published\n\
           }}\n\
           chain published {{\n\
             {dnat}\
           }}\n\
         }}\n",
        drop = drop_tables(&table)
    );
    load(&ruleset)
}

/// Deletes a bridge's table (its network is gone).
pub fn remove(bridge: &str) {
    if let Err(e) = load(&drop_tables(&table_name(bridge))) {
        tracing::warn!(bridge, error = %e, "failed to remove the network's nftables table");
    }
}

/// Deletes `table` if it exists (made empty first, so deleting never fails),
/// and the one of that name an older Berth kept in the `ip` family.
fn drop_tables(table: &str) -> String {
    format!("table ip {table} {{}}\ndelete table ip {table}\ntable inet {table} {{}}\ndelete table inet {table}\n")
}

/// Loads a ruleset in one nft transaction.
fn load(ruleset: &str) -> Result<(), NetworkError> {
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

/// The nftables table of a bridge.
pub fn table_name(bridge: &str) -> String {
    if bridge == "berth0" {
        "berth".into()
    } else {
        format!("berth_{}", bridge.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
    }
}

/// Turns on IPv4 forwarding, which NAT needs, and IPv6 forwarding for a
/// network with IPv6, saying so when it changes.
pub fn enable_forwarding(ipv6: bool) -> Result<(), NetworkError> {
    let mut knobs = vec![("/proc/sys/net/ipv4/ip_forward", "net.ipv4.ip_forward")];
    if ipv6 {
        knobs.push(("/proc/sys/net/ipv6/conf/all/forwarding", "net.ipv6.conf.all.forwarding"));
    }
    for (path, name) in knobs {
        if std::fs::read_to_string(path).map(|v| v.trim() == "1").unwrap_or(false) {
            continue;
        }
        std::fs::write(path, "1").map_err(|e| NetworkError::Nat(format!("failed to enable {name}: {e}")))?;
        tracing::info!("enabled {name} for container networking");
    }
    Ok(())
}
