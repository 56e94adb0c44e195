//! How a container's networks look in inspect and `ps`: each network it
//! joins, with its addresses there while it runs.

use std::collections::BTreeMap;

use berth_core::containers::Container;

use crate::state::AppState;
use crate::types::*;

/// Every network the container joins, with its addresses there while it runs.
pub fn endpoint_settings(state: &AppState, c: &Container) -> BTreeMap<String, EndpointSettings> {
    c.spec
        .networks
        .iter()
        .map(|(name, att)| {
            let ep = c.endpoints.iter().find(|e| &e.network == name);
            let network_id = match ep {
                Some(ep) => ep.network_id.clone(),
                None => state.network.get(name).map(|n| n.id).unwrap_or_default(),
            };
            let configured = att.ipv4_address.is_some() || att.ipv6_address.is_some() || !att.link_local_ips.is_empty();
            let settings = EndpointSettings {
                network_id,
                endpoint_id: ep.map(|e| e.endpoint_id.clone()).unwrap_or_default(),
                addresses: addresses(ep),
                // The configured address shows before the container runs.
                mac_address: ep.map(|e| e.mac.clone()).or_else(|| att.mac_address.clone()).unwrap_or_default(),
                aliases: (!att.aliases.is_empty()).then(|| att.aliases.clone()),
                links: (!att.links.is_empty()).then(|| att.links.iter().map(|l| l.to_spec()).collect()),
                dns_names: ep.map(|e| e.dns_names.clone()).filter(|n| !n.is_empty() && name != "bridge"),
                ipam_config: configured.then(|| EndpointIpam {
                    ipv4_address: att.ipv4_address.map(|ip| ip.to_string()).unwrap_or_default(),
                    ipv6_address: att.ipv6_address.map(|ip| ip.to_string()).unwrap_or_default(),
                    link_local_ips: att.link_local_ips.clone(),
                }),
                driver_opts: (!att.driver_opts.is_empty()).then(|| att.driver_opts.clone()),
            };
            (name.clone(), settings)
        })
        .collect()
}

/// Inspect's `NetworkSettings`: published ports, the default bridge's
/// addresses (deprecated top-level fields), and every network.
pub fn network_settings(state: &AppState, c: &Container) -> NetworkSettings {
    let mut ports: BTreeMap<String, Option<Vec<PortBindingWire>>> =
        c.spec.exposed_ports.iter().map(|p| (p.clone(), None)).collect();
    let primary = c.endpoints.first();
    for p in primary.iter().flat_map(|ep| ep.ports.iter()) {
        let wire = PortBindingWire { host_ip: p.host_ip.clone(), host_port: p.host_port.to_string() };
        ports
            .entry(format!("{}/{}", p.container_port, p.protocol))
            .or_insert(None)
            .get_or_insert_with(Vec::new)
            .push(wire);
    }
    // The top-level fields describe the default bridge only, as in Docker.
    let ep = primary.filter(|e| e.network == "bridge");
    NetworkSettings {
        bridge: String::new(),
        sandbox_id: String::new(),
        sandbox_key: if c.state.pid > 0 { format!("/proc/{}/ns/net", c.state.pid) } else { String::new() },
        ports,
        addresses: addresses(ep),
        mac_address: ep.map(|e| e.mac.clone()).unwrap_or_default(),
        networks: endpoint_settings(state, c),
    }
}

/// The addresses of a running container's endpoint; empty ones otherwise.
fn addresses(ep: Option<&berth_core::network::Endpoint>) -> EndpointAddresses {
    let Some(ep) = ep else { return EndpointAddresses::default() };
    EndpointAddresses {
        gateway: ep.gateway.to_string(),
        ip_address: ep.ip.to_string(),
        ip_prefix_len: ep.prefix,
        ipv6_gateway: ep.ipv6.map(|v| v.gateway.to_string()).unwrap_or_default(),
        global_ipv6_address: ep.ipv6.map(|v| v.ip.to_string()).unwrap_or_default(),
        global_ipv6_prefix_len: ep.ipv6.map_or(0, |v| v.prefix),
    }
}
