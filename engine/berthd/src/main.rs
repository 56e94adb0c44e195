//! berthd: the Berth engine daemon. It resolves its settings, takes the data
//! root, binds the API sockets and serves until SIGTERM or SIGINT.

mod cli;
mod daemon_json;
mod listen;
mod lock;
mod reload;
mod service_manager;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use berth_api::AppState;
use berth_core::builder::BuildService;
use berth_core::config::SharedConfig;
use berth_core::containers::{ContainerService, Deps};
use berth_core::events::EventBus;
use berth_core::images::ImageService;
use berth_core::network::{DefaultBridge, NetworkService};
use berth_core::system::{engine_id, SystemService};
use berth_core::volumes::VolumeService;
use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

use crate::service_manager::ServiceManager;
use crate::settings::Settings;

/// How long open requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
enum DaemonError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error(transparent)]
    Listen(#[from] listen::ListenError),
    #[error(transparent)]
    Identity(#[from] berth_core::system::IdentityError),
    #[error("failed to open the image store")]
    Images(#[source] berth_core::images::ImageError),
    #[error("failed to set up networking")]
    Network(#[source] berth_core::network::NetworkError),
    #[error("failed to open the volume store")]
    Volumes(#[source] berth_core::volumes::VolumeError),
    #[error("failed to open the container store")]
    Containers(#[source] berth_core::containers::ContainerError),
    #[error("failed to open the build cache")]
    Builder(#[source] berth_core::builder::BuildError),
    #[error("failed to create {path}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("failed to set up signal handling")]
    Signals(#[source] std::io::Error),
}

fn main() -> ExitCode {
    let manager = service_manager::ServiceManager::take_from_env();
    let flags = cli::Flags::parse();
    let settings = settings::resolve(&flags);
    let level = settings.as_ref().map(|s| s.log_level.as_str()).unwrap_or("info");
    init_logging(level);
    let result = settings.map_err(DaemonError::from).and_then(|s| {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
        runtime.map_err(DaemonError::Signals)?.block_on(run(flags, s, manager))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{}", berth_api::error::message_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The socket files berthd made: removed when it stops, also when start-up fails after binding
/// them. Sockets systemd passed are its own.
struct CreatedSockets(Vec<PathBuf>);

impl Drop for CreatedSockets {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `berth-shim` sits beside `berthd` (`BERTH_SHIM` overrides).
fn shim_binary() -> PathBuf {
    match std::env::var_os("BERTH_SHIM") {
        Some(p) => p.into(),
        None => beside_berthd("berth-shim"),
    }
}

/// A companion binary in berthd's own directory, else found on PATH.
pub fn beside_berthd(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(name)))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn default_bridge(cfg: &berth_core::config::EngineConfig) -> DefaultBridge<'_> {
    DefaultBridge {
        device: &cfg.bridge,
        bip: cfg.bip.as_deref(),
        ipv6: cfg.ipv6,
        fixed_cidr_v6: cfg.fixed_cidr_v6.as_deref(),
        address_pools: &cfg.default_address_pools,
    }
}

fn init_logging(level: &str) {
    let level = if level == "fatal" { "error" } else { level };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BERTHD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},hyper=info")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

async fn run(flags: cli::Flags, settings: Settings, mut manager: ServiceManager) -> Result<(), DaemonError> {
    for w in &settings.warnings {
        tracing::warn!("{w}");
    }
    // Handlers first: a signal that arrives once the socket answers must
    // find them in place.
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    let cfg = &settings.engine;
    for dir in [&cfg.data_root, &cfg.exec_root] {
        std::fs::create_dir_all(dir).map_err(|source| DaemonError::CreateDir { path: dir.clone(), source })?;
    }
    let _lock = lock::DaemonLock::acquire(&cfg.data_root, &settings.pidfile)?;
    // Sockets before the stores: a bad -H fails before anything is set up, and a client that
    // connects during start-up waits for its answer instead of finding no socket.
    let mut listeners = Vec::new();
    let mut created = CreatedSockets(Vec::new());
    for host in &settings.hosts {
        let opened = listen::open(host, settings.group.as_deref(), &mut manager)?;
        created.0.extend(opened.iter().filter_map(|l| l.created.clone()));
        listeners.extend(opened);
    }
    // Exec processes are started detached by the runtime; as a subreaper the
    // engine inherits them and can collect their exit codes.
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(error = %e, "cannot become a child subreaper; exec exit codes will be lost");
    }
    let id = engine_id(&cfg.data_root)?;

    let config = SharedConfig::new(settings.engine.clone());
    let events = Arc::new(EventBus::new());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let images = ImageService::open(&cfg.data_root, config.clone(), events.clone()).map_err(DaemonError::Images)?;
    let volumes = VolumeService::open(&cfg.data_root, events.clone()).map_err(DaemonError::Volumes)?;
    let network = NetworkService::open(&cfg.data_root, &default_bridge(cfg)).map_err(DaemonError::Network)?;
    let deps = Deps {
        config: config.clone(),
        images: images.clone(),
        volumes: volumes.clone(),
        network: network.clone(),
        events: events.clone(),
    };
    let containers = ContainerService::open(&cfg.data_root, &cfg.exec_root, shim_binary(), deps)
        .await
        .map_err(DaemonError::Containers)?;
    {
        let c = containers.clone();
        images.set_users(Box::new(move |id| c.users_of(id)));
        let c = containers.clone();
        volumes.set_users(Box::new(move |name| c.users_of_volume(name)));
    }
    let builder =
        BuildService::open(&cfg.data_root, images.clone(), containers.clone()).map_err(DaemonError::Builder)?;
    let state = AppState {
        system: SystemService::new(config.clone(), events.clone(), id.clone()),
        events: events.clone(),
        images,
        containers,
        volumes,
        network,
        builder,
        shutdown: shutdown_rx.clone(),
    };

    let mut servers = tokio::task::JoinSet::new();
    for listener in listeners {
        let mut rx = shutdown_rx.clone();
        let routes = berth_api::router(state.clone());
        servers.spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|down| *down).await;
            };
            berth_api::serve(listener.socket, routes, stop).await
        });
        tracing::info!(socket = %listener.name, "API listening");
    }
    tracing::info!(version = %cfg.build.version, data_root = %cfg.data_root.display(), id = %id, "berthd started");
    manager.notify("READY=1");

    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => reload::reload(&flags, &config, &events, &id),
            Some(res) = servers.join_next() => {
                if let Ok(Err(e)) = res {
                    tracing::error!(error = %e, "API server failed");
                }
                break;
            }
        }
    }

    tracing::info!("shutting down");
    manager.notify("STOPPING=1");
    let _ = shutdown_tx.send(true);
    let drain = async { while servers.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        tracing::warn!("requests still open after {SHUTDOWN_GRACE:?}; closing them");
    }
    drop(created);
    tracing::info!("berthd stopped");
    Ok(())
}
