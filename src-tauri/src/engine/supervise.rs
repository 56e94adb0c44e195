//! Starting and stopping berthd on Linux: through its systemd unit when installed, else as a child
//! process when the app has the rights; otherwise the user is told exactly what to run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::locate::DEFAULT_SOCKET;

const UNIT: &str = "berthd.service";
/// The API socket's unit: while it listens, a client's connection starts the engine again.
const SOCKET_UNIT: &str = "berthd.socket";
const UNIT_DIRS: [&str; 3] = ["/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"];

pub enum Started {
    Systemd,
    Child(tokio::process::Child),
}

fn unit_installed() -> bool {
    UNIT_DIRS.iter().any(|d| Path::new(d).join(UNIT).exists())
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// berthd: `BERTHD`, beside this executable, or on PATH.
fn berthd_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BERTHD").map(PathBuf::from).filter(|p| p.exists()) {
        return Some(p);
    }
    let beside = std::env::current_exe().ok()?.with_file_name("berthd");
    if beside.exists() {
        return Some(beside);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("berthd")).find(|p| p.exists())
}

/// The command the user should run when the app cannot start the engine itself.
pub fn start_hint() -> String {
    if unit_installed() {
        format!("sudo systemctl start {UNIT}")
    } else {
        format!("sudo berthd --host unix://{DEFAULT_SOCKET}   (or scripts/dev in a Berth checkout)")
    }
}

pub async fn start() -> Result<Started, String> {
    if unit_installed() {
        systemctl("start", &[UNIT]).await?;
        return Ok(Started::Systemd);
    }
    if !is_root() {
        return Err(format!("Berth needs root to start the engine. Run: {}", start_hint()));
    }
    let bin = berthd_binary()
        .ok_or_else(|| format!("berthd was not found next to Berth or on PATH. Run: {}", start_hint()))?;
    let child = tokio::process::Command::new(&bin)
        .args(["--host", &format!("unix://{DEFAULT_SOCKET}")])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    tracing::info!(binary = %bin.display(), "started berthd as a child process");
    Ok(Started::Child(child))
}

/// SIGTERM, then SIGKILL after 20 s, as the systemd unit would.
pub async fn stop_child(mut child: tokio::process::Child) -> Result<(), String> {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM);
    }
    if tokio::time::timeout(Duration::from_secs(20), child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
    Ok(())
}

pub async fn stop_service() -> Result<(), String> {
    if unit_installed() {
        // The socket first, or the app's own next health check would start the engine again.
        return systemctl("stop", &[SOCKET_UNIT, UNIT]).await;
    }
    Err("Berth did not start this engine, so it will not stop it; stop it the way it was started".into())
}

async fn systemctl(verb: &str, units: &[&str]) -> Result<(), String> {
    let what = format!("systemctl {verb} {}", units.join(" "));
    let out = tokio::process::Command::new("systemctl")
        .arg(verb)
        .args(units)
        .output()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}
