//! The Debian packages as a user meets them: built by packaging/deb/build, installed with dpkg on
//! this machine, the installed engine started as its systemd units start it, then purged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use berth_e2e::berthd::binary;
use berth_e2e::gui::workspace;
use berth_e2e::{fixtures, text, Berthd, Registry};

const PACKAGES: [&str; 2] = ["berth-desktop", "berth-engine"];

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{}{}", out.status, text(&out.stdout), text(&out.stderr));
    out
}

fn installed(package: &str) -> bool {
    let out = Command::new("dpkg-query").args(["-W", "-f=${Status}", package]).output().unwrap();
    text(&out.stdout) == "install ok installed"
}

/// Purges the packages when the test ends, however it ends.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").arg("--purge").args(PACKAGES).output();
    }
}

fn field(deb: &Path, name: &str) -> String {
    text(&run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name)).stdout).trim().to_string()
}

/// `ExecStart=` of an installed unit, split into words.
fn exec_start(unit: &str) -> Vec<String> {
    let file = std::fs::read_to_string(Path::new("/lib/systemd/system").join(unit)).unwrap();
    let line = file.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart");
    line.split_whitespace().map(String::from).collect()
}

#[tokio::test]
async fn build_install_run_and_purge_the_debs() {
    for p in PACKAGES {
        assert!(
            !installed(p),
            "{p} is installed on this machine; this test installs and purges its own build, so remove it first \
             (dpkg --purge {})",
            PACKAGES.join(" ")
        );
    }
    let out = tempfile::tempdir().unwrap();
    let bin_dir = binary().parent().unwrap().to_path_buf();
    run(Command::new(workspace().join("packaging/deb/build"))
        .env("BERTH_BIN_DIR", &bin_dir)
        .env("BERTH_DEB_OUT", out.path())
        .env("BERTH_DEB_COMPRESS", "none"));
    let arch = text(&run(Command::new("dpkg").arg("--print-architecture")).stdout).trim().to_string();
    let version = env!("CARGO_PKG_VERSION");
    let deb = |p: &str| -> PathBuf { out.path().join(format!("{p}_{version}_{arch}.deb")) };

    let engine_depends = field(&deb("berth-engine"), "Depends");
    for dep in ["libc6", "runc", "nftables", "procps"] {
        assert!(engine_depends.contains(dep), "berth-engine Depends: {engine_depends}");
    }
    let desktop_depends = field(&deb("berth-desktop"), "Depends");
    for dep in
        [format!("berth-engine (= {version})"), "libwebkit2gtk-4.1-0".into(), "libayatana-appindicator3-1".into()]
    {
        assert!(desktop_depends.contains(&dep), "berth-desktop Depends: {desktop_depends}");
    }

    let _purge = Purge;
    run(Command::new("dpkg").arg("-i").arg(deb("berth-engine")).arg(deb("berth-desktop")));
    assert!(run(Command::new("getent").args(["group", "berth"])).status.success());
    for b in ["berthd", "berth-shim", "berth-init", "docker-credential-berth", "berth-desktop"] {
        assert!(Path::new("/usr/bin").join(b).exists(), "/usr/bin/{b} is not installed");
    }
    // Enabled as any Debian service is on installation, so it starts at boot.
    for link in ["sockets.target.wants/berthd.socket", "multi-user.target.wants/berthd.service"] {
        let path = Path::new("/etc/systemd/system").join(link);
        assert!(path.symlink_metadata().is_ok(), "{} is missing", path.display());
    }
    run(Command::new("systemd-analyze").args([
        "verify",
        "/lib/systemd/system/berthd.socket",
        "/lib/systemd/system/berthd.service",
    ]));
    run(Command::new("desktop-file-validate").arg("/usr/share/applications/berth.desktop"));
    assert!(Path::new("/usr/share/icons/hicolor/128x128/apps/berth.png").exists());

    // The installed engine, started the way berthd.service starts it.
    let start = exec_start("berthd.service");
    assert_eq!(start[1..], ["-H", "fd://"]);
    let reg = Registry::start().await;
    let fx = fixtures::push_all(&reg).await;
    let d = Berthd::start_as_systemd_unit(Path::new(&start[0]));
    d.docker_ok(&["pull", "-q", &fx.single]);
    assert_eq!(d.docker_ok(&["run", "--rm", "--init", &fx.single, "echo", "installed"]).trim(), "installed");
    d.docker_ok(&["run", "-d", &fx.single, "sleep", "60"]);
    let shim = std::fs::read_dir(d.exec_root.join("s")).unwrap().flatten().next().expect("a shim");
    let pid = std::fs::read_to_string(shim.path().join("shim.pid")).unwrap();
    let exe = std::fs::read_link(format!("/proc/{}/exe", pid.trim())).unwrap();
    assert_eq!(exe, Path::new("/usr/bin/berth-shim"), "the installed engine runs its own shim");
    // The docker CLI finds Berth Compose among its system plugins.
    let compose = d.docker_ok(&["compose", "version"]);
    assert!(compose.contains("-berth."), "{compose}");
    drop(d);

    run(Command::new("dpkg").arg("--purge").args(PACKAGES));
    for gone in [
        "/usr/bin/berthd",
        "/usr/lib/docker/cli-plugins/docker-compose",
        "/lib/systemd/system/berthd.service",
        "/etc/systemd/system/sockets.target.wants/berthd.socket",
        "/usr/share/applications/berth.desktop",
    ] {
        assert!(Path::new(gone).symlink_metadata().is_err(), "{gone} is left after purge");
    }
}
