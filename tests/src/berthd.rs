//! A berthd of the test's own: temp socket, data root, exec root and
//! daemon.json, stopped (and its files removed) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::process::Guarded;
use crate::raw_http;

pub struct Berthd {
    pub socket: PathBuf,
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    pub pidfile: PathBuf,
    pub config_file: PathBuf,
    log: PathBuf,
    docker_config: PathBuf,
    process: Guarded,
    args: Vec<String>,
    launch: Launch,
    /// Where a `Launch::Systemd` engine sends its readiness notifications.
    notify: Option<std::os::unix::net::UnixDatagram>,
    /// This engine's own bridge device, so parallel tests do not share one.
    bridge: String,
    // Last, so the directory outlives the process that uses it.
    dir: tempfile::TempDir,
}

/// Where cargo put the berthd binary: beside this test's own `deps/` dir.
pub fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("BERTHD") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let bin = profile_dir.join("berthd");
    assert!(bin.exists(), "{} is missing: build it first (cargo build -p berthd)", bin.display());
    bin
}

/// How the engine process is started.
#[derive(Clone)]
enum Launch {
    /// `berthd --host unix://…`, as scripts and people start it.
    Direct,
    /// `BINARY -H fd://` under systemd-socket-activate, with a NOTIFY_SOCKET and systemd's PATH:
    /// as the packaged systemd units start it.
    Systemd { binary: PathBuf },
}

impl Berthd {
    /// Starts berthd with an empty daemon.json and waits until it answers.
    pub fn start() -> Self {
        Self::start_with(&[], "{}")
    }

    /// Starts berthd with extra flags and the given daemon.json text.
    pub fn start_with(args: &[&str], daemon_json: &str) -> Self {
        Self::launch(args, daemon_json, Launch::Direct)
    }

    /// Starts `binary` as systemd starts it from berthd.socket and berthd.service: the socket
    /// passed in (`-H fd://`), and ready only once it says `READY=1` on its NOTIFY_SOCKET.
    pub fn start_as_systemd_unit(binary: &Path) -> Self {
        Self::launch(&[], "{}", Launch::Systemd { binary: binary.into() })
    }

    fn launch(args: &[&str], daemon_json: &str, launch: Launch) -> Self {
        let dir = tempfile::Builder::new().prefix("berth-e2e-").tempdir().expect("temp dir");
        let root = dir.path();
        let socket = root.join("berth.sock");
        let config_file = root.join("daemon.json");
        let (mut bridge, bip, pool) = unique_bridge();
        let mut json: serde_json::Value = serde_json::from_str(daemon_json).unwrap_or_default();
        match json.as_object_mut() {
            Some(o) if !o.contains_key("default-address-pools") => {
                o.insert("default-address-pools".into(), serde_json::json!([{"base": pool, "size": 24}]));
                std::fs::write(&config_file, json.to_string()).unwrap();
            }
            _ => std::fs::write(&config_file, daemon_json).unwrap(),
        }
        let docker_config = root.join("docker-config");
        std::fs::create_dir(&docker_config).unwrap();
        let log = root.join("berthd.log");
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if !args.iter().any(|a| a == "--bridge" || a == "--bip") && !daemon_json.contains("\"bip\"") {
            args.extend(["--bridge".into(), bridge.clone(), "--bip".into(), bip]);
        }
        // A bridge daemon.json names is the one to clean up after.
        if let Some(named) = json["bridge"].as_str() {
            bridge = named.into();
        }
        let notify = match launch {
            Launch::Direct => None,
            Launch::Systemd { .. } => {
                let rx = std::os::unix::net::UnixDatagram::bind(root.join("notify.sock")).expect("bind NOTIFY_SOCKET");
                rx.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                Some(rx)
            }
        };
        let process = spawn(root, &args, &launch);
        let mut me = Self {
            socket,
            data_root: root.join("data"),
            exec_root: root.join("exec"),
            pidfile: root.join("berthd.pid"),
            config_file,
            log,
            docker_config,
            process,
            args,
            launch,
            notify,
            bridge,
            dir,
        };
        me.wait_ready();
        me
    }

    /// The bridge device this engine uses.
    pub fn bridge(&self) -> &str {
        &self.bridge
    }

