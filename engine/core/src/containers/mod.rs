//! The container service: create, start, stop, kill, wait, remove, list
//! and inspect containers. Each running container has a `berth-shim` of its
//! own (see `runtime`); this service keeps the records and reacts to exits.

mod archive;
pub mod blkio;
mod caps;
mod commit;
mod create;
mod exec;
pub mod health;
mod hosts;
mod hub;
mod lifecycle;
pub mod links;
pub mod logging;
pub mod logs;
pub mod mounts;
pub mod names;
pub mod namespaces;
mod networking;
pub mod record;
mod rootfs;
mod runtime;
mod seccomp;
mod spec;
pub mod stats;
pub mod tuning;
mod update;
pub mod users;

pub use archive::{Change, Owners, PathStat};
pub use commit::{CommitConfig, CommitRequest};
pub use create::CreateRequest;
pub use exec::{ExecConfig, ExecIo, ExecRecord};
pub use hub::{ExitState, Hub, Input};
pub use networking::parse_mac;
pub use record::{Container, ContainerSpec, HostSpec, NetworkAttachment, State, Status};
pub use update::ResourceUpdate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::config::SharedConfig;
use crate::events::{Event, EventBus, ObjectType};
use crate::images::ImageService;
use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("network {0} not found")]
    NetworkNotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("container {0} is already in that state")]
    NotModified(String),
    #[error(transparent)]
    Image(#[from] crate::images::ImageError),
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error("{0}")]
    Runtime(String),
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    NotImplemented(String),
    #[error("failed to {action} {path}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl Classify for ContainerError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) | Self::NetworkNotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::InvalidParameter(_) => ErrorKind::InvalidParameter,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::NotModified(_) => ErrorKind::NotModified,
            Self::NotImplemented(_) => ErrorKind::NotImplemented,
            Self::Image(e) => e.kind(),
            Self::Network(e) => e.kind(),
            // Bad commands are the request's fault, as dockerd reports them.
            Self::Runtime(m)
                if m.contains("not found") || m.contains("no such file") || m.contains("permission denied") =>
            {
                ErrorKind::InvalidParameter
            }
            Self::Runtime(_) | Self::Internal(_) | Self::Io { .. } => ErrorKind::Internal,
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ContainerError {
    let path = path.to_path_buf();
    move |source| ContainerError::Io { action, path, source }
}

/// Where a container's files live.
struct Dirs {
    /// Persistent: record, log, writable layer.
    data: PathBuf,
    /// Runtime: bundle and shim state.
    exec: PathBuf,
}

impl Dirs {
    /// The files the engine writes and binds over the image's, as (container path, host path):
    /// /etc/hosts, /etc/hostname and /etc/resolv.conf.
    fn etc_files(&self) -> [(&'static str, PathBuf); 3] {
        [
            ("/etc/hosts", self.data.join("hosts")),
            ("/etc/hostname", self.data.join("hostname")),
            ("/etc/resolv.conf", self.data.join("resolv.conf")),
        ]
    }
}

#[derive(Clone)]
pub struct ContainerService {
    inner: Arc<Inner>,
}

struct Inner {
    data_root: PathBuf,
    exec_root: PathBuf,
    shim: PathBuf,
    config: SharedConfig,
    images: ImageService,
    volumes: crate::volumes::VolumeService,
    network: crate::network::NetworkService,
    events: Arc<EventBus>,
    containers: Mutex<BTreeMap<String, Entry>>,
    execs: Mutex<exec::Execs>,
}

struct Entry {
    record: Container,
    hub: Arc<Hub>,
}

/// The services containers are made from.
pub struct Deps {
    pub config: SharedConfig,
    pub images: ImageService,
    pub volumes: crate::volumes::VolumeService,
    pub network: crate::network::NetworkService,
    pub events: Arc<EventBus>,
}

/// Container counts for `docker info`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
}

