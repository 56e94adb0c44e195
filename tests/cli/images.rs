//! Images with the real docker CLI against berthd and a real registry:
//! pull (tag, digest, multi-arch, zstd, whiteouts), inspect, tag, rmi,
//! prune, and what must go wrong cleanly.

use std::path::Path;
use std::process::Command;

use berth_e2e::fixtures::{self, push_all, Fixtures, LayerBuilder, REPO};
use berth_e2e::{text, Berthd, Registry};

async fn setup() -> (Registry, Fixtures, Berthd) {
    let reg = Registry::start().await;
    let fx = push_all(&reg).await;
    (reg, fx, Berthd::start())
}

/// Mounts the image's layers read-only as overlayfs would for a container
/// and runs `check` on the merged tree.
fn with_rootfs(d: &Berthd, image: &str, check: impl FnOnce(&Path)) {
    let upper = d.docker_ok(&["image", "inspect", "--format", "{{.GraphDriver.Data.UpperDir}}", image]);
    let lower = d.docker_ok(&["image", "inspect", "--format", "{{.GraphDriver.Data.LowerDir}}", image]);
    let mut dirs = upper.trim().to_string();
    if !lower.trim().is_empty() && lower.trim() != "<no value>" {
        dirs = format!("{dirs}:{}", lower.trim());
    }
    let mnt = tempfile::tempdir().unwrap();
    if !dirs.contains(':') {
        // A single layer is its own root; overlay needs two lower dirs.
        check(Path::new(&dirs));
        return;
    }
    let ok = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &format!("lowerdir={dirs}")])
        .arg(mnt.path())
        .status()
        .unwrap();
    assert!(ok.success(), "mount overlay of {dirs}");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(mnt.path())));
    Command::new("umount").arg(mnt.path()).status().unwrap();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

