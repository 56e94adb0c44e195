//! One berthd per data root: an exclusive lock held for the daemon's life,
//! and the pidfile other tools read.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("failed to open lock file {path}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("another berthd{pid} is already running on data root {root}; stop it first or pass another --data-root")]
    Held { root: PathBuf, pid: String },
    #[error("failed to write pidfile {path}")]
    Pidfile { path: PathBuf, source: std::io::Error },
}

/// Held while berthd runs; dropping it removes the pidfile and releases the lock.
pub struct DaemonLock {
    _lock: Flock<File>,
    pidfile: PathBuf,
}

impl DaemonLock {
    /// Takes the data root's lock, then writes the pidfile. Nothing else is
    /// touched before the lock is ours, so a refused second daemon cannot
    /// disturb the first one.
    pub fn acquire(data_root: &Path, pidfile: &Path) -> Result<Self, LockError> {
        let path = data_root.join("berthd.lock");
        let open_err = |source| LockError::Open { path: path.clone(), source };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(open_err)?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((mut file, _)) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                let pid = if pid.is_empty() { String::new() } else { format!(" (pid {pid})") };
                return Err(LockError::Held { root: data_root.into(), pid });
            }
        };
        let me = std::process::id().to_string();
        let record = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.rewind()?;
            f.write_all(me.as_bytes())
        };
        record(&mut lock).map_err(open_err)?;
        if let Some(dir) = pidfile.parent() {
            std::fs::create_dir_all(dir).map_err(|source| LockError::Pidfile { path: pidfile.into(), source })?;
        }
        std::fs::write(pidfile, format!("{me}\n"))
            .map_err(|source| LockError::Pidfile { path: pidfile.into(), source })?;
        Ok(Self { _lock: lock, pidfile: pidfile.into() })
    }
}

impl Drop for DaemonLock {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.pidfile) {
            tracing::warn!(path = %self.pidfile.display(), error = %e, "failed to remove pidfile");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = DaemonLock::acquire(dir.path(), &dir.path().join("a.pid")).unwrap();
        let err = DaemonLock::acquire(dir.path(), &dir.path().join("b.pid")).err().unwrap();
        assert!(err.to_string().contains(&format!("(pid {})", std::process::id())), "{err}");
        assert!(dir.path().join("a.pid").exists());
        assert!(!dir.path().join("b.pid").exists());
        drop(first);
        assert!(!dir.path().join("a.pid").exists());
        DaemonLock::acquire(dir.path(), &dir.path().join("a.pid")).unwrap();
    }
}
