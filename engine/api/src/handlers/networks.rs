//! `/networks`: the default bridge, `host`, `none`, and user-defined
//! bridge networks.

use std::collections::BTreeMap;

use crate::types::*;
use axum::extract::{Path, Query, State};
use axum::Json;
use berth_core::events::{Event, ObjectType};
use berth_core::filters::Filters;
use berth_core::network::BridgeNetwork;
use http::StatusCode;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::query::Params;
use crate::state::AppState;

fn resource(state: &AppState, n: &BridgeNetwork) -> NetworkResource {
    let containers = state
        .containers
        .list()
        .into_iter()
        .filter_map(|c| {
            let ep = c.endpoints.into_iter().find(|e| e.network_id == n.id)?;
            Some((
                c.id,
                NetworkContainer {
                    name: c.name,
                    endpoint_id: ep.endpoint_id,
                    mac_address: ep.mac,
                    ipv4_address: format!("{}/{}", ep.ip, ep.prefix),
                    ipv6_address: ep.ipv6.map(|v6| format!("{}/{}", v6.ip, v6.prefix)).unwrap_or_default(),
                },
            ))
        })
        .collect();
    let mut config = vec![pool_config(&n.subnet, n.gateway(), &n.ipam)];
    if let Some(v6) = &n.ipv6 {
        config.push(pool_config(&v6.subnet, v6.gateway(), &v6.ipam));
    }
    let mut options = n.options.clone();
    options.insert("com.docker.network.bridge.name".into(), n.device.clone());
    NetworkResource {
        name: n.name.clone(),
        id: n.id.clone(),
        created: n.created.clone(),
        scope: "local".into(),
        driver: "bridge".into(),
        enable_ipv6: n.ipv6.is_some(),
        ipam: Ipam { driver: "default".into(), config },
        internal: n.internal,
        attachable: n.attachable,
        ingress: false,
        containers,
        options,
        labels: n.labels.clone(),
    }
}

/// One `IPAM.Config` entry: Subnet, Gateway, IPRange, AuxiliaryAddresses.
fn pool_config<A: berth_core::network::Family + serde::Serialize>(
    subnet: &berth_core::network::Cidr<A>,
    gateway: A,
    ipam: &berth_core::network::Ipam<A>,
) -> BTreeMap<String, serde_json::Value> {
    let mut config = BTreeMap::from([
        ("Subnet".to_string(), subnet.to_string().into()),
        ("Gateway".to_string(), gateway.to_string().into()),
    ]);
    if let Some(range) = &ipam.ip_range {
        config.insert("IPRange".into(), range.to_string().into());
    }
    if !ipam.aux_addresses.is_empty() {
        config.insert("AuxiliaryAddresses".into(), serde_json::json!(ipam.aux_addresses));
    }
    config
}

/// `host` and `none`, whose IDs derive from the default bridge's so they stay stable.
fn special(default: &BridgeNetwork, name: &str, driver: &str) -> NetworkResource {
    NetworkResource {
        name: name.into(),
        id: berth_core::content::Digest::of(format!("{}{name}", default.id).as_bytes()).hex().to_string(),
        created: default.created.clone(),
        scope: "local".into(),
        driver: driver.into(),
        enable_ipv6: false,
        ipam: Ipam { driver: "default".into(), config: vec![] },
        internal: false,
        attachable: false,
        ingress: false,
        containers: BTreeMap::new(),
        options: BTreeMap::new(),
        labels: BTreeMap::new(),
    }
}

fn all(state: &AppState) -> Vec<NetworkResource> {
    let nets = state.network.list();
    let mut out: Vec<NetworkResource> = nets.iter().map(|n| resource(state, n)).collect();
    out.insert(1, special(&nets[0], "host", "host"));
    out.insert(2, special(&nets[0], "none", "null"));
    out
}

pub const LIST_FILTER_KEYS: &[&str] = &["dangling", "driver", "id", "label", "name", "scope", "type"];

pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<Params>,
) -> Result<Json<Vec<NetworkResource>>, ApiError> {
    let f = Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?;
    f.validate(LIST_FILTER_KEYS)?;
    let builtin = |n: &NetworkResource| matches!(n.name.as_str(), "bridge" | "host" | "none");
    Ok(Json(
        all(&state)
            .into_iter()
            .filter(|n| {
                f.values("name").all(|v| n.name.contains(v))
                    && f.fuzzy("id", &n.id)
                    && f.exact("driver", &n.driver)
                    && f.labels("label", &n.labels)
                    && f.values("type").all(|t| (t == "builtin") == builtin(n))
            })
            .collect(),
    ))
}