#[tokio::test]
async fn pull_inspect_list_and_pull_again() {
    let (_reg, fx, d) = setup().await;
    let out = d.docker_ok(&["pull", &fx.single]);
    assert!(out.contains(&format!("Status: Downloaded newer image for {}", fx.single)), "{out}");
    assert!(out.contains("Digest: sha256:"), "{out}");
    let again = d.docker_ok(&["pull", &fx.single]);
    assert!(again.contains(&format!("Status: Image is up to date for {}", fx.single)), "{again}");

    let inspect: serde_json::Value = serde_json::from_str(&d.docker_ok(&["image", "inspect", &fx.single])).unwrap();
    let img = &inspect[0];
    assert_eq!(img["RepoTags"][0], fx.single);
    assert!(img["RepoDigests"][0].as_str().unwrap().contains("@sha256:"));
    assert_eq!(img["Architecture"], fixtures::host_arch());
    assert_eq!(img["Os"], "linux");
    assert_eq!(img["Config"]["Cmd"][0], "sh");
    assert_eq!(img["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    let busybox_size = std::fs::metadata("/bin/busybox").unwrap().len();
    assert!(img["Size"].as_u64().unwrap() >= busybox_size);

    let list = d.docker_ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    let id = img["Id"].as_str().unwrap();
    assert_eq!(list.trim(), format!("{} {}", fx.single, &id[7..19]));
    let history = d.docker_ok(&["history", "--format", "{{.CreatedBy}}", &fx.single]);
    assert_eq!(history.trim(), "berth e2e fixture");

    let info = d.docker_ok(&["info", "--format", "{{.Images}}"]);
    assert_eq!(info.trim(), "1");
    let df = d.docker_ok(&["system", "df", "--format", "{{.Type}} {{.TotalCount}}"]);
    assert!(df.contains("Images 1"), "{df}");
    // `--until` is whole seconds: end the window just after now.
    let until = berth_e2e::unix_now() + 1;
    let events = d.docker_ok(&[
        "events",
        "--since",
        "1m",
        "--until",
        &until.to_string(),
        "--filter",
        "type=image",
        "--format",
        "{{.Action}} {{.Actor.ID}}",
    ]);
    assert!(events.contains(&format!("pull {}", fx.single)), "{events}");
}

#[tokio::test]
async fn pull_by_digest() {
    let (reg, fx, d) = setup().await;
    let (_, manifest) = reg.get_manifest(REPO, "single").await;
    let digest = berth_e2e::registry::sha256_digest(&manifest);
    let by_digest = format!("{}/{REPO}@{digest}", reg.addr);
    let out = d.docker_ok(&["pull", &by_digest]);
    assert!(out.contains(&format!("Digest: {digest}")), "{out}");
    let digests = d.docker_ok(&["image", "inspect", "--format", "{{json .RepoDigests}}", &by_digest]);
    assert!(digests.contains(&digest), "{digests}");
    // Pulled by digest only: no tag.
    let tags = d.docker_ok(&["image", "inspect", "--format", "{{json .RepoTags}}", &by_digest]);
    assert_eq!(tags.trim(), "[]");
    let _ = fx;
}

#[tokio::test]
async fn multi_layer_whiteouts_are_applied() {
    let (_reg, fx, d) = setup().await;
    d.docker_ok(&["pull", &fx.multi]);
    with_rootfs(&d, &fx.multi, |root| {
        assert_eq!(std::fs::read_to_string(root.join("data/keep")).unwrap(), "kept\n");
        assert!(!root.join("data/gone").exists(), "whiteout not applied");
        assert!(!root.join("opq/old").exists(), "opaque directory not applied");
        assert_eq!(std::fs::read_to_string(root.join("opq/new")).unwrap(), "new\n");
        assert!(root.join("bin/busybox").exists());
    });
}

#[tokio::test]
async fn multi_arch_index_picks_the_platform() {
    let (_reg, fx, d) = setup().await;
    d.docker_ok(&["pull", &fx.multiarch]);
    let arch = d.docker_ok(&["image", "inspect", "--format", "{{.Architecture}}", &fx.multiarch]);
    assert_eq!(arch.trim(), fixtures::host_arch());
    with_rootfs(&d, &fx.multiarch, |root| {
        assert_eq!(std::fs::read_to_string(root.join("etc/arch")).unwrap(), fixtures::host_arch());
    });
    let other = if fixtures::host_arch() == "amd64" { "arm64" } else { "amd64" };
    d.docker_ok(&["pull", "--platform", &format!("linux/{other}"), &fx.multiarch]);
    let arch = d.docker_ok(&["image", "inspect", "--format", "{{.Architecture}}", &fx.multiarch]);
    assert_eq!(arch.trim(), other);
    let bad = d.docker(&["pull", "--platform", "linux/s390x", &fx.multiarch]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no matching manifest for linux/s390x"));
}

#[tokio::test]
async fn zstd_layers_are_unpacked() {
    let (_reg, fx, d) = setup().await;
    d.docker_ok(&["pull", &fx.zstd]);
    with_rootfs(&d, &fx.zstd, |root| {
        assert_eq!(std::fs::read_to_string(root.join("etc/zstd-marker")).unwrap(), "zstd\n");
    });
}

#[tokio::test]
async fn tag_untag_and_remove() {
    let (_reg, fx, d) = setup().await;
    d.docker_ok(&["pull", &fx.single]);
    d.docker_ok(&["tag", &fx.single, "mine/app:v1"]);
    d.docker_ok(&["tag", &fx.single, "other:v2"]);
    let tags = d.docker_ok(&["image", "inspect", "--format", "{{json .RepoTags}}", "mine/app:v1"]);
    assert!(tags.contains("mine/app:v1") && tags.contains("other:v2"), "{tags}");
    let id = d.docker_ok(&["image", "inspect", "--format", "{{.Id}}", "other:v2"]).trim().to_string();

    // Several repositories: removing by ID needs force.
    let refused = d.docker(&["rmi", &id[7..19]]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("image is referenced in multiple repositories"), "{err}");
    let r = d.request("DELETE", &format!("/v1.50/images/{}", &id[7..19]), &[], b"");
    assert_eq!(r.status, 409);

    let out = d.docker_ok(&["rmi", "mine/app:v1"]);
    assert_eq!(out.trim(), "Untagged: mine/app:v1");
    let out = d.docker_ok(&["rmi", "-f", &id]);
    assert!(out.contains("Untagged: other:v2") && out.contains(&format!("Deleted: {id}")), "{out}");
    assert_eq!(d.docker_ok(&["images", "-q"]), "");
    // Nothing is left on disk: no snapshot, no blob.
    let snapshots: Vec<_> = std::fs::read_dir(d.data_root.join("overlay2")).unwrap().collect();
    assert!(snapshots.is_empty(), "{snapshots:?}");
    let blobs: Vec<_> = std::fs::read_dir(d.data_root.join("image/content/blobs/sha256")).unwrap().collect();
    assert!(blobs.is_empty(), "{blobs:?}");

    let missing = d.docker(&["rmi", "nope:1"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("No such image: nope:1"));
    let r = d.request("GET", "/images/nope:1/json", &[], b"");
    assert_eq!((r.status, r.message()), (404, "No such image: nope:1".to_string()));
}

#[tokio::test]
async fn prune_removes_dangling_images() {
    let (_reg, fx, d) = setup().await;
    d.docker_ok(&["pull", &fx.single]);
    d.docker_ok(&["pull", &fx.multi]);
    let multi_id = d.docker_ok(&["image", "inspect", "--format", "{{.Id}}", &fx.multi]).trim().to_string();
    // Moving the tag leaves the old image dangling.
    d.docker_ok(&["tag", &fx.single, &fx.multi]);
    let dangling = d.docker_ok(&["images", "--filter", "dangling=true", "-q", "--no-trunc"]);
    assert_eq!(dangling.trim(), multi_id);
    let out = d.docker_ok(&["image", "prune", "-f"]);
    assert!(out.contains(&format!("deleted: {multi_id}")), "{out}");
    assert!(!d.docker(&["image", "inspect", &multi_id]).status.success());
    let left = d.docker_ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut left: Vec<&str> = left.lines().collect();
    left.sort();
    assert_eq!(left, [fx.multi.as_str(), fx.single.as_str()]);
    let all = d.docker_ok(&["image", "prune", "-a", "-f"]);
    assert!(all.contains("deleted: sha256:"), "{all}");
    assert_eq!(d.docker_ok(&["images", "-q"]), "");
}

#[tokio::test]
async fn pull_errors_are_clear() {
    let (reg, _fx, d) = setup().await;
    let missing = format!("{}/{REPO}:no-such-tag", reg.addr);
    let out = d.docker(&["pull", &missing]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("manifest for {missing} not found: manifest unknown")), "{err}");

    let unreachable = d.docker(&["pull", "127.0.0.1:1/nothing/here:1"]);
    assert!(!unreachable.status.success());
    let err = String::from_utf8_lossy(&unreachable.stderr);
    assert!(err.contains("failed to reach registry 127.0.0.1:1"), "{err}");

    let r = d.request("POST", "/images/create?fromImage=Not%20Valid", &[], b"");
    assert_eq!((r.status, r.message()), (400, "invalid reference format".to_string()));
    let r = d.request("POST", "/images/create?fromImage=UPPER/case", &[], b"");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("must be lowercase"), "{}", r.message());
    assert_eq!(d.docker_ok(&["images", "-q"]), "");
}

#[tokio::test]
async fn corrupted_blob_is_rejected_and_leaves_no_image() {
    let (reg, fx, d) = setup().await;
    let (_, manifest) = reg.get_manifest(REPO, "single").await;
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let path = reg.blob_path(layer);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();

    let out = d.docker(&["pull", &fx.single]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("digest mismatch"), "{text}");
    assert_eq!(d.docker_ok(&["images", "-q"]), "");
    let blobs = std::fs::read_dir(d.data_root.join("image/content/blobs/sha256")).unwrap();
    for b in blobs.flatten() {
        assert_ne!(format!("sha256:{}", b.file_name().to_string_lossy()), layer, "corrupt blob was stored");
    }
}

#[tokio::test]
async fn hostile_layers_are_refused() {
    let reg = Registry::start().await;
    let d = Berthd::start();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::create_dir(&victim).unwrap();

    // A symlink to a host directory, then a file written through it.
    let through_link =
        LayerBuilder::new().symlink("evil", victim.to_str().unwrap()).file("evil/pwned", 0o644, b"x").finish();
    // A hardlink to a host file.
    let mut hard = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    let link = "../../../../../../etc/passwd";
    h.as_old_mut().name[..4].copy_from_slice(b"hard");
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_cksum();
    hard.append(&h, std::io::empty()).unwrap();
    let hard = hard.into_inner().unwrap();

    for (tag, tar) in [("through-link", through_link), ("hardlink", hard)] {
        let layer = fixtures::gzip(&tar, fixtures::DOCKER_LAYER_GZIP);
        let config = fixtures::config(fixtures::host_arch(), &[&layer]);
        fixtures::push_image(&reg, tag, fixtures::DOCKER_MANIFEST, fixtures::DOCKER_CONFIG, &config, &[&layer]).await;
        let image = format!("{}/{REPO}:{tag}", reg.addr);
        let out = d.docker(&["pull", &image]);
        assert!(!out.status.success(), "{tag} was accepted");
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("failed to unpack layer"), "{tag}: {text}");
    }
    assert!(std::fs::read_dir(&victim).unwrap().next().is_none(), "wrote through the symlink");
    assert_eq!(d.docker_ok(&["images", "-q"]), "");
}

#[tokio::test]
async fn push_rmi_pull_round_trip() {
    let (reg, fx, d) = setup().await;
    d.docker_ok(&["pull", &fx.multi]);
    let target = format!("{}/pushed/app:v1", reg.addr);
    d.docker_ok(&["tag", &fx.multi, &target]);
    let out = d.docker_ok(&["push", &target]);
    assert!(out.contains(&format!("The push refers to repository [{}/pushed/app]", reg.addr)), "{out}");
    assert!(out.contains(&format!("Mounted from {REPO}")), "cross-repository mount not used:\n{out}");
    assert!(out.contains("v1: digest: sha256:"), "{out}");
    let (_, manifest) = reg.get_manifest("pushed/app", "v1").await;
    let digest = berth_e2e::registry::sha256_digest(&manifest);
    assert!(out.contains(&digest), "{out}");

    let again = d.docker_ok(&["push", &target]);
    assert!(again.contains("Layer already exists"), "{again}");

    d.docker_ok(&["rmi", &target, &fx.multi]);
    assert_eq!(d.docker_ok(&["images", "-q"]), "");
    d.docker_ok(&["pull", &target]);
    with_rootfs(&d, &target, |root| {
        assert_eq!(std::fs::read_to_string(root.join("opq/new")).unwrap(), "new\n");
        assert!(!root.join("data/gone").exists());
    });

    let missing = d.docker(&["push", &format!("{}/pushed/app:nope", reg.addr)]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("No such image"), "{missing:?}");
}

fn tar_names(path: &Path) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap();
    tar::Archive::new(f).entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
}

