//! `/containers/...`: create, start, stop, kill, wait, remove, list,
//! inspect, logs and attach.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_core::containers::logging::LogConfig;
use berth_core::containers::mounts::{MountKind, MountRequest};
use berth_core::containers::namespaces::Modes;
use berth_core::containers::tuning::{self, DeviceMapping, Tuning, Ulimit};
use berth_core::containers::{Container, ContainerSpec, CreateRequest, HostSpec, ResourceUpdate, Status};
use berth_core::filters::Filters;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::StatusCode;

use super::network_view;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::query::{flag, Params};
use crate::state::AppState;
use crate::types::*;

pub async fn create(
    State(state): State<AppState>,
    Query(q): Query<Params>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<(StatusCode, Json<ContainerCreateResponse>), ApiError> {
    let mut req: ContainerCreateRequest = serde_json::from_value(body.clone())
        .map_err(|e| ApiError::bad_request(format!("invalid container configuration: {e}")))?;
    let host = req.host_config.unwrap_or_default();
    let (name, policy) = (q.get("name").cloned(), host.restart_policy.unwrap_or_default());
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
            },
            init: host.init,
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
    // Inspect shows the runtime in force (docker-py names it at the top level).
    if host_config_json.get("Runtime").and_then(serde_json::Value::as_str).unwrap_or("").is_empty() {
        let top = config_json.get("Runtime").and_then(serde_json::Value::as_str).map(String::from);
        host_config_json["Runtime"] = top.unwrap_or_else(|| state.system.config().default_runtime.clone()).into();
    }
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
    let warnings = tuning::warnings(&spec.host.tuning);
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

pub async fn start(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.containers.start(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `t` (seconds before SIGKILL) and `signal` of stop and restart.
fn stop_params(q: &Params) -> Result<(Option<i64>, Option<&str>), ApiError> {
    let timeout = q
        .get("t")
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<i64>())
        .transpose()
        .map_err(|_| ApiError::bad_request(format!("invalid value for t: {:?}", q.get("t"))))?;
    Ok((timeout, q.get("signal").map(String::as_str).filter(|s| !s.is_empty())))
}

pub async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<StatusCode, ApiError> {
    let (timeout, signal) = stop_params(&q)?;
    state.containers.stop(&id, timeout, signal).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn kill(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<StatusCode, ApiError> {
    let signal = q.get("signal").map(String::as_str).filter(|s| !s.is_empty()).unwrap_or("SIGKILL");
    state.containers.kill(&id, signal).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<StatusCode, ApiError> {
    state.containers.remove(&id, flag(&q, "force"), flag(&q, "v")).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Answers with headers at once and the body when the condition is met, so
/// `docker run` can start the container knowing the wait is in place.
pub async fn wait(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let done = state.containers.wait(&id, q.get("condition").map(String::as_str).unwrap_or(""))?;
    let body = futures_util::stream::once(async move {
        let code = done.await;
        let mut json = serde_json::to_vec(&ContainerWaitResponse { status_code: code.into() }).unwrap_or_default();
        json.push(b'\n');
        Ok::<_, std::convert::Infallible>(Bytes::from(json))
    });
    Ok(([(CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response())
}

/// `size=1` of list and inspect: (SizeRw, SizeRootFs).
fn sizes(state: &AppState, c: &Container) -> (i64, i64) {
    let rw = state.containers.rw_size(&c.id) as i64;
    let image = state.images.inspect(c.image_id.as_str()).map_or(0, |i| i.size as i64);
    (rw, rw + image)
}

pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<Json<ContainerInspectResponse>, ApiError> {
    let c = state.containers.get(&id)?;
    let measured = flag(&q, "size").then(|| sizes(&state, &c));
    let lower = state.images.inspect(c.image_id.as_str()).map(|d| d.lower_dirs).unwrap_or_default();
    let data_dir = state.containers.log_path(&c.id).parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let mut graph = std::collections::BTreeMap::new();
    graph.insert("UpperDir".into(), data_dir.join("rw/upper").display().to_string());
    graph.insert("WorkDir".into(), data_dir.join("rw/work").display().to_string());
    graph.insert("MergedDir".into(), data_dir.join("rw/merged").display().to_string());
    graph.insert("LowerDir".into(), lower.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":"));
    let st = &c.state;
    Ok(Json(ContainerInspectResponse {
        id: c.id.clone(),
        size_rw: measured.map(|s| s.0),
        size_root_fs: measured.map(|s| s.1),
        created: c.created.clone(),
        path: c.path.clone(),
        args: c.args.clone(),
        state: ContainerState {
            status: st.status.as_str().into(),
            running: matches!(st.status, Status::Running | Status::Paused),
            paused: st.status == Status::Paused,
            restarting: st.status == Status::Restarting,
            oom_killed: st.oom_killed,
            dead: st.status == Status::Dead,
            pid: st.pid.into(),
            exit_code: st.exit_code.into(),
            error: st.error.clone(),
            started_at: st.started_at.clone().unwrap_or_else(|| ZERO_TIME.into()),
            finished_at: st.finished_at.clone().unwrap_or_else(|| ZERO_TIME.into()),
            health: st.health.as_ref().map(|h| Health {
                status: h.status.clone(),
                failing_streak: h.failing_streak,
                log: h
                    .log
                    .iter()
                    .map(|r| HealthcheckResult {
                        start: r.start.clone(),
                        end: r.end.clone(),
                        exit_code: r.exit_code,
                        output: r.output.clone(),
                    })
                    .collect(),
            }),
        },
        image: c.image_id.to_string(),
        resolv_conf_path: data_dir.join("resolv.conf").display().to_string(),
        hostname_path: data_dir.join("hostname").display().to_string(),
        hosts_path: data_dir.join("hosts").display().to_string(),
        // Empty when the driver keeps no file, as dockerd shows it.
        log_path: match c.spec.host.log.retention() {
            Ok(Some(_)) => state.containers.log_path(&c.id).display().to_string(),
            _ => String::new(),
        },
        name: format!("/{}", c.name),
        restart_count: c.restart_count,
        driver: "overlay2".into(),
        platform: "linux".into(),
        mount_label: String::new(),
        process_label: String::new(),
        app_armor_profile: String::new(),
        exec_ids: Some(state.containers.exec_ids(&c.id)).filter(|ids| !ids.is_empty()),
        host_config: c.host_config_json.clone(),
        graph_driver: GraphDriver { name: "overlay2".into(), data: graph },
        mounts: mount_points(&state, &c),
        config: c.config_json.clone(),
        network_settings: network_view::network_settings(&state, &c),
    }))
}

/// Go's zero time, which dockerd reports for "never".
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub const LIST_FILTER_KEYS: &[&str] =
    &["ancestor", "before", "exited", "id", "label", "name", "since", "status", "network", "volume", "health"];

pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<Params>,
) -> Result<Json<Vec<ContainerSummaryItem>>, ApiError> {
    let filters = Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?;
    filters.validate(LIST_FILTER_KEYS)?;
    let all = flag(&q, "all");
    let limit: Option<usize> = q.get("limit").and_then(|l| l.parse().ok()).filter(|l: &usize| *l > 0);
    let mut out = Vec::new();
    // `before`/`since` name containers; their creation times bound the list.
    let reference: std::collections::HashMap<&str, String> = filters
        .values("before")
        .chain(filters.values("since"))
        .map(|r| state.containers.get(r).map(|c| (r, c.created)))
        .collect::<Result<_, _>>()?;
    for c in state.containers.list() {
        let status = c.state.status.as_str();
        let running = matches!(c.state.status, Status::Running | Status::Paused | Status::Restarting);
        if !(all || running || filters.contains("status") || filters.contains("exited") || limit.is_some()) {
            continue;
        }
        let image_matches =
            |a: &str| c.spec.image == a || state.images.resolve(a).is_ok_and(|img| img.id == c.image_id);
        let on_network = |n: &str| {
            c.spec.networks.contains_key(n)
                || state.network.get(n).is_ok_and(|net| c.spec.networks.contains_key(&net.name))
        };
        let has_volume = |v: &str| c.mounts.iter().any(|m| m.source == v || m.target == v);
        if !filters.exact("status", status)
            || !filters.fuzzy("id", &c.id)
            || !filters.any("name", |n| c.name.contains(n.trim_start_matches('/')))
            || !filters.labels("label", &c.spec.labels)
            || !filters.any("ancestor", image_matches)
            || !filters.any("exited", |e| c.state.status == Status::Exited && e == c.state.exit_code.to_string())
            || !filters.any("health", |h| c.state.health.as_ref().map_or(h == "none", |s| s.status == h))
            || !filters.any("network", on_network)
            || !filters.any("volume", has_volume)
            || !filters.any("before", |b| reference.get(b).is_some_and(|t| c.created < *t))
            || !filters.any("since", |b| reference.get(b).is_some_and(|t| c.created > *t))
        {
            continue;
        }
        let mut item = summary(&state, &c);
        if flag(&q, "size") {
            let (rw, root) = sizes(&state, &c);
            (item.size_rw, item.size_root_fs) = (Some(rw), Some(root));
        }
        out.push(item);
    }
    if let Some(l) = limit {
        out.truncate(l);
    }
    Ok(Json(out))
}

pub(crate) fn summary(state: &AppState, c: &Container) -> ContainerSummaryItem {
    let mut command = vec![c.path.clone()];
    command.extend(c.args.iter().cloned());
    ContainerSummaryItem {
        id: c.id.clone(),
        names: vec![format!("/{}", c.name)],
        image: c.spec.image.clone(),
        image_id: c.image_id.to_string(),
        command: command.join(" "),
        created: parse_time(&c.created).map_or(0, |t| t.timestamp()),
        ports: c
            .endpoints
            .iter()
            .flat_map(|ep| ep.ports.iter())
            .map(|p| Port {
                ip: Some(p.host_ip.clone()),
                private_port: p.container_port,
                public_port: Some(p.host_port),
                r#type: p.protocol.clone(),
            })
            .collect(),
        size_rw: None,
        size_root_fs: None,
        labels: c.spec.labels.clone(),
        state: c.state.status.as_str().into(),
        status: status_text(c),
        host_config: SummaryHostConfig { network_mode: c.spec.host.network_mode.clone() },
        network_settings: SummaryNetworkSettings { networks: network_view::endpoint_settings(state, c) },
        mounts: mount_points(state, c),
    }
}

/// Inspect's and ps's view of the container's mounts.
fn mount_points(state: &AppState, c: &Container) -> Vec<MountPoint> {
    c.mounts
        .iter()
        .map(|m| {
            let (name, source, driver) = match m.kind {
                MountKind::Volume => {
                    let source =
                        state.volumes.get(&m.source).map(|v| v.mountpoint.display().to_string()).unwrap_or_default();
                    (m.source.clone(), source, "local".to_string())
                }
                MountKind::Bind => (String::new(), m.source.clone(), String::new()),
                MountKind::Tmpfs => (String::new(), String::new(), String::new()),
            };
            MountPoint {
                r#type: m.kind.as_str().into(),
                name,
                source,
                destination: m.target.clone(),
                driver,
                mode: String::new(),
                rw: !m.read_only,
                propagation: m.propagation.clone(),
            }
        })
        .collect()
}

fn parse_time(t: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(t).ok()
}

/// "Up 3 minutes", "Exited (0) 2 seconds ago", "Created", as `docker ps` shows.
fn status_text(c: &Container) -> String {
    let since = |t: &Option<String>| {
        t.as_deref()
            .and_then(parse_time)
            .map(|t| human_duration((chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds()))
            .unwrap_or_default()
    };
    match c.state.status {
        Status::Running => {
            let health = c.state.health.as_ref().map(|h| match h.status.as_str() {
                "starting" => " (health: starting)".to_string(),
                other => format!(" ({other})"),
            });
            format!("Up {}{}", since(&c.state.started_at), health.unwrap_or_default())
        }
        Status::Paused => format!("Up {} (Paused)", since(&c.state.started_at)),
        Status::Restarting => format!("Restarting ({}) {} ago", c.state.exit_code, since(&c.state.finished_at)),
        Status::Exited => format!("Exited ({}) {} ago", c.state.exit_code, since(&c.state.finished_at)),
        Status::Created => "Created".into(),
        other => other.as_str().to_string(),
    }
}

/// Docker's human durations.
fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s < 120 => "About a minute".into(),
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 7200 => "About an hour".into(),
        s if s < 48 * 3600 => format!("{} hours", s / 3600),
        s if s < 14 * 86400 => format!("{} days", s / 86400),
        s if s < 60 * 86400 => format!("{} weeks", s / (7 * 86400)),
        s if s < 2 * 365 * 86400 => format!("{} months", s / (30 * 86400)),
        s => format!("{} years", s / (365 * 86400)),
    }
}

pub async fn restart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<StatusCode, ApiError> {
    let (timeout, signal) = stop_params(&q)?;
    state.containers.restart(&id, timeout, signal).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn pause(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.containers.pause(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unpause(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.containers.unpause(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<StatusCode, ApiError> {
    let name = q.get("name").filter(|n| !n.is_empty()).ok_or_else(|| ApiError::bad_request("name is required"))?;
    state.containers.rename(&id, name)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `docker update`. As in dockerd, a zero or empty field means "leave as is" (the CLI sends every
/// field); only `PidsLimit` is meaningful when present.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ContainerUpdateRequest>,
) -> Result<Json<ContainerUpdateResponse>, ApiError> {
    let set = |v: Option<i64>| v.filter(|v| *v != 0);
    let text = |v: Option<String>| v.filter(|v| !v.is_empty());
    let u = ResourceUpdate {
        memory: set(req.memory),
        memory_reservation: set(req.memory_reservation),
        memory_swap: set(req.memory_swap),
        cpu_shares: set(req.cpu_shares),
        nano_cpus: set(req.nano_cpus),
        cpu_quota: set(req.cpu_quota),
        cpu_period: set(req.cpu_period),
        cpuset_cpus: text(req.cpuset_cpus),
        cpuset_mems: text(req.cpuset_mems),
        pids_limit: req.pids_limit,
        restart_policy: req.restart_policy.filter(|p| !p.name.is_empty()).map(|p| (p.name, p.maximum_retry_count)),
    };
    let warnings = state.containers.update_resources(&id, u).await?;
    Ok(Json(ContainerUpdateResponse { warnings }))
}

pub async fn top(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<Json<ContainerTopResponse>, ApiError> {
    let (titles, processes) = state.containers.top(&id, q.get("ps_args").map(String::as_str).unwrap_or("")).await?;
    Ok(Json(ContainerTopResponse { titles, processes }))
}

pub async fn prune(
    State(state): State<AppState>,
    Query(q): Query<Params>,
) -> Result<Json<ContainerPruneResponse>, ApiError> {
    let filters = Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?;
    let (removed, space) = state.containers.prune(&filters).await?;
    Ok(Json(ContainerPruneResponse {
        containers_deleted: (!removed.is_empty()).then_some(removed),
        space_reclaimed: space,
    }))
}
