//! Links (`--link NAME[:ALIAS]`, `HostConfig.Links`, an endpoint's
//! `Links`). On the default bridge they are Docker's legacy links: the
//! target's address in /etc/hosts under the alias, and environment
//! variables describing it (`ALIAS_NAME`, `ALIAS_ENV_*`, `ALIAS_PORT_*`). On
//! a user-defined network they are names only this container resolves, in
//! the embedded DNS server.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::record::{Container, Status};
use super::{ContainerError, ContainerService};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The linked container's name.
    pub target: String,
    pub alias: String,
}

impl Link {
    /// `db`, `db:alias`, or dockerd's stored form `/db:/web/alias`.
    pub fn parse(spec: &str) -> Result<Self, ContainerError> {
        let (target, alias) = spec.split_once(':').unwrap_or((spec, spec));
        let target = target.trim_start_matches('/');
        let alias = alias.rsplit('/').next().unwrap_or(alias);
        if target.is_empty() || alias.is_empty() {
            return Err(ContainerError::InvalidParameter(format!("invalid link {spec:?}: expected NAME[:ALIAS]")));
        }
        Ok(Self { target: target.into(), alias: alias.into() })
    }

    /// As inspect shows an endpoint's links: `target:alias`.
    pub fn to_spec(&self) -> String {
        format!("{}:{}", self.target, self.alias)
    }
}

/// The environment a legacy link gives `me`: where `target` (at `ip`) is,
/// its exposed ports and its own environment, under the alias in capitals.
pub fn env(me: &str, link: &Link, target: &Container, ip: Ipv4Addr) -> Vec<String> {
    let prefix = link.alias.to_uppercase().replace('-', "_");
    let mut out = vec![format!("{prefix}_NAME=/{me}/{}", link.alias)];
    let mut ports: Vec<(u16, String)> = target
        .spec
        .exposed_ports
        .iter()
        .filter_map(|p| {
            let (port, proto) = p.split_once('/').unwrap_or((p.as_str(), "tcp"));
            Some((port.parse().ok()?, proto.to_string()))
        })
        .collect();
    ports.sort();
    if let Some((port, proto)) = ports.first() {
        out.push(format!("{prefix}_PORT={proto}://{ip}:{port}"));
    }
    for (port, proto) in &ports {
        let key = format!("{prefix}_PORT_{port}_{}", proto.to_uppercase());
        out.push(format!("{key}={proto}://{ip}:{port}"));
        out.push(format!("{key}_ADDR={ip}"));
        out.push(format!("{key}_PORT={port}"));
        out.push(format!("{key}_PROTO={proto}"));
    }
    // What the image set for its own shell is no business of the linker's.
    for (key, value) in target.spec.env.iter().filter_map(|e| e.split_once('=')) {
        if key != "HOME" && key != "PATH" {
            out.push(format!("{prefix}_ENV_{key}={value}"));
        }
    }
    out
}

/// The /etc/hosts line a legacy link adds: the alias, then the target's
/// hostname and name.
pub fn hosts_line(link: &Link, target: &Container, ip: Ipv4Addr) -> String {
    let mut names = vec![link.alias.clone()];
    for n in [&target.spec.hostname, &target.name] {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    format!("{ip}\t{}\n", names.join(" "))
}

/// What legacy links give a container on the default bridge.
#[derive(Default)]
pub(super) struct Legacy {
    pub env: Vec<String>,
    pub hosts: String,
}

impl ContainerService {
    /// Links name containers that exist (checked at create).
    pub(super) fn check_links<'a>(&self, links: impl Iterator<Item = &'a Link>) -> Result<(), ContainerError> {
        for l in links {
            if self.get(&l.target).is_err() {
                return Err(ContainerError::InvalidParameter(format!("could not get container for {}", l.target)));
            }
        }
        Ok(())
    }

    /// `DELETE /containers/PARENT/ALIAS?link=1`: `parent` links no more to
    /// what it calls `alias` (from its next start).
    pub fn remove_link(&self, parent: &str, alias: &str) -> Result<(), ContainerError> {
        let c = self.get(parent)?;
        if !c.spec.host.links.iter().any(|l| l.alias == alias) {
            return Err(ContainerError::NotFound(format!("link /{}/{alias}", c.name)));
        }
        let other = |l: &Link| l.alias != alias;
        self.update(&c.id, |r| {
            r.spec.host.links.retain(other);
            // Inspect shows the request's HostConfig: it loses the link too.
            if let Some(shown) = r.host_config_json.get_mut("Links").and_then(|v| v.as_array_mut()) {
                shown.retain(|v| v.as_str().and_then(|s| Link::parse(s).ok()).is_none_or(|l| other(&l)));
            }
        })
        .map(drop)
    }

    /// The legacy links of `c` when its primary network is the default
    /// bridge: every target must be running there.
    pub(super) fn legacy_links(&self, c: &Container) -> Result<Legacy, ContainerError> {
        let mut out = Legacy::default();
        let on_bridge = c.network_order().first().is_some_and(|(name, _)| name.as_str() == "bridge");
        if !on_bridge {
            return Ok(out);
        }
        for l in &c.spec.host.links {
            let not_running = || {
                ContainerError::Conflict(format!(
                    "Cannot link to a non running container: /{} AS /{}/{}",
                    l.target, c.name, l.alias
                ))
            };
            let target = self.get(&l.target).map_err(|_| not_running())?;
            if target.state.status != Status::Running {
                return Err(not_running());
            }
            let ip = target.endpoints.iter().find(|e| e.network == "bridge").map(|e| e.ip).ok_or_else(|| {
                ContainerError::Conflict(format!(
                    "cannot link to /{}: it is not on the default bridge network",
                    target.name
                ))
            })?;
            out.env.extend(env(&c.name, l, &target, ip));
            out.hosts.push_str(&hosts_line(l, &target, ip));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_forms() {
        assert_eq!(Link::parse("db").unwrap(), Link { target: "db".into(), alias: "db".into() });
        assert_eq!(Link::parse("db:data").unwrap().alias, "data");
        assert_eq!(Link::parse("/db:/web/data").unwrap(), Link { target: "db".into(), alias: "data".into() });
        assert!(Link::parse(":x").is_err());
    }
}
