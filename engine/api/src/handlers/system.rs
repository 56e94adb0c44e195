//! `/_ping`, `/version`, `/info`, `/system/df`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_core::system::{oci_arch, SystemReport};
use http::{header, HeaderValue, Method};

use crate::error::ApiError;
use crate::state::AppState;
use crate::types::*;
use crate::version::{MAX_API_VERSION, MIN_API_VERSION};

pub async fn ping(State(state): State<AppState>, method: Method) -> Response {
    let experimental = if state.system.config().experimental { "true" } else { "false" };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store, must-revalidate")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
        (header::HeaderName::from_static("docker-experimental"), HeaderValue::from_static(experimental)),
        (header::HeaderName::from_static("builder-version"), HeaderValue::from_static("1")),
        (header::HeaderName::from_static("swarm"), HeaderValue::from_static("inactive")),
    ];
    let body = if method == Method::HEAD { "" } else { "OK" };
    (headers, body).into_response()
}

pub async fn version(State(state): State<AppState>) -> Result<Json<SystemVersion>, ApiError> {
    let system = state.system.clone();
    let (host, runtime) =
        tokio::task::spawn_blocking(move || (berth_core::system::Host::probe(), system.runtime_version()))
            .await
            .map_err(|e| ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let cfg = state.system.config();
    let build = &cfg.build;
    let arch = oci_arch(&host.machine).to_string();
    let mut components = vec![ComponentVersion {
        name: "Engine".into(),
        version: build.version.clone(),
        details: BTreeMap::from([
            ("ApiVersion".into(), MAX_API_VERSION.to_string()),
            ("MinAPIVersion".into(), MIN_API_VERSION.to_string()),
            ("GitCommit".into(), build.git_commit.clone()),
            ("GoVersion".into(), build.rustc.clone()),
            ("Os".into(), "linux".into()),
            ("Arch".into(), arch.clone()),
            ("KernelVersion".into(), host.kernel_version.clone()),
            ("Experimental".into(), cfg.experimental.to_string()),
            ("BuildTime".into(), build.build_time.clone()),
        ]),
    }];
    if let Some(rt) = runtime {
        components.push(ComponentVersion {
            name: rt.name,
            version: rt.version,
            details: BTreeMap::from([("GitCommit".into(), rt.commit)]),
        });
    }
    Ok(Json(SystemVersion {
        platform: Platform { name: format!("Berth Engine {}", build.version) },
        components,
        version: build.version.clone(),
        api_version: MAX_API_VERSION.to_string(),
        min_api_version: MIN_API_VERSION.to_string(),
        git_commit: build.git_commit.clone(),
        go_version: build.rustc.clone(),
        os: "linux".into(),
        arch,
        kernel_version: host.kernel_version,
        experimental: cfg.experimental,
        build_time: build.build_time.clone(),
    }))
}

pub async fn info(State(state): State<AppState>) -> Result<Json<SystemInfo>, ApiError> {
    let system = state.system.clone();
    let report = tokio::task::spawn_blocking(move || system.report())
        .await
        .map_err(|e| ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(system_info(&state, report)))
}

fn system_info(state: &AppState, r: SystemReport) -> SystemInfo {
    let cfg = state.system.config();
    let counts = state.containers.counts();
    let mut index_configs = BTreeMap::from([(
        "docker.io".to_string(),
        IndexInfo { name: "docker.io".into(), mirrors: cfg.registry_mirrors.clone(), secure: true, official: true },
    )]);
    let mut insecure_cidrs = vec!["127.0.0.0/8".to_string(), "::1/128".to_string()];
    for reg in &cfg.insecure_registries {
        if reg.contains('/') {
            insecure_cidrs.push(reg.clone());
        } else {
            index_configs.insert(
                reg.clone(),
                IndexInfo { name: reg.clone(), mirrors: Vec::new(), secure: false, official: false },
            );
        }
    }
    let rt_commit = r.default_runtime.as_ref().map(|v| v.commit.clone()).unwrap_or_default();
    SystemInfo {
        id: r.id,
        containers: counts.running + counts.paused + counts.stopped,
        containers_running: counts.running,
        containers_paused: counts.paused,
        containers_stopped: counts.stopped,
        images: state.images.count(),
        driver: "overlay2".into(),
        driver_status: vec![
            ["Backing Filesystem".into(), r.backing_filesystem],
            ["Supports d_type".into(), r.supports_d_type.to_string()],
        ],
        docker_root_dir: cfg.data_root.display().to_string(),
        plugins: PluginsInfo {
            volume: vec!["local".into()],
            network: vec!["bridge".into(), "host".into(), "null".into()],
            authorization: None,
            log: vec!["json-file".into()],
        },
        memory_limit: r.cgroups.memory_limit,
        swap_limit: r.cgroups.swap_limit,
        cpu_cfs_period: r.cgroups.cpu_cfs_period,
        cpu_cfs_quota: r.cgroups.cpu_cfs_quota,
        cpu_shares: r.cgroups.cpu_shares,
        cpu_set: r.cgroups.cpuset,
        pids_limit: r.cgroups.pids_limit,
        oom_kill_disable: r.cgroups.oom_kill_disable,
        debug: cfg.debug,
        nfd: r.open_fds,
        ngoroutines: r.tasks,
        system_time: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false),
        logging_driver: cfg.log_driver.clone(),
        cgroup_driver: cfg.cgroup_driver.clone(),
        cgroup_version: r.cgroups.version.as_str().into(),
        nevents_listener: r.event_listeners,
        kernel_version: r.host.kernel_version,
        operating_system: r.host.operating_system,
        os_version: r.host.os_version,
        os_type: "linux".into(),
        architecture: r.host.machine,
        ncpu: r.host.ncpu,
        mem_total: r.host.mem_total,
        index_server_address: "https://index.docker.io/v1/".into(),
        registry_config: RegistryServiceConfig {
            insecure_registry_cidrs: insecure_cidrs,
            index_configs,
            mirrors: cfg.registry_mirrors.clone(),
        },
        generic_resources: None,
        http_proxy: cfg.http_proxy.clone(),
        https_proxy: cfg.https_proxy.clone(),
        no_proxy: cfg.no_proxy.clone(),
        name: r.host.hostname,
        labels: cfg.labels.clone(),
        experimental_build: cfg.experimental,
        server_version: cfg.build.version.clone(),
        runtimes: cfg
            .runtimes
            .iter()
            .map(|(name, rt)| (name.clone(), Runtime { path: rt.path.clone(), runtime_args: rt.args.clone() }))
            .collect(),
        default_runtime: cfg.default_runtime.clone(),
        swarm: SwarmInfo {
            node_id: String::new(),
            node_addr: String::new(),
            local_node_state: "inactive".into(),
            control_available: false,
            error: String::new(),
            remote_managers: None,
        },
        live_restore_enabled: cfg.live_restore,
        isolation: String::new(),
        init_binary: cfg.init_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        containerd_commit: Commit { id: String::new() },
        runc_commit: Commit { id: rt_commit },
        // berth-init is built with the engine.
        init_commit: Commit { id: cfg.build.git_commit.clone() },
        // Every container gets the default seccomp profile where the kernel filters.
        security_options: std::fs::read_to_string("/proc/self/status")
            .is_ok_and(|s| s.contains("Seccomp:"))
            .then(|| "name=seccomp,profile=builtin".to_string())
            .into_iter()
            .collect(),
        default_address_pools: cfg
            .default_address_pools
            .iter()
            .map(|p| AddressPool { base: p.base.clone(), size: p.size })
            .collect(),
        cdi_spec_dirs: Vec::new(),
        warnings: r.warnings,
    }
}

/// Disk usage per object type, as each store reports it.
pub async fn disk_usage(State(state): State<AppState>) -> Result<Json<SystemDataUsageResponse>, ApiError> {
    let images = state.images.clone();
    let usage = tokio::task::spawn_blocking(move || images.disk_usage())
        .await
        .map_err(|e| ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    let volumes = state.volumes.list(&berth_core::filters::Filters::default())?;
    let volumes = tokio::task::spawn_blocking({
        let state = state.clone();
        move || volumes.into_iter().map(|v| super::volumes::to_wire(&state, v, true)).collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let containers = state
        .containers
        .list()
        .iter()
        .map(|c| {
            let mut item = super::containers::summary(&state, c);
            item.size_rw = Some(state.containers.rw_size(&c.id) as i64);
            item
        })
        .collect();
    Ok(Json(SystemDataUsageResponse {
        layers_size: usage.layers_size as i64,
        volumes,
        containers,
        images: usage
            .images
            .into_iter()
            .map(|(shared, i)| {
                let users = state.containers.users_of(&i.id).len() as i64;
                super::images::summary(i, shared as i64, users)
            })
            .collect(),
        ..Default::default()
    }))
}