pub async fn inspect(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<NetworkResource>, ApiError> {
    let nets = all(&state);
    let by_name = nets.iter().position(|n| n.name == name || n.id == name);
    let idx = by_name.or_else(|| {
        let mut m = nets.iter().enumerate().filter(|(_, n)| !name.is_empty() && n.id.starts_with(&name));
        match (m.next(), m.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    });
    let idx = idx.ok_or_else(|| ApiError::not_found(format!("network {name} not found")))?;
    Ok(Json(nets.into_iter().nth(idx).expect("index from the same list")))
}

pub async fn create(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<NetworkCreateRequest>,
) -> Result<(StatusCode, Json<NetworkCreateResponse>), ApiError> {
    if !matches!(req.driver.as_str(), "" | "bridge") {
        return Err(ApiError::not_found(format!("plugin \"{}\" not found", req.driver)));
    }
    // Each pool is IPv4 or IPv6 by its addresses.
    let (v6, v4): (Vec<IpamPool>, Vec<IpamPool>) = req
        .ipam
        .and_then(|i| i.config)
        .unwrap_or_default()
        .into_iter()
        .partition(|p| [&p.subnet, &p.gateway, &p.ip_range].into_iter().flatten().any(|a| a.contains(':')));
    if v4.len() > 1 || v6.len() > 1 {
        return Err(ApiError::bad_request("Berth networks take one IPv4 and one IPv6 subnet at most"));
    }
    let enable_ipv6 = req.enable_ipv6.unwrap_or(false);
    if !v6.is_empty() && !enable_ipv6 {
        return Err(ApiError::bad_request("an IPv6 subnet was given but IPv6 is not enabled (--ipv6, EnableIPv6)"));
    }
    let pool = |p: Option<IpamPool>| {
        let p = p.unwrap_or_default();
        berth_core::network::PoolRequest {
            subnet: p.subnet,
            gateway: p.gateway,
            ip_range: p.ip_range,
            aux_addresses: p.auxiliary_addresses.unwrap_or_default(),
        }
    };
    let options = berth_core::network::CreateOptions {
        ipv4: pool(v4.into_iter().next()),
        ipv6: enable_ipv6.then(|| pool(v6.into_iter().next())),
        internal: req.internal,
        attachable: req.attachable,
        labels: req.labels.unwrap_or_default(),
        options: req.options.unwrap_or_default(),
    };
    let n = state.network.create(&req.name, options)?;
    state.events.publish(network_event(&n, "create"));
    Ok((StatusCode::CREATED, Json(NetworkCreateResponse { id: n.id, warning: String::new() })))
}

fn network_event(n: &BridgeNetwork, action: &str) -> Event {
    let attrs = BTreeMap::from([("name".to_string(), n.name.clone()), ("type".to_string(), "bridge".to_string())]);
    Event::now(ObjectType::Network, action, n.id.clone(), attrs)
}

pub async fn remove(State(state): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    if matches!(name.as_str(), "host" | "none") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("{name} is a pre-defined network and cannot be removed"),
        ));
    }
    let n = state.network.get(&name)?;
    if in_use(&state, &n) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("error while removing network: network {} id {} has active endpoints", n.name, n.id),
        ));
    }
    let n = state.network.remove(&n.id).await?;
    state.events.publish(network_event(&n, "destroy"));
    Ok(StatusCode::NO_CONTENT)
}

pub async fn prune(State(state): State<AppState>) -> Result<Json<NetworkPruneResponse>, ApiError> {
    let mut deleted = Vec::new();
    for n in state.network.list().into_iter().filter(|n| !n.is_default()) {
        if !in_use(&state, &n) {
            let n = state.network.remove(&n.id).await?;
            state.events.publish(network_event(&n, "destroy"));
            deleted.push(n.name);
        }
    }
    Ok(Json(NetworkPruneResponse { networks_deleted: (!deleted.is_empty()).then_some(deleted) }))
}

/// A network with running containers on it cannot go, as in Docker;
/// stopped ones that name it fail at their next start.
fn in_use(state: &AppState, n: &BridgeNetwork) -> bool {
    state.containers.list().iter().any(|c| c.endpoints.iter().any(|e| e.network_id == n.id))
}

/// What connect and disconnect both refuse: the built-in networks, and a
/// request that names no container.
fn check_request(network: &str, container: &str) -> Result<(), ApiError> {
    if container.is_empty() {
        return Err(ApiError::bad_request("container is required"));
    }
    if matches!(network, "host" | "none") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("container cannot be disconnected from host network or connected to {network} network"),
        ));
    }
    Ok(())
}

pub async fn connect(
    State(state): State<AppState>,
    Path(network): Path<String>,
    JsonBody(req): JsonBody<ConnectRequest>,
) -> Result<StatusCode, ApiError> {
    check_request(&network, &req.container)?;
    let att = req.endpoint_config.unwrap_or_default().attachment()?;
    state.containers.connect_network(&req.container, &network, att).await?;
    Ok(StatusCode::OK)
}

pub async fn disconnect(
    State(state): State<AppState>,
    Path(network): Path<String>,
    JsonBody(req): JsonBody<DisconnectRequest>,
) -> Result<StatusCode, ApiError> {
    check_request(&network, &req.container)?;
    state.containers.disconnect_network(&req.container, &network).await?;
    Ok(StatusCode::OK)
}
