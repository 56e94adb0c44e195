//! `docker version`, `info`, `system df` and `events` against berthd, with
//! the real docker CLI and with bollard.

use std::time::Duration;

use berth_e2e::Berthd;
use futures_util::StreamExt;
use nix::sys::signal::Signal;

fn uname_r() -> String {
    nix::sys::utsname::uname().unwrap().release().to_string_lossy().into_owned()
}

#[test]
fn docker_version_reports_the_engine() {
    let d = Berthd::start();
    let server: serde_json::Value =
        serde_json::from_str(&d.docker_ok(&["version", "--format", "{{json .Server}}"])).unwrap();
    assert_eq!(server["ApiVersion"], "1.50");
    assert_eq!(server["MinAPIVersion"], "1.24");
    assert_eq!(server["Os"], "linux");
    assert_eq!(server["Arch"], berth_e2e::fixtures::host_arch());
    assert_eq!(server["KernelVersion"], uname_r());
    assert_eq!(server["Version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(server["Components"][0]["Name"], "Engine");
    // The CLI negotiated the highest version both sides speak.
    let client = d.docker_ok(&["version", "--format", "{{.Client.APIVersion}}"]);
    assert_eq!(client.trim(), "1.50");
}

#[test]
fn docker_info_shows_real_figures() {
    let d = Berthd::start();
    let info: serde_json::Value = serde_json::from_str(&d.docker_ok(&["info", "--format", "{{json .}}"])).unwrap();
    assert_eq!(info["NCPU"], std::thread::available_parallelism().unwrap().get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib: u64 = meminfo.lines().next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(info["MemTotal"], kib * 1024);
    assert_eq!(info["KernelVersion"], uname_r());
    assert_eq!(info["DockerRootDir"], d.data_root.display().to_string());
    assert_eq!(info["Driver"], "overlay2");
    assert_eq!(info["OSType"], "linux");
    assert_eq!(info["Swarm"]["LocalNodeState"], "inactive");
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap();
    let pretty = os_release.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).unwrap().trim_matches('"');
    assert_eq!(info["OperatingSystem"], pretty);
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").is_ok();
    assert_eq!(info["CgroupVersion"], if v2 { "2" } else { "1" });
    assert_eq!(info["Containers"], 0);
    assert_eq!(info["Images"], 0);
    let id = std::fs::read_to_string(d.data_root.join("engine-id")).unwrap();
    assert_eq!(info["ID"], id.trim());

    // The human-readable form the CLI prints from the same JSON.
    let text = d.docker_ok(&["info"]);
    assert!(text.contains("Storage Driver: overlay2"), "{text}");
    assert!(text.contains(&format!("Docker Root Dir: {}", d.data_root.display())), "{text}");
}

#[test]
fn docker_system_df_lists_every_kind() {
    let d = Berthd::start();
    let out = d.docker_ok(&["system", "df"]);
    for row in ["Images", "Containers", "Local Volumes", "Build Cache"] {
        assert!(out.lines().any(|l| l.starts_with(row)), "{row} missing from:\n{out}");
    }
    let verbose = d.docker_ok(&["system", "df", "-v"]);
    assert!(verbose.contains("Images space usage"), "{verbose}");
}

#[test]
fn docker_events_replays_and_streams() {
    let d = Berthd::start();
    std::fs::write(&d.config_file, r#"{"labels": ["tier=e2e"]}"#).unwrap();
    d.signal(Signal::SIGHUP);
    // The reload lands asynchronously; its event is the sign it has.
    let mut replay = String::new();
    for _ in 0..100 {
        replay = d.docker_ok(&[
            "events",
            "--since",
            "1m",
            "--until",
            "0s",
            "--filter",
            "type=daemon",
            "--format",
            "{{.Type}} {{.Action}}",
        ]);
        if !replay.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(replay.trim(), "daemon reload");
    let labels = d.docker_ok(&["info", "--format", "{{json .Labels}}"]);
    assert_eq!(labels.trim(), r#"["tier=e2e"]"#);

    // A filter that matches nothing yields nothing, and the window closes.
    let none = d.docker_ok(&["events", "--since", "1m", "--until", "0s", "--filter", "type=container"]);
    assert_eq!(none, "");
    // Unknown filter keys are refused as dockerd does.
    let bad = d.docker(&["events", "--since", "1m", "--until", "0s", "--filter", "colour=red"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid filter 'colour'"));
}

#[tokio::test]
async fn bollard_sees_the_same_engine() {
    let d = Berthd::start();
    let docker = d.client();
    assert_eq!(docker.ping().await.unwrap(), "OK");
    let version = docker.version().await.unwrap();
    assert_eq!(version.api_version.as_deref(), Some("1.50"));
    let info = docker.info().await.unwrap();
    assert_eq!(info.docker_root_dir.as_deref(), Some(d.data_root.to_str().unwrap()));
    let df = docker.df(None::<bollard::query_parameters::DataUsageOptions>).await.unwrap();
    assert_eq!(df.images.map(|v| v.len()), Some(0));

    // A live subscriber receives an event published after it connected.
    // bollard sends the request when the stream is first polled.
    let mut events = docker.events(None::<bollard::query_parameters::EventsOptions>);
    let first = tokio::spawn(async move { events.next().await });
    let listeners = async {
        loop {
            if docker.info().await.unwrap().n_events_listener == Some(1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), listeners).await.expect("subscriber registered");
    d.signal(Signal::SIGHUP);
    let ev =
        tokio::time::timeout(Duration::from_secs(10), first).await.expect("event in time").unwrap().unwrap().unwrap();
    assert_eq!(ev.action.as_deref(), Some("reload"));
    assert_eq!(ev.scope, Some(bollard::models::EventMessageScopeEnum::LOCAL));
}
