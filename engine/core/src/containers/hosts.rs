//! /etc/hosts of containers on user-defined networks: every member's name,
//! aliases and hostname, rewritten in place as members come and go, so
//! containers find each other by name. (The default bridge, as in Docker,
//! only knows the container itself.)

use super::record::{Container, Status};
use super::ContainerService;
use crate::network::Endpoint;

/// What every container's /etc/hosts starts with.
pub const BASE: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n\
                        ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// One hosts line: the address, then hostname, name and aliases.
fn line(c: &Container, ep: &Endpoint) -> String {
    let mut names = vec![c.spec.hostname.clone(), c.name.clone()];
    names.extend(c.spec.network_aliases.iter().cloned());
    names.dedup();
    format!("{}\t{}\n", ep.ip, names.join(" "))
}

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

impl ContainerService {
    fn members(&self, network_id: &str) -> Vec<(Container, Endpoint)> {
        self.list()
            .into_iter()
            .filter(|c| c.state.status == Status::Running)
            .filter_map(|c| {
                let ep = c.endpoint.clone().filter(|e| e.network_id == network_id)?;
                Some((c, ep))
            })
            .collect()
    }

    /// The hosts file of `c` at `ep`: itself, and on a user-defined network
    /// every other running member.
    pub(super) fn hosts_text(&self, c: &Container, ep: &Endpoint) -> String {
        let mut text = String::from(BASE);
        text.push_str(&extra_hosts(c, ep.gateway));
        text.push_str(&line(c, ep));
        if ep.network != "bridge" {
            for (other, oep) in self.members(&ep.network_id).iter().filter(|(o, _)| o.id != c.id) {
                text.push_str(&line(other, oep));
            }
        }
        text
    }

    /// Rewrites the hosts files of the running members of a network.
    pub(super) fn refresh_hosts(&self, network_id: &str) {
        for (c, ep) in self.members(network_id) {
            // In place: the file is bind-mounted, so its inode must stay.
            let path = self.dirs(&c.id).data.join("hosts");
            if let Err(e) = std::fs::write(&path, self.hosts_text(&c, &ep)) {
                tracing::warn!(container = %c.id, error = %e, "failed to update /etc/hosts");
            }
        }
    }
}