    /// Kills the engine without warning (SIGKILL), leaving its containers
    /// and shims running, then starts it again on the same state.
    pub fn crash_and_restart(&mut self) {
        self.crash();
        self.restart();
    }

    /// Kills the engine (SIGKILL); its containers and shims keep running.
    pub fn crash(&mut self) {
        self.process.signal(Signal::SIGKILL);
        self.process.wait_timeout(Duration::from_secs(10));
    }

    /// Starts the engine again on the same state after [`Self::crash`].
    pub fn restart(&mut self) {
        self.process = spawn(self.dir.path(), &self.args, &self.launch);
        self.wait_ready();
    }
}

/// A bridge name (≤ 15 bytes) and subnet no other engine of this test run
/// uses, from 10.200.0.0–10.255.255.0 (tests that create networks of their
/// own take subnets outside that range).
fn unique_bridge() -> (String, String, String) {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let idx = (std::process::id().wrapping_mul(64).wrapping_add(n)) % (56 * 256);
    // The networks it creates come from a /20 of its own in 10.100–10.189, so engines running side
    // by side never route the same subnet to two bridges.
    let slot = idx % (90 * 16);
    let pool = format!("10.{}.{}.0/20", 100 + slot / 16, (slot % 16) * 16);
    (format!("bt{}", idx), format!("10.{}.{}.1/24", 200 + idx / 256, idx % 256), pool)
}

fn spawn(root: &Path, args: &[String], launch: &Launch) -> Guarded {
    let socket = root.join("berth.sock");
    let config_file = root.join("daemon.json");
    let log = root.join("berthd.log");
    {
        let mut cmd = match launch {
            Launch::Direct => {
                let mut cmd = Command::new(binary());
                cmd.arg("--host").arg(format!("unix://{}", socket.display()));
                cmd
            }
            Launch::Systemd { binary } => {
                // systemd-socket-activate hands on only the variables named with -E.
                let mut cmd = Command::new("systemd-socket-activate");
                cmd.args(["-E", "NOTIFY_SOCKET", "-E", "BERTHD_LOG", "-E", "PATH", "-l"])
                    .arg(&socket)
                    .arg(binary)
                    .args(["-H", "fd://"])
                    .env("NOTIFY_SOCKET", root.join("notify.sock"))
                    .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
                cmd
            }
        };
        cmd.arg("--data-root")
            .arg(root.join("data"))
            .arg("--exec-root")
            .arg(root.join("exec"))
            .arg("--pidfile")
            .arg(root.join("berthd.pid"))
            .arg("--config-file")
            .arg(&config_file)
            .args(args)
            .env("BERTHD_LOG", "debug,hyper=info")
            .stdin(Stdio::null())
            .stdout(std::fs::OpenOptions::new().create(true).append(true).open(root.join("berthd.out")).unwrap())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap());
        Guarded::spawn("berthd", &mut cmd).expect("spawn berthd")
    }
}

