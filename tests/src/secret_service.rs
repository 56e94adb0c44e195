//! A real Secret Service of the test's own: a private D-Bus session bus with
//! gnome-keyring-daemon on it, its login keyring created and unlocked with a
//! test password in a temp HOME. Dropping it stops the bus, and the keyring
//! daemon leaves with it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::Guarded;

pub struct SecretService {
    /// `DBUS_SESSION_BUS_ADDRESS` for processes that should use it.
    pub bus: String,
    _bus: Guarded,
    dir: tempfile::TempDir,
}

impl SecretService {
    pub fn start() -> Self {
        for bin in ["dbus-daemon", "gnome-keyring-daemon", "dbus-send"] {
            assert!(
                Command::new("which").arg(bin).stdout(Stdio::null()).status().is_ok_and(|s| s.success()),
                "{bin} is missing: install dbus and gnome-keyring (scripts/test does)"
            );
        }
        let dir = tempfile::Builder::new().prefix("berth-keyring-").tempdir().unwrap();
        let runtime = dir.path().join("run");
        std::fs::create_dir(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let bus = format!("unix:path={}", dir.path().join("bus").display());
        let mut cmd = Command::new("dbus-daemon");
        cmd.args(["--session", "--nofork", "--nopidfile", "--address", &bus])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let bus_process = Guarded::spawn("dbus-daemon", &mut cmd).expect("start dbus-daemon");
        let me = Self { bus, _bus: bus_process, dir };
        me.wait_for_bus();
        // --unlock reads the password on stdin, creates the login keyring
        // with it and becomes the `default` collection; it forks to the
        // background and leaves when the bus goes.
        let mut keyring = me
            .command("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        use std::io::Write;
        keyring.stdin.take().unwrap().write_all(b"berth-test-keyring").unwrap();
        assert!(keyring.wait().unwrap().success(), "gnome-keyring-daemon --unlock failed");
        me.wait_for_name("org.freedesktop.secrets");
        me
    }

    /// A command that sees this bus and no display (a prompt would block).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.apply(&mut cmd);
        cmd
    }

    /// Points `cmd` at this Secret Service.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", self.home())
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
    }

    /// The HOME its processes get (the keyring files live under it).
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    fn wait_for_bus(&self) {
        let socket = self.dir.path().join("bus");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "dbus-daemon did not create {}", socket.display());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `--unlock` returns before the daemon owns its name on the bus.
    fn wait_for_name(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self
                .command("dbus-send")
                .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
                .args(["org.freedesktop.DBus.NameHasOwner", &format!("string:{name}")])
                .output()
                .expect("dbus-send");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            assert!(Instant::now() < deadline, "{name} did not appear on the test bus");
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}
