//! What the desktop suites share: the workspace, tools on PATH, Xvfb on a
//! display of its own, and the built app.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::Guarded;

/// The repository root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A program on PATH (or in ~/.cargo/bin); `hint` says how to get it.
pub fn tool(name: &str, hint: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.iter().map(|d| d.join(name)).find(|p| p.exists()).unwrap_or_else(|| panic!("{name} not found: {hint}"))
}

/// Xvfb on a display of its own.
pub fn xvfb() -> (Guarded, String) {
    let bin = tool("Xvfb", "install xvfb (scripts/test does)");
    for n in 90..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let display = format!(":{n}");
        let mut cmd = Command::new(&bin);
        cmd.args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"]);
        let guard = Guarded::spawn("Xvfb", &mut cmd).expect("start Xvfb");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return (guard, display);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("Xvfb did not come up on {display}");
    }
    panic!("no free X display");
}

/// The debug build of Berth Desktop, which `scripts/test` builds.
pub fn desktop_binary() -> PathBuf {
    let app = workspace().join("target/debug/berth-desktop");
    assert!(app.exists(), "{} is missing: build it first (cargo build -p berth-desktop)", app.display());
    app
}