#[tokio::test]
async fn save_rmi_load_both_formats() {
    let (_reg, fx, d) = setup().await;
    d.docker_ok(&["pull", &fx.multi]);
    let id = d.docker_ok(&["image", "inspect", "--format", "{{.Id}}", &fx.multi]).trim().to_string();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("img.tar");
    d.docker_ok(&["save", "-o", saved.to_str().unwrap(), &fx.multi]);
    let names = tar_names(&saved);
    for want in ["manifest.json", "index.json", "oci-layout", &format!("blobs/sha256/{}", &id[7..])] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }

    // Docker archive (manifest.json) round trip.
    d.docker_ok(&["rmi", &fx.multi]);
    let out = d.docker_ok(&["load", "-i", saved.to_str().unwrap()]);
    assert!(out.contains(&format!("Loaded image: {}", fx.multi)), "{out}");
    assert_eq!(d.docker_ok(&["image", "inspect", "--format", "{{.Id}}", &fx.multi]).trim(), id);
    with_rootfs(&d, &fx.multi, |root| {
        assert!(!root.join("data/gone").exists());
        assert_eq!(std::fs::read_to_string(root.join("opq/new")).unwrap(), "new\n");
    });

    // OCI layout only: the same archive without manifest.json.
    let oci = dir.path().join("oci.tar");
    {
        let mut out = tar::Builder::new(std::fs::File::create(&oci).unwrap());
        let mut input = tar::Archive::new(std::fs::File::open(&saved).unwrap());
        for e in input.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_str() == Some("manifest.json") {
                continue;
            }
            let mut h = e.header().clone();
            let p = e.path().unwrap().into_owned();
            out.append_data(&mut h, p, &mut e).unwrap();
        }
        out.finish().unwrap();
    }
    d.docker_ok(&["rmi", &fx.multi]);
    assert_eq!(d.docker_ok(&["images", "-q"]), "");
    let out = d.docker_ok(&["load", "-i", oci.to_str().unwrap()]);
    assert!(out.contains(&format!("Loaded image: {}", fx.multi)), "{out}");
    assert_eq!(d.docker_ok(&["image", "inspect", "--format", "{{.Id}}", &fx.multi]).trim(), id);

    // Garbage in: a clear error, nothing loaded.
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, b"not a tar at all").unwrap();
    let bad = d.docker(&["load", "-i", junk.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("invalid image archive"), "{}", text(&bad.stderr));
    // The failure is in the stream, as dockerd sends it (docker-py raises ImageLoadError on it).
    let r = d.request("POST", "/images/load", &[], b"not a tar at all");
    assert_eq!(r.status, 200);
    assert!(text(&r.body).contains(r#""errorDetail":{"message":"invalid image archive"#), "{}", text(&r.body));
}

#[tokio::test]
async fn import_a_rootfs_tarball() {
    let d = Berthd::start();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("rootfs.tar");
    let tar = fixtures::busybox_rootfs();
    std::fs::write(&plain, &tar).unwrap();
    let out = d.docker_ok(&[
        "import",
        "--change",
        r#"CMD ["/bin/sh", "-c", "echo hi"]"#,
        "--change",
        "ENV GREETING=hello",
        "--message",
        "made by a test",
        plain.to_str().unwrap(),
        "imported:v1",
    ]);
    let id = out.trim();
    assert!(id.starts_with("sha256:"), "{out}");
    let inspect: serde_json::Value = serde_json::from_str(&d.docker_ok(&["image", "inspect", "imported:v1"])).unwrap();
    let img = &inspect[0];
    assert_eq!(img["Id"], id);
    assert_eq!(img["Config"]["Cmd"], serde_json::json!(["/bin/sh", "-c", "echo hi"]));
    assert_eq!(img["Config"]["Env"], serde_json::json!(["GREETING=hello"]));
    assert_eq!(img["Comment"], "made by a test");
    assert_eq!(img["RootFS"]["Layers"][0], berth_e2e::registry::sha256_digest(&tar));
    with_rootfs(&d, "imported:v1", |root| assert!(root.join("bin/busybox").exists()));

    // Compressed input from stdin works too.
    let gz = fixtures::gzip(&tar, fixtures::DOCKER_LAYER_GZIP).blob;
    let mut child = d
        .docker_cmd()
        .args(["import", "-", "imported:gz"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &gz).unwrap();
    drop(child.stdin.take());
    assert!(child.wait_with_output().unwrap().status.success());
    let layers = d.docker_ok(&["image", "inspect", "--format", "{{index .RootFS.Layers 0}}", "imported:gz"]);
    assert_eq!(layers.trim(), berth_e2e::registry::sha256_digest(&tar));

    let bad = d.docker(&["import", "--change", "RUN rm -rf /", plain.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RUN is not a valid change command"));
}

#[tokio::test]
async fn distribution_inspect_and_offline_search() {
    let (reg, fx, d) = setup().await;
    let r = d.request("GET", &format!("/v1.50/distribution/{}/json", fx.multiarch), &[], b"");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["Descriptor"]["mediaType"], fixtures::OCI_INDEX);
    let archs: Vec<_> = v["Platforms"].as_array().unwrap().iter().map(|p| p["architecture"].clone()).collect();
    assert_eq!(archs, ["amd64", "arm64"]);
    let (_, index) = reg.get_manifest(REPO, "multiarch").await;
    assert_eq!(v["Descriptor"]["digest"], berth_e2e::registry::sha256_digest(&index));

    let single = d.request("GET", &format!("/distribution/{}/json", fx.single), &[], b"").json();
    assert_eq!(single["Platforms"][0]["architecture"], fixtures::host_arch());

    // The local registry has no search API; the error says so, quickly.
    let out = d.docker(&["search", &format!("{}/berth", reg.addr)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not offer search"), "{out:?}");
}

/// A TCP proxy to `upstream` that sends the responses at about 4 MB/s, so
/// a pull through it can be interrupted halfway; returns its address.
fn slow_proxy(upstream: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = std::net::TcpStream::connect(&upstream) else { continue };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut c_in, &mut s_out));
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = std::io::Read::read(&mut s_in, &mut buf) {
                    if n == 0 || std::io::Write::write_all(&mut c_out, &buf[..n]).is_err() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(4));
                }
            });
        }
    });
    addr
}

