//! Volumes, bind mounts and tmpfs with the real docker CLI.

use std::path::Path;

use berth_e2e::{engine_with_busybox, text};

#[tokio::test]
async fn named_volumes_persist_and_copy_up() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "--rm", "-v", "data:/data", &img, "sh", "-c", "echo kept > /data/f"]);
    assert_eq!(d.docker_ok(&["run", "--rm", "-v", "data:/data", &img, "cat", "/data/f"]), "kept\n");
    assert_eq!(d.docker_ok(&["volume", "ls", "--format", "{{.Name}} {{.Driver}}"]), "data local\n");
    let mountpoint = d.docker_ok(&["volume", "inspect", "--format", "{{.Mountpoint}}", "data"]);
    assert_eq!(std::fs::read_to_string(format!("{}/f", mountpoint.trim())).unwrap(), "kept\n");

    let ro = d.docker(&["run", "--rm", "-v", "data:/data:ro", &img, "touch", "/data/g"]);
    assert!(text(&ro.stderr).contains("Read-only file system"), "{}", text(&ro.stderr));

    // A fresh volume over an image directory starts with the image's files.
    assert!(d.docker_ok(&["run", "--rm", "-v", "etc:/etc", &img, "cat", "/etc/passwd"]).contains("root:x:0:0"));
    let etc = d.docker_ok(&["volume", "inspect", "--format", "{{.Mountpoint}}", "etc"]);
    assert!(std::path::Path::new(&format!("{}/group", etc.trim())).exists());
    // nocopy leaves it empty.
    let empty = d.docker_ok(&["run", "--rm", "-v", "bare:/etc:nocopy", &img, "ls", "-A", "/etc"]);
    assert_eq!(empty, "");

    let created = d.docker_ok(&["volume", "create", "--label", "team=berth", "labelled"]);
    assert_eq!(created.trim(), "labelled");
    let filtered = d.docker_ok(&["volume", "ls", "-q", "--filter", "label=team=berth"]);
    assert_eq!(filtered.trim(), "labelled");
    let df = d.docker_ok(&["system", "df", "--format", "{{.Type}} {{.TotalCount}}"]);
    assert!(df.contains("Local Volumes 4"), "{df}");
}

#[tokio::test]
async fn anonymous_volumes_binds_and_tmpfs() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["run", "--rm", "-v", "/anon", &img, "touch", "/anon/x"]);
    assert_eq!(d.docker_ok(&["volume", "ls", "-q"]), "", "--rm left its anonymous volume");
    d.docker_ok(&["run", "--name", "keeper", "-v", "/anon", &img, "true"]);
    assert_eq!(d.docker_ok(&["volume", "ls", "-q"]).lines().count(), 1);
    let mounts =
        d.docker_ok(&["inspect", "--format", "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}", "keeper"]);
    assert_eq!(mounts.trim(), "volume /anon true");
    d.docker_ok(&["rm", "-v", "keeper"]);
    assert_eq!(d.docker_ok(&["volume", "ls", "-q"]), "");

    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("in"), b"from host\n").unwrap();
    let bind = format!("{}:/shared", host.path().display());
    let out = d.docker_ok(&[
        "run",
        "--rm",
        "-v",
        &bind,
        &img,
        "sh",
        "-c",
        "cat /shared/in; echo from container > /shared/out",
    ]);
    assert_eq!(out, "from host\n");
    assert_eq!(std::fs::read_to_string(host.path().join("out")).unwrap(), "from container\n");
    let ro = format!("{}:/shared:ro", host.path().display());
    assert!(!d.docker(&["run", "--rm", "-v", &ro, &img, "touch", "/shared/nope"]).status.success());
    assert!(!host.path().join("nope").exists());

    // -v creates a missing host directory; --mount refuses it.
    let missing = host.path().join("made");
    d.docker_ok(&["run", "--rm", "-v", &format!("{}:/m", missing.display()), &img, "true"]);
    assert!(missing.is_dir());
    let strict = d.docker(&["run", "--rm", "--mount", "type=bind,source=/no/such/dir,target=/m", &img, "true"]);
    assert!(text(&strict.stderr).contains("bind source path does not exist"), "{}", text(&strict.stderr));

    let mounts = d.docker_ok(&["run", "--rm", "--tmpfs", "/scratch:size=1m", &img, "cat", "/proc/mounts"]);
    let line = mounts.lines().find(|l| l.contains(" /scratch ")).unwrap_or_else(|| panic!("{mounts}"));
    assert!(line.starts_with("tmpfs /scratch tmpfs") && line.contains("size=1024k"), "{line}");
}

