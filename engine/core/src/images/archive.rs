//! Images in and out of tarballs: `docker save` (a Docker archive and an
//! OCI layout in one tar), `docker load` (either format) and
//! `docker import` (a root filesystem tar becomes a one-layer image).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::config::{History, ImageConfig, RootFs};
use super::lease::Lease;
use super::store::{ImageRecord, LayerRecord};
use super::{changes, now_rfc3339, ImageError, ImageService};
use crate::compression::{decompress, gzip, layer_media_type};
use crate::content::Digest;
use crate::distribution::manifest::{self, Parsed, Platform, OCI_INDEX, OCI_MANIFEST};
use crate::reference::ImageRef;

const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// One entry of a Docker archive's `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Images chosen for `docker save`, each with the tags to record.
pub struct SaveSet(Vec<(Vec<ImageRef>, ImageRecord)>);

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ImageError {
    let path = path.to_path_buf();
    move |source| ImageError::Content(crate::content::ContentError::Io { action, path, source })
}

impl ImageService {
    /// Resolves `docker save` arguments before anything is written.
    pub fn resolve_save(&self, names: &[String]) -> Result<SaveSet, ImageError> {
        let mut by_id: BTreeMap<Digest, (Vec<ImageRef>, ImageRecord)> = BTreeMap::new();
        for name in names {
            let record = self.resolve(name)?;
            let tag = ImageRef::parse(name)
                .ok()
                .filter(|r| r.digest().is_none() && self.index().tags.contains_key(&r.to_string()));
            let entry = by_id.entry(record.id.clone()).or_insert_with(|| (Vec::new(), record));
            entry.0.extend(tag);
        }
        Ok(SaveSet(by_id.into_values().collect()))
    }

