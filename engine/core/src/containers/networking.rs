//! A container on its networks: joining them all when it starts, and
//! `network connect` / `network disconnect` while it runs or not.

use std::collections::BTreeMap;

use super::record::{Container, NetworkAttachment, Status};
use super::{ContainerError, ContainerService};
use crate::events::{Event, ObjectType};
use crate::network::{resolv, Attach, Endpoint};

impl ContainerService {
    /// Puts the container whose init is `pid` on each of its networks, the
    /// primary first; all or nothing.
    pub(super) async fn join_networks(&self, c: &Container, pid: i32) -> Result<Vec<Endpoint>, ContainerError> {
        let mut joined: Vec<Endpoint> = Vec::new();
        for (index, (name, att)) in c.network_order().into_iter().enumerate() {
            let index = u8::try_from(index)
                .map_err(|_| ContainerError::InvalidParameter("too many networks for one container".into()))?;
            match self.join(c, pid, name, att, index).await {
                Ok(ep) => joined.push(ep),
                Err(e) => {
                    self.leave_all(&c.id, &joined).await;
                    return Err(e);
                }
            }
        }
        for ep in &joined {
            self.emit_network(ep, &c.id, "connect");
        }
        Ok(joined)
    }

    /// Undoes [`Self::join_networks`].
    pub(super) async fn leave_all(&self, id: &str, endpoints: &[Endpoint]) {
        self.inner.network.unpublish(id);
        for ep in endpoints {
            self.inner.network.disconnect(ep).await;
        }
    }

    /// Joins one network as `eth<index>`; the first one gets the default
    /// route and the published ports.
    async fn join(
        &self,
        c: &Container,
        pid: i32,
        name: &str,
        att: &NetworkAttachment,
        index: u8,
    ) -> Result<Endpoint, ContainerError> {
        let net = self.inner.network.get(name).map_err(|_| ContainerError::NetworkNotFound(name.into()))?;
        // Docker's DNS names: the container's name, its aliases, its short ID.
        let mut dns_names = vec![c.name.clone()];
        dns_names.extend(att.aliases.iter().cloned());
        dns_names.push(c.id[..12.min(c.id.len())].to_string());
        let attach = Attach {
            container_id: c.id.clone(),
            pid,
            index,
            ip: att.ipv4_address,
            ip6: att.ipv6_address,
            mac: att.mac_address.as_deref().and_then(parse_mac),
            aliases: att.aliases.clone(),
            dns_names,
            links: att
                .links
                .iter()
                .chain(c.spec.host.links.iter().filter(|_| index == 0))
                .map(|l| (l.alias.clone(), l.target.clone()))
                .collect(),
            default_route: index == 0,
            upstream_dns: resolv::upstream_servers(&c.spec.host.dns),
        };
        let mut ep = self.inner.network.connect(&net, attach).await?;
        if index == 0 {
            match self.inner.network.publish(&c.id, &ep, &self.port_bindings(c)).await {
                Ok(ports) => ep.ports = ports,
                Err(e) => {
                    self.inner.network.disconnect(&ep).await;
                    return Err(e.into());
                }
            }
        }
        Ok(ep)
    }

    /// Ports to publish: `-p` ones, plus every exposed port with `-P`.
    fn port_bindings(&self, c: &Container) -> Vec<crate::network::PortBinding> {
        let mut ports = c.spec.host.port_bindings.clone();
        if c.spec.host.publish_all {
            for e in &c.spec.exposed_ports {
                let (port, proto) = e.split_once('/').unwrap_or((e.as_str(), "tcp"));
                let Ok(port) = port.parse() else { continue };
                if !matches!(proto, "tcp" | "udp") {
                    continue;
                }
                if !ports.iter().any(|p| p.container_port == port && p.protocol == proto) {
                    ports.push(crate::network::PortBinding {
                        container_port: port,
                        protocol: proto.into(),
                        host_ip: String::new(),
                        host_port: 0,
                        host_port_end: 0,
                    });
                }
            }
        }
        ports
    }

    pub(super) fn emit_network(&self, ep: &Endpoint, container_id: &str, action: &str) {
        let attrs = BTreeMap::from([
            ("container".to_string(), container_id.to_string()),
            ("name".to_string(), ep.network.clone()),
            ("type".to_string(), "bridge".to_string()),
        ]);
        self.inner.events.publish(Event::now(ObjectType::Network, action, ep.network_id.clone(), attrs));
    }

    /// `docker network connect`: a running container gets the interface at
    /// once; any container keeps the network for its next starts.
    pub async fn connect_network(
        &self,
        name: &str,
        network: &str,
        att: NetworkAttachment,
    ) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        let net = self.inner.network.get(network)?;
        let mode = c.spec.host.network_mode.as_str();
        if matches!(mode, "host" | "none") || mode.starts_with("container:") {
            return Err(ContainerError::Forbidden(format!(
                "container sharing network namespace with another container or host cannot be connected to any other network ({mode})"
            )));
        }
        if c.spec.networks.contains_key(&net.name) {
            return Err(ContainerError::Forbidden(format!(
                "endpoint with name {} already exists in network {}",
                c.name, net.name
            )));
        }
        if net.is_default() && !att.aliases.is_empty() {
            return Err(ContainerError::InvalidParameter(
                "network-scoped alias is supported only for containers in user defined networks".into(),
            ));
        }
        if c.state.status == Status::Running {
            let index = (0..=u8::MAX)
                .find(|i| !c.endpoints.iter().any(|e| e.interface == format!("eth{i}")))
                .ok_or_else(|| ContainerError::InvalidParameter("too many networks for one container".into()))?;
            // The primary network's ports are already published.
            let index = index.max(1);
            let ep = self.join(&c, c.state.pid, &net.name, &att, index).await?;
            let recorded = self.update(&c.id, |r| {
                r.spec.networks.insert(net.name.clone(), att.clone());
                r.endpoints.push(ep.clone());
            });
            if let Err(e) = recorded {
                self.inner.network.disconnect(&ep).await;
                return Err(e);
            }
            self.emit_network(&ep, &c.id, "connect");
        } else {
            self.update(&c.id, |r| {
                r.spec.networks.insert(net.name.clone(), att);
            })?;
        }
        Ok(())
    }

    /// `docker network disconnect`.
    pub async fn disconnect_network(&self, name: &str, network: &str) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        let net = self.inner.network.get(network)?;
        if !c.spec.networks.contains_key(&net.name) {
            return Err(ContainerError::Forbidden(format!(
                "container {} is not connected to network {}",
                c.id, net.name
            )));
        }
        let ep = c.endpoints.iter().find(|e| e.network_id == net.id).cloned();
        self.update(&c.id, |r| {
            r.spec.networks.remove(&net.name);
            r.endpoints.retain(|e| e.network_id != net.id);
        })?;
        if let Some(ep) = ep {
            if !ep.ports.is_empty() {
                self.inner.network.unpublish(&c.id);
            }
            self.inner.network.disconnect(&ep).await;
            self.emit_network(&ep, &c.id, "disconnect");
        }
        Ok(())
    }
}

/// `02:42:ac:11:00:02` → bytes (checked at create).
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let bytes: Vec<u8> = text.split(':').map(|b| u8::from_str_radix(b, 16)).collect::<Result<_, _>>().ok()?;
    bytes.try_into().ok().filter(|_| text.split(':').all(|b| b.len() == 2))
}
