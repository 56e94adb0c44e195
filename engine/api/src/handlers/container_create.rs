//! `POST /containers/create`: the request's Config and HostConfig turned into the engine's
//! container spec, with dockerd's checks and messages.

use axum::extract::{Query, State};
use axum::Json;
use berth_core::containers::blkio::{Blkio, DeviceValue};
use berth_core::containers::logging::LogConfig;
use berth_core::containers::mounts::MountRequest;
use berth_core::containers::namespaces::Modes;
use berth_core::containers::tuning::{self, DeviceMapping, Tuning, Ulimit};
use berth_core::containers::{ContainerSpec, CreateRequest, HostSpec};
use http::StatusCode;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::query::Params;
use crate::state::AppState;
use crate::types::*;

pub async fn create(
    State(state): State<AppState>,
    Query(q): Query<Params>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<(StatusCode, Json<ContainerCreateResponse>), ApiError> {
    let mut req: ContainerCreateRequest = serde_json::from_value(body.clone())
        .map_err(|e| ApiError::bad_request(format!("invalid container configuration: {e}")))?;
    let mut host = req.host_config.take().unwrap_or_default();
    let (name, policy) = (q.get("name").cloned(), host.restart_policy.take().unwrap_or_default());
    if host.memory < 0 || host.cpu_shares < 0 || host.nano_cpus < 0 {
        return Err(ApiError::bad_request("invalid resource value: limits cannot be negative"));
    }
    if host.memory > 0 && host.memory < 6 * 1024 * 1024 {
        return Err(ApiError::bad_request("Minimum memory limit allowed is 6MB"));
    }
    let healthcheck = req.healthcheck.map(|h| berth_core::containers::health::HealthConfig {
        test: h.test.unwrap_or_default(),
        interval: h.interval,
        timeout: h.timeout,
        start_period: h.start_period,
        start_interval: h.start_interval,
        retries: h.retries,
    });
    let security = tuning::parse_security_opts(&host.security_opt.clone().unwrap_or_default())?;
    let namespaces =
        Modes::checked(&host.pid_mode, &host.ipc_mode, &host.uts_mode, &host.cgroupns_mode, &host.userns_mode)?;
    if namespaces.uts == "host" && !req.hostname.is_empty() {
        return Err(ApiError::bad_request("conflicting options: hostname and the UTS mode"));
    }
    let uses_volumes = req.volumes.as_ref().is_some_and(|v| !v.is_empty())
        || host.binds.iter().flatten().any(|b| !b.starts_with('/'))
        || host.mounts.iter().flatten().any(|m| m.r#type == "volume");
    refuse_unsupported(&host, uses_volumes)?;
    if req.network_disabled {
        host.network_mode = "none".into();
        req.networking_config = None;
    }
    let (blkio, blkio_warnings) = blkio(&host).checked(berth_core::system::Cgroups::host())?;
    let mut networks: std::collections::BTreeMap<_, _> = req
        .networking_config
        .take()
        .and_then(|n| n.endpoints_config)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, e)| Ok((name, e.attachment()?)))
        .collect::<Result<_, ApiError>>()?;
    // The old top-level MacAddress goes to the primary network, as dockerd moves it.
    if !req.mac_address.is_empty() {
        if berth_core::containers::parse_mac(&req.mac_address).is_none() {
            return Err(ApiError::bad_request(format!("invalid MAC address: {}", req.mac_address)));
        }
        let primary = match host.network_mode.as_str() {
            "" | "default" => "bridge".to_string(),
            mode => mode.to_string(),
        };
        let att = networks.entry(primary).or_default();
        att.mac_address.get_or_insert_with(|| req.mac_address.clone());
    }
    let spec = ContainerSpec {
        image: req.image,
        cmd: req.cmd,
        entrypoint: req.entrypoint,
        env: req.env.unwrap_or_default(),
        working_dir: req.working_dir,
        user: req.user,
        hostname: req.hostname,
        domainname: req.domainname,
        tty: req.tty,
        open_stdin: req.open_stdin,
        stdin_once: req.stdin_once,
        labels: req.labels.unwrap_or_default(),
        stop_signal: Some(req.stop_signal).filter(|s| !s.is_empty()),
        stop_timeout: req.stop_timeout,
        host: HostSpec {
            auto_remove: host.auto_remove,
            privileged: host.privileged,
            read_only: host.readonly_rootfs,
            cap_add: host.cap_add.unwrap_or_default(),
            cap_drop: host.cap_drop.unwrap_or_default(),
            memory: host.memory,
            pids_limit: host.pids_limit,
            cpu_shares: host.cpu_shares,
            nano_cpus: host.nano_cpus,
            network_mode: if host.network_mode.is_empty() { "default".into() } else { host.network_mode },
            restart_policy: policy.name,
            restart_max_retries: policy.maximum_retry_count,
            port_bindings: port_bindings(host.port_bindings.unwrap_or_default())?,
            publish_all: host.publish_all_ports,
            extra_hosts: host.extra_hosts.unwrap_or_default(),
            dns: host.dns.unwrap_or_default(),
            dns_search: host.dns_search.unwrap_or_default(),
            dns_options: host.dns_options.unwrap_or_default(),
            tuning: Tuning {
                shm_size: host.shm_size,
                sysctls: host.sysctls.unwrap_or_default(),
                group_add: host.group_add.unwrap_or_default(),
                ulimits: host
                    .ulimits
                    .unwrap_or_default()
                    .into_iter()
                    .map(|u| Ulimit { name: u.name, soft: u.soft, hard: u.hard })
                    .collect(),
                devices: host
                    .devices
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| DeviceMapping {
                        path_on_host: d.path_on_host,
                        path_in_container: d.path_in_container,
                        cgroup_permissions: d.cgroup_permissions,
                    })
                    .collect(),
                no_new_privileges: security.no_new_privileges,
                seccomp: security.seccomp,
                oom_score_adj: host.oom_score_adj,
                cpu_quota: host.cpu_quota,
                cpu_period: host.cpu_period,
                cpuset_cpus: host.cpuset_cpus,
                cpuset_mems: host.cpuset_mems,
                memory_reservation: host.memory_reservation,
                memory_swap: host.memory_swap,
                memory_swappiness: host.memory_swappiness,
                oom_kill_disable: host.oom_kill_disable.unwrap_or(false),
                device_cgroup_rules: host.device_cgroup_rules.clone().unwrap_or_default(),
                cgroup_parent: host.cgroup_parent.clone(),
                blkio,
                masked_paths: host.masked_paths.clone(),
                readonly_paths: host.readonly_paths.clone(),
                annotations: host.annotations.clone().unwrap_or_default(),
            },
            init: host.init,
            // docker-py names it at the top level.
            runtime: if host.runtime.is_empty() { req.runtime.clone() } else { host.runtime.clone() },
            namespaces: namespaces.clone(),
            links: host
                .links
                .clone()
                .unwrap_or_default()
                .iter()
                .map(|l| berth_core::containers::links::Link::parse(l))
                .collect::<Result<_, _>>()?,
            log: {
                let wire = host.log_config.unwrap_or_default();
                LogConfig { driver: wire.driver.unwrap_or_default(), options: wire.config.unwrap_or_default() }
            },
        },
        exposed_ports: req.exposed_ports.unwrap_or_default().into_keys().collect(),
        networks,
    };
    let mut config_json = body;
    let host_config_json = config_json
        .as_object_mut()
        .and_then(|o| {
            o.remove("NetworkingConfig");
            o.remove("HostConfig")
        })
        .unwrap_or_else(|| serde_json::json!({}));
    let mut host_config_json = host_config_json;
    // Inspect shows the modes in force, as dockerd does.
    host_config_json["IpcMode"] = namespaces.ipc.into();
    host_config_json["CgroupnsMode"] = namespaces.cgroupns.into();
    // Inspect shows the size in force, as dockerd does.
    if host_config_json.get("ShmSize").and_then(serde_json::Value::as_i64).unwrap_or(0) <= 0 {
        host_config_json["ShmSize"] = berth_core::containers::tuning::DEFAULT_SHM_SIZE.into();
    }
    let mounts = host
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| MountRequest {
            kind: m.r#type,
            source: m.source,
            target: m.target,
            read_only: m.read_only,
            propagation: m.bind_options.map(|b| b.propagation).unwrap_or_default(),
            nocopy: m.volume_options.as_ref().is_some_and(|v| v.no_copy),
            subpath: m.volume_options.map(|v| v.subpath).unwrap_or_default(),
            tmpfs_size: m.tmpfs_options.as_ref().map_or(0, |t| t.size_bytes),
            tmpfs_mode: m.tmpfs_options.as_ref().map_or(0, |t| t.mode),
        })
        .collect();
    let mut warnings = tuning::warnings(&spec.host.tuning, spec.host.memory);
    warnings.extend(blkio_warnings);
    let c = state.containers.create(CreateRequest {
        name,
        spec,
        config_json,
        host_config_json,
        binds: host.binds.unwrap_or_default(),
        mounts,
        tmpfs: host.tmpfs.unwrap_or_default(),
        volumes: req.volumes.unwrap_or_default().into_keys().collect(),
        volumes_from: host.volumes_from.unwrap_or_default(),
        healthcheck,
    })?;
    Ok((StatusCode::CREATED, Json(ContainerCreateResponse { id: c.id, warnings })))
}

