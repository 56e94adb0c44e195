//! The image service: the local image store (index + content + snapshots)
//! and everything done to images — pull, list, inspect, tag, remove, prune.

mod archive;
pub mod changes;
pub mod config;
mod lease;
mod list;
pub mod progress;
mod pull;
mod push;
mod remote;
mod remove;
mod store;

pub use archive::SaveSet;
pub use config::ImageConfig;
pub use list::{ImageSummary, ListOptions};
pub use pull::PullPlan;
pub use push::PushPlan;
pub use remove::{DeleteItem, PruneReport};
pub use store::{ImageRecord, LayerRecord};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::SharedConfig;
use crate::content::{ContentError, ContentStore, Digest};
use crate::distribution::{DistributionError, RegistryClient};
use crate::events::{Event, EventBus, ObjectType};
use crate::reference::{ImageRef, ReferenceError};
use crate::snapshots::{SnapshotError, SnapshotStore};
use crate::{Classify, ErrorKind};
use store::{Index, IndexError};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("No such image: {0}")]
    NotFound(String),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Distribution(#[from] DistributionError),
    #[error("image config {id} is invalid")]
    Config { id: Digest, source: serde_json::Error },
    #[error("{0}")]
    Internal(String),
}

impl Classify for ImageError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Reference(e) => e.kind(),
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::InvalidParameter(_) => ErrorKind::InvalidParameter,
            Self::Index(_) | Self::Internal(_) => ErrorKind::Internal,
            Self::Content(e) => e.kind(),
            Self::Snapshot(e) => e.kind(),
            Self::Distribution(e) => e.kind(),
            Self::Config { .. } => ErrorKind::InvalidParameter,
        }
    }
}

/// An image as `inspect` shows it: the record plus its parsed config.
#[derive(Debug, Clone)]
pub struct ImageDetails {
    pub record: ImageRecord,
    pub config: ImageConfig,
    /// Familiar `name:tag` strings.
    pub repo_tags: Vec<String>,
    /// Familiar `name@digest` strings.
    pub repo_digests: Vec<String>,
    /// Bytes of file content over all layers.
    pub size: u64,
    /// Overlay lower directories, topmost first.
    pub lower_dirs: Vec<PathBuf>,
}

/// Disk usage of the image store.
#[derive(Debug, Clone)]
pub struct DiskUsage {
    /// Each image with the bytes it shares with other images.
    pub images: Vec<(u64, ImageSummary)>,
    pub layers_size: u64,
}

#[derive(Clone)]
pub struct ImageService {
    inner: Arc<Inner>,
}

struct Inner {
    content: ContentStore,
    snapshots: SnapshotStore,
    index_path: PathBuf,
    index: Mutex<Index>,
    /// Blobs and snapshots of pulls in progress: not yet in the index, so
    /// garbage collection must leave them alone.
    leases: Mutex<lease::Leases>,
    registry: RegistryClient,
    events: Arc<EventBus>,
    /// Which containers use an image; set once the container service exists.
    users: std::sync::OnceLock<UsersFn>,
}

/// Lists the IDs of containers created from an image.
pub type UsersFn = Box<dyn Fn(&Digest) -> Vec<String> + Send + Sync>;

impl ImageService {
    /// Opens the image store under `<data_root>/image` and `<data_root>/overlay2`,
    /// and collects what a crash left unreferenced.
    pub fn open(data_root: &Path, config: SharedConfig, events: Arc<EventBus>) -> Result<Self, ImageError> {
        let root = data_root.join("image");
        let content = ContentStore::open(&root.join("content"))?;
        let snapshots = SnapshotStore::open(&data_root.join("overlay2"))?;
        let index_path = root.join("index.json");
        let index = store::load(&index_path)?;
        let svc = Self {
            inner: Arc::new(Inner {
                content,
                snapshots,
                index_path,
                index: Mutex::new(index),
                leases: Mutex::new(lease::Leases::default()),
                registry: RegistryClient::new(config),
                events,
                users: std::sync::OnceLock::new(),
            }),
        };
        svc.collect_garbage()?;
        Ok(svc)
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.inner.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn leases(&self) -> MutexGuard<'_, lease::Leases> {
        self.inner.leases.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `change` to the index and persists it; nothing changes in
    /// memory if the write fails.
    fn update<T>(&self, change: impl FnOnce(&mut Index) -> Result<T, ImageError>) -> Result<T, ImageError> {
        let mut guard = self.index();
        let mut next = guard.clone();
        let out = change(&mut next)?;
        store::save(&self.inner.index_path, &next)?;
        *guard = next;
        Ok(out)
    }

    /// Tells the image service how to find an image's containers.
    pub fn set_users(&self, users: UsersFn) {
        let _ = self.inner.users.set(users);
    }

    fn users_of(&self, id: &Digest) -> Vec<String> {
        self.inner.users.get().map(|f| f(id)).unwrap_or_default()
    }

    /// Number of images, for `docker info`.
    pub fn count(&self) -> usize {
        self.index().images.len()
    }

    /// Finds an image by reference, full ID, or unique ID prefix.
    pub fn resolve(&self, name: &str) -> Result<ImageRecord, ImageError> {
        let index = self.index();
        lookup(&index, name).and_then(|id| index.images.get(&id).cloned()).ok_or_else(|| not_found(name))
    }

    pub fn inspect(&self, name: &str) -> Result<ImageDetails, ImageError> {
        let record = self.resolve(name)?;
        self.details(record)
    }

    fn details(&self, record: ImageRecord) -> Result<ImageDetails, ImageError> {
        let config = self.config_of(&record.id)?;
        let (repo_tags, repo_digests) = {
            let index = self.index();
            (familiar_all(index.tags_of(&record.id)), familiar_all(record.repo_digests.iter().cloned()))
        };
        let chains = record.chain_ids();
        let size = chains.iter().map(|c| self.inner.snapshots.size(c)).sum();
        let lower_dirs = chains.iter().rev().map(|c| self.inner.snapshots.diff_dir(c)).collect();
        Ok(ImageDetails { record, config, repo_tags, repo_digests, size, lower_dirs })
    }

    /// A file as the image's layers stack up: the topmost layer holding the
    /// path wins, and a whiteout there hides it. `None` when absent.
    pub fn read_file(&self, name: &str, path: &str) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileTypeExt;
        let rel = path.trim_start_matches('/');
        for dir in self.inspect(name).ok()?.lower_dirs {
            let p = dir.join(rel);
            match std::fs::symlink_metadata(&p).map(|m| m.file_type()) {
                Ok(t) if t.is_file() => return std::fs::read(&p).ok(),
                Ok(t) if t.is_char_device() => return None,
                _ => {}
            }
        }
        None
    }

