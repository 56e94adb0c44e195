//! Layer snapshots for overlayfs: each image layer unpacked once into its
//! own `diff` directory, named by its chain ID, so images that share layers
//! share the directories. A container's root is an overlay of these
//! (lowest first) plus its own upper directory.
//!
//! Snapshots are unpacked into a temp directory and renamed into place: a
//! snapshot that exists is complete.

mod pack;
mod unpack;

pub use pack::pack_layer;
pub use unpack::UnpackError;

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::content::Digest;
use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("failed to unpack layer {diff_id}")]
    Unpack { diff_id: Digest, source: UnpackError },
    #[error("layer {diff_id} unpacked to content with digest {actual}")]
    DiffIdMismatch { diff_id: Digest, actual: Digest },
    #[error("failed to {action} {path}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl Classify for SnapshotError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Unpack { .. } | Self::DiffIdMismatch { .. } => ErrorKind::InvalidParameter,
            Self::Io { .. } => ErrorKind::Internal,
        }
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError {
    let path = path.to_path_buf();
    move |source| SnapshotError::Io { action, path, source }
}

/// The chain ID of a layer stack: the first layer's diff ID, then
/// `sha256(parent_chain + " " + diff_id)` for each layer above.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(parent) => Digest::of(format!("{parent} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

#[derive(Debug, Clone)]
pub struct SnapshotStore {
    root: PathBuf,
}

impl SnapshotStore {
    /// Opens the store, removing unpacks a crash interrupted.
    pub fn open(root: &Path) -> Result<Self, SnapshotError> {
        std::fs::create_dir_all(root).map_err(io("create", root))?;
        for entry in std::fs::read_dir(root).map_err(io("list", root))?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                std::fs::remove_dir_all(entry.path()).map_err(io("clean", &entry.path()))?;
            }
        }
        Ok(Self { root: root.into() })
    }

    fn dir(&self, chain_id: &Digest) -> PathBuf {
        self.root.join(chain_id.hex())
    }

    /// The unpacked files of a layer, an overlay lower directory.
    pub fn diff_dir(&self, chain_id: &Digest) -> PathBuf {
        self.dir(chain_id).join("diff")
    }

    pub fn contains(&self, chain_id: &Digest) -> bool {
        self.dir(chain_id).join("size").exists()
    }

    /// Bytes of file content in the layer.
    pub fn size(&self, chain_id: &Digest) -> u64 {
        std::fs::read_to_string(self.dir(chain_id).join("size")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
    }

    /// Unpacks a (possibly compressed) layer tar as snapshot `chain_id`,
    /// checking that the uncompressed tar hashes to `diff_id`. Blocking.
    pub fn unpack(&self, chain_id: &Digest, diff_id: &Digest, blob: impl Read) -> Result<u64, SnapshotError> {
        if self.contains(chain_id) {
            return Ok(self.size(chain_id));
        }
        let tmp = tempfile::Builder::new().prefix(".tmp-").tempdir_in(&self.root).map_err(io("create", &self.root))?;
        let diff = tmp.path().join("diff");
        std::fs::create_dir(&diff).map_err(io("create", &diff))?;
        let (size, actual) = unpack::unpack_layer(blob, &diff)
            .map_err(|source| SnapshotError::Unpack { diff_id: diff_id.clone(), source })?;
        if &actual != diff_id {
            return Err(SnapshotError::DiffIdMismatch { diff_id: diff_id.clone(), actual });
        }
        let size_file = tmp.path().join("size");
        std::fs::write(&size_file, size.to_string()).map_err(io("write", &size_file))?;
        let dest = self.dir(chain_id);
        let tmp_path = tmp.keep();
        if let Err(e) = std::fs::rename(&tmp_path, &dest) {
            let _ = std::fs::remove_dir_all(&tmp_path);
            // Someone else unpacked the same layer meanwhile: theirs is as good.
            if !self.contains(chain_id) {
                return Err(io("rename into", &dest)(e));
            }
        }
        Ok(size)
    }

    pub fn remove(&self, chain_id: &Digest) -> Result<(), SnapshotError> {
        let dir = self.dir(chain_id);
        if !dir.exists() {
            return Ok(());
        }
        // Rename first so a crash mid-delete leaves a .tmp- dir, not a half snapshot.
        let doomed = self.root.join(format!(".tmp-rm-{}", chain_id.hex()));
        std::fs::rename(&dir, &doomed).map_err(io("rename", &dir))?;
        std::fs::remove_dir_all(&doomed).map_err(io("remove", &doomed))
    }

    /// Every complete snapshot, for garbage collection.
    pub fn list(&self) -> Vec<Digest> {
        std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Digest::parse(&format!("sha256:{}", e.file_name().to_string_lossy())).ok())
            .filter(|d| self.contains(d))
            .collect()
    }
}