/// What this engine has no driver for: GPUs (`--gpus`), storage options, volume plugins for the
/// container's volumes. dockerd's words where it has them.
fn refuse_unsupported(host: &HostConfig, uses_volumes: bool) -> Result<(), ApiError> {
    if let Some(r) = host.device_requests.iter().flatten().next() {
        let caps: Vec<String> = r.capabilities.iter().flatten().map(|group| format!("[{}]", group.join(" "))).collect();
        return Err(ApiError::bad_request(format!(
            "could not select device driver {:?} with capabilities: [{}]",
            r.driver,
            caps.join(" ")
        )));
    }
    if host.storage_opt.as_ref().is_some_and(|o| !o.is_empty()) {
        return Err(ApiError::bad_request(
            "--storage-opt is supported only for overlay over xfs with 'pquota' mount option",
        ));
    }
    // As dockerd, the driver matters only to the volumes the container gets.
    if uses_volumes && !matches!(host.volume_driver.as_str(), "" | "local") {
        let d = &host.volume_driver;
        return Err(ApiError::bad_request(format!("error looking up volume plugin {d}: plugin {d:?} not found")));
    }
    Ok(())
}

/// The block I/O settings as asked, before the host's cgroups are consulted.
fn blkio(host: &HostConfig) -> Blkio {
    let throttles = |list: &Option<Vec<ThrottleDeviceWire>>| -> Vec<DeviceValue> {
        list.iter().flatten().map(|d| DeviceValue { path: d.path.clone(), value: d.rate }).collect()
    };
    Blkio {
        weight: host.blkio_weight,
        weight_device: host
            .blkio_weight_device
            .iter()
            .flatten()
            .map(|d| DeviceValue { path: d.path.clone(), value: d.weight.into() })
            .collect(),
        read_bps: throttles(&host.blkio_device_read_bps),
        write_bps: throttles(&host.blkio_device_write_bps),
        read_iops: throttles(&host.blkio_device_read_iops),
        write_iops: throttles(&host.blkio_device_write_iops),
    }
}

