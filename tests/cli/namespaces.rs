//! `--pid`, `--ipc`, `--uts` and `--cgroupns` with the real docker CLI: the host's namespaces,
//! another container's, and dockerd's refusals.

use berth_e2e::{engine_with_busybox, text};

fn ns_of_pid(pid: &str, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).unwrap().display().to_string()
}

#[tokio::test]
async fn host_and_container_namespaces() {
    let (_reg, d, img) = engine_with_busybox().await;
    let me = std::process::id().to_string();

    // The host's: its processes, its IPC objects and /dev/shm, its name.
    let seen = d.docker_ok(&[
        "run",
        "--rm",
        "--pid",
        "host",
        &img,
        "sh",
        "-c",
        &format!("test -d /proc/{me} && echo sees-host"),
    ]);
    assert_eq!(seen.trim(), "sees-host");
    let ipc = d.docker_ok(&["run", "--rm", "--ipc", "host", &img, "readlink", "/proc/self/ns/ipc"]);
    assert_eq!(ipc.trim(), ns_of_pid(&me, "ipc"));
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(d.docker_ok(&["run", "--rm", "--uts", "host", &img, "hostname"]), host_name);
    let clash = d.docker(&["run", "--rm", "--uts", "host", "--hostname", "mine", &img, "true"]);
    assert!(text(&clash.stderr).contains("conflicting options: hostname and the UTS mode"), "{}", text(&clash.stderr));
    // Private by default, as inspect says.
    let own = d.docker_ok(&["run", "--rm", &img, "sh", "-c", "ls /proc | grep -c '^[0-9]'"]);
    assert!(own.trim().parse::<u32>().unwrap() < 5, "{own}");

    // Another container's: a shareable IPC namespace with its /dev/shm, and its PID namespace.
    d.docker_ok(&[
        "run",
        "-d",
        "--name",
        "donor",
        "--ipc",
        "shareable",
        "--shm-size",
        "8m",
        &img,
        "sh",
        "-c",
        "echo shared > /dev/shm/x; sleep 300",
    ]);
    let modes = d.docker_ok(&["inspect", "--format", "{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}}", "donor"]);
    assert_eq!(modes.trim(), "shareable");
    let joined = d.docker_ok(&[
        "run",
        "--rm",
        "--ipc",
        "container:donor",
        "--pid",
        "container:donor",
        &img,
        "sh",
        "-c",
        "cat /dev/shm/x; df -k /dev/shm | tail -1; ps -o args | grep -c '^sleep 300'",
    ]);
    let lines: Vec<&str> = joined.lines().collect();
    assert_eq!(lines[0], "shared", "{joined}");
    assert!(lines[1].contains(" 8192 "), "the donor's 8 MB /dev/shm: {joined}");
    assert_eq!(lines[2], "1", "the donor's processes: {joined}");

    // dockerd's refusals: a private donor's IPC, a stopped donor, unknown modes.
    d.docker_ok(&["run", "-d", "--name", "private", &img, "sleep", "300"]);
    assert_eq!(d.docker_ok(&["inspect", "--format", "{{.HostConfig.IpcMode}}", "private"]).trim(), "private");
    let private = d.docker(&["run", "--rm", "--ipc", "container:private", &img, "true"]);
    assert!(text(&private.stderr).contains("non-shareable IPC"), "{}", text(&private.stderr));
    d.docker_ok(&["stop", "-t", "0", "private"]);
    let stopped = d.docker(&["run", "--rm", "--pid", "container:private", &img, "true"]);
    assert!(text(&stopped.stderr).contains("cannot join PID of a non running container"), "{}", text(&stopped.stderr));
    let bad = d.request(
        "POST",
        "/containers/create",
        &[("Content-Type", "application/json")],
        format!(r#"{{"Image": "{img}", "HostConfig": {{"PidMode": "container"}}}}"#).as_bytes(),
    );
    assert_eq!((bad.status, bad.message()), (400, "invalid PID mode: container".to_string()));

    // The donor's /dev/shm lives on the host only while it runs.
    let donor_dir =
        d.data_root.join("containers").join(d.docker_ok(&["inspect", "--format", "{{.Id}}", "donor"]).trim());
    let mounted = || {
        std::fs::read_to_string("/proc/self/mountinfo").unwrap().contains(&donor_dir.join("shm").display().to_string())
    };
    assert!(mounted());
    d.docker_ok(&["rm", "-f", "donor"]);
    assert!(!mounted(), "the shareable /dev/shm is left mounted");
}

#[tokio::test]
async fn a_private_cgroup_namespace() {
    let (_reg, d, img) = engine_with_busybox().await;
    let own =
        d.docker_ok(&["run", "--rm", "--cgroupns", "private", &img, "sh", "-c", "grep -c ':/$' /proc/self/cgroup"]);
    assert!(own.trim().parse::<u32>().unwrap() > 0, "{own}");
    let host =
        d.docker_ok(&["run", "--rm", "--cgroupns", "host", &img, "sh", "-c", "grep -c ':/berth/' /proc/self/cgroup"]);
    assert!(host.trim().parse::<u32>().unwrap() > 0, "{host}");
}
