//! The image index: which images exist (by ID, the config digest), their
//! layers, and which tags and repo digests point at them. It lives in one
//! JSON file replaced atomically, so a crash leaves the old or the new
//! index, never a mix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::content::Digest;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// Digest of the uncompressed layer tar.
    pub diff_id: Digest,
    /// The compressed blob in the content store, when we have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<Digest>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    #[serde(default)]
    pub blob_size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The image ID: digest of its config blob.
    pub id: Digest,
    pub layers: Vec<LayerRecord>,
    /// `name@sha256:...` for each manifest this image was pulled or pushed as.
    #[serde(default)]
    pub repo_digests: BTreeSet<String>,
    /// The manifest (or index) digest of the last pull, for `docker save`/push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Digest>,
    /// When a tag last pointed here (RFC 3339), for inspect's Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tag_time: Option<String>,
    /// The image this one was committed or built on, locally (Docker's
    /// `Parent`); build steps are intermediate images with children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Digest>,
}

impl ImageRecord {
    /// The snapshot names of this image's layers, bottom first.
    pub fn chain_ids(&self) -> Vec<Digest> {
        crate::snapshots::chain_ids(&self.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub images: BTreeMap<Digest, ImageRecord>,
    /// Full reference (`docker.io/library/busybox:latest`) → image ID.
    pub tags: BTreeMap<String, Digest>,
}

impl Index {
    /// Whether some image was built on `id`.
    pub fn has_children(&self, id: &Digest) -> bool {
        self.images.values().any(|r| r.parent.as_ref() == Some(id))
    }

    pub fn tags_of(&self, id: &Digest) -> Vec<String> {
        self.tags.iter().filter(|(_, v)| *v == id).map(|(k, _)| k.clone()).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("failed to read image index {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("image index {path} is corrupt")]
    Corrupt { path: PathBuf, source: serde_json::Error },
    #[error("failed to write image index {path}")]
    Write { path: PathBuf, source: std::io::Error },
}

pub fn load(path: &Path) -> Result<Index, IndexError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| IndexError::Corrupt { path: path.into(), source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
        Err(source) => Err(IndexError::Read { path: path.into(), source }),
    }
}

pub fn save(path: &Path, index: &Index) -> Result<(), IndexError> {
    let err = |source| IndexError::Write { path: path.into(), source };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    serde_json::to_writer(&mut tmp, index).map_err(|e| err(e.into()))?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.json");
        assert_eq!(load(&path).unwrap(), Index::default());
        let id = Digest::of(b"config");
        let mut idx = Index::default();
        idx.images.insert(
            id.clone(),
            ImageRecord {
                id: id.clone(),
                layers: vec![],
                repo_digests: Default::default(),
                manifest: None,
                last_tag_time: None,
                parent: None,
            },
        );
        idx.tags.insert("docker.io/library/x:latest".into(), id.clone());
        save(&path, &idx).unwrap();
        assert_eq!(load(&path).unwrap(), idx);
        assert_eq!(idx.tags_of(&id), ["docker.io/library/x:latest"]);
        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(load(&path), Err(IndexError::Corrupt { .. })));
    }
}
