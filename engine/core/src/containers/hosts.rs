//! The files that tell a container who it is and how to find others:
//! /etc/hosts (itself, `--add-host`) and /etc/resolv.conf (the embedded DNS
//! server on user-defined networks, else the host's resolvers), written as
//! Docker writes them. Names of other containers come from DNS, as in
//! Docker; the default bridge has none.

use super::record::Container;
use crate::network::resolv::{self, DnsSettings, HostResolv};
use crate::network::Endpoint;

/// What every container's /etc/hosts starts with.
pub const BASE: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n\
                        ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// `--add-host` lines; `host-gateway` is the host as the container reaches
/// it, the gateway of its network.
pub(super) fn extra_hosts(c: &Container, gateway: std::net::Ipv4Addr) -> String {
    c.spec
        .host
        .extra_hosts
        .iter()
        .filter_map(|e| e.split_once(':').or_else(|| e.split_once('=')))
        .map(|(name, ip)| {
            let ip = if ip == "host-gateway" { gateway.to_string() } else { ip.to_string() };
            format!("{ip}\t{name}\n")
        })
        .collect()
}

/// The hosts file of `c`: the base, `--add-host`, legacy `links` lines, and
/// its own addresses under its hostname.
pub(super) fn hosts_text(
    c: &Container,
    endpoints: &[Endpoint],
    default_gateway: std::net::Ipv4Addr,
    links: &str,
) -> String {
    let gateway = endpoints.first().map_or(default_gateway, |e| e.gateway);
    let mut text = format!("{BASE}{}{links}", extra_hosts(c, gateway));
    let host = &c.spec.hostname;
    let names =
        if c.spec.domainname.is_empty() { host.clone() } else { format!("{host}.{} {host}", c.spec.domainname) };
    for ep in endpoints {
        text.push_str(&format!("{}\t{names}\n", ep.ip));
        if let Some(v6) = ep.ipv6 {
            text.push_str(&format!("{}\t{names}\n", v6.ip));
        }
    }
    text
}

/// The resolv.conf of `c`; `embedded` is its network's DNS server.
pub(super) fn resolv_text(c: &Container, embedded: Option<std::net::Ipv4Addr>) -> String {
    let h = &c.spec.host;
    let dns = DnsSettings { servers: &h.dns, search: &h.dns_search, options: &h.dns_options };
    resolv::container_conf(&HostResolv::read(), &dns, embedded)
}
