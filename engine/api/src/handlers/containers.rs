//! `/containers/...`: start, stop, kill, wait, remove, list, inspect, update
//! and the rest of the lifecycle (create is in container_create.rs).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_core::containers::mounts::MountKind;
use berth_core::containers::{Container, ResourceUpdate, Status};
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