impl ContainerService {
    /// Loads every container record and reconnects to shims that are still
    /// running (live restore); containers that ended meanwhile get their
    /// recorded exit status.
    pub async fn open(data_root: &Path, exec_root: &Path, shim: PathBuf, deps: Deps) -> Result<Self, ContainerError> {
        let Deps { config, images, volumes, network, events } = deps;
        let data = data_root.join("containers");
        let exec = exec_root.join("containers");
        for d in [&data, &exec] {
            std::fs::create_dir_all(d).map_err(io_err("create", d))?;
        }
        let mut containers = BTreeMap::new();
        for entry in std::fs::read_dir(&data).map_err(io_err("list", &data))?.flatten() {
            let path = entry.path().join("config.v2.json");
            match record::load(&path) {
                Ok(r) => {
                    containers.insert(r.id.clone(), Entry { record: r, hub: Arc::new(Hub::new()) });
                }
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "skipping unreadable container record"),
            }
        }
        let svc = Self {
            inner: Arc::new(Inner {
                data_root: data,
                exec_root: exec,
                shim,
                config,
                images,
                volumes,
                network,
                events,
                containers: Mutex::new(containers),
                execs: Mutex::new(Default::default()),
            }),
        };
        let records: Vec<Container> = svc.entries().values().map(|e| e.record.clone()).collect();
        for c in records {
            match c.state.status {
                Status::Running | Status::Paused => svc.restore(&c.id).await,
                // `always` (and `unless-stopped` not stopped by hand) come back with the engine.
                _ if matches!(c.spec.host.restart_policy.as_str(), "always" | "unless-stopped")
                    && !c.manually_stopped =>
                {
                    if let Err(e) = svc.start(&c.id).await {
                        tracing::warn!(container = %c.id, error = %e, "failed to restart container with the engine");
                    }
                }
                Status::Restarting => {
                    let _ = svc.update(&c.id, |r| r.state.status = Status::Exited);
                }
                _ => {}
            }
        }
        svc.inner.network.sweep().await;
        Ok(svc)
    }

    fn entries(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        self.inner.containers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn dirs(&self, id: &str) -> Dirs {
        Dirs { data: self.inner.data_root.join(id), exec: self.inner.exec_root.join(id) }
    }

    /// The OCI runtime of container `id`: the one it was created with (`--runtime`), else the
    /// engine's default; its binary and daemon.json's `runtimeArgs`.
    fn runtime(&self, id: &str) -> crate::config::RuntimeConfig {
        let cfg = self.inner.config.get();
        let name = self.get(id).ok().map(|c| c.spec.host.runtime).filter(|n| !n.is_empty());
        let name = name.unwrap_or_else(|| cfg.default_runtime.clone());
        let fallback = || {
            let default = cfg.runtimes.get(&cfg.default_runtime).cloned();
            default.unwrap_or_else(|| crate::config::RuntimeConfig { path: "runc".into(), args: Vec::new() })
        };
        match cfg.runtimes.get(&name) {
            Some(rt) => rt.clone(),
            // A reload took the container's runtime out of daemon.json.
            None => {
                tracing::warn!(container = %id, runtime = %name, "runtime no longer configured; using the default");
                fallback()
            }
        }
    }

    /// A command of container `id`'s runtime on the engine's state root; the caller adds the rest.
    fn runtime_cmd(&self, id: &str) -> std::process::Command {
        let rt = self.runtime(id);
        let mut cmd = std::process::Command::new(rt.path);
        cmd.args(rt.args).arg("--root").arg(self.runtime_root());
        cmd
    }

    /// The init binary to run as the container's PID 1, when it runs with
    /// `--init` (its own choice, else the engine's `init` setting).
    fn init_binary(&self, c: &Container) -> Result<Option<PathBuf>, ContainerError> {
        let cfg = self.inner.config.get();
        if !c.spec.host.init.unwrap_or(cfg.init) {
            return Ok(None);
        }
        if !cfg.init_path.is_file() {
            return Err(ContainerError::Runtime(format!(
                "--init needs the berth-init binary, not found at {}: install it beside berthd or set init-path in daemon.json",
                cfg.init_path.display()
            )));
        }
        Ok(Some(cfg.init_path.clone()))
    }

    /// The OCI runtime's state directory (`runc --root`).
    fn runtime_root(&self) -> PathBuf {
        self.inner.exec_root.parent().unwrap_or(&self.inner.exec_root).join("runc")
    }

    pub fn log_path(&self, id: &str) -> PathBuf {
        self.dirs(id).data.join(format!("{id}-json.log"))
    }

    /// Finds a container by full ID, name (with or without `/`), or unique ID prefix.
    pub fn resolve(&self, name: &str) -> Result<String, ContainerError> {
        let entries = self.entries();
        if entries.contains_key(name) {
            return Ok(name.to_string());
        }
        let bare = name.strip_prefix('/').unwrap_or(name);
        if let Some(e) = entries.values().find(|e| e.record.name == bare) {
            return Ok(e.record.id.clone());
        }
        let mut matches = entries.keys().filter(|k| !name.is_empty() && k.starts_with(name));
        match (matches.next(), matches.next()) {
            (Some(one), None) => Ok(one.clone()),
            _ => Err(ContainerError::NotFound(name.to_string())),
        }
    }

    pub fn get(&self, name: &str) -> Result<Container, ContainerError> {
        let id = self.resolve(name)?;
        self.entries().get(&id).map(|e| e.record.clone()).ok_or(ContainerError::NotFound(name.into()))
    }

    pub fn hub(&self, id: &str) -> Result<Arc<Hub>, ContainerError> {
        self.entries().get(id).map(|e| e.hub.clone()).ok_or_else(|| ContainerError::NotFound(id.into()))
    }

    pub fn list(&self) -> Vec<Container> {
        let mut v: Vec<Container> = self.entries().values().map(|e| e.record.clone()).collect();
        v.sort_by(|a, b| b.created.cmp(&a.created));
        v
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in self.entries().values() {
            match e.record.state.status {
                Status::Running | Status::Restarting => c.running += 1,
                Status::Paused => c.paused += 1,
                _ => c.stopped += 1,
            }
        }
        c
    }

    /// Containers mounting a volume, for `volume rm` and prune.
    pub fn users_of_volume(&self, name: &str) -> Vec<String> {
        self.entries()
            .values()
            .filter(|e| e.record.mounts.iter().any(|m| m.kind == mounts::MountKind::Volume && m.source == name))
            .map(|e| e.record.id.clone())
            .collect()
    }

    /// Images in use, for `rmi` and prune.
    pub fn users_of(&self, image: &crate::content::Digest) -> Vec<String> {
        self.entries().values().filter(|e| &e.record.image_id == image).map(|e| e.record.id.clone()).collect()
    }

    /// Changes a record in memory and on disk.
    fn update(&self, id: &str, change: impl FnOnce(&mut Container)) -> Result<Container, ContainerError> {
        let mut entries = self.entries();
        let entry = entries.get_mut(id).ok_or_else(|| ContainerError::NotFound(id.into()))?;
        let mut next = entry.record.clone();
        change(&mut next);
        let path = self.dirs(id).data.join("config.v2.json");
        record::save(&path, &next).map_err(io_err("write", &path))?;
        entry.record = next.clone();
        Ok(next)
    }

    fn emit(&self, c: &Container, action: &str, extra: &[(&str, String)]) {
        let mut attrs: BTreeMap<String, String> = c.spec.labels.clone();
        attrs.insert("image".into(), c.spec.image.clone());
        attrs.insert("name".into(), c.name.clone());
        for (k, v) in extra {
            attrs.insert((*k).into(), v.clone());
        }
        self.inner.events.publish(Event::now(ObjectType::Container, action, c.id.clone(), attrs));
    }

    /// Stopping or killing a container waiting to restart cancels the restart.
    fn cancel_restart(&self, id: &str) -> Result<(), ContainerError> {
        self.update(id, |r| {
            r.manually_stopped = true;
            r.state.status = Status::Exited;
        })
        .map(drop)
    }

    /// `docker kill`: sends a signal to the container's init process; with
    /// SIGKILL, answers once the container is gone, as dockerd does.
    pub async fn kill(&self, name: &str, signal: &str) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        let hub = self.hub(&c.id)?;
        let mut exits = hub.exits();
        let start = exits.borrow_and_update().count;
        let sig = self.signal(&c.id, signal).await?;
        if sig == Some(nix::sys::signal::Signal::SIGKILL) {
            let gone = async { while exits.borrow_and_update().count == start && exits.changed().await.is_ok() {} };
            let _ = tokio::time::timeout(Duration::from_secs(10), gone).await;
        }
        Ok(())
    }

    /// Sends a signal to the container's init process; returns it, or
    /// `None` when the container was only waiting to restart. A paused
    /// container is thawed for SIGKILL so that it dies.
    async fn signal(&self, name: &str, signal: &str) -> Result<Option<nix::sys::signal::Signal>, ContainerError> {
        let c = self.get(name)?;
        if c.state.status == Status::Restarting {
            return self.cancel_restart(&c.id).map(|_| None);
        }
        let sig = parse_signal(signal)?;
        let killing_paused = c.state.status == Status::Paused && sig == nix::sys::signal::Signal::SIGKILL;
        if c.state.status != Status::Running && !killing_paused {
            return Err(ContainerError::Conflict(format!("Container {} is not running", c.id)));
        }
        let _ = self.update(&c.id, |r| r.manually_stopped = true);
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.state.pid), sig)
            .map_err(|e| ContainerError::Internal(format!("failed to signal container {}: {e}", c.id)))?;
        if killing_paused {
            self.runtime_command(&c.id, &["resume", &c.id]).await?;
        }
        self.emit(&c, "kill", &[("signal", (sig as i32).to_string())]);
        Ok(Some(sig))
    }

    /// Stops with the container's stop signal, then SIGKILL after `timeout`.
    pub async fn stop(&self, name: &str, timeout: Option<i64>, signal: Option<&str>) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        if c.state.status == Status::Restarting {
            return self.cancel_restart(&c.id);
        }
        if c.state.status != Status::Running {
            return Err(ContainerError::NotModified(c.id));
        }
        let hub = self.hub(&c.id)?;
        let mut exits = hub.exits();
        let signal = signal.map(str::to_owned).or(c.spec.stop_signal.clone()).unwrap_or_else(|| "SIGTERM".into());
        let timeout = timeout.or(c.spec.stop_timeout).unwrap_or(10);
        let _ = self.signal(&c.id, &signal).await;
        let exited = tokio::time::timeout(Duration::from_secs(timeout.max(0) as u64), exits.changed()).await;
        if exited.is_err() && self.get(&c.id)?.state.status == Status::Running {
            let _ = self.signal(&c.id, "SIGKILL").await;
            let _ = tokio::time::timeout(Duration::from_secs(10), exits.changed()).await;
        }
        self.emit(&self.get(&c.id).unwrap_or(c.clone()), "stop", &[]);
        Ok(())
    }

    /// Removes a container; `force` kills it first if it runs, `volumes`
    /// removes its anonymous volumes too.
    pub async fn remove(&self, name: &str, force: bool, volumes: bool) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        let refused = |what: &str| {
            ContainerError::Conflict(format!(
                "You cannot remove a {what} container {}. Stop the container before attempting removal or force remove",
                c.id
            ))
        };
        match c.state.status {
            // Gone by now or not, it goes.
            Status::Running | Status::Paused if force => drop(self.kill(&c.id, "SIGKILL").await),
            Status::Restarting if force => self.cancel_restart(&c.id)?,
            Status::Running => return Err(refused("running")),
            Status::Paused => return Err(refused("paused")),
            Status::Restarting => {
                return Err(ContainerError::Conflict(format!(
                    "cannot remove container \"/{}\": container is restarting: stop the container before removing or force remove",
                    c.name
                )))
            }
            _ => {}
        }
        self.destroy(&c.id, volumes)
    }

    /// Unmounts what a run of the container mounted on the host: its root filesystem, and the
    /// /dev/shm of a shareable IPC namespace.
    fn unmount_run(&self, id: &str) -> Result<(), ContainerError> {
        let data = self.dirs(id).data;
        // Both, whatever the first one says.
        let shm = namespaces::HostShm::of(&data).unmount();
        rootfs::RwLayer::at(&data).unmount().and(shm)
    }

    fn destroy(&self, id: &str, remove_volumes: bool) -> Result<(), ContainerError> {
        let dirs = self.dirs(id);
        self.unmount_run(id)?;
        let entry = self.entries().remove(id);
        for d in [&dirs.exec, &dirs.data, &self.shim_paths(id).dir] {
            if d.exists() {
                std::fs::remove_dir_all(d).map_err(io_err("remove", d))?;
            }
        }
        if let Some(e) = entry {
            if remove_volumes {
                for m in e.record.mounts.iter().filter(|m| m.anonymous) {
                    if let Err(err) = self.inner.volumes.remove(&m.source, false) {
                        tracing::warn!(volume = %m.source, error = %err, "failed to remove anonymous volume");
                    }
                }
            }
            self.emit(&e.record, "destroy", &[]);
            e.hub.mark_removed();
        }
        Ok(())
    }

    /// Waits for `condition`: `not-running` (default), `next-exit`, `removed`.
    /// Returns a future so callers can answer before the wait ends.
    pub fn wait(
        &self,
        name: &str,
        condition: &str,
    ) -> Result<impl std::future::Future<Output = i32> + Send + 'static, ContainerError> {
        let c = self.get(name)?;
        let hub = self.hub(&c.id)?;
        let mut exits = hub.exits();
        let svc = self.clone();
        let id = c.id.clone();
        let running = matches!(c.state.status, Status::Running | Status::Restarting);
        let condition = match condition {
            "" | "not-running" => 0,
            "next-exit" => 1,
            "removed" => 2,
            other => {
                return Err(ContainerError::InvalidParameter(format!(
                    "invalid condition: \"{other}\" (expected not-running, next-exit or removed)"
                )))
            }
        };
        Ok(async move {
            loop {
                let snapshot = exits.borrow_and_update().clone();
                match condition {
                    0 if !running || snapshot.count > 0 => return snapshot.code,
                    1 if snapshot.count > 0 => return snapshot.code,
                    2 if snapshot.removed => return snapshot.code,
                    _ => {}
                }
                if condition == 0 && svc.get(&id).map(|c| c.state.status != Status::Running).unwrap_or(true) {
                    // Exited between our look at the record and the subscription.
                    return svc.get(&id).map(|c| c.state.exit_code).unwrap_or(snapshot.code);
                }
                if exits.changed().await.is_err() {
                    return snapshot.code;
                }
            }
        })
    }
}

fn parse_signal(s: &str) -> Result<nix::sys::signal::Signal, ContainerError> {
    let bad = || ContainerError::InvalidParameter(format!("Invalid signal: {s}"));
    if let Ok(n) = s.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n).map_err(|_| bad());
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    name.parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        use nix::sys::signal::Signal;
        assert_eq!(parse_signal("TERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("SIGKILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("hup").unwrap(), Signal::SIGHUP);
        assert!(parse_signal("NOPE").is_err());
    }
}