impl Berthd {
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.process.wait_timeout(Duration::ZERO) {
                panic!("berthd exited during start-up ({status}):\n{}", self.log());
            }
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                let r = raw_http::request(&self.socket, "GET", "/_ping", &[], b"");
                if r.status == 200 {
                    if self.notify.is_some() {
                        let said = self.notification();
                        assert_eq!(said.as_deref(), Some("READY=1"), "berthd answered but did not notify readiness");
                    }
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("berthd did not answer on {} within 20s:\n{}", self.socket.display(), self.log());
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The next notification a `start_as_systemd_unit` engine sent its service manager.
    pub fn notification(&self) -> Option<String> {
        let mut buf = [0u8; 256];
        let n = self.notify.as_ref()?.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, sig: Signal) {
        self.process.signal(sig);
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.process.stop(Duration::from_secs(15))
    }

    /// The docker CLI's config directory (`DOCKER_CONFIG`) of this engine's commands.
    pub fn docker_config(&self) -> &Path {
        &self.docker_config
    }

    /// A docker CLI command pointed at this berthd, with its own empty
    /// client config so the user's contexts and credentials play no part.
    pub fn docker_cmd(&self) -> Command {
        let mut cmd = Command::new(crate::docker_cli());
        cmd.env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", &self.docker_config)
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a docker CLI command line inside a terminal (`script`), as a
    /// user typing it would.
    pub fn docker_in_tty(&self, args: &str) -> Output {
        let cmd = format!("{} {args}", crate::docker_cli());
        Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", &self.docker_config)
            .stdin(Stdio::null())
            .output()
            .expect("run script")
    }

    /// Installs our `docker-compose` as this engine's docker CLI plugin, as the packages do.
    pub fn install_compose(&self) {
        let plugins = self.docker_config.join("cli-plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        let bin = binary().with_file_name("docker-compose");
        assert!(bin.exists(), "{} is missing: build it first (cargo build -p berth-compose)", bin.display());
        let link = plugins.join("docker-compose");
        if !link.exists() {
            std::os::unix::fs::symlink(bin, link).unwrap();
        }
    }

    /// `docker compose ARGS` in the project directory `dir`.
    pub fn compose(&self, dir: &Path, args: &[&str]) -> Output {
        self.docker_cmd().current_dir(dir).arg("compose").args(args).output().expect("run docker compose")
    }

    /// `docker compose ARGS`, which must succeed; returns stdout and stderr.
    pub fn compose_ok(&self, dir: &Path, args: &[&str]) -> (String, String) {
        let out = self.compose(dir, args);
        assert!(
            out.status.success(),
            "docker compose {args:?} failed ({}):\nstdout: {}\nstderr: {}\nberthd log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        self.docker_cmd().args(args).output().expect("run docker CLI")
    }

    /// Runs the docker CLI and returns stdout; panics with both streams and
    /// the engine log if it fails.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed ({}):\nstdout: {}\nstderr: {}\nberthd log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// A bollard client on this berthd's socket.
    pub fn client(&self) -> bollard::Docker {
        bollard::Docker::connect_with_unix(&self.host(), 60, bollard::API_DEFAULT_VERSION).expect("bollard client")
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> raw_http::Response {
        raw_http::request(&self.socket, method, path, headers, body)
    }
}

impl Drop for Berthd {
    /// Containers outlive the engine by design; a test's must not outlive
    /// the test. Kill them, let their shims clean up, then unmount whatever
    /// is still mounted under the test's directory.
    fn drop(&mut self) {
        self.process.stop(Duration::from_secs(10));
        let shims = self.exec_root.join("s");
        let mut shim_pids = Vec::new();
        for dir in std::fs::read_dir(&shims).into_iter().flatten().flatten() {
            let pid =
                |f: &str| std::fs::read_to_string(dir.path().join(f)).ok().and_then(|p| p.trim().parse::<i32>().ok());
            if let Some(init) = pid("init.pid") {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(init), Signal::SIGKILL);
            }
            shim_pids.extend(pid("shim.pid"));
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while shim_pids.iter().any(|p| nix::sys::signal::kill(nix::unistd::Pid::from_raw(*p), None).is_ok())
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        for p in shim_pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), Signal::SIGKILL);
        }
        let prefix = self.dir.path().display().to_string();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut targets: Vec<&str> =
            mounts.lines().filter_map(|l| l.split(' ').nth(4)).filter(|t| t.starts_with(&prefix)).collect();
        targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
        for t in targets {
            let _ = Command::new("umount").arg("-l").arg(t).status();
        }
        // Bridges and their NAT tables outlive an engine by design; not a
        // test's. User-defined networks' devices are in the engine's store.
        let saved = std::fs::read(self.dir.path().join("data/network/networks.json")).unwrap_or_default();
        let user: Vec<serde_json::Value> = serde_json::from_slice(&saved).unwrap_or_default();
        let devices = user.iter().filter_map(|n| n["device"].as_str()).map(String::from);
        for dev in std::iter::once(self.bridge.clone()).chain(devices) {
            let quiet = || std::process::Stdio::null();
            let _ = Command::new("ip").args(["link", "del", &dev]).stderr(quiet()).status();
            let table = format!("berth_{}", dev.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
            for family in ["inet", "ip"] {
                let _ = Command::new("nft").args(["delete", "table", family, &table]).stderr(quiet()).status();
            }
        }
    }
}
