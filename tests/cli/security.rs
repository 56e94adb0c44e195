//! Confinement with the real docker CLI: Docker's default capabilities,
//! `--cap-add`/`--cap-drop`, and seccomp (the default profile, unconfined,
//! custom profiles), the masked system paths, annotations.

use berth_e2e::{engine_with_busybox, text, Berthd};

/// A field of /proc/self/status (`CapEff`, `Seccomp`) in a container run with `args`.
fn status_field(d: &Berthd, img: &str, args: &[&str], field: &str) -> String {
    let script = format!("grep '^{field}:' /proc/self/status");
    let mut all = vec!["run", "--rm"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[img, "sh", "-c", &script]);
    d.docker_ok(&all).split_whitespace().nth(1).unwrap().to_string()
}

#[tokio::test]
async fn capabilities_follow_docker_defaults() {
    let (_reg, d, img) = engine_with_busybox().await;
    let capeff = |args: &[&str]| status_field(&d, &img, args, "CapEff");
    // Docker's default set, exactly.
    assert_eq!(capeff(&[]), "00000000a80425fb");
    assert_eq!(capeff(&["--cap-add", "NET_ADMIN"]), "00000000a80435fb");
    assert_eq!(capeff(&["--cap-drop", "ALL", "--cap-add", "KILL"]), "0000000000000020");
    let chown = d.docker(&["run", "--rm", "--cap-drop", "CHOWN", &img, "chown", "nobody", "/tmp"]);
    assert!(!chown.status.success());
    let bad = d.docker(&["run", "--rm", "--cap-add", "BOGUS", &img, "true"]);
    assert!(text(&bad.stderr).contains("unknown capability"), "{}", text(&bad.stderr));
}

#[tokio::test]
async fn seccomp_default_unconfined_and_custom_profiles() {
    let (_reg, d, img) = engine_with_busybox().await;
    let mode = |args: &[&str]| status_field(&d, &img, args, "Seccomp");
    // 2 is "filtered".
    assert_eq!(mode(&[]), "2");
    assert_eq!(mode(&["--security-opt", "seccomp=unconfined"]), "0");
    assert_eq!(mode(&["--privileged"]), "0");
    // --privileged also sees the host's devices.
    let plain = d.docker_ok(&["run", "--rm", &img, "ls", "/dev"]);
    let privileged = d.docker_ok(&["run", "--rm", "--privileged", &img, "ls", "/dev"]);
    assert!(!plain.contains("loop-control") && privileged.contains("loop-control"), "{privileged}");
    // ...and may open them: the device cgroup lets it.
    let opened =
        d.docker_ok(&["run", "--rm", "--privileged", &img, "sh", "-c", "exec 3</dev/loop-control && echo opened"]);
    assert_eq!(opened, "opened\n");
    let info = d.docker_ok(&["info", "--format", "{{json .SecurityOptions}}"]);
    assert!(info.contains("name=seccomp,profile=builtin"), "{info}");

    // The default refuses what reaches past the container, a new namespace
    // here, unless the container holds the capability that makes it legitimate.
    let refused = d.docker(&["run", "--rm", &img, "unshare", "-u", "true"]);
    assert!(text(&refused.stderr).contains("Operation not permitted"), "{}", text(&refused.stderr));
    d.docker_ok(&["run", "--rm", "--cap-add", "SYS_ADMIN", &img, "unshare", "-u", "true"]);

    // A profile of the user's, in Docker's format (the CLI sends the file's content).
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let denied = d.docker(&["run", "--rm", "--security-opt", &opt, &img, "mkdir", "/tmp/x"]);
    assert!(text(&denied.stderr).contains("Operation not permitted"), "{}", text(&denied.stderr));
    d.docker_ok(&["run", "--rm", "--security-opt", &opt, &img, "touch", "/tmp/x"]);
    std::fs::write(&profile, r#"{"syscalls": []}"#).unwrap();
    let bad = d.docker(&["create", "--security-opt", &opt, &img, "true"]);
    assert!(text(&bad.stderr).contains("decoding seccomp profile failed"), "{}", text(&bad.stderr));
}

/// Docker's masked and read-only system paths, lifted by `--security-opt systempaths=unconfined`
/// (which the CLI sends as empty lists); OCI annotations; and docker-py's `network_disabled`.
#[tokio::test]
async fn system_paths_annotations_and_no_network() {
    let (_reg, d, img) = engine_with_busybox().await;
    let masked = "grep -c -e ' /proc/keys ' -e ' /proc/sys ' /proc/self/mountinfo";
    let default = d.docker_ok(&["run", "--rm", &img, "sh", "-c", masked]);
    assert_eq!(default.trim(), "2", "/proc/keys masked and /proc/sys read-only by default");
    let out = d.docker(&["run", "--rm", "--security-opt", "systempaths=unconfined", &img, "sh", "-c", masked]);
    assert_eq!(text(&out.stdout).trim(), "0", "{}", text(&out.stderr));

    d.docker_ok(&["run", "-d", "--name", "annotated", "--annotation", "org.example.team=berth", &img, "sleep", "300"]);
    let id = d.docker_ok(&["inspect", "--format", "{{.Id}}", "annotated"]);
    let bundle = std::fs::read_to_string(d.exec_root.join("containers").join(id.trim()).join("config.json")).unwrap();
    let spec: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    assert_eq!(spec["annotations"]["org.example.team"], "berth");
    let bad = d.request(
        "POST",
        "/containers/create",
        &[("Content-Type", "application/json")],
        format!(r#"{{"Image": "{img}", "HostConfig": {{"Annotations": {{"": "x"}}}}}}"#).as_bytes(),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.message(), "invalid Annotations: the empty string is not permitted as an annotation key");

    let created = d.request(
        "POST",
        "/containers/create?name=offline",
        &[("Content-Type", "application/json")],
        format!(r#"{{"Image": "{img}", "Cmd": ["sleep", "300"], "NetworkDisabled": true}}"#).as_bytes(),
    );
    assert_eq!(created.status, 201);
    d.docker_ok(&["start", "offline"]);
    let links = d.docker_ok(&["exec", "offline", "ls", "/sys/class/net"]);
    assert_eq!(links.trim(), "lo");
}
