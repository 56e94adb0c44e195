//! Published ports (`-p`, `-P`): a userland proxy per binding holds the
//! host port and serves loopback, and DNAT rules in the network's nftables
//! table take everything else straight to the container, so servers see
//! their clients' real addresses and keep serving while the engine is down.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::task::JoinHandle;

use super::nat::{self, Dnat};
use super::{proxy, BridgeNetwork, Endpoint, NetworkError, NetworkService, PortBinding};

/// What one container publishes, on its primary network.
pub(super) struct Published {
    network_id: String,
    rules: Vec<Dnat>,
    proxies: Vec<JoinHandle<()>>,
}

impl Drop for Published {
    fn drop(&mut self) {
        self.proxies.iter().for_each(JoinHandle::abort);
    }
}

impl NetworkService {
    fn published(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Published>> {
        self.inner.published.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes a container's ports on the network of `ep`, replacing what
    /// it published before; returns the bindings with the host ports bound.
    /// All or nothing: a taken port fails the whole set.
    pub async fn publish(
        &self,
        container_id: &str,
        ep: &Endpoint,
        ports: &[PortBinding],
    ) -> Result<Vec<PortBinding>, NetworkError> {
        self.unpublish(container_id);
        let network = self.get(&ep.network_id)?;
        let mut entry = Published { network_id: network.id.clone(), rules: Vec::new(), proxies: Vec::new() };
        let mut bound = Vec::new();
        for p in ports {
            // On failure `entry` drops, stopping the proxies started so far.
            for (proxy, b) in bind(p, ep.ip).await? {
                entry.proxies.push(proxy);
                if !network.internal {
                    entry.rules.extend(dnat_rules(&b, ep));
                }
                bound.push(b);
            }
        }
        let has_rules = !entry.rules.is_empty();
        self.published().insert(container_id.into(), entry);
        if has_rules {
            if let Err(e) = self.apply_nat(&network) {
                self.unpublish(container_id);
                return Err(e);
            }
        }
        Ok(bound)
    }

    /// Stops publishing a container's ports: proxies and DNAT rules.
    pub fn unpublish(&self, container_id: &str) {
        let Some(gone) = self.published().remove(container_id) else { return };
        if gone.rules.is_empty() {
            return;
        }
        // A network that is gone took its table with it.
        if let Ok(n) = self.get(&gone.network_id) {
            if let Err(e) = self.apply_nat(&n) {
                tracing::warn!(network = %n.name, error = %e, "failed to remove published ports");
            }
        }
    }

    /// Writes a network's nftables table with the ports published on it.
    pub(super) fn apply_nat(&self, n: &BridgeNetwork) -> Result<(), NetworkError> {
        // One writer at a time, so the last table written has every rule.
        let _serial = self.inner.nat_writer.lock().unwrap_or_else(|p| p.into_inner());
        let rules: Vec<Dnat> =
            self.published().values().filter(|p| p.network_id == n.id).flat_map(|p| p.rules.clone()).collect();
        nat::apply(&n.device, &n.subnet, n.ipv6.as_ref().map(|v6| &v6.subnet), n.internal, &rules)
    }
}

/// A bound port's DNAT rules: to the container's address of the family the
/// binding has (0.0.0.0 and [::] are bound apart). Loopback is the proxy's
/// alone; so is IPv6 traffic to a container without an IPv6 address.
fn dnat_rules(b: &PortBinding, ep: &Endpoint) -> Vec<Dnat> {
    let Ok(host) = b.host_ip.parse::<IpAddr>() else { return Vec::new() };
    let targets = [Some(IpAddr::V4(ep.ip)), ep.ipv6.map(|v6| IpAddr::V6(v6.ip))];
    targets
        .into_iter()
        .flatten()
        .filter(|ip| !host.is_loopback() && host.is_ipv4() == ip.is_ipv4())
        .map(|ip| Dnat {
            protocol: b.protocol.clone(),
            host_ip: (!host.is_unspecified()).then_some(host),
            host_port: b.host_port,
            ip,
            port: b.container_port,
        })
        .collect()
}

/// How often a port the kernel picks (`-P`, `-p 80`) is tried anew when it is taken on [::] only.
const PICK_ATTEMPTS: usize = 5;

/// Starts the proxies of one binding on its host port, or on the first port of its range free on
/// every address. No host IP means all of them, as with dockerd: 0.0.0.0 and, where the host
/// has IPv6, [::] on the same port, each reported as a binding of its own.
async fn bind(p: &PortBinding, container_ip: Ipv4Addr) -> Result<Vec<(JoinHandle<()>, PortBinding)>, NetworkError> {
    let hosts: Vec<IpAddr> = if p.host_ip.is_empty() {
        let v6 = proxy::host_has_ipv6().then_some(Ipv6Addr::UNSPECIFIED.into());
        [Some(Ipv4Addr::UNSPECIFIED.into()), v6].into_iter().flatten().collect()
    } else {
        vec![p.host_ip.parse().map_err(|_| NetworkError::Invalid(format!("invalid host IP address: {}", p.host_ip)))?]
    };
    let target = SocketAddr::from((container_ip, p.container_port));
    let candidates: Vec<u16> = if p.host_port == 0 {
        vec![0; PICK_ATTEMPTS]
    } else {
        (p.host_port..=p.host_port_end.max(p.host_port)).collect()
    };
    let mut failure = None;
    for port in candidates {
        match bind_all(&p.protocol, &hosts, port, target).await {
            Ok(proxies) => {
                let binding = |(task, host, port): (JoinHandle<()>, IpAddr, u16)| {
                    (task, PortBinding { host_ip: host.to_string(), host_port: port, host_port_end: 0, ..p.clone() })
                };
                return Ok(proxies.into_iter().map(binding).collect());
            }
            Err(e @ NetworkError::Invalid(_)) => return Err(e),
            Err(e) => failure = Some(e),
        }
    }
    Err(match failure {
        Some(e) if p.host_port_end <= p.host_port => e,
        _ => NetworkError::PortInUse(format!(
            "Bind for {}:{}-{} failed: port is already allocated",
            hosts[0], p.host_port, p.host_port_end
        )),
    })
}

/// Binds one port on every host address: the first takes `port` (0: the kernel picks one), the
/// others the same. All or none.
async fn bind_all(
    protocol: &str,
    hosts: &[IpAddr],
    mut port: u16,
    target: SocketAddr,
) -> Result<Vec<(JoinHandle<()>, IpAddr, u16)>, NetworkError> {
    let mut bound: Vec<(JoinHandle<()>, IpAddr, u16)> = Vec::new();
    for host in hosts {
        match proxy::spawn(protocol, SocketAddr::new(*host, port), target).await {
            Ok((task, p)) => {
                port = p;
                bound.push((task, *host, p));
            }
            Err(e) => {
                bound.iter().for_each(|(task, ..)| task.abort());
                return Err(e);
            }
        }
    }
    Ok(bound)
}
