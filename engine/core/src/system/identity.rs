//! The engine's stable identity: a random ID created on first start and kept
//! in the data root, like dockerd's `engine-id`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("failed to read engine ID from {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("failed to write engine ID to {path}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Classify for IdentityError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}

/// Reads `<data_root>/engine-id`, creating it (atomically) on first start.
pub fn engine_id(data_root: &Path) -> Result<String, IdentityError> {
    let path = data_root.join("engine-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(IdentityError::Read { path, source }),
    }
    let id = random_uuid().map_err(|source| IdentityError::Read { path: "/dev/urandom".into(), source })?;
    let write = || -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(data_root)?;
        std::io::Write::write_all(&mut tmp, id.as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(|source| IdentityError::Write { path: path.clone(), source })?;
    Ok(id)
}

/// A random (version 4) UUID, the format dockerd uses for its engine ID.
fn random_uuid() -> std::io::Result<String> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = engine_id(dir.path()).unwrap();
        assert_eq!(a.len(), 36);
        assert_eq!(engine_id(dir.path()).unwrap(), a);
    }
}
