//! Log drivers and rotation with the real docker CLI: json-file with
//! max-size/max-file, `docker logs` (also `-f`) across rotated files, the
//! `none` driver, bad options, and the engine's defaults.

use std::process::Stdio;

use berth_e2e::berthd::Berthd;
use berth_e2e::{engine_with_busybox, fixtures, registry::Registry, text};

fn log_files(d: &Berthd, name: &str) -> Vec<u64> {
    let path = d.docker_ok(&["inspect", "--format", "{{.LogPath}}", name]);
    let path = std::path::Path::new(path.trim());
    let dir = path.parent().unwrap();
    let base = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut sizes: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&base))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().unwrap().len()))
        .collect();
    sizes.sort();
    sizes.into_iter().map(|(_, s)| s).collect()
}

#[tokio::test]
async fn json_file_rotation_and_reading_across_files() {
    let (_reg, d, img) = engine_with_busybox().await;
    let opts = ["--log-opt", "max-size=1k", "--log-opt", "max-file=3"];
    let mut args = vec!["run", "-d", "--name", "chatty"];
    args.extend(opts);
    args.extend([img.as_str(), "sh", "-c", "seq 1 200"]);
    d.docker_ok(&args);
    d.docker_ok(&["wait", "chatty"]);
    // Three files, none much past 1 KiB (one entry over at most).
    let sizes = log_files(&d, "chatty");
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    assert!(sizes.iter().all(|s| *s < 1024 + 64), "{sizes:?}");
    // `docker logs` reads them oldest first: the newest lines, in order.
    let out = d.docker_ok(&["logs", "chatty"]);
    let lines: Vec<u32> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(*lines.last().unwrap(), 200);
    assert!(lines.len() < 200 && lines.len() > 20, "{}", lines.len());
    assert!(lines.windows(2).all(|w| w[1] == w[0] + 1), "{lines:?}");
    let tail = d.docker_ok(&["logs", "--tail", "3", "chatty"]);
    assert_eq!(tail, "198\n199\n200\n");
    let shown = d.docker_ok(&["inspect", "--format", "{{json .HostConfig.LogConfig}}", "chatty"]);
    assert_eq!(shown.trim(), r#"{"Type":"json-file","Config":{"max-file":"3","max-size":"1k"}}"#);

    // `docker logs -f` follows the live file through its rotations.
    let mut args = vec!["run", "-d", "--name", "slow"];
    args.extend(["--log-opt", "max-size=300", "--log-opt", "max-file=4"]);
    args.extend([img.as_str(), "sh", "-c", "sleep 0.5; for i in $(seq 1 40); do echo line-$i; sleep 0.04; done"]);
    d.docker_ok(&args);
    let follow = d.docker_cmd().args(["logs", "-f", "slow"]).stdout(Stdio::piped()).output().unwrap();
    let followed: Vec<String> = text(&follow.stdout).lines().map(String::from).collect();
    let expected: Vec<String> = (1..=40).map(|i| format!("line-{i}")).collect();
    assert_eq!(followed, expected);
    assert!(log_files(&d, "slow").len() > 1, "never rotated");

    // Defaults: json-file, nothing else.
    d.docker_ok(&["run", "--name", "plain", &img, "true"]);
    let shown = d.docker_ok(&["inspect", "--format", "{{json .HostConfig.LogConfig}}", "plain"]);
    assert_eq!(shown.trim(), r#"{"Type":"json-file","Config":{}}"#);
}

#[tokio::test]
async fn none_driver_and_bad_options() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "-d", "--name", "quiet", "--log-driver", "none", &img, "echo", "hi"]);
    d.docker_ok(&["wait", "quiet"]);
    let logs = d.docker(&["logs", "quiet"]);
    assert!(
        text(&logs.stderr).contains("configured logging driver does not support reading"),
        "{}",
        text(&logs.stderr)
    );
    let r = d.request("GET", "/containers/quiet/logs?stdout=1", &[], b"");
    assert_eq!(r.status, 501);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.LogPath}}", "quiet"]).trim(), "");
    // Attached output still reaches the terminal.
    let out = d.docker_ok(&["run", "--rm", "--log-driver", "none", &img, "echo", "shown"]);
    assert_eq!(out, "shown\n");

    for (args, message) in [
        (&["--log-driver", "foo"][..], "plugin \"foo\" not found"),
        (&["--log-opt", "x=y"], "unknown log opt 'x' for json-file log driver"),
        (&["--log-opt", "max-size=abc"], "invalid size: 'abc'"),
        (&["--log-opt", "max-file=0"], "max-file cannot be less than 1"),
        (&["--log-driver", "syslog"], "not supported by Berth"),
    ] {
        let mut cmd = vec!["create"];
        cmd.extend(args);
        cmd.extend([img.as_str(), "true"]);
        let out = d.docker(&cmd);
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
    }
    assert_eq!(d.docker_ok(&["ps", "-aq", "--filter", "status=created"]), "");
}

#[tokio::test]
async fn engine_defaults_from_daemon_json() {
    let reg = Registry::start().await;
    let fx = fixtures::push_all(&reg).await;
    let d = Berthd::start_with(&[], r#"{"log-driver": "json-file", "log-opts": {"max-size": "2k", "max-file": "2"}}"#);
    d.docker_ok(&["pull", "-q", &fx.single]);
    d.docker_ok(&["run", "--name", "first", &fx.single, "sh", "-c", "seq 1 500"]);
    let shown = d.docker_ok(&["inspect", "--format", "{{json .HostConfig.LogConfig}}", "first"]);
    assert_eq!(shown.trim(), r#"{"Type":"json-file","Config":{"max-file":"2","max-size":"2k"}}"#);
    assert_eq!(log_files(&d, "first").len(), 2);
    // The container's own options win; another driver takes none of them.
    d.docker_ok(&["create", "--name", "second", "--log-opt", "max-size=5k", &fx.single, "true"]);
    let shown = d.docker_ok(&["inspect", "--format", "{{json .HostConfig.LogConfig.Config}}", "second"]);
    assert_eq!(shown.trim(), r#"{"max-file":"2","max-size":"5k"}"#);
    d.docker_ok(&["create", "--name", "third", "--log-driver", "local", &fx.single, "true"]);
    let shown = d.docker_ok(&["inspect", "--format", "{{json .HostConfig.LogConfig}}", "third"]);
    assert_eq!(shown.trim(), r#"{"Type":"local","Config":{}}"#);
    assert_eq!(d.docker_ok(&["info", "--format", "{{.LoggingDriver}}"]).trim(), "json-file");
}
