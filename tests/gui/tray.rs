//! The tray where a user sees it: Berth Desktop under Xvfb, on a session bus with a panel's side of
//! the tray (tests/gui/tray_host.py: a StatusNotifierWatcher with a host, standing in for the
//! desktop's panel), the menu read and clicked over com.canonical.dbusmenu as a panel does, against
//! a real berthd.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use berth_e2e::gui::{desktop_binary, workspace, xvfb};
use berth_e2e::process::Guarded;
use berth_e2e::registry::free_port;
use berth_e2e::secret_service::SecretService;
use berth_e2e::{engine_with_busybox, text, Berthd};

/// Runs `tray_host.py ARGS` on the keyring's bus.
fn host_cmd(keyring: &SecretService, args: &[&str]) -> Command {
    let mut cmd = keyring.command("/usr/bin/python3");
    cmd.arg(workspace().join("tests/gui/tray_host.py")).args(args);
    cmd
}

fn host(keyring: &SecretService, args: &[&str]) -> Output {
    let out = host_cmd(keyring, args).output().expect("run tray_host.py (install python3-gi)");
    assert!(out.status.success(), "tray_host.py {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
    out
}

/// The panel: a StatusNotifierWatcher on the bus, up once it says `ready`.
fn panel(keyring: &SecretService, dir: &std::path::Path) -> Guarded {
    let log = dir.join("tray-host.log");
    let mut cmd = host_cmd(keyring, &["watcher"]);
    cmd.stdout(std::fs::File::create(&log).unwrap()).stderr(Stdio::inherit());
    let guard = Guarded::spawn("tray_host.py watcher", &mut cmd).expect("start the tray host");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("ready") {
        assert!(Instant::now() < deadline, "the tray host did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    guard
}

/// Berth Desktop on `engine` and the keyring's bus, its log in `log`.
fn launch(engine: &Berthd, keyring: &SecretService, display: &str, log: &PathBuf) -> Guarded {
    let mut cmd = keyring.command(desktop_binary());
    cmd.env("DISPLAY", display)
        .env("BERTH_HOST", engine.host())
        .env("DOCKER_CONFIG", engine.dir().join("tray-docker-config"))
        .env("RUST_LOG", "info")
        .env_remove("DOCKER_HOST")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    Guarded::spawn("berth-desktop", &mut cmd).expect("start berth-desktop")
}

fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const TRAY_WARNING: &str = "no system tray on this desktop";

#[tokio::test]
async fn tray_menu_follows_and_drives_the_engine() {
    let (_reg, engine, img) = engine_with_busybox().await;
    let keyring = SecretService::start();
    let _panel = panel(&keyring, engine.dir());
    let port = free_port();
    let serve = "trap 'exit 0' TERM; while :; do sleep 0.2; done";
    engine.docker_ok(&["run", "-d", "--name", "web", "-p", &format!("{port}:80"), &img, "sh", "-c", serve]);
    let (_x, display) = xvfb();
    let log = engine.dir().join("desktop.log");
    let mut app = launch(&engine, &keyring, &display, &log);

    host(&keyring, &["wait", "Engine running", "30"]);
    let menu = text(&host(&keyring, &["dump"]).stdout);
    for entry in ["Open Dashboard", "Stop Engine", "Containers (1)", "web", "Stop", "Logs", "Quit Berth"] {
        assert!(menu.contains(entry), "{entry:?} missing from the tray menu:\n{menu}");
    }
    assert!(menu.contains(&format!("Open in Browser (:{port})")), "{menu}");
    assert!(menu.contains("Start Engine  (disabled)"), "{menu}");

    // A container started elsewhere shows up from the engine's events.
    engine.docker_ok(&["run", "-d", "--name", "db", &img, "sh", "-c", serve]);
    host(&keyring, &["wait", "Containers (2)", "20"]);

    // Stop from the tray: the engine stops it, and the menu follows.
    host(&keyring, &["click", "Containers>web>Stop"]);
    until("web to stop", || engine.docker_ok(&["inspect", "--format", "{{.State.Running}}", "web"]).trim() == "false");
    host(&keyring, &["wait", "Containers (1)", "20"]);
    host(&keyring, &["click", "Containers>db>Stop"]);
    host(&keyring, &["wait", "No running containers", "20"]);

    // Quit: the engine is not the app's to stop, so it leaves at once.
    host(&keyring, &["click", "Quit Berth"]);
    assert!(app.wait_timeout(Duration::from_secs(15)).is_some(), "the app did not quit from the tray");
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(!said.contains(TRAY_WARNING), "warned of a missing tray with a panel up:\n{said}");
    assert_eq!(engine.docker_ok(&["inspect", "--format", "{{.State.Running}}", "db"]).trim(), "false");
}

#[tokio::test]
async fn without_a_tray_host_the_app_runs_and_says_so_once() {
    let (_reg, engine, _img) = engine_with_busybox().await;
    let keyring = SecretService::start();
    let (_x, display) = xvfb();
    let log = engine.dir().join("desktop-no-tray.log");
    let mut app = launch(&engine, &keyring, &display, &log);
    until("the warning", || std::fs::read_to_string(&log).unwrap_or_default().contains(TRAY_WARNING));
    // Still running a moment later, and said it once.
    assert!(app.wait_timeout(Duration::from_secs(2)).is_none(), "the app exited without a tray host");
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(said.matches(TRAY_WARNING).count(), 1, "{said}");
    app.stop(Duration::from_secs(5));
}