/// Bytes no compressor shrinks (xorshift), so the layer stays big.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len / 8)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()
        })
        .collect()
}

const BIG: usize = 24 << 20;

/// Pushes `big`: the fixtures' busybox layer (shared with `single`) and
/// BIG bytes of noise; returns its name behind a slow proxy.
async fn push_big(reg: &Registry) -> String {
    let base = fixtures::gzip(&fixtures::busybox_rootfs(), fixtures::DOCKER_LAYER_GZIP);
    let big =
        fixtures::gzip(&LayerBuilder::new().file("big.bin", 0o644, &noise(BIG)).finish(), fixtures::DOCKER_LAYER_GZIP);
    let layers = [&base, &big];
    let config = fixtures::config(fixtures::host_arch(), &layers);
    fixtures::push_image(reg, "big", fixtures::DOCKER_MANIFEST, fixtures::DOCKER_CONFIG, &config, &layers).await;
    format!("{}/{REPO}:big", slow_proxy(reg.addr.clone()))
}

/// Every stored blob matches its digest.
fn assert_blobs_verify(d: &Berthd) {
    for blob in walkdir(&d.data_root.join("image/content/blobs/sha256")) {
        let hex: String = <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&blob).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(blob.file_name().unwrap().to_string_lossy(), hex, "a stored blob fails its digest");
    }
}

