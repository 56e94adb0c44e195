//! The API's UNIX sockets: bound with dockerd's ownership and mode, or passed by systemd.

use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

use crate::service_manager::{ActivationError, ServiceManager};
use crate::settings::Host;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("socket {0} is in use by another process")]
    InUse(PathBuf),
    #[error("failed to listen on {path}")]
    Bind { path: PathBuf, source: std::io::Error },
    #[error("group {0:?} for the API socket does not exist")]
    NoGroup(String),
    #[error(transparent)]
    Activation(#[from] ActivationError),
    #[error("a socket passed by systemd is not a listening UNIX socket")]
    NotUnix(#[source] std::io::Error),
}

/// A listening API socket.
pub struct Listener {
    pub socket: UnixListener,
    /// What the log calls it.
    pub name: String,
    /// The socket file berthd made, and removes when it stops; systemd's stay.
    pub created: Option<PathBuf>,
}

/// The listeners for one `-H` host.
pub fn open(host: &Host, group: Option<&str>, manager: &mut ServiceManager) -> Result<Vec<Listener>, ListenError> {
    match host {
        Host::Unix(path) => Ok(vec![Listener {
            socket: bind(path, group)?,
            name: path.display().to_string(),
            created: Some(path.clone()),
        }]),
        Host::Activated(which) => manager.take_sockets(*which)?.into_iter().map(adopt).collect(),
    }
}

fn adopt(fd: OwnedFd) -> Result<Listener, ListenError> {
    let socket = std::os::unix::net::UnixListener::from(fd);
    let addr = socket.local_addr().map_err(ListenError::NotUnix)?;
    socket.set_nonblocking(true).map_err(ListenError::NotUnix)?;
    let name = match addr.as_pathname() {
        Some(p) => format!("{} (from systemd)", p.display()),
        None => "a socket from systemd".into(),
    };
    Ok(Listener { socket: UnixListener::from_std(socket).map_err(ListenError::NotUnix)?, name, created: None })
}

/// The group that owns sockets when none is named: `berth`, if it exists.
const DEFAULT_GROUP: &str = "berth";

/// Binds `path` (mode 0660, owned by `group`), replacing a stale socket
/// file but never one a live process still answers on.
fn bind(path: &Path, group: Option<&str>) -> Result<UnixListener, ListenError> {
    let bind_err = |source| ListenError::Bind { path: path.into(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(bind_err)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ListenError::InUse(path.into()));
        }
        std::fs::remove_file(path).map_err(bind_err)?;
    }
    let listener = UnixListener::bind(path).map_err(bind_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(bind_err)?;
    let gid = match group {
        Some(name) => Some(lookup_group(name)?.ok_or_else(|| ListenError::NoGroup(name.into()))?),
        None => lookup_group(DEFAULT_GROUP)?,
    };
    if let Some(gid) = gid {
        nix::unistd::chown(path, None, Some(gid)).map_err(|e| bind_err(e.into()))?;
    }
    Ok(listener)
}

fn lookup_group(name: &str) -> Result<Option<nix::unistd::Gid>, ListenError> {
    if let Ok(gid) = name.parse::<u32>() {
        return Ok(Some(nix::unistd::Gid::from_raw(gid)));
    }
    nix::unistd::Group::from_name(name)
        .map(|g| g.map(|g| g.gid))
        .map_err(|e| ListenError::Bind { path: "/etc/group".into(), source: e.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_with_mode_and_refuses_live_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let _live = bind(&path, None).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        assert!(matches!(bind(&path, None), Err(ListenError::InUse(_))));
        assert!(matches!(bind(&dir.path().join("t.sock"), Some("no-such-group-xyz")), Err(ListenError::NoGroup(_))));
    }

    #[tokio::test]
    async fn replaces_stale_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        bind(&path, None).unwrap();
    }
}
