//! berthd as a process: flags, daemon.json, one daemon per data root, a
//! clean stop on SIGTERM, and life as a systemd service.

use std::process::Command;

use berth_e2e::berthd::binary;
use berth_e2e::{fixtures, text, Berthd, Registry};

/// Runs berthd expecting it to refuse to start; returns its stderr.
fn refused(args: &[&str]) -> String {
    let out = Command::new(binary()).args(args).output().unwrap();
    assert!(!out.status.success(), "berthd {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn second_daemon_on_the_same_data_root_is_refused() {
    let d = Berthd::start();
    let other_sock = d.dir().join("other.sock");
    let err = refused(&[
        "--host",
        &format!("unix://{}", other_sock.display()),
        "--data-root",
        d.data_root.to_str().unwrap(),
        "--exec-root",
        d.dir().join("exec2").to_str().unwrap(),
        "--pidfile",
        d.dir().join("other.pid").to_str().unwrap(),
        "--config-file",
        d.config_file.to_str().unwrap(),
    ]);
    assert!(err.contains(&format!("another berthd (pid {}) is already running", d.pid())), "{err}");
    assert!(!other_sock.exists());
    // The first one is unharmed.
    assert_eq!(d.docker_ok(&["version", "--format", "{{.Server.Version}}"]).trim(), env!("CARGO_PKG_VERSION"));
    assert_eq!(std::fs::read_to_string(&d.pidfile).unwrap().trim(), d.pid().to_string());
}

#[test]
fn a_socket_in_use_is_not_stolen() {
    let d = Berthd::start();
    let dir = tempfile::tempdir().unwrap();
    let err = refused(&[
        "--host",
        &d.host(),
        "--data-root",
        dir.path().join("data").to_str().unwrap(),
        "--exec-root",
        dir.path().join("exec").to_str().unwrap(),
        "--config-file",
        d.config_file.to_str().unwrap(),
    ]);
    assert!(err.contains("is in use by another process"), "{err}");
    d.docker_ok(&["info"]);
}

#[test]
fn sigterm_stops_cleanly_and_removes_its_files() {
    let mut d = Berthd::start();
    assert!(d.pidfile.exists());
    let status = d.stop().expect("berthd exited");
    assert!(status.success(), "exit status {status}\n{}", d.log());
    assert!(!d.socket.exists(), "socket left behind");
    assert!(!d.pidfile.exists(), "pidfile left behind");
    assert!(d.log().contains("berthd stopped"));
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("daemon.json");
    std::fs::write(&cfg, "{\"debug\": tru").unwrap();
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec![
            "--data-root".into(),
            dir.path().join("data").display().to_string(),
            "--exec-root".into(),
            dir.path().join("exec").display().to_string(),
            "--config-file".into(),
            cfg.display().to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str]| refused(&base(extra).iter().map(String::as_str).collect::<Vec<_>>());

    assert!(run(&[]).contains("invalid JSON in configuration file"));

    std::fs::write(&cfg, "{}").unwrap();
    let tcp = run(&["-H", "tcp://127.0.0.1:2375"]);
    assert!(tcp.contains("refusing to listen on tcp://127.0.0.1:2375"), "{tcp}");
    assert!(run(&["-H", "/no/scheme.sock"]).contains("expected unix:///path/to/socket"));
    assert!(run(&["--log-level", "loud"]).contains("invalid log level"));
    let pidfile = dir.path().join("berthd.pid").display().to_string();
    let unactivated = run(&["-H", "fd://", "--pidfile", &pidfile]);
    assert!(unactivated.contains("-H fd:// needs sockets passed by systemd"), "{unactivated}");

    std::fs::write(&cfg, r#"{"debug": true}"#).unwrap();
    let conflict = run(&["--debug"]);
    assert!(conflict.contains("specified both as a flag and in the configuration file: debug"), "{conflict}");

    std::fs::remove_file(&cfg).unwrap();
    assert!(run(&[]).contains("unable to read configuration file"));
}

#[test]
fn unknown_configuration_keys_warn_but_start() {
    let d = Berthd::start_with(&[], r#"{"colour": "blue", "mtu": 1400, "labels": ["a=b"]}"#);
    let log = d.log();
    assert!(
        log.contains("unknown configuration key \\\"colour\\\"")
            || log.contains("unknown configuration key \"colour\""),
        "{log}"
    );
    assert!(
        log.contains("\"mtu\" is not supported by berthd yet") || log.contains("\\\"mtu\\\" is not supported"),
        "{log}"
    );
    assert_eq!(d.docker_ok(&["info", "--format", "{{json .Labels}}"]).trim(), r#"["a=b"]"#);
}

/// As berthd.socket and berthd.service run it: the API socket passed in (`-H fd://`), READY=1
/// once it answers (checked by the harness), containers that work and whose shims do not inherit
/// the service manager's variables, STOPPING=1 on SIGTERM, and the socket file left to systemd.
#[tokio::test]
async fn runs_as_a_socket_activated_notify_service() {
    let reg = Registry::start().await;
    let fx = fixtures::push_all(&reg).await;
    let mut d = Berthd::start_as_systemd_unit(&binary());
    assert!(d.log().contains("(from systemd)"), "{}", d.log());
    d.docker_ok(&["pull", "-q", &fx.single]);
    assert_eq!(d.docker_ok(&["run", "--rm", "--init", &fx.single, "echo", "activated"]).trim(), "activated");

    d.docker_ok(&["run", "-d", &fx.single, "sleep", "60"]);
    let shims: Vec<_> = std::fs::read_dir(d.exec_root.join("s")).unwrap().flatten().collect();
    assert_eq!(shims.len(), 1);
    let pid = std::fs::read_to_string(shims[0].path().join("shim.pid")).unwrap();
    let environ = std::fs::read(format!("/proc/{}/environ", pid.trim())).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    for var in ["NOTIFY_SOCKET=", "LISTEN_FDS=", "LISTEN_PID="] {
        assert!(!environ.split('\0').any(|kv| kv.starts_with(var)), "the shim inherited {var}");
    }

    assert!(d.stop().is_some_and(|s| s.success()), "{}", d.log());
    assert_eq!(d.notification().as_deref(), Some("STOPPING=1"));
    assert!(d.socket.exists(), "berthd removed the socket systemd owns");
}

/// daemon.json `runtimes` with `runtimeArgs`, chosen per container with `--runtime`; unknown ones
/// are refused as dockerd refuses them.
#[tokio::test]
async fn containers_run_with_the_runtime_they_name() {
    let reg = Registry::start().await;
    let fx = fixtures::push_all(&reg).await;
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("runc.json");
    let config = serde_json::json!({
        "runtimes": {"logged": {"path": "runc", "runtimeArgs": ["--debug", "--log", log, "--log-format", "json"]}}
    });
    let d = Berthd::start_with(&[], &config.to_string());
    d.docker_ok(&["pull", "-q", &fx.single]);

    assert_eq!(d.docker_ok(&["run", "--rm", &fx.single, "echo", "plain"]), "plain\n");
    assert!(!log.exists(), "the default runtime ran with another runtime's arguments");
    d.docker_ok(&["run", "-d", "--name", "logged", "--runtime", "logged", &fx.single, "sleep", "300"]);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.HostConfig.Runtime}}", "logged"]).trim(), "logged");
    // Later commands on the container go through its runtime too.
    let created = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert!(created > 0, "runc create wrote nothing to the runtime's --log");
    d.docker_ok(&["pause", "logged"]);
    d.docker_ok(&["unpause", "logged"]);
    assert_eq!(d.docker_ok(&["exec", "logged", "echo", "in"]), "in\n");
    assert!(std::fs::metadata(&log).unwrap().len() > created, "runc exec did not run with the runtime's arguments");
    let unknown = d.docker(&["run", "--rm", "--runtime", "nope", &fx.single, "true"]);
    assert!(text(&unknown.stderr).contains("Unknown runtime specified nope"), "{}", text(&unknown.stderr));
}

/// daemon.json `default-address-pools`: where new networks' subnets come from, in order.
#[test]
fn networks_come_from_the_default_address_pools() {
    let d = Berthd::start_with(&[], r#"{"default-address-pools": [{"base": "10.190.0.0/20", "size": 26}]}"#);
    let subnet = |name: &str| {
        d.docker_ok(&["network", "create", name]);
        d.docker_ok(&["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", name])
    };
    assert_eq!(subnet("first").trim(), "10.190.0.0/26");
    assert_eq!(subnet("second").trim(), "10.190.0.64/26");
    let bad_pools = d.dir().join("bad-pools.json");
    let text = r#"{"default-address-pools": [{"base": "10.190.0.0/20", "size": 8}], "bridge": "bpbad", "bip": "10.191.0.1/24"}"#;
    std::fs::write(&bad_pools, text).unwrap();
    let bad = refused(&[
        "--data-root",
        d.dir().join("data2").to_str().unwrap(),
        "--exec-root",
        d.dir().join("exec2").to_str().unwrap(),
        "--pidfile",
        d.dir().join("other.pid").to_str().unwrap(),
        "--host",
        &format!("unix://{}", d.dir().join("other.sock").display()),
        "--config-file",
        bad_pools.to_str().unwrap(),
    ]);
    assert!(bad.contains("invalid default address pool 10.190.0.0/20 (size 8)"), "{bad}");
}
