//! The build cache: one small file per step, named by the hash of what
//! determines the step's result (parent image, instruction, configuration
//! and the content it copies), holding the image the step produced.

use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::content::Digest;

/// The cache key of a step.
pub fn key(parent: &str, step: &str, config: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [parent.as_bytes(), step.as_bytes(), config] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn get(dir: &Path, key: &str) -> Option<Digest> {
    std::fs::read_to_string(dir.join(key)).ok().and_then(|s| Digest::parse(s.trim()).ok())
}

/// Records a step's image; written whole (temp file + rename) so a crash
/// never leaves a half entry.
pub fn put(dir: &Path, key: &str, image: &Digest) {
    let tmp = dir.join(format!(".{key}.tmp"));
    let written = std::fs::write(&tmp, image.as_str()).and_then(|_| std::fs::rename(&tmp, dir.join(key)));
    if let Err(e) = written {
        tracing::warn!(error = %e, "failed to record a build cache entry");
    }
}

/// Empties the cache, returning the images it named.
pub fn drain(dir: &Path) -> Vec<Digest> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut images = Vec::new();
    for e in entries.flatten() {
        if let Some(d) = std::fs::read_to_string(e.path()).ok().and_then(|s| Digest::parse(s.trim()).ok()) {
            images.push(d);
        }
        let _ = std::fs::remove_file(e.path());
    }
    images.sort();
    images.dedup();
    images
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_drain() {
        let dir = tempfile::tempdir().unwrap();
        let k = key("sha256:aa", "RUN true", b"{}");
        assert_ne!(k, key("sha256:aa", "RUN true", b"{ }"));
        assert_ne!(key("ab", "c", b""), key("a", "bc", b""));
        assert!(get(dir.path(), &k).is_none());
        let id = Digest::of(b"image");
        put(dir.path(), &k, &id);
        assert_eq!(get(dir.path(), &k), Some(id.clone()));
        assert_eq!(drain(dir.path()), vec![id]);
        assert!(get(dir.path(), &k).is_none());
    }
}
