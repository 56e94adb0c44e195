//! `docker exec`: extra processes in a running container, started with the
//! OCI runtime's `exec`. Their stdio belongs to the engine (they end with
//! it, as in dockerd); their exit codes are kept for inspect.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::names::new_id;
use super::record::Status;
use super::rootfs::RwLayer;
use super::spec::{self, ProcessSpec};
use super::{io_err, ContainerError, ContainerService};

#[derive(Debug, Clone, Default)]
pub struct ExecConfig {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub tty: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub privileged: bool,
    /// The keys that detach a terminal from it (empty: ctrl-p ctrl-q).
    pub detach_keys: String,
}

#[derive(Debug, Clone)]
pub struct ExecRecord {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    pub running: bool,
    pub exit_code: Option<i32>,
    pub pid: i32,
    started: bool,
}

/// The streams of a started exec. With a TTY, `stdout` carries the
/// terminal and `stderr` is `None`.
pub struct ExecIo {
    pub stdin: Option<Box<dyn AsyncWrite + Send + Unpin>>,
    pub stdout: Option<Box<dyn AsyncRead + Send + Unpin>>,
    pub stderr: Option<Box<dyn AsyncRead + Send + Unpin>>,
}

/// Execs by ID, and the terminals of running TTY execs (for resize).
#[derive(Default)]
pub(super) struct Execs {
    records: HashMap<String, ExecRecord>,
    terminals: HashMap<String, Arc<std::fs::File>>,
}

impl ContainerService {
    fn execs(&self) -> std::sync::MutexGuard<'_, Execs> {
        self.inner.execs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn exec_create(&self, container: &str, config: ExecConfig) -> Result<String, ContainerError> {
        let c = self.get(container)?;
        if c.state.status != Status::Running {
            return Err(ContainerError::Conflict(format!("container {} is not running", c.id)));
        }
        if config.cmd.is_empty() {
            return Err(ContainerError::InvalidParameter("No exec command specified".into()));
        }
        let id = new_id();
        let action = format!("exec_create: {}", config.cmd.join(" "));
        self.execs().records.insert(
            id.clone(),
            ExecRecord {
                id: id.clone(),
                container_id: c.id.clone(),
                config,
                running: false,
                exit_code: None,
                pid: 0,
                started: false,
            },
        );
        self.emit(&c, &action, &[("execID", id.clone())]);
        Ok(id)
    }

    /// IDs of the container's execs that are still running, for inspect.
    pub fn exec_ids(&self, container_id: &str) -> Vec<String> {
        let execs = self.execs();
        execs.records.values().filter(|r| r.container_id == container_id && r.running).map(|r| r.id.clone()).collect()
    }

    pub fn exec_get(&self, id: &str) -> Result<ExecRecord, ContainerError> {
        self.execs().records.get(id).cloned().ok_or_else(|| ContainerError::NotFound(format!("exec instance {id}")))
    }

    /// Waits until the exec's process has been reaped; its exit code.
    pub async fn exec_wait(&self, id: &str) -> Option<i32> {
        // The reaper records the code right after the process exits.
        for _ in 0..1000 {
            match self.exec_get(id) {
                Ok(r) if r.exit_code.is_some() => return r.exit_code,
                Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                Err(_) => return None,
            }
        }
        None
    }

    pub fn exec_resize(&self, id: &str, rows: u16, cols: u16) -> Result<(), ContainerError> {
        self.exec_get(id)?;
        if let Some(t) = self.execs().terminals.get(id) {
            berth_shim::set_terminal_size(t, rows, cols);
        }
        Ok(())
    }

    /// Starts the exec's process; the caller pumps its streams.
    pub async fn exec_start(&self, id: &str) -> Result<ExecIo, ContainerError> {
        let rec = self.exec_claim(id)?;
        self.exec_launch(rec).await
    }

    /// Marks an exec started, if it may start: it exists, has not run, and
    /// its container runs. What fails here fails the request itself.
    pub fn exec_claim(&self, id: &str) -> Result<ExecRecord, ContainerError> {
        let rec = {
            let mut execs = self.execs();
            let rec =
                execs.records.get_mut(id).ok_or_else(|| ContainerError::NotFound(format!("exec instance {id}")))?;
            if rec.started {
                return Err(ContainerError::Conflict(format!("Error: Exec command {id} has already run")));
            }
            rec.started = true;
            rec.clone()
        };
        let c = self.get(&rec.container_id)?;
        if c.state.status != Status::Running {
            return Err(ContainerError::Conflict(format!("container {} is not running", c.id)));
        }
        Ok(rec)
    }