    /// Writes the images as one tar: blobs in an OCI layout plus a Docker
    /// `manifest.json`, layers uncompressed as both formats expect. Blocking.
    pub fn save(&self, set: &SaveSet, out: impl Write) -> Result<(), ImageError> {
        let scratch = self.inner.content.scratch()?;
        let mut tar = tar::Builder::new(out);
        let mut written: std::collections::HashSet<Digest> = Default::default();
        let mut layer_sizes: BTreeMap<Digest, u64> = BTreeMap::new();
        let mut entries = Vec::new();
        let mut index_manifests = Vec::new();
        for (tags, record) in &set.0 {
            let config = self.inner.content.read(&record.id)?;
            add_blob(&mut tar, &mut written, &record.id, &config[..], config.len() as u64)?;
            let mut layer_paths = Vec::new();
            let mut layer_descs = Vec::new();
            for layer in &record.layers {
                let blob = layer
                    .blob
                    .as_ref()
                    .ok_or_else(|| ImageError::Internal(format!("layer {} has no blob", layer.diff_id)))?;
                if !layer_sizes.contains_key(&layer.diff_id) {
                    let tmp = scratch.path().join(layer.diff_id.hex());
                    let size = self.decompress_to(blob, &layer.diff_id, &tmp)?;
                    let file = std::fs::File::open(&tmp).map_err(io_err("open", &tmp))?;
                    add_blob(&mut tar, &mut written, &layer.diff_id, file, size)?;
                    std::fs::remove_file(&tmp).map_err(io_err("remove", &tmp))?;
                    layer_sizes.insert(layer.diff_id.clone(), size);
                }
                let size = layer_sizes[&layer.diff_id];
                layer_paths.push(blob_path(&layer.diff_id));
                layer_descs.push(json!({"mediaType": OCI_LAYER_TAR, "digest": layer.diff_id, "size": size}));
            }
            let oci_manifest = serde_json::to_vec(&json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": record.id, "size": config.len()},
                "layers": layer_descs,
            }))
            .map_err(|e| ImageError::Internal(e.to_string()))?;
            let manifest_digest = Digest::of(&oci_manifest);
            add_blob(&mut tar, &mut written, &manifest_digest, &oci_manifest[..], oci_manifest.len() as u64)?;
            let descriptor = |annotations: serde_json::Value| json!({"mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": oci_manifest.len(), "annotations": annotations});
            if tags.is_empty() {
                index_manifests.push(descriptor(json!({})));
            }
            for t in tags {
                index_manifests.push(descriptor(json!({
                    "io.containerd.image.name": t.to_string(),
                    "org.opencontainers.image.ref.name": t.tag().unwrap_or("latest"),
                })));
            }
            entries.push(ArchiveEntry {
                config: blob_path(&record.id),
                repo_tags: (!tags.is_empty()).then(|| tags.iter().map(ImageRef::familiar).collect()),
                layers: layer_paths,
            });
        }
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": index_manifests});
        for (name, value) in [
            ("manifest.json", serde_json::to_vec(&entries)),
            ("index.json", serde_json::to_vec(&index)),
            ("oci-layout", serde_json::to_vec(&json!({"imageLayoutVersion": "1.0.0"}))),
        ] {
            let bytes = value.map_err(|e| ImageError::Internal(e.to_string()))?;
            append(&mut tar, name, &bytes[..], bytes.len() as u64)?;
        }
        tar.into_inner().and_then(|mut w| w.flush()).map_err(io_err("write", Path::new("image archive")))?;
        Ok(())
    }

    /// Decompresses a layer blob into `dest`, checking it is `diff_id`.
    fn decompress_to(&self, blob: &Digest, diff_id: &Digest, dest: &Path) -> Result<u64, ImageError> {
        let path = self.inner.content.path(blob);
        let file = std::fs::File::open(&path).map_err(io_err("open", &path))?;
        let mut reader = decompress(file).map_err(io_err("decompress", &path))?;
        let mut out = std::fs::File::create(dest).map_err(io_err("create", dest))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(io_err("decompress", &path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err("write", dest))?;
            size += n as u64;
        }
        let actual = Digest::from_hasher(hasher);
        if &actual != diff_id {
            return Err(crate::content::ContentError::DigestMismatch { expected: diff_id.clone(), actual }.into());
        }
        Ok(size)
    }

    /// `docker load`: imports every image of a Docker archive or OCI
    /// layout; returns the lines to show (`Loaded image: ...`). Blocking.
    pub fn load(&self, archive: impl Read) -> Result<Vec<String>, ImageError> {
        let scratch = self.inner.content.scratch()?;
        let root = scratch.path();
        let reader = decompress(archive).map_err(io_err("read", Path::new("image archive")))?;
        tar::Archive::new(reader)
            .unpack(root)
            .map_err(|e| ImageError::InvalidParameter(format!("invalid image archive: {e}")))?;
        let mut lines = Vec::new();
        if root.join("manifest.json").exists() {
            let text =
                std::fs::read(root.join("manifest.json")).map_err(io_err("read", &root.join("manifest.json")))?;
            let entries: Vec<ArchiveEntry> = serde_json::from_slice(&text)
                .map_err(|e| ImageError::InvalidParameter(format!("invalid manifest.json in image archive: {e}")))?;
            for e in entries {
                let config = read_inside(root, &e.config)?;
                let layers = e.layers.iter().map(|l| inside(root, l)).collect::<Result<Vec<_>, _>>()?;
                let tags = e
                    .repo_tags
                    .unwrap_or_default()
                    .iter()
                    .map(|t| ImageRef::parse(t))
                    .collect::<Result<Vec<_>, _>>()?;
                let id = self.import_image(&config, &layers, &tags, "load")?;
                lines.extend(loaded_lines(&id, &tags));
            }
        } else if root.join("index.json").exists() {
            let index = read_inside(root, "index.json")?;
            let Parsed::Index(index) = parse_manifest(&index)? else {
                return Err(ImageError::InvalidParameter("index.json is not an image index".into()));
            };
            for desc in &index.manifests {
                let name = ref_name(desc);
                let mut body = read_inside(root, &blob_path(&desc.digest))?;
                if let Parsed::Index(nested) = parse_manifest(&body)? {
                    let pick = nested.select(&Platform::host()).ok_or_else(|| {
                        ImageError::NotFound(format!("no image for {} in the archive's index", Platform::host()))
                    })?;
                    body = read_inside(root, &blob_path(&pick.digest))?;
                }
                let Parsed::Manifest(m) = parse_manifest(&body)? else {
                    return Err(ImageError::InvalidParameter("nested image index in archive".into()));
                };
                let config = read_inside(root, &blob_path(&m.config.digest))?;
                let layers =
                    m.layers.iter().map(|l| inside(root, &blob_path(&l.digest))).collect::<Result<Vec<_>, _>>()?;
                let tags: Vec<ImageRef> = name.into_iter().collect();
                let id = self.import_image(&config, &layers, &tags, "load")?;
                lines.extend(loaded_lines(&id, &tags));
            }
        } else {
            return Err(ImageError::InvalidParameter(
                "invalid image archive: it has neither manifest.json nor index.json".into(),
            ));
        }
        Ok(lines)
    }

    /// `docker import`: a root filesystem tar (optionally compressed) as a
    /// one-layer image with `changes` applied. Blocking.
    pub fn import(
        &self,
        rootfs: impl Read,
        changes: &[String],
        message: &str,
        tag: Option<ImageRef>,
        platform: Option<Platform>,
    ) -> Result<Digest, ImageError> {
        let scratch = self.inner.content.scratch()?;
        let path = scratch.path().join("layer");
        let mut file = std::fs::File::create(&path).map_err(io_err("create", &path))?;
        let mut rootfs = rootfs;
        std::io::copy(&mut rootfs, &mut file).map_err(io_err("write", &path))?;
        let diff_id = {
            let f = std::fs::File::open(&path).map_err(io_err("open", &path))?;
            let mut hasher = Sha256::new();
            let mut reader = decompress(f).map_err(io_err("read", &path))?;
            std::io::copy(&mut reader, &mut hasher).map_err(io_err("read", &path))?;
            Digest::from_hasher(hasher)
        };
        let platform = platform.unwrap_or_else(Platform::host);
        let mut config = ImageConfig {
            architecture: platform.architecture,
            os: platform.os,
            variant: platform.variant,
            created: Some(now_rfc3339()),
            comment: message.into(),
            rootfs: RootFs { kind: "layers".into(), diff_ids: vec![diff_id] },
            history: vec![History {
                created: Some(now_rfc3339()),
                comment: if message.is_empty() { "Imported from -".into() } else { message.into() },
                ..Default::default()
            }],
            ..Default::default()
        };
        changes::apply(&mut config.config, changes)?;
        let bytes = serde_json::to_vec(&config).map_err(|e| ImageError::Internal(e.to_string()))?;
        self.import_image(&bytes, &[path], &tag.into_iter().collect::<Vec<_>>(), "import")
    }

    /// Stores a config and its layer files (compressed or not) as an
    /// image, tags it, and announces it with `action`.
    fn import_image(
        &self,
        config_bytes: &[u8],
        layers: &[PathBuf],
        tags: &[ImageRef],
        action: &str,
    ) -> Result<Digest, ImageError> {
        self.store_image(config_bytes, &[], None, layers, tags, action)
    }

    /// A new image on top of `parent` (`docker commit`, a build step; none
    /// for `FROM scratch`): its
    /// layers plus `layer` (an uncompressed tar) if the step made one.
    /// `config`'s rootfs is filled in here. Blocking.
    pub fn commit_image(
        &self,
        parent: Option<&ImageRecord>,
        layer: Option<&Path>,
        mut config: ImageConfig,
        tags: &[ImageRef],
    ) -> Result<Digest, ImageError> {
        let mut diff_ids: Vec<Digest> = parent.iter().flat_map(|p| &p.layers).map(|l| l.diff_id.clone()).collect();
        if let Some(path) = layer {
            let f = std::fs::File::open(path).map_err(io_err("open", path))?;
            let mut hasher = Sha256::new();
            std::io::copy(&mut std::io::BufReader::new(f), &mut hasher).map_err(io_err("read", path))?;
            diff_ids.push(Digest::from_hasher(hasher));
        }
        config.rootfs = RootFs { kind: "layers".into(), diff_ids };
        let bytes = serde_json::to_vec(&config).map_err(|e| ImageError::Internal(e.to_string()))?;
        let layers: Vec<PathBuf> = layer.map(Path::to_path_buf).into_iter().collect();
        let inherited = parent.map_or(&[][..], |p| p.layers.as_slice());
        self.store_image(&bytes, inherited, parent.map(|p| &p.id), &layers, tags, "commit")
    }

    /// A build step's image from a `--cache-from` image: `config` over the
    /// first layers of `source` (stored already), built on `parent`.
    pub fn restore_image(
        &self,
        parent: Option<&Digest>,
        source: &ImageRecord,
        config: &ImageConfig,
    ) -> Result<Digest, ImageError> {
        let inherited = source.layers.get(..config.rootfs.diff_ids.len()).ok_or_else(|| {
            ImageError::Internal(format!("cache source {} has fewer layers than its history says", source.id))
        })?;
        let bytes = serde_json::to_vec(config).map_err(|e| ImageError::Internal(e.to_string()))?;
        self.store_image(&bytes, inherited, parent, &[], &[], "commit")
    }

    /// Stores a config as an image: `inherited` layers (already stored, a
    /// parent's) followed by `layers` files; tags it and announces it with
    /// `action`. `parent` is the image it was made on, locally.
    fn store_image(
        &self,
        config_bytes: &[u8],
        inherited: &[LayerRecord],
        parent: Option<&Digest>,
        layers: &[PathBuf],
        tags: &[ImageRef],
        action: &str,
    ) -> Result<Digest, ImageError> {
        let config = ImageConfig::parse(config_bytes)
            .map_err(|source| ImageError::Config { id: Digest::of(config_bytes), source })?;
        let diff_ids = config.rootfs.diff_ids.clone();
        if diff_ids.len() != inherited.len() + layers.len() {
            return Err(ImageError::InvalidParameter(format!(
                "image config lists {} layers but the archive has {}",
                diff_ids.len(),
                inherited.len() + layers.len()
            )));
        }
        let id = Digest::of(config_bytes);
        let chains = crate::snapshots::chain_ids(&diff_ids);
        let mut lease = Lease::take(self, chains.iter().cloned().chain([id.clone()]).collect());
        let mut records = inherited.to_vec();
        let fresh = diff_ids.iter().zip(&chains).skip(records.len());
        for (path, (diff_id, chain)) in layers.iter().zip(fresh) {
            let mut head = [0u8; 4];
            let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).map_err(io_err("read", path))?;
            let file = std::fs::File::open(path).map_err(io_err("open", path))?;
            let compressed = layer_media_type(&head[..n]) != OCI_LAYER_TAR;
            let (blob, blob_size) = if compressed {
                self.inner.content.write_reader(file)?
            } else {
                self.inner.content.write_reader(gzip(file))?
            };
            lease.add(blob.clone());
            let media_type = match layer_media_type(&head[..n]) {
                OCI_LAYER_TAR => DOCKER_LAYER_GZIP.to_string(),
                other => other.replace("application/vnd.oci.image.layer.v1.tar+gzip", DOCKER_LAYER_GZIP),
            };
            let blob_path = self.inner.content.path(&blob);
            let reader = std::fs::File::open(&blob_path).map_err(io_err("open", &blob_path))?;
            self.inner.snapshots.unpack(chain, diff_id, reader)?;
            records.push(LayerRecord { diff_id: diff_id.clone(), blob: Some(blob), media_type, blob_size });
        }
        self.inner.content.write_bytes(config_bytes)?;
        let now = now_rfc3339();
        self.update(|idx| {
            idx.images.entry(id.clone()).or_insert_with(|| ImageRecord {
                id: id.clone(),
                layers: records,
                repo_digests: Default::default(),
                manifest: None,
                last_tag_time: None,
                parent: parent.cloned(),
            });
            for t in tags {
                idx.tags.insert(t.to_string(), id.clone());
            }
            if let Some(r) = idx.images.get_mut(&id).filter(|_| !tags.is_empty()) {
                r.last_tag_time = Some(now);
            }
            Ok(())
        })?;
        self.emit(&id, action, tags.first().map(ImageRef::familiar).as_deref().unwrap_or(id.as_str()));
        Ok(id)
    }
}

