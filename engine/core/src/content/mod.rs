//! The content store: blobs (layers, configs, manifests) named by their
//! sha256 digest. Writes are verified while they stream, land in a temp file
//! and are renamed into place, so a blob that is visible is always whole and
//! correct, whatever kill -9 interrupts.

mod digest;

pub use digest::{Digest, InvalidDigest};

use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};

use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("blob {0} not found")]
    NotFound(Digest),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch { digest: Digest, expected: u64, actual: u64 },
    #[error("failed to {action} {path}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("download of {digest} failed")]
    Source { digest: Digest, source: Box<dyn std::error::Error + Send + Sync> },
}

impl Classify for ContentError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::DigestMismatch { .. } | Self::SizeMismatch { .. } => ErrorKind::InvalidParameter,
            Self::Source { .. } => ErrorKind::Unavailable,
            Self::Io { .. } => ErrorKind::Internal,
        }
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ContentError {
    let path = path.to_path_buf();
    move |source| ContentError::Io { action, path, source }
}

#[derive(Debug, Clone)]
pub struct ContentStore {
    blobs: PathBuf,
    ingest: PathBuf,
}

impl ContentStore {
    /// Opens the store under `root`, discarding ingests a crash left behind.
    pub fn open(root: &Path) -> Result<Self, ContentError> {
        let blobs = root.join("blobs/sha256");
        let ingest = root.join("ingest");
        std::fs::create_dir_all(&blobs).map_err(io("create", &blobs))?;
        if ingest.exists() {
            std::fs::remove_dir_all(&ingest).map_err(io("clean", &ingest))?;
        }
        std::fs::create_dir_all(&ingest).map_err(io("create", &ingest))?;
        Ok(Self { blobs, ingest })
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.blobs.join(digest.hex())
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).exists()
    }

    pub fn size(&self, digest: &Digest) -> Result<u64, ContentError> {
        let path = self.path(digest);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ContentError::NotFound(digest.clone())),
            Err(e) => Err(io("stat", &path)(e)),
        }
    }

    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, ContentError> {
        let path = self.path(digest);
        match std::fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ContentError::NotFound(digest.clone())),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    pub fn delete(&self, digest: &Digest) -> Result<(), ContentError> {
        let path = self.path(digest);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", &path)(e)),
            _ => Ok(()),
        }
    }

    /// Every blob in the store, for garbage collection.
    pub fn list(&self) -> Result<Vec<Digest>, ContentError> {
        let entries = std::fs::read_dir(&self.blobs).map_err(io("list", &self.blobs))?;
        Ok(entries
            .flatten()
            .filter_map(|e| Digest::parse(&format!("sha256:{}", e.file_name().to_string_lossy())).ok())
            .collect())
    }

    /// Stores small content (manifests, configs) held in memory.
    pub fn write_bytes(&self, bytes: &[u8]) -> Result<Digest, ContentError> {
        let digest = Digest::of(bytes);
        if self.contains(&digest) {
            return Ok(digest);
        }
        let mut tmp = self.temp()?;
        tmp.write_all(bytes).map_err(io("write", &self.ingest))?;
        self.commit(tmp, &digest)?;
        Ok(digest)
    }

    /// Stores whatever `reader` yields under the digest it turns out to
    /// have (blocking). For content made here, whose digest is not known
    /// in advance.
    pub fn write_reader(&self, mut reader: impl std::io::Read) -> Result<(Digest, u64), ContentError> {
        let mut tmp = self.temp()?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut written = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(io("read input for", &self.ingest))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io("write", &self.ingest))?;
            written += n as u64;
        }
        let digest = Digest::from_hasher(hasher);
        if !self.contains(&digest) {
            self.commit(tmp, &digest)?;
        }
        Ok((digest, written))
    }

    /// A scratch directory on the store's filesystem, for staging archives.
    pub fn scratch(&self) -> Result<tempfile::TempDir, ContentError> {
        tempfile::Builder::new()
            .prefix("scratch-")
            .tempdir_in(&self.ingest)
            .map_err(io("create temp dir in", &self.ingest))
    }

    /// Streams content in, verifying size (when known) and digest before it
    /// becomes visible. `progress` is told the running byte count.
    pub async fn write_stream<S, E>(
        &self,
        expected: &Digest,
        expected_size: Option<u64>,
        mut stream: S,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, ContentError>
    where
        S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::error::Error + Send + Sync + 'static,
    {
        let mut tmp = self.temp()?;
        let mut hasher = Sha256::new();
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ContentError::Source { digest: expected.clone(), source: Box::new(e) })?;
            hasher.update(&chunk);
            // Blocking writes of one network chunk: small, and page-cache bound.
            tmp.write_all(&chunk).map_err(io("write", &self.ingest))?;
            written += chunk.len() as u64;
            progress(written);
        }
        if let Some(size) = expected_size.filter(|s| *s != written) {
            return Err(ContentError::SizeMismatch { digest: expected.clone(), expected: size, actual: written });
        }
        let actual = Digest::from_hasher(hasher);
        if &actual != expected {
            return Err(ContentError::DigestMismatch { expected: expected.clone(), actual });
        }
        self.commit(tmp, expected)?;
        Ok(written)
    }

    fn temp(&self) -> Result<tempfile::NamedTempFile, ContentError> {
        tempfile::NamedTempFile::new_in(&self.ingest).map_err(io("create temp file in", &self.ingest))
    }

    fn commit(&self, tmp: tempfile::NamedTempFile, digest: &Digest) -> Result<(), ContentError> {
        let path = self.path(digest);
        tmp.as_file().sync_all().map_err(io("sync", &path))?;
        tmp.persist(&path).map_err(|e| io("rename into", &path)(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn verified_stream_becomes_visible() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        let d = Digest::of(b"hello world");
        let mut seen = 0;
        let n = store.write_stream(&d, Some(11), chunks(&[b"hello ", b"world"]), |c| seen = c).await.unwrap();
        assert_eq!((n, seen), (11, 11));
        assert_eq!(store.read(&d).unwrap(), b"hello world");
        assert_eq!(store.list().unwrap(), [d]);
    }

    #[tokio::test]
    async fn wrong_content_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        let d = Digest::of(b"expected");
        let err = store.write_stream(&d, None, chunks(&[b"tampered"]), |_| {}).await.unwrap_err();
        assert!(matches!(err, ContentError::DigestMismatch { .. }));
        let err = store.write_stream(&d, Some(3), chunks(&[b"expected"]), |_| {}).await.unwrap_err();
        assert!(matches!(err, ContentError::SizeMismatch { .. }));
        assert!(!store.contains(&d));
        assert_eq!(std::fs::read_dir(dir.path().join("ingest")).unwrap().count(), 0);
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn reopening_discards_partial_ingests() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("ingest/partial"), b"half").unwrap();
        let d = store.write_bytes(b"{}").unwrap();
        drop(store);
        let store = ContentStore::open(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path().join("ingest")).unwrap().count(), 0);
        assert_eq!(store.read(&d).unwrap(), b"{}");
    }
}
