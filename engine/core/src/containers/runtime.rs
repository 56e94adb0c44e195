//! Running containers through `berth-shim`: start one shim per container,
//! keep a connection to its attach socket for the container's streams,
//! and turn its exit record into the container's state. Shims run in their
//! own session, so they survive the engine; on start-up the engine
//! reconnects to them.

use std::os::unix::process::CommandExt as _;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use berth_shim::{ExitRecord, ShimPaths, CLOSE_STDIN, EXIT, RESIZE, STDERR, STDIN, STDOUT};
use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::hosts;
use super::namespaces::Ns;
use super::record::Status;
use super::rootfs::RwLayer;
use super::spec::{self, EtcFiles};
use super::{io_err, ContainerError, ContainerService, Input};
use crate::network::{resolv, Endpoint};

/// Where containers' cgroups live, under each hierarchy.
/// Where containers' cgroups go unless `--cgroup-parent` says otherwise.
const CGROUP_PARENT: &str = "/berth";

/// The container's cgroup, absolute from the hierarchy's root.
pub(super) fn cgroup_path(c: &super::Container) -> String {
    let parent = match c.spec.host.tuning.cgroup_parent.trim_end_matches('/') {
        "" => CGROUP_PARENT.to_string(),
        p if p.starts_with('/') => p.to_string(),
        p => format!("/{p}"),
    };
    format!("{parent}/{}", c.id)
}

impl ContainerService {
    /// The shim's directory holds UNIX sockets, whose paths must stay under
    /// 108 bytes: a short prefix of the ID (128 bits) names it.
    pub(super) fn shim_paths(&self, id: &str) -> ShimPaths {
        let root = self.inner.exec_root.parent().unwrap_or(&self.inner.exec_root);
        ShimPaths::new(&root.join("s").join(&id[..32.min(id.len())]))
    }

    pub async fn start(&self, name: &str) -> Result<(), ContainerError> {
        let c = self.get(name)?;
        match c.state.status {
            Status::Running => return Err(ContainerError::NotModified(c.id)),
            Status::Paused => {
                return Err(ContainerError::Conflict("cannot start a paused container, try unpause instead".into()))
            }
            Status::Removing | Status::Dead => {
                return Err(ContainerError::Conflict(format!(
                    "container {} is marked for removal and cannot be started",
                    c.id
                )))
            }
            Status::Created | Status::Exited | Status::Restarting => {}
        }
        let dirs = self.dirs(&c.id);
        let rw = RwLayer::at(&dirs.data);
        let hub = self.hub(&c.id)?;
        let _starting = hub.lifecycle.lock().await;
        // A root filesystem that cannot be mounted fails the start like a
        // runtime error does: recorded, and the container auto-removed.
        let mounted = self.inner.images.inspect(c.image_id.as_str()).map_err(ContainerError::from);
        let mounted = mounted.and_then(|image| rw.mount(&image.lower_dirs));
        let launched = match mounted {
            Ok(()) => self.launch(&c, &rw).await,
            Err(e) => Err(e),
        };
        match launched {
            Ok((pid, endpoints)) => {
                let c = self.update(&c.id, |r| {
                    r.endpoints = endpoints;
                    r.manually_stopped = false;
                    r.state.status = Status::Running;
                    r.state.pid = pid;
                    r.state.exit_code = 0;
                    r.state.oom_killed = false;
                    r.state.error.clear();
                    r.state.started_at = Some(now());
                    r.state.finished_at = None;
                })?;
                self.emit(&c, "start", &[]);
                self.start_healthcheck(&c.id);
                Ok(())
            }
            Err(e) => {
                let _ = self.unmount_run(&c.id);
                let msg = e.to_string();
                let _ = self.update(&c.id, |r| {
                    r.state.error = msg.clone();
                    r.state.exit_code =
                        if msg.contains("not found") || msg.contains("no such file") { 127 } else { 128 };
                });
                // `docker run --rm` waits for the removal after a failed start.
                if c.spec.host.auto_remove {
                    let _ = self.destroy(&c.id, true);
                }
                Err(e)
            }
        }
    }

