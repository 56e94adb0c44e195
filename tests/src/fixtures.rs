//! Test images built here from busybox-static and pushed to a [`Registry`]:
//! no image ever comes from the internet.
//!
//! - `busybox:single`: one gzip layer (Docker schema2).
//! - `busybox:multi`: three layers; the third deletes a file (whiteout) and
//!   replaces a directory's content (opaque dir).
//! - `busybox:multiarch`: an OCI index for linux/amd64 and linux/arm64,
//!   each with `/etc/arch` naming its platform.
//! - `busybox:zstd`: an OCI manifest with a gzip layer and a zstd layer.

use std::io::Write;

use serde_json::json;

use crate::registry::{sha256_digest, Registry};

pub const REPO: &str = "berth/busybox";

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// Builds an uncompressed layer tar.
pub struct LayerBuilder(tar::Builder<Vec<u8>>);

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    pub fn new() -> Self {
        Self(tar::Builder::new(Vec::new()))
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h
    }

    pub fn dir(mut self, path: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Directory, 0o755, 0);
        self.0.append_data(&mut h, path, std::io::empty()).unwrap();
        self
    }

    pub fn file(mut self, path: &str, mode: u32, data: &[u8]) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        self.0.append_data(&mut h, path, data).unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.0.append_link(&mut h, path, target).unwrap();
        self
    }

    /// Deletes `dir/name` from lower layers (an AUFS/OCI whiteout).
    pub fn whiteout(self, dir: &str, name: &str) -> Self {
        self.file(&format!("{dir}/.wh.{name}"), 0o644, b"")
    }

    /// Hides everything lower layers put in `dir`.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), 0o644, b"")
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

/// A layer as a registry stores it and as an image config names it.
pub struct Layer {
    pub blob: Vec<u8>,
    pub media_type: &'static str,
    pub diff_id: String,
}

pub fn gzip(tar: &[u8], media_type: &'static str) -> Layer {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(tar).unwrap();
    Layer { blob: enc.finish().unwrap(), media_type, diff_id: sha256_digest(tar) }
}

pub fn zstd(tar: &[u8]) -> Layer {
    Layer { blob: zstd::encode_all(tar, 3).unwrap(), media_type: OCI_LAYER_ZSTD, diff_id: sha256_digest(tar) }
}

/// The busybox-static base: the binary, every applet as a symlink, and the
/// files a container expects.
pub fn busybox_rootfs() -> Vec<u8> {
    let busybox = std::fs::read("/bin/busybox").expect("/bin/busybox: install busybox-static (scripts/test does)");
    let list = std::process::Command::new("/bin/busybox").arg("--list").output().expect("busybox --list");
    let mut layer = LayerBuilder::new().dir("bin").dir("etc").dir("tmp").dir("root").dir("home");
    layer = layer.file("bin/busybox", 0o755, &busybox);
    for applet in String::from_utf8_lossy(&list.stdout).lines().filter(|a| *a != "busybox") {
        layer = layer.symlink(&format!("bin/{applet}"), "busybox");
    }
    layer
        .file("etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
        .file("etc/group", 0o644, b"root:x:0:\nnogroup:x:65534:\n")
        .finish()
}

/// The image config for `layers` on `arch`.
pub fn config(arch: &str, layers: &[&Layer]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "created": "2026-11-01T00:00:00Z",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"],
            "Labels": {"org.berth.fixture": "true"}
        },
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| &l.diff_id).collect::<Vec<_>>()},
        "history": layers.iter().map(|_| json!({"created": "2026-11-01T00:00:00Z", "created_by": "berth e2e fixture"})).collect::<Vec<_>>()
    }))
    .unwrap()
}

/// Pushes config + layers and a manifest naming them; returns (digest, size).
pub async fn push_image(
    reg: &Registry,
    tag: &str,
    manifest_type: &str,
    config_type: &str,
    config: &[u8],
    layers: &[&Layer],
) -> (String, usize) {
    for l in layers {
        reg.push_blob(REPO, &l.blob).await;
    }
    let config_digest = reg.push_blob(REPO, config).await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
        "layers": layers.iter().map(|l| json!({
            "mediaType": l.media_type, "digest": sha256_digest(&l.blob), "size": l.blob.len()
        })).collect::<Vec<_>>()
    }))
    .unwrap();
    (reg.push_manifest(REPO, tag, manifest_type, &manifest).await, manifest.len())
}

/// The references of the pushed fixtures, as `docker pull` takes them.
pub struct Fixtures {
    pub single: String,
    pub multi: String,
    pub multiarch: String,
    pub zstd: String,
}

/// The host's architecture in OCI terms.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

pub async fn push_all(reg: &Registry) -> Fixtures {
    let base = gzip(&busybox_rootfs(), DOCKER_LAYER_GZIP);
    let arch = host_arch();
    push_image(reg, "single", DOCKER_MANIFEST, DOCKER_CONFIG, &config(arch, &[&base]), &[&base]).await;

    let add = gzip(
        &LayerBuilder::new()
            .dir("data")
            .file("data/keep", 0o644, b"kept\n")
            .file("data/gone", 0o644, b"deleted by the next layer\n")
            .dir("opq")
            .file("opq/old", 0o644, b"hidden by the opaque dir\n")
            .finish(),
        DOCKER_LAYER_GZIP,
    );
    let del = gzip(
        &LayerBuilder::new()
            .whiteout("data", "gone")
            .dir("opq")
            .opaque("opq")
            .file("opq/new", 0o644, b"new\n")
            .finish(),
        DOCKER_LAYER_GZIP,
    );
    let layers = [&base, &add, &del];
    push_image(reg, "multi", DOCKER_MANIFEST, DOCKER_CONFIG, &config(arch, &layers), &layers).await;

    let mut entries = Vec::new();
    for platform in ["amd64", "arm64"] {
        let marker = gzip(&LayerBuilder::new().file("etc/arch", 0o644, platform.as_bytes()).finish(), OCI_LAYER_GZIP);
        let oci_base = Layer { blob: base.blob.clone(), media_type: OCI_LAYER_GZIP, diff_id: base.diff_id.clone() };
        let layers = [&oci_base, &marker];
        let (digest, size) = push_image(
            reg,
            &format!("multiarch-{platform}"),
            OCI_MANIFEST,
            OCI_CONFIG,
            &config(platform, &layers),
            &layers,
        )
        .await;
        entries.push(json!({
            "mediaType": OCI_MANIFEST, "digest": digest, "size": size,
            "platform": {"architecture": platform, "os": "linux"}
        }));
    }
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})).unwrap();
    reg.push_manifest(REPO, "multiarch", OCI_INDEX, &index).await;

    let oci_base = Layer { blob: base.blob.clone(), media_type: OCI_LAYER_GZIP, diff_id: base.diff_id.clone() };
    let z = zstd(&LayerBuilder::new().file("etc/zstd-marker", 0o644, b"zstd\n").finish());
    let layers = [&oci_base, &z];
    push_image(reg, "zstd", OCI_MANIFEST, OCI_CONFIG, &config(arch, &layers), &layers).await;

    let name = |tag: &str| format!("{}/{REPO}:{tag}", reg.addr);
    Fixtures { single: name("single"), multi: name("multi"), multiarch: name("multiarch"), zstd: name("zstd") }
}
