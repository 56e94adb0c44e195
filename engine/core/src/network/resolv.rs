//! resolv.conf: the host's, read for its resolvers, and each container's,
//! written the way Docker writes it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Docker's fallback when the host offers no resolver a container can use.
const FALLBACK: [Ipv4Addr; 2] = [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(8, 8, 4, 4)];

#[derive(Debug, Default, Clone, PartialEq)]
pub struct HostResolv {
    pub nameservers: Vec<IpAddr>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

impl HostResolv {
    pub fn read() -> Self {
        Self::parse(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
    }

    pub fn parse(text: &str) -> Self {
        let mut r = Self::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => r.nameservers.extend(words.next().and_then(|w| w.parse::<IpAddr>().ok())),
                Some("search" | "domain") => r.search = words.map(String::from).collect(),
                Some("options") => r.options.extend(words.map(String::from)),
                _ => {}
            }
        }
        r
    }

    /// Where the engine forwards containers' queries. Loopback resolvers
    /// are fine here: the engine runs in the host's namespace.
    pub fn upstreams(&self) -> Vec<SocketAddr> {
        let servers: Vec<IpAddr> = if self.nameservers.is_empty() {
            FALLBACK.iter().copied().map(IpAddr::V4).collect()
        } else {
            self.nameservers.clone()
        };
        servers.into_iter().map(|ip| SocketAddr::new(ip, 53)).collect()
    }
}

/// What a container asks of its resolver: `--dns`, `--dns-search`,
/// `--dns-option`.
#[derive(Debug, Default, Clone, Copy)]
pub struct DnsSettings<'a> {
    pub servers: &'a [String],
    pub search: &'a [String],
    pub options: &'a [String],
}

/// A container's resolv.conf. With `embedded` (the DNS server of its
/// network) that is its only nameserver, which forwards to `--dns`;
/// otherwise `--dns`, else the host's resolvers that a container can
/// reach (not loopback ones), else Google's as Docker does.
pub fn container_conf(host: &HostResolv, dns: &DnsSettings<'_>, embedded: Option<Ipv4Addr>) -> String {
    let servers: Vec<String> = match embedded {
        Some(ip) => vec![ip.to_string()],
        None if !dns.servers.is_empty() => dns.servers.to_vec(),
        None => {
            let usable: Vec<String> = host
                .nameservers
                .iter()
                .filter(|ip| !ip.is_loopback() && ip.is_ipv4())
                .map(ToString::to_string)
                .collect();
            if usable.is_empty() {
                FALLBACK.iter().map(ToString::to_string).collect()
            } else {
                usable
            }
        }
    };
    let search: Vec<String> = if dns.search.is_empty() {
        host.search.clone()
    } else {
        // `--dns-search .` asks for no search domains.
        dns.search.iter().filter(|s| *s != ".").cloned().collect()
    };
    let mut options: Vec<String> = if dns.options.is_empty() { host.options.clone() } else { dns.options.to_vec() };
    // Docker's embedded resolver setting: names without dots go to it first.
    if embedded.is_some() && !options.iter().any(|o| o.starts_with("ndots:")) {
        options.push("ndots:0".into());
    }
    let mut text = String::new();
    for s in servers {
        text.push_str(&format!("nameserver {s}\n"));
    }
    if !search.is_empty() {
        text.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        text.push_str(&format!("options {}\n", options.join(" ")));
    }
    text
}

/// `--dns` entries the embedded server can forward to.
pub fn upstream_servers(dns: &[String]) -> Vec<Ipv4Addr> {
    dns.iter().filter_map(|s| s.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "# managed\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch lan corp\noptions edns0\n";

    #[test]
    fn default_bridge_drops_loopback_resolvers() {
        let host = HostResolv::parse(HOST);
        assert_eq!(host.upstreams().len(), 2);
        let text = container_conf(&host, &DnsSettings::default(), None);
        assert_eq!(text, "nameserver 10.0.0.1\nsearch lan corp\noptions edns0\n");
        let only_local = HostResolv::parse("nameserver 127.0.0.53\n");
        assert!(container_conf(&only_local, &DnsSettings::default(), None).starts_with("nameserver 8.8.8.8\n"));
    }

    #[test]
    fn user_networks_use_the_embedded_server() {
        let host = HostResolv::parse(HOST);
        let servers = vec!["1.1.1.1".to_string()];
        let search = vec![".".to_string()];
        let dns = DnsSettings { servers: &servers, search: &search, options: &[] };
        let text = container_conf(&host, &dns, Some(Ipv4Addr::new(10, 9, 0, 1)));
        assert_eq!(text, "nameserver 10.9.0.1\noptions edns0 ndots:0\n");
        assert_eq!(container_conf(&host, &dns, None), "nameserver 1.1.1.1\noptions edns0\n");
        assert_eq!(upstream_servers(&servers), vec![Ipv4Addr::new(1, 1, 1, 1)]);
    }
}