#[tokio::test]
async fn removal_and_prune_rules() {
    let (_reg, d, img) = engine_with_busybox().await;
    d.docker_ok(&["create", "--name", "user", "-v", "busy:/data", &img, "true"]);
    let refused = d.docker(&["volume", "rm", "busy"]);
    assert!(text(&refused.stderr).contains("volume is in use"), "{}", text(&refused.stderr));
    let r = d.request("DELETE", "/volumes/busy", &[], b"");
    assert_eq!(r.status, 409);
    d.docker_ok(&["rm", "user"]);
    d.docker_ok(&["volume", "rm", "busy"]);
    let r = d.request("GET", "/volumes/busy", &[], b"");
    assert_eq!(r.status, 404);

    d.docker_ok(&["volume", "create", "named"]);
    d.docker_ok(&["run", "--name", "anon-user", "-v", "/anon", &img, "true"]);
    d.docker_ok(&["rm", "anon-user"]);
    // Default prune takes only anonymous volumes; --all takes named ones too.
    let out = d.docker_ok(&["volume", "prune", "-f"]);
    assert!(out.contains("Total reclaimed space"), "{out}");
    assert_eq!(d.docker_ok(&["volume", "ls", "-q"]).trim(), "named");
    d.docker_ok(&["volume", "prune", "-a", "-f"]);
    assert_eq!(d.docker_ok(&["volume", "ls", "-q"]), "");

    let bad = d.request("POST", "/volumes/create", &[("Content-Type", "application/json")], br#"{"Name":"bad name"}"#);
    assert_eq!(bad.status, 400);
    let bad = d.request(
        "POST",
        "/volumes/create",
        &[("Content-Type", "application/json")],
        br#"{"Name":"x1","Driver":"nfs-plugin"}"#,
    );
    assert_eq!(bad.status, 404);
}

#[tokio::test]
async fn docker_cp_in_and_out() {
    let (_reg, d, img) = engine_with_busybox().await;
    let host = tempfile::tempdir().unwrap();
    let h = host.path();
    std::fs::write(h.join("file.txt"), b"one\n").unwrap();
    std::fs::create_dir_all(h.join("tree/sub")).unwrap();
    std::fs::write(h.join("tree/sub/leaf"), b"leaf\n").unwrap();

    // Running container, with a volume: copies land where the container sees them.
    d.docker_ok(&["run", "-d", "--name", "box", "-v", "cpvol:/vol", &img, "sleep", "300"]);
    d.docker_ok(&["cp", h.join("file.txt").to_str().unwrap(), "box:/tmp/"]);
    d.docker_ok(&["cp", h.join("tree").to_str().unwrap(), "box:/vol/"]);
    assert_eq!(d.docker_ok(&["exec", "box", "cat", "/tmp/file.txt", "/vol/tree/sub/leaf"]), "one\nleaf\n");
    d.docker_ok(&["exec", "box", "sh", "-c", "echo made-inside > /tmp/inside"]);
    d.docker_ok(&["cp", "box:/tmp/inside", h.join("out.txt").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(h.join("out.txt")).unwrap(), "made-inside\n");
    d.docker_ok(&["cp", "box:/vol/tree", h.join("copied").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(h.join("copied/sub/leaf")).unwrap(), "leaf\n");
    // A file bind mount is read through the mount, as is the engine's /etc files.
    let bound = format!("{}:/bound.txt", h.join("file.txt").display());
    d.docker_ok(&["run", "-d", "--name", "filebind", "-v", &bound, &img, "sleep", "300"]);
    d.docker_ok(&["cp", "filebind:/bound.txt", h.join("bound-out.txt").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(h.join("bound-out.txt")).unwrap(), "one\n");
    d.docker_ok(&["rm", "-f", "filebind"]);
    // The engine's /etc files are what the container sees, not the image's files beneath them.
    for f in ["hostname", "hosts", "resolv.conf"] {
        let copied = h.join(format!("etc-{f}"));
        d.docker_ok(&["cp", &format!("box:/etc/{f}"), copied.to_str().unwrap()]);
        let inside = d.docker_ok(&["exec", "box", "cat", &format!("/etc/{f}")]);
        assert!(!inside.is_empty());
        assert_eq!(std::fs::read_to_string(&copied).unwrap(), inside, "/etc/{f}");
    }

    // Stopped container: still readable and writable.
    d.docker_ok(&["stop", "-t", "0", "box"]);
    d.docker_ok(&["cp", h.join("file.txt").to_str().unwrap(), "box:/root/"]);
    d.docker_ok(&["cp", "box:/root/file.txt", h.join("back.txt").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(h.join("back.txt")).unwrap(), "one\n");
    d.docker_ok(&["start", "box"]);
    assert_eq!(d.docker_ok(&["exec", "box", "cat", "/root/file.txt"]), "one\n");

    // A symlink to /etc inside the container means the container's /etc:
    // nothing is written to the host's.
    d.docker_ok(&["exec", "box", "ln", "-s", "/etc", "/tmp/etc-link"]);
    std::fs::write(h.join("berth-cp-canary"), b"x").unwrap();
    d.docker_ok(&["cp", h.join("berth-cp-canary").to_str().unwrap(), "box:/tmp/etc-link/"]);
    assert!(!Path::new("/etc/berth-cp-canary").exists(), "docker cp wrote to the host's /etc");
    assert_eq!(d.docker_ok(&["exec", "box", "cat", "/etc/berth-cp-canary"]), "x");

    let missing = d.docker(&["cp", "box:/no/such/file", h.to_str().unwrap()]);
    assert!(text(&missing.stderr).contains("Could not find the file /no/such/file"), "{}", text(&missing.stderr));
    d.docker_ok(&["rm", "-f", "box"]);
}

#[tokio::test]
async fn export_diff_and_workdir_creation() {
    let (_reg, d, img) = engine_with_busybox().await;
    // A missing working directory is created, as Docker does.
    assert_eq!(
        d.docker_ok(&["run", "--name", "changer", "-w", "/made/here", &img, "sh", "-c", "pwd; touch f; rm /etc/group"]),
        "/made/here\n"
    );
    let diff = d.docker_ok(&["diff", "changer"]);
    for line in ["A /made", "A /made/here/f", "D /etc/group", "C /etc"] {
        assert!(diff.lines().any(|l| l == line), "{line} missing from:\n{diff}");
    }
    // The engine's own files are not the container's changes.
    assert!(!diff.contains("/etc/hosts") && !diff.contains("/etc/resolv.conf"), "{diff}");
    d.docker_ok(&["run", "--name", "quiet", "--init", &img, "true"]);
    assert_eq!(d.docker_ok(&["diff", "quiet"]), "");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fs.tar");
    d.docker_ok(&["export", "-o", out.to_str().unwrap(), "changer"]);
    let names: Vec<String> = tar::Archive::new(std::fs::File::open(&out).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("made/here/f")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("bin/busybox")));
    assert!(!names.iter().any(|n| n.ends_with("etc/group")), "deleted file exported");
}

#[tokio::test]
async fn volumes_from_shares_another_containers_mounts() {
    let (_reg, d, img) = engine_with_busybox().await;
    let host_dir = d.dir().join("shared-bind");
    std::fs::create_dir(&host_dir).unwrap();
    let bind = format!("{}:/bound", host_dir.display());
    d.docker_ok(&[
        "run",
        "--name",
        "src",
        "-v",
        "named:/named",
        "-v",
        "/anon",
        "-v",
        &bind,
        "--tmpfs",
        "/scratch",
        &img,
        "sh",
        "-c",
        "echo n > /named/f; echo a > /anon/f; echo b > /bound/f; echo t > /scratch/f",
    ]);
    // Volumes and binds come along (tmpfs does not); the new container's own mounts win.
    let out = d.docker_ok(&[
        "run",
        "--rm",
        "--volumes-from",
        "src",
        "-v",
        "other:/named",
        &img,
        "sh",
        "-c",
        "cat /anon/f /bound/f; ls /named; test -e /scratch/f || echo no-scratch",
    ]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["a", "b", "no-scratch"], "{out}");
    // `:ro` makes them read-only for this container alone.
    let out = d.docker(&["run", "--rm", "--volumes-from", "src:ro", &img, "sh", "-c", "echo x > /anon/f"]);
    assert!(!out.status.success() && text(&out.stderr).contains("Read-only file system"), "{}", text(&out.stderr));
    d.docker_ok(&["run", "--rm", "--volumes-from", "src", &img, "sh", "-c", "echo more >> /anon/f"]);
    assert_eq!(d.docker_ok(&["run", "--rm", "--volumes-from", "src", &img, "cat", "/anon/f"]), "a\nmore\n");
    // Sharing is not owning: removing the borrower with -v leaves the volume.
    d.docker_ok(&["create", "--name", "borrower", "--volumes-from", "src", &img, "true"]);
    let anon = d.docker_ok(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}",
        "src",
    ]);
    d.docker_ok(&["rm", "-v", "borrower"]);
    assert!(
        d.docker_ok(&["volume", "ls", "-q"]).lines().any(|v| v == anon.trim()),
        "volume {anon} went with the borrower"
    );

    let out = d.docker(&["run", "--rm", "--volumes-from", "nope", &img, "true"]);
    assert!(text(&out.stderr).contains("No such container: nope"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn volume_subpaths_and_cp_ownership() {
    let (_reg, d, img) = engine_with_busybox().await;
    let fill = "mkdir -p /data/sub && echo in-sub > /data/sub/f && ln -s /etc /data/out";
    d.docker_ok(&["run", "--rm", "-v", "shared:/data", &img, "sh", "-c", fill]);
    // Only the subdirectory is mounted.
    let part = "type=volume,src=shared,dst=/part,volume-subpath=sub";
    assert_eq!(d.docker_ok(&["run", "--rm", "--mount", part, &img, "ls", "/part"]), "f\n");
    // Mounted from a staging mount of the checked directory, gone once the container has its own.
    let staged = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!staged.contains(&format!("{}/", d.dir().display())) || !staged.contains("subpath-"), "{staged}");
    d.docker_ok(&["create", "--name", "holder", "--mount", part, &img, "true"]);
    assert!(d.docker_ok(&["cp", "holder:/part/f", "-"]).contains("in-sub"));
    // Never out of the volume, nor onto what is not there.
    for (subpath, message) in [
        ("../..", "subpath must be a relative path within the volume"),
        ("out", "goes through a symlink"),
        ("missing", "does not exist in volume shared"),
    ] {
        let spec = format!("type=volume,src=shared,dst=/part,volume-subpath={subpath}");
        let out = d.docker(&["run", "--rm", "--mount", &spec, &img, "true"]);
        assert!(text(&out.stderr).contains(message), "{subpath}: {}", text(&out.stderr));
    }

    // `docker cp` gives what it writes to the container's root; `-a` to its user.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("owned");
    std::fs::write(&file, "x").unwrap();
    std::os::unix::fs::chown(&file, Some(1234), Some(1234)).unwrap();
    d.docker_ok(&["create", "--name", "target", "--user", "1000:1001", &img, "true"]);
    d.docker_ok(&["cp", file.to_str().unwrap(), "target:/tmp/plain"]);
    d.docker_ok(&["cp", "-a", file.to_str().unwrap(), "target:/tmp/archived"]);
    let owners = |path: &str| {
        let out = d.docker_ok(&["cp", &format!("target:{path}"), "-"]);
        let mut tar = tar::Archive::new(out.as_bytes());
        let entry = tar.entries().unwrap().next().unwrap().unwrap();
        (entry.header().uid().unwrap(), entry.header().gid().unwrap())
    };
    assert_eq!(owners("/tmp/plain"), (0, 0));
    assert_eq!(owners("/tmp/archived"), (1000, 1001));
}

#[tokio::test]
async fn local_driver_options_tmpfs_and_bind() {
    let (_reg, d, img) = engine_with_busybox().await;
    // type=tmpfs: a fresh tmpfs at each mount, with the options asked for.
    d.docker_ok(&[
        "volume",
        "create",
        "--opt",
        "type=tmpfs",
        "--opt",
        "device=tmpfs",
        "--opt",
        "o=size=1m,uid=1000",
        "tv",
    ]);
    let seen = d.docker_ok(&[
        "run",
        "--rm",
        "-v",
        "tv:/data",
        &img,
        "sh",
        "-c",
        "grep ' /data ' /proc/mounts; stat -c %u /data",
    ]);
    assert!(seen.contains("tmpfs /data tmpfs") && seen.contains("size=1024k"), "{seen}");
    assert!(seen.trim_end().ends_with("1000"), "{seen}");
    let opts = d.docker_ok(&["volume", "inspect", "--format", "{{json .Options}}", "tv"]);
    assert!(opts.contains(r#""type":"tmpfs""#), "{opts}");

    // type=none,o=bind: a host directory under the volume's name.
    let host = tempfile::tempdir().unwrap();
    let device = format!("device={}", host.path().display());
    d.docker_ok(&["volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", &device, "bv"]);
    d.docker_ok(&["run", "--rm", "-v", "bv:/data", &img, "sh", "-c", "echo through > /data/f"]);
    assert_eq!(std::fs::read_to_string(host.path().join("f")).unwrap(), "through\n");
    // Filters: unused ones are dangling; by name and driver.
    d.docker_ok(&["create", "--name", "holder", "-v", "tv:/data", &img, "true"]);
    assert_eq!(d.docker_ok(&["volume", "ls", "-q", "--filter", "dangling=true"]).trim(), "bv");
    assert_eq!(d.docker_ok(&["volume", "ls", "-q", "--filter", "dangling=false"]).trim(), "tv");
    assert_eq!(d.docker_ok(&["volume", "ls", "-q", "--filter", "name=b", "--filter", "driver=local"]).trim(), "bv");
    let bad = d.docker(&["volume", "create", "--opt", "colour=blue", "nv"]);
    assert!(!bad.status.success(), "{}", text(&bad.stderr));
}