/// `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}` → bindings.
fn port_bindings(
    wire: std::collections::BTreeMap<String, Option<Vec<PortBindingWire>>>,
) -> Result<Vec<berth_core::network::PortBinding>, ApiError> {
    let mut out = Vec::new();
    for (key, hosts) in wire {
        let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let container_port: u16 =
            port.parse().map_err(|_| ApiError::bad_request(format!("invalid port specification: {key:?}")))?;
        let hosts = hosts.unwrap_or_default();
        if !hosts.is_empty() && !matches!(proto, "tcp" | "udp") {
            return Err(ApiError::bad_request(format!(
                "unsupported protocol for published port {key}: use tcp or udp"
            )));
        }
        for h in hosts {
            let bad = || ApiError::bad_request(format!("invalid host port: {:?}", h.host_port));
            let (first, last) = h.host_port.split_once('-').unwrap_or((h.host_port.as_str(), ""));
            let host_port = if first.is_empty() { 0 } else { first.parse().map_err(|_| bad())? };
            let host_port_end: u16 = if last.is_empty() { 0 } else { last.parse().map_err(|_| bad())? };
            if host_port_end != 0 && host_port_end < host_port {
                return Err(bad());
            }
            out.push(berth_core::network::PortBinding {
                container_port,
                protocol: proto.to_string(),
                host_ip: h.host_ip,
                host_port,
                host_port_end,
            });
        }
    }
    Ok(out)
}
