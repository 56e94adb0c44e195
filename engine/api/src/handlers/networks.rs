//! `/networks`: the built-in networks (`bridge`, `host`, `none`). Creating
//! user-defined networks is not built yet and says so.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use http::StatusCode;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkResource {
    name: String,
    id: String,
    created: String,
    scope: String,
    driver: String,
    #[serde(rename = "EnableIPv6")]
    enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    ipam: Ipam,
    internal: bool,
    attachable: bool,
    ingress: bool,
    containers: BTreeMap<String, NetworkContainer>,
    options: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Ipam {
    driver: String,
    config: Vec<BTreeMap<String, String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkContainer {
    name: String,
    #[serde(rename = "EndpointID")]
    endpoint_id: String,
    mac_address: String,
    #[serde(rename = "IPv4Address")]
    ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    ipv6_address: String,
}

/// The three built-in networks; the IDs of host and none derive from
/// the bridge's so they stay stable.
fn builtin(state: &AppState) -> Vec<NetworkResource> {
    let b = state.network.bridge();
    let members: BTreeMap<String, NetworkContainer> = state
        .containers
        .list()
        .into_iter()
        .filter_map(|c| {
            let ep = c.endpoint?;
            Some((
                c.id,
                NetworkContainer {
                    name: c.name,
                    endpoint_id: ep.endpoint_id,
                    mac_address: ep.mac,
                    ipv4_address: format!("{}/{}", ep.ip, ep.prefix),
                    ipv6_address: String::new(),
                },
            ))
        })
        .collect();
    let net =
        |name: &str, id: String, driver: &str, config: Vec<BTreeMap<String, String>>, containers| NetworkResource {
            name: name.into(),
            id,
            created: b.created.clone(),
            scope: "local".into(),
            driver: driver.into(),
            enable_ipv6: false,
            ipam: Ipam { driver: "default".into(), config },
            internal: false,
            attachable: false,
            ingress: false,
            containers,
            options: BTreeMap::new(),
            labels: BTreeMap::new(),
        };
    let derived = |salt: &str| berth_core::content::Digest::of(format!("{}{salt}", b.id).as_bytes()).hex().to_string();
    let subnet = BTreeMap::from([
        ("Subnet".to_string(), b.subnet.to_string()),
        ("Gateway".to_string(), b.subnet.gateway().to_string()),
    ]);
    vec![
        net("bridge", b.id.clone(), "bridge", vec![subnet], members),
        net("host", derived("host"), "host", vec![], BTreeMap::new()),
        net("none", derived("none"), "null", vec![], BTreeMap::new()),
    ]
}

pub async fn list(State(state): State<AppState>) -> Json<Vec<NetworkResource>> {
    Json(builtin(&state))
}

pub async fn inspect(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<NetworkResource>, ApiError> {
    builtin(&state)
        .into_iter()
        .find(|n| n.name == name || (!name.is_empty() && n.id.starts_with(&name)))
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("network {name} not found")))
}

pub async fn create() -> ApiError {
    ApiError::new(StatusCode::NOT_IMPLEMENTED, "user-defined networks are not supported by Berth yet")
}
