//! berthd as a process: flags, daemon.json, one daemon per data root, and a
//! clean stop on SIGTERM.

use std::process::Command;

use berth_e2e::berthd::binary;
use berth_e2e::Berthd;

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
