//! Resource settings as the kernel ends up holding them, with the real docker CLI: block I/O
//! throttles and weight, memory swappiness, the OOM killer, device cgroup rules and the cgroup
//! parent; and what this engine has no driver for (GPUs, storage options, volume plugins).

use std::path::{Path, PathBuf};

use berth_e2e::{engine_with_busybox, text};

/// The first disk's device number, as `MAJOR:MINOR`, with its path.
fn a_block_device() -> (String, String) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut disks: Vec<PathBuf> = std::fs::read_dir("/dev").unwrap().flatten().map(|e| e.path()).collect();
    disks.sort();
    disks
        .into_iter()
        .filter(|p| p.metadata().is_ok_and(|m| m.file_type().is_block_device()))
        .find(|p| !p.display().to_string().contains("loop"))
        .map(|p| {
            let rdev = p.metadata().unwrap().rdev();
            (p.display().to_string(), format!("{}:{}", nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev)))
        })
        .expect("a block device")
}

/// A v1 controller's (or the v2) file of cgroup `path`.
fn cgroup_file(controller: &str, path: &str, file: &str) -> String {
    let root = Path::new("/sys/fs/cgroup");
    let dir = if root.join("cgroup.controllers").exists() { root.join(path) } else { root.join(controller).join(path) };
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

#[tokio::test]
async fn limits_land_in_the_containers_cgroup() {
    let (_reg, d, img) = engine_with_busybox().await;
    let (disk, number) = a_block_device();
    let parent = format!("berth-e2e-{}", std::process::id());
    let v1 = !Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let out = d.docker(&[
        "run",
        "-d",
        "--name",
        "limited",
        "--cgroup-parent",
        &parent,
        "--memory",
        "64m",
        "--memory-swappiness",
        "10",
        "--oom-kill-disable",
        "--device-read-bps",
        &format!("{disk}:1mb"),
        "--device-write-iops",
        &format!("{disk}:100"),
        "--device-cgroup-rule",
        "c 42:7 r",
        "--blkio-weight",
        "300",
        &img,
        "sleep",
        "300",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = d.docker_ok(&["inspect", "--format", "{{.Id}}", "limited"]);
    let path = format!("{parent}/{}", id.trim());
    if v1 {
        assert_eq!(cgroup_file("blkio", &path, "blkio.throttle.read_bps_device"), format!("{number} 1048576\n"));
        assert_eq!(cgroup_file("blkio", &path, "blkio.throttle.write_iops_device"), format!("{number} 100\n"));
        assert_eq!(cgroup_file("memory", &path, "memory.swappiness"), "10\n");
        assert!(cgroup_file("memory", &path, "memory.oom_control").contains("oom_kill_disable 1"));
        assert!(cgroup_file("devices", &path, "devices.list").contains("c 42:7 r"));
    } else {
        assert!(cgroup_file("io", &path, "io.max").contains(&format!("{number} rbps=1048576")));
    }
    // A host without a weight-capable I/O scheduler drops the weight, saying so as dockerd does.
    let weight_file = Path::new("/sys/fs/cgroup/blkio/blkio.weight").exists()
        || Path::new("/sys/fs/cgroup/blkio/blkio.bfq.weight").exists();
    if v1 && !weight_file {
        assert!(text(&out.stderr).contains("does not support Block I/O weight"), "{}", text(&out.stderr));
    }
    // Stats read the container's own cgroup, wherever its parent is.
    let usage = d.docker_ok(&["stats", "--no-stream", "--format", "{{.MemUsage}}", "limited"]);
    assert!(usage.contains("/ 64MiB"), "{usage}");
    d.docker_ok(&["rm", "-f", "limited"]);
    // Parent cgroups outlive their containers, as with dockerd; not a test's.
    for controller in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let _ = std::fs::remove_dir(controller.path().join(&parent));
    }
    let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(&parent));

    let bad_rule = d.request(
        "POST",
        "/containers/create",
        &[("Content-Type", "application/json")],
        format!(r#"{{"Image": "{img}", "HostConfig": {{"DeviceCgroupRules": ["z 1:3 r"], "MemorySwappiness": 200}}}}"#)
            .as_bytes(),
    );
    assert_eq!(bad_rule.status, 400);
    assert_eq!(bad_rule.message(), "Invalid value: 200, valid memory swappiness range is 0-100");
    let escape = d.docker(&["create", "--cgroup-parent", "../../escape", &img, "true"]);
    assert!(text(&escape.stderr).contains("it may not contain .."), "{}", text(&escape.stderr));
}

#[tokio::test]
async fn what_has_no_driver_here_is_refused() {
    let (_reg, d, img) = engine_with_busybox().await;
    for (args, message) in [
        (vec!["--gpus", "all"], r#"could not select device driver "" with capabilities: [[gpu]]"#),
        (vec!["--storage-opt", "size=1G"], "--storage-opt is supported only for overlay over xfs"),
        (
            vec!["--volume-driver", "nfsplugin", "-v", "x:/x"],
            r#"error looking up volume plugin nfsplugin: plugin "nfsplugin" not found"#,
        ),
    ] {
        let mut cmd = vec!["run", "--rm"];
        cmd.extend(args);
        cmd.extend([img.as_str(), "true"]);
        let out = d.docker(&cmd);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(message), "{cmd:?}: {}", text(&out.stderr));
    }
    assert_eq!(d.docker_ok(&["ps", "-aq"]), "", "nothing was created");
    // As with dockerd, a volume driver matters only when the container has volumes.
    d.docker_ok(&["create", "--name", "no-volumes", "--volume-driver", "nfsplugin", &img, "true"]);
    let shown = d.docker_ok(&["inspect", "--format", "{{.HostConfig.VolumeDriver}}", "no-volumes"]);
    assert_eq!(shown.trim(), "nfsplugin");
}