    /// Runs a claimed exec in its container.
    pub async fn exec_launch(&self, rec: ExecRecord) -> Result<ExecIo, ContainerError> {
        let id = rec.id.as_str();
        let c = self.get(&rec.container_id)?;
        let dirs = self.dirs(&c.id);
        let rootfs = RwLayer::at(&dirs.data).merged;
        let cfg = &rec.config;
        let mut env = c.spec.env.clone();
        env.extend(cfg.env.iter().cloned());
        let user = if cfg.user.is_empty() { c.spec.user.as_str() } else { cfg.user.as_str() };
        let cwd = if cfg.working_dir.is_empty() { c.spec.working_dir.as_str() } else { cfg.working_dir.as_str() };
        let h = &c.spec.host;
        let capabilities = super::caps::resolve(&h.cap_add, &h.cap_drop, h.privileged || cfg.privileged)?;
        let process = spec::process(
            &rootfs,
            &ProcessSpec {
                args: cfg.cmd.clone(),
                env: &env,
                cwd,
                user,
                tty: cfg.tty,
                hostname: &c.spec.hostname,
                capabilities,
                tuning: &h.tuning,
            },
        )?;
        let process_file = dirs.exec.join(format!("exec-{}.json", &id[..12]));
        let json = serde_json::to_vec(&process).map_err(|e| ContainerError::Internal(e.to_string()))?;
        std::fs::write(&process_file, json).map_err(io_err("write", &process_file))?;

        // Detached: the runtime returns once the process runs (or failed to
        // start, with the reason on stderr). The process is re-parented to
        // the engine, a child subreaper, which waits for it.
        let pid_file = dirs.exec.join(format!("exec-{}.pid", &id[..12]));
        let mut cmd = self.runtime_cmd(&c.id);
        cmd.args(["exec", "--detach", "--process"]).arg(&process_file);
        cmd.arg("--pid-file").arg(&pid_file);
        // Close-on-exec, or a shim started meanwhile would hold an end open and the exec's output
        // would never end; the runtime gets its ends through stdio, which is dup'ed anyway.
        let pipe = || {
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| ContainerError::Internal(format!("pipe: {e}")))
        };
        let (err_r, err_w) = pipe()?;
        cmd.stderr(Stdio::from(err_w));
        let console = self.shim_paths(&c.id).dir.join(format!("e{}.sock", &id[..8]));
        let mut io = ExecIo { stdin: None, stdout: None, stderr: None };
        let mut master = None;
        if cfg.tty {
            let _ = std::fs::remove_file(&console);
            let listener = std::os::unix::net::UnixListener::bind(&console).map_err(io_err("listen on", &console))?;
            cmd.arg("--tty").arg("--console-socket").arg(&console).stdin(Stdio::null()).stdout(Stdio::null());
            master = Some(tokio::task::spawn_blocking(move || berth_shim::receive_fd(&listener)));
        } else {
            let (out_r, out_w) = pipe()?;
            cmd.stdout(Stdio::from(out_w));
            io.stdout = Some(Box::new(tokio::fs::File::from_std(std::fs::File::from(out_r))));
            if cfg.attach_stdin {
                let (in_r, in_w) = pipe()?;
                cmd.stdin(Stdio::from(in_r));
                io.stdin = Some(Box::new(tokio::fs::File::from_std(std::fs::File::from(in_w))));
            } else {
                cmd.stdin(Stdio::null());
            }
        }
        cmd.arg(&c.id);
        let status = tokio::task::spawn_blocking(move || {
            let status = cmd.status();
            drop(cmd);
            status
        })
        .await
        .map_err(|e| ContainerError::Internal(e.to_string()))?
        .map_err(|e| ContainerError::Runtime(format!("failed to run the OCI runtime: {e}")))?;
        let mut err_file = std::fs::File::from(err_r);
        if !status.success() {
            let _ = std::fs::remove_file(&console);
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut err_file, &mut text);
            let msg = text
                .lines()
                .last()
                .unwrap_or("")
                .split("msg=")
                .last()
                .unwrap_or("")
                .trim_matches('"')
                .replace("\\\"", "\"");
            let code = if msg.contains("not found") || msg.contains("no such file") { 127 } else { 126 };
            self.finish_exec(id, &c.id, code);
            return Err(ContainerError::Runtime(format!("OCI runtime exec failed: {msg}")));
        }
        if let Some(master) = master {
            let fd =
                master.await.map_err(|e| ContainerError::Internal(e.to_string()))?.map_err(ContainerError::Runtime)?;
            let _ = std::fs::remove_file(&console);
            let file = std::fs::File::from(fd);
            let clone = |f: &std::fs::File| f.try_clone().map_err(io_err("clone", &console));
            self.execs().terminals.insert(id.to_string(), Arc::new(clone(&file)?));
            if cfg.attach_stdin {
                io.stdin = Some(Box::new(tokio::fs::File::from_std(clone(&file)?)));
            }
            io.stdout = Some(Box::new(tokio::fs::File::from_std(file)));
        } else {
            io.stderr = Some(Box::new(tokio::fs::File::from_std(err_file)));
        }
        let pid: i32 = std::fs::read_to_string(&pid_file).ok().and_then(|p| p.trim().parse().ok()).unwrap_or(0);
        let _ = std::fs::remove_file(&pid_file);
        let _ = std::fs::remove_file(&process_file);
        {
            let mut execs = self.execs();
            if let Some(r) = execs.records.get_mut(id) {
                r.running = true;
                r.pid = pid;
            }
        }
        self.emit(&c, &format!("exec_start: {}", rec.config.cmd.join(" ")), &[("execID", id.to_string())]);
        if pid <= 0 {
            self.finish_exec(id, &c.id, 255);
            return Ok(io);
        }
        let svc = self.clone();
        let (id, container) = (id.to_string(), c.id.clone());
        tokio::task::spawn_blocking(move || {
            use nix::sys::wait::{waitpid, WaitStatus};
            let code = loop {
                match waitpid(nix::unistd::Pid::from_raw(pid), None) {
                    Ok(WaitStatus::Exited(_, code)) => break code,
                    Ok(WaitStatus::Signaled(_, sig, _)) => break 128 + sig as i32,
                    Err(nix::errno::Errno::EINTR) | Ok(_) => continue,
                    Err(_) => break 255,
                }
            };
            svc.finish_exec(&id, &container, code);
        });
        Ok(io)
    }

    fn finish_exec(&self, id: &str, container: &str, code: i32) {
        {
            let mut execs = self.execs();
            execs.terminals.remove(id);
            if let Some(r) = execs.records.get_mut(id) {
                r.running = false;
                r.exit_code = Some(code);
            }
        }
        if let Ok(c) = self.get(container) {
            self.emit(&c, "exec_die", &[("execID", id.to_string()), ("exitCode", code.to_string())]);
        }
    }
}