fn loaded_lines(id: &Digest, tags: &[ImageRef]) -> Vec<String> {
    if tags.is_empty() {
        vec![format!("Loaded image ID: {id}")]
    } else {
        tags.iter().map(|t| format!("Loaded image: {}", t.familiar())).collect()
    }
}

fn parse_manifest(body: &[u8]) -> Result<Parsed, ImageError> {
    manifest::parse("", body)
        .map_err(|e| ImageError::InvalidParameter(format!("invalid manifest in image archive: {e}")))
}

/// The image name an OCI index entry carries, if any.
fn ref_name(desc: &manifest::Descriptor) -> Option<ImageRef> {
    let ann = desc.annotations.as_ref()?;
    ann.get("io.containerd.image.name")
        .or_else(|| ann.get("org.opencontainers.image.ref.name").filter(|n| n.contains('/') || n.contains(':')))
        .and_then(|n| ImageRef::parse(n).ok())
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// A path named by the archive, which must stay inside it.
fn inside(root: &Path, rel: &str) -> Result<PathBuf, ImageError> {
    let clean = Path::new(rel);
    if clean.is_absolute() || clean.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(ImageError::InvalidParameter(format!("image archive names a path outside itself: {rel}")));
    }
    let p = root.join(clean);
    if !p.is_file() {
        return Err(ImageError::InvalidParameter(format!("image archive is missing {rel}")));
    }
    Ok(p)
}

fn read_inside(root: &Path, rel: &str) -> Result<Vec<u8>, ImageError> {
    let p = inside(root, rel)?;
    std::fs::read(&p).map_err(io_err("read", &p))
}

fn append(tar: &mut tar::Builder<impl Write>, name: &str, data: impl Read, size: u64) -> Result<(), ImageError> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    tar.append_data(&mut h, name, data).map_err(io_err("write", Path::new(name)))
}

fn add_blob(
    tar: &mut tar::Builder<impl Write>,
    written: &mut std::collections::HashSet<Digest>,
    digest: &Digest,
    data: impl Read,
    size: u64,
) -> Result<(), ImageError> {
    if written.insert(digest.clone()) {
        append(tar, &blob_path(digest), data, size)?;
    }
    Ok(())
}