#[tokio::test]
async fn engine_killed_mid_pull_leaves_a_consistent_store() {
    let (reg, _fx, mut d) = setup().await;
    let image = push_big(&reg).await;

    // Pull through the slow proxy and kill the engine once the big layer is
    // half-way in the ingest area.
    let mut pull = d.docker_cmd();
    let mut pull = pull.args(["pull", &image]).stdout(std::process::Stdio::null()).spawn().unwrap();
    let ingest = d.data_root.join("image/content/ingest");
    let in_flight = || -> u64 {
        walkdir(&ingest).iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).max().unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while in_flight() < (BIG / 4) as u64 {
        assert!(std::time::Instant::now() < deadline, "the pull never got going");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    d.crash();
    let _ = pull.kill();
    let _ = pull.wait();
    d.restart();

    // No half image, no blob that fails its digest, nothing left in flight.
    assert_eq!(d.docker_ok(&["images", "--format", "{{.Tag}}"]).trim(), "");
    assert_blobs_verify(&d);
    assert!(walkdir(&ingest).is_empty(), "ingest not cleaned");
    // Layers unpacked before the kill belong to no image: collected.
    let left: Vec<String> = std::fs::read_dir(d.data_root.join("overlay2"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "snapshots left behind: {left:?}");

    // And the same pull then completes, with the whole layer.
    d.docker_ok(&["pull", "-q", &format!("{}/{REPO}:big", reg.addr)]);
    let size = d.docker_ok(&["run", "--rm", &format!("{}/{REPO}:big", reg.addr), "wc", "-c", "/big.bin"]);
    assert_eq!(size.split_whitespace().next(), Some(BIG.to_string().as_str()));
}

/// Two pulls share a layer; the one that ends first, then the removal of
/// its image (which collects garbage), must not take the layer from the
/// pull still running.
#[tokio::test]
async fn removal_during_a_pull_keeps_the_layers_it_shares() {
    let (reg, fx, d) = setup().await;
    let image = push_big(&reg).await;
    let mut slow_pull =
        d.docker_cmd().args(["pull", "-q", &image]).stdout(std::process::Stdio::null()).spawn().unwrap();
    // The shared layer is in once a snapshot shows up; the big one is still coming.
    let snapshots = || {
        std::fs::read_dir(d.data_root.join("overlay2"))
            .unwrap()
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while snapshots() == 0 {
        assert!(std::time::Instant::now() < deadline, "the slow pull never unpacked its first layer");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let quick = d.docker_ok(&["pull", &fx.single]);
    assert!(quick.contains("Already exists"), "{quick}");
    d.docker_ok(&["rmi", &fx.single]);
    assert!(slow_pull.wait().unwrap().success(), "the slow pull failed");
    let size = d.docker_ok(&["run", "--rm", &image, "wc", "-c", "/big.bin"]);
    assert_eq!(size.split_whitespace().next(), Some(BIG.to_string().as_str()));
    assert_blobs_verify(&d);
}

/// Every file under `dir`, recursively.
fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}
