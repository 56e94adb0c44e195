//! The project's networks and volumes: created before containers, removed by `down`.

use std::collections::{BTreeSet, HashMap};

use bollard::query_parameters::{ListNetworksOptionsBuilder, ListVolumesOptionsBuilder};
use bollard::Docker;
use serde_json::json;

use super::labels;
use crate::error::{is_status, ComposeError, Result};
use crate::progress::Progress;
use crate::project::{Project, Service};

/// Network keys used by the given services.
pub fn used_networks<'a>(services: impl Iterator<Item = &'a Service>) -> BTreeSet<String> {
    services.filter(|s| s.network_mode.is_none()).flat_map(|s| s.networks.keys().cloned()).collect()
}

/// Named volume keys used by the given services.
pub fn used_volumes<'a>(project: &Project, services: impl Iterator<Item = &'a Service>) -> BTreeSet<String> {
    services
        .flat_map(|s| s.volumes.iter())
        .filter(|m| m.kind == "volume")
        .filter_map(|m| m.source.clone())
        .filter(|k| project.volumes.contains_key(k))
        .collect()
}

pub async fn ensure_networks(
    docker: &Docker,
    project: &Project,
    keys: &BTreeSet<String>,
    progress: Progress,
) -> Result<()> {
    for key in keys {
        let net = &project.networks[key];
        match docker.inspect_network(&net.name, None::<bollard::query_parameters::InspectNetworkOptions>).await {
            Ok(found) => {
                let ours =
                    found.labels.as_ref().and_then(|l| l.get(labels::PROJECT)).is_some_and(|p| p == &project.name);
                if !net.external && !ours {
                    tracing::warn!(
                        "a network with name {} exists but was not created by compose.\nSet `external: true` to use an existing network",
                        net.name
                    );
                }
                continue;
            }
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(e.into()),
        }
        if net.external {
            return Err(ComposeError::Failed(format!(
                "network {} declared as external, but could not be found",
                net.name
            )));
        }
        progress.event("Network", &net.name, "Creating");
        let mut net_labels = net.labels.clone();
        net_labels.insert(labels::PROJECT.into(), project.name.clone());
        net_labels.insert(labels::NETWORK.into(), key.clone());
        net_labels.insert(labels::VERSION.into(), crate::VERSION.into());
        let mut body = json!({
            "Name": net.name,
            "Driver": net.driver.clone().unwrap_or_else(|| "bridge".into()),
            "Internal": net.internal,
            "Attachable": net.attachable,
            "EnableIPv6": net.enable_ipv6,
            "Options": net.driver_opts,
            "Labels": net_labels,
        });
        if let Some(ipam) = &net.ipam {
            let pools: Vec<_> = ipam
                .config
                .iter()
                .map(|c| json!({"Subnet": c.subnet, "Gateway": c.gateway, "IPRange": c.ip_range}))
                .collect();
            body["IPAM"] = json!({"Driver": ipam.driver.clone().unwrap_or_else(|| "default".into()), "Config": pools});
        }
        let request: bollard::models::NetworkCreateRequest =
            serde_json::from_value(body).map_err(|e| ComposeError::Failed(format!("network {key}: {e}")))?;
        docker.create_network(request).await?;
        progress.event("Network", &net.name, "Created");
    }
    Ok(())
}

pub async fn ensure_volumes(
    docker: &Docker,
    project: &Project,
    keys: &BTreeSet<String>,
    progress: Progress,
) -> Result<()> {
    for key in keys {
        let vol = &project.volumes[key];
        match docker.inspect_volume(&vol.name).await {
            Ok(found) => {
                let ours = found.labels.get(labels::PROJECT).is_some_and(|p| p == &project.name);
                if !vol.external && !ours {
                    tracing::warn!(
                        "volume \"{}\" already exists but was not created by Docker Compose. Use `external: true` to use an existing volume",
                        vol.name
                    );
                }
                continue;
            }
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(e.into()),
        }
        if vol.external {
            return Err(ComposeError::Failed(format!("external volume \"{}\" not found", vol.name)));
        }
        let shown = &vol.name;
        progress.event("Volume", shown, "Creating");
        let mut vol_labels: HashMap<String, String> = vol.labels.clone().into_iter().collect();
        vol_labels.insert(labels::PROJECT.into(), project.name.clone());
        vol_labels.insert(labels::VOLUME.into(), key.clone());
        vol_labels.insert(labels::VERSION.into(), crate::VERSION.into());
        let request = bollard::models::VolumeCreateOptions {
            name: Some(vol.name.clone()),
            driver: Some(vol.driver.clone().unwrap_or_else(|| "local".into())),
            driver_opts: Some(vol.driver_opts.clone().into_iter().collect()),
            labels: Some(vol_labels),
            ..Default::default()
        };
        docker.create_volume(request).await?;
        progress.event("Volume", shown, "Created");
    }
    Ok(())
}

/// Removes the networks compose created for the project (never external ones).
pub async fn remove_networks(docker: &Docker, project: &str, progress: Progress) -> Result<()> {
    let opts = ListNetworksOptionsBuilder::new().filters(&labels::filter(project, &[])).build();
    for net in docker.list_networks(Some(opts)).await? {
        let name = net.name.unwrap_or_default();
        progress.event("Network", &name, "Removing");
        match docker.remove_network(&name).await {
            Ok(()) => progress.event("Network", &name, "Removed"),
            Err(e) if is_status(&e, 404) => progress.event("Network", &name, "Removed"),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Removes the project's named volumes (never external ones).
pub async fn remove_volumes(docker: &Docker, project: &str, progress: Progress) -> Result<()> {
    let opts = ListVolumesOptionsBuilder::new().filters(&labels::filter(project, &[])).build();
    let listed = docker.list_volumes(Some(opts)).await?;
    for vol in listed.volumes.unwrap_or_default() {
        let shown = &vol.name;
        progress.event("Volume", shown, "Removing");
        match docker.remove_volume(&vol.name, None::<bollard::query_parameters::RemoveVolumeOptions>).await {
            Ok(()) => progress.event("Volume", shown, "Removed"),
            Err(e) if is_status(&e, 404) => progress.event("Volume", shown, "Removed"),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