    /// Writes the bundle and starts the shim; returns the container's pid.
    async fn launch(&self, c: &super::Container, rw: &RwLayer) -> Result<(i32, Vec<Endpoint>), ContainerError> {
        let dirs = self.dirs(&c.id);
        let [(_, hosts), (_, hostname), (_, resolv)] = dirs.etc_files();
        let write = |p: &std::path::Path, text: String| std::fs::write(p, text).map_err(io_err("write", p));
        write(&hostname, format!("{}\n", c.spec.hostname))?;
        let gateway = self.inner.network.bridge().gateway();
        let legacy = self.legacy_links(c)?;
        write(&hosts, hosts::hosts_text(c, &[], gateway, &legacy.hosts))?;
        write(&resolv, hosts::resolv_text(c, None))?;
        std::fs::create_dir_all(&dirs.exec).map_err(io_err("create", &dirs.exec))?;
        if !c.spec.working_dir.is_empty() {
            self.make_dir_in(c, &rw.merged, &c.spec.working_dir)?;
        }
        let namespaces = self.namespace_plan(c)?;
        if namespaces.network == Ns::Host {
            write(&hosts, std::fs::read_to_string("/etc/hosts").unwrap_or_default())?;
            write(&hostname, std::fs::read_to_string("/etc/hostname").unwrap_or_default())?;
            // The host's own resolvers work here, loopback ones included.
            write(&resolv, std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())?;
        }
        // Staged volume subpaths must stay until the runtime has mounted them.
        let (extra, _pinned) = self.oci_mounts(c, &rw.merged)?;
        let etc = EtcFiles { hosts: &hosts, hostname: &hostname, resolv_conf: &resolv };
        let init = self.init_binary(c)?;
        // Links' variables join the process's environment, not the record's.
        let linked;
        let for_spec = if legacy.env.is_empty() {
            c
        } else {
            let mut with = c.clone();
            with.spec.env.extend(legacy.env.iter().cloned());
            linked = with;
            &linked
        };
        let spec = spec::build(for_spec, &rw.merged, &etc, extra, &namespaces, &cgroup_path(c), init.as_deref())?;
        let config = dirs.exec.join("config.json");
        spec.save(&config)
            .map_err(|e| ContainerError::Internal(format!("failed to write {}: {e}", config.display())))?;

        let paths = self.shim_paths(&c.id);
        if paths.dir.exists() {
            std::fs::remove_dir_all(&paths.dir).map_err(io_err("clean", &paths.dir))?;
        }
        std::fs::create_dir_all(&paths.dir).map_err(io_err("create", &paths.dir))?;
        let runtime = self.runtime(&c.id);
        let shim_log = std::fs::File::create(paths.dir.join("shim.log")).map_err(io_err("create", &paths.dir))?;
        let mut cmd = std::process::Command::new(&self.inner.shim);
        cmd.arg("--id")
            .arg(&c.id)
            .arg("--bundle")
            .arg(&dirs.exec)
            .arg("--state")
            .arg(&paths.dir)
            .arg("--runtime")
            .arg(&runtime.path)
            .args(runtime.args.iter().flat_map(|a| ["--runtime-arg", a.as_str()]))
            .arg("--runtime-root")
            .arg(self.runtime_root())
            .arg("--cgroup")
            .arg(cgroup_path(c))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(shim_log);
        // Checked at create; an engine whose defaults changed since still
        // starts what it created.
        if let Ok(Some(keep)) = c.spec.host.log.retention() {
            cmd.arg("--log").arg(self.log_path(&c.id));
            if let Some(size) = keep.max_size {
                cmd.arg("--log-max-size").arg(size.to_string()).arg("--log-max-files").arg(keep.max_files.to_string());
            }
        }
        if c.spec.tty {
            cmd.arg("--tty");
        }
        if c.spec.open_stdin {
            cmd.arg("--stdin");
        }
        if namespaces.network == Ns::New {
            cmd.arg("--loopback");
        }
        // SAFETY: setsid is async-signal-safe; it detaches the shim from our
        // session so it outlives the engine.
        unsafe {
            cmd.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from));
        }
        let mut child = tokio::process::Command::from(cmd)
            .spawn()
            .map_err(|e| ContainerError::Internal(format!("failed to start {}: {e}", self.inner.shim.display())))?;
        let stdout = child.stdout.take().ok_or_else(|| ContainerError::Internal("shim has no stdout".into()))?;
        // Reap the shim whenever it ends.
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        let mut lines = BufReader::new(stdout).lines();
        let line = next_line(&mut lines).await;
        let created: i32 = match line.trim().split_once(' ') {
            Some(("created", pid)) => pid.parse().unwrap_or(0),
            Some(("err", msg)) => return Err(runtime_error(msg)),
            _ => return Err(ContainerError::Internal(format!("the shim for {} did not report its start", c.id))),
        };
        // The network goes in between creation and start, so the process
        // finds its interfaces ready.
        let endpoints = match self.join_networks(c, created).await {
            Ok(eps) => eps,
            Err(e) => {
                self.abort_shim(&c.id);
                return Err(e);
            }
        };
        let ready = async {
            if let Some(primary) = endpoints.first() {
                // Before the process runs: it may resolve names at once.
                write(&hosts, hosts::hosts_text(c, &endpoints, gateway, &legacy.hosts))?;
                let embedded = self.inner.network.has_dns(&primary.network_id).await.then_some(primary.gateway);
                write(&resolv, hosts::resolv_text(c, embedded))?;
            }
            // Attach before the process runs so none of its output is missed.
            self.monitor(&c.id).await
        };
        if let Err(e) = ready.await {
            self.leave_all(&c.id, &endpoints).await;
            self.abort_shim(&c.id);
            return Err(e);
        }
        let line = next_line(&mut lines).await;
        match line.trim().split_once(' ') {
            Some(("ok", pid)) => pid
                .parse()
                .map(|pid| (pid, endpoints))
                .map_err(|_| ContainerError::Internal(format!("shim reported a bad pid: {line}"))),
            Some(("err", msg)) => Err(runtime_error(msg)),
            _ => Err(ContainerError::Internal(format!("the shim for {} did not report its start", c.id))),
        }
    }

    /// The container's mounts in OCI form; volumes are prepared (and filled
    /// from the image on first use) on the way.
    /// Volume subpaths are staged mounts, returned with the mounts: they must
    /// stay until the runtime has created the container.
    fn oci_mounts(
        &self,
        c: &super::Container,
        rootfs: &std::path::Path,
    ) -> Result<(Vec<oci_spec::runtime::Mount>, Vec<super::mounts::StagedSubpath>), ContainerError> {
        use super::mounts::MountKind;
        let build = |m: oci_spec::runtime::MountBuilder| m.build().map_err(|e| ContainerError::Internal(e.to_string()));
        let mut out = Vec::new();
        let mut pinned = Vec::new();
        for m in &c.mounts {
            let mount = oci_spec::runtime::MountBuilder::default().destination(&m.target);
            out.push(match m.kind {
                MountKind::Tmpfs => {
                    let mut opts = vec!["nosuid".to_string(), "nodev".to_string(), "noexec".to_string()];
                    opts.extend(m.tmpfs_options.iter().cloned());
                    build(mount.typ("tmpfs").source("tmpfs").options(opts))?
                }
                MountKind::Bind | MountKind::Volume => {
                    let source = if m.kind == MountKind::Volume {
                        let dir = self
                            .inner
                            .volumes
                            .prepare(&m.source)
                            .map_err(|e| ContainerError::InvalidParameter(e.to_string()))?;
                        if !m.subpath.is_empty() {
                            // A part of a volume is mounted as it is: no copy-up.
                            let at = self.dirs(&c.id).exec.join(format!("subpath-{}", pinned.len()));
                            let staged = super::mounts::StagedSubpath::new(&dir, &m.subpath, &m.source, at)?;
                            let path = staged.path().to_path_buf();
                            pinned.push(staged);
                            path
                        } else {
                            if !m.nocopy {
                                super::mounts::copy_up(rootfs, &m.target, &dir)
                                    .map_err(io_err("copy image content into", &dir))?;
                            }
                            dir
                        }
                    } else {
                        std::path::PathBuf::from(&m.source)
                    };
                    let mut opts = vec!["rbind".to_string()];
                    opts.push(if m.propagation.is_empty() { "rprivate".into() } else { m.propagation.clone() });
                    if m.read_only {
                        opts.push("ro".into());
                    }
                    build(mount.typ("bind").source(source).options(opts))?
                }
            });
        }
        Ok((out, pinned))
    }

    /// Gives up on a shim that created a container we cannot run.
    fn abort_shim(&self, id: &str) {
        let paths = self.shim_paths(id);
        if let Some(pid) = std::fs::read_to_string(paths.shim_pid()).ok().and_then(|p| p.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.runtime_cmd(id).args(["delete", "--force", id]).output();
    }

    /// Connects to the shim's attach socket and pumps streams until exit.
    async fn monitor(&self, id: &str) -> Result<(), ContainerError> {
        let socket = self.shim_paths(id).attach_socket();
        let mut conn = None;
        for _ in 0..100 {
            if let Ok(c) = UnixStream::connect(&socket).await {
                conn = Some(c);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let Some(conn) = conn else {
            // The shim is gone already: its exit record says what happened.
            let svc = self.clone();
            let id = id.to_string();
            tokio::spawn(async move { svc.on_exit(&id).await });
            return Ok(());
        };
        let (mut reader, mut writer) = conn.into_split();
        let hub = self.hub(id)?;
        let done = Arc::new(tokio::sync::Notify::new());
        {
            let hub = hub.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut input = hub.input_rx.lock().await;
                loop {
                    let msg = tokio::select! {
                        m = input.recv() => m,
                        _ = done.notified() => None,
                    };
                    let Some(msg) = msg else { break };
                    let (kind, payload) = match msg {
                        Input::Stdin(b) => (STDIN, b.to_vec()),
                        Input::CloseStdin => (CLOSE_STDIN, Vec::new()),
                        Input::Resize { rows, cols } => (RESIZE, format!("{rows} {cols}").into_bytes()),
                    };
                    if write_frame(&mut writer, kind, &payload).await.is_err() {
                        break;
                    }
                }
            });
        }
        let svc = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            while let Ok(Some((kind, payload))) = read_frame(&mut reader).await {
                match kind {
                    STDOUT | STDERR => hub.publish(kind, Bytes::from(payload)),
                    EXIT => break,
                    _ => {}
                }
            }
            done.notify_one();
            svc.on_exit(&id).await;
        });
        Ok(())
    }

    /// Records an exit the shim reported (or the shim's death).
    async fn on_exit(&self, id: &str) {
        let hub = self.hub(id).ok();
        let starting = match &hub {
            Some(h) => Some(h.lifecycle.lock().await),
            None => None,
        };
        let paths = self.shim_paths(id);
        let mut record = None;
        for _ in 0..100 {
            if let Some(r) = std::fs::read_to_string(paths.exit_file()).ok().and_then(|t| ExitRecord::parse(&t)) {
                record = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (code, finished, oom_killed, error) = match record {
            Some(r) => (r.code, r.at, r.oom_killed, String::new()),
            None => (255, now(), false, "the container's shim exited without recording an exit status".to_string()),
        };
        let _ = self.unmount_run(id);
        let left = self.get(id).map(|c| c.endpoints).unwrap_or_default();
        self.leave_all(id, &left).await;
        let Ok(c) = self.update(id, |r| {
            r.endpoints.clear();
            r.state.status = Status::Exited;
            r.state.pid = 0;
            r.state.exit_code = code;
            r.state.oom_killed = oom_killed;
            r.state.finished_at = Some(finished.clone());
            r.state.error = error.clone();
            if let Some(h) = r.state.health.as_mut() {
                h.status = "unhealthy".into();
            }
        }) else {
            return;
        };
        for ep in &left {
            self.emit_network(ep, id, "disconnect");
        }
        if let Some(hub) = &hub {
            hub.record_exit(code);
        }
        // A restart below starts the container again, which takes the lock.
        drop(starting);
        if oom_killed {
            self.emit(&c, "oom", &[]);
        }
        self.emit(&c, "die", &[("exitCode", code.to_string())]);
        if self.schedule_restart(id, code) {
            return;
        }
        if c.spec.host.auto_remove {
            if let Err(e) = self.destroy(id, true) {
                tracing::warn!(container = %id, error = %e, "failed to auto-remove container");
            }
        }
    }

    /// After an engine restart: reattach to a live shim, or collect the
    /// exit of a container that ended while the engine was down.
    pub(super) async fn restore(&self, id: &str) {
        let paths = self.shim_paths(id);
        let alive = std::fs::read_to_string(paths.shim_pid())
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
            .is_some_and(|pid| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok());
        if alive && paths.attach_socket().exists() {
            if let Ok(c) = self.get(id) {
                let upstream = resolv::upstream_servers(&c.spec.host.dns);
                for ep in &c.endpoints {
                    self.inner.network.restore(id, ep, &upstream).await;
                }
                if let Some(ep) = c.endpoints.first() {
                    if let Err(e) = self.inner.network.publish(id, ep, &ep.ports).await {
                        tracing::warn!(container = %id, error = %e, "failed to republish ports");
                    }
                }
            }
            if let Err(e) = self.monitor(id).await {
                tracing::warn!(container = %id, error = %e, "failed to reattach to the container's shim");
            }
            tracing::info!(container = %id, "reattached to running container");
            self.start_healthcheck(id);
        } else {
            self.on_exit(id).await;
        }
    }
}

/// The shim's next status line; empty if it said nothing in time.
async fn next_line(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> String {
    match tokio::time::timeout(Duration::from_secs(120), lines.next_line()).await {
        Ok(Ok(Some(l))) => l,
        _ => String::new(),
    }
}

fn runtime_error(msg: &str) -> ContainerError {
    ContainerError::Runtime(format!("failed to create task for container: OCI runtime create failed: {msg}"))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

async fn write_frame(w: &mut (impl AsyncWriteExt + Unpin), kind: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut head = [kind, 0, 0, 0, 0, 0, 0, 0];
    head[4..].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    w.write_all(&head).await?;
    w.write_all(payload).await
}

async fn read_frame(r: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 8];
    match r.read_exact(&mut head).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await?;
    Ok(Some((head[0], payload)))
}