    /// Bytes of file content in each layer, bottom first.
    pub fn layer_sizes(&self, record: &ImageRecord) -> Vec<u64> {
        let chains = record.chain_ids();
        chains.iter().map(|c| self.inner.snapshots.size(c)).collect()
    }

    /// `docker system df`: every image with the bytes it shares with other
    /// images, and the total size of all layers counted once.
    pub fn disk_usage(&self) -> Result<DiskUsage, ImageError> {
        let images = self.list(&ListOptions { all: true, ..Default::default() })?;
        let records: Vec<ImageRecord> = self.index().images.values().cloned().collect();
        let mut users: BTreeMap<Digest, usize> = BTreeMap::new();
        for r in &records {
            for c in r.chain_ids() {
                *users.entry(c).or_default() += 1;
            }
        }
        let layers_size = users.keys().map(|c| self.inner.snapshots.size(c)).sum();
        let shared = |id: &Digest| -> u64 {
            records
                .iter()
                .find(|r| &r.id == id)
                .map(|r| {
                    r.chain_ids()
                        .iter()
                        .filter(|c| users.get(*c).copied().unwrap_or(0) > 1)
                        .map(|c| self.inner.snapshots.size(c))
                        .sum()
                })
                .unwrap_or(0)
        };
        let images = images.into_iter().map(|i| (shared(&i.id), i)).collect();
        Ok(DiskUsage { images, layers_size })
    }

    pub fn config_of(&self, id: &Digest) -> Result<ImageConfig, ImageError> {
        let bytes = self.inner.content.read(id)?;
        ImageConfig::parse(&bytes).map_err(|source| ImageError::Config { id: id.clone(), source })
    }

    /// `docker tag SOURCE REPO[:TAG]`.
    pub fn tag(&self, source: &str, repo: &str, tag: Option<&str>) -> Result<(), ImageError> {
        let record = self.resolve(source)?;
        let target = match tag.filter(|t| !t.is_empty()) {
            Some(t) => {
                crate::reference::validate_tag(t)?;
                format!("{repo}:{t}")
            }
            None => repo.to_string(),
        };
        let target = ImageRef::parse(&target)?;
        if target.digest().is_some() {
            return Err(ImageError::InvalidParameter("refusing to create a tag with a digest reference".into()));
        }
        let now = now_rfc3339();
        self.update(|idx| {
            idx.tags.insert(target.to_string(), record.id.clone());
            if let Some(r) = idx.images.get_mut(&record.id) {
                r.last_tag_time = Some(now);
            }
            Ok(())
        })?;
        self.emit(&record.id, "tag", &target.familiar());
        Ok(())
    }

    fn emit(&self, id: &Digest, action: &str, name: &str) {
        let mut attributes: BTreeMap<String, String> = self.config_of(id).map(|c| c.labels()).unwrap_or_default();
        attributes.insert("name".into(), name.into());
        self.inner.events.publish(Event::now(ObjectType::Image, action, id.as_str(), attributes));
    }
}

fn not_found(name: &str) -> ImageError {
    let shown = ImageRef::parse(name).map(|r| r.familiar()).unwrap_or_else(|_| name.to_string());
    ImageError::NotFound(shown)
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Familiar forms of full references, sorted.
fn familiar_all(refs: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = refs.into_iter().map(|r| ImageRef::parse(&r).map(|p| p.familiar()).unwrap_or(r)).collect();
    v.sort();
    v
}

/// dockerd's lookup order: full ID, then reference, then unique ID prefix.
fn lookup(index: &Index, name: &str) -> Option<Digest> {
    if let Ok(d) = Digest::parse(name) {
        if index.images.contains_key(&d) {
            return Some(d);
        }
    }
    if let Ok(r) = ImageRef::parse(name) {
        let found = match r.digest() {
            Some(dg) => {
                let want = format!("{}@{dg}", r.name());
                index.images.values().find(|i| i.repo_digests.contains(&want)).map(|i| i.id.clone())
            }
            None => index.tags.get(&r.to_string()).cloned(),
        };
        if found.is_some() {
            return found;
        }
    }
    let hex = name.strip_prefix("sha256:").unwrap_or(name);
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut matches = index.images.keys().filter(|k| k.hex().starts_with(hex));
    match (matches.next(), matches.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}
