//! The two systemd service protocols berthd speaks, so its unit can be `Type=notify` behind a
//! socket unit (`-H fd://`), as dockerd's is: readiness notification and socket activation.
//!
//! Both arrive as environment variables, read and cleared first thing in `main`. Every process
//! the engine starts (shims, the OCI runtime, containers) would otherwise inherit them, and runc
//! given a NOTIFY_SOCKET waits for the container itself to report ready. That is also why the
//! notification is sent by hand rather than through a crate that reads the variable at send time.

use std::ffi::OsString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};

/// The first descriptor a service manager passes (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: RawFd = 3;

#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error("-H fd:// needs sockets passed by systemd (socket activation), and none were")]
    NonePassed,
    #[error("-H fd://{0}: systemd passed no such socket (passed: {1})")]
    NotPassed(RawFd, String),
}

/// What the service manager handed this process.
pub struct ServiceManager {
    notify_socket: Option<OsString>,
    passed: Vec<(RawFd, OwnedFd)>,
}

impl ServiceManager {
    /// Takes the protocols' variables out of the environment. Call it before any thread starts:
    /// changing the environment is not thread-safe.
    pub fn take_from_env() -> Self {
        let env_num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
        let notify_socket = std::env::var_os("NOTIFY_SOCKET").filter(|s| !s.is_empty());
        // LISTEN_PID tells descriptors meant for us from ones inherited from a parent that was
        // itself socket-activated.
        let count = match env_num("LISTEN_PID") {
            Some(pid) if pid == std::process::id() => env_num("LISTEN_FDS").unwrap_or(0) as RawFd,
            _ => 0,
        };
        for var in ["NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
            std::env::remove_var(var);
        }
        let passed = (LISTEN_FDS_START..LISTEN_FDS_START + count)
            .map(|raw| {
                // SAFETY: the manager opened these descriptors for this very process (LISTEN_PID)
                // and nothing else in it has taken them.
                let fd = unsafe { OwnedFd::from_raw_fd(raw) };
                // Passed without close-on-exec; the shims must not hold the API socket open.
                let _ = fcntl(&fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
                (raw, fd)
            })
            .collect();
        Self { notify_socket, passed }
    }

    /// The passed sockets `fd://` names: all that are left, or descriptor `which`.
    pub fn take_sockets(&mut self, which: Option<RawFd>) -> Result<Vec<OwnedFd>, ActivationError> {
        let Some(n) = which else {
            if self.passed.is_empty() {
                return Err(ActivationError::NonePassed);
            }
            return Ok(self.passed.drain(..).map(|(_, fd)| fd).collect());
        };
        match self.passed.iter().position(|(raw, _)| *raw == n) {
            Some(i) => Ok(vec![self.passed.remove(i).1]),
            None => {
                let list: Vec<String> = self.passed.iter().map(|(raw, _)| raw.to_string()).collect();
                Err(ActivationError::NotPassed(n, if list.is_empty() { "none".into() } else { list.join(", ") }))
            }
        }
    }

    /// Sends a state line (`READY=1`, `STOPPING=1`) when a manager asked for them.
    pub fn notify(&self, state: &str) {
        let Some(path) = &self.notify_socket else { return };
        if let Err(e) = send(path, state) {
            tracing::warn!(error = %e, socket = ?path, "cannot notify the service manager");
        }
    }
}

fn send(path: &OsString, state: &str) -> std::io::Result<()> {
    // A leading '@' names a socket in the abstract namespace.
    let addr = match path.as_bytes().strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name)?,
        None => SocketAddr::from_pathname(path)?,
    };
    UnixDatagram::unbound()?.send_to_addr(state.as_bytes(), &addr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifies_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let rx = UnixDatagram::bind(&path).unwrap();
        let sm = ServiceManager { notify_socket: Some(path.into()), passed: Vec::new() };
        sm.notify("READY=1");
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }

    #[test]
    fn names_what_was_and_was_not_passed() {
        let mut sm = ServiceManager { notify_socket: None, passed: Vec::new() };
        assert!(matches!(sm.take_sockets(None), Err(ActivationError::NonePassed)));
        let (a, _b) = UnixDatagram::pair().unwrap();
        sm.passed.push((3, a.into()));
        let err = sm.take_sockets(Some(4)).unwrap_err().to_string();
        assert_eq!(err, "-H fd://4: systemd passed no such socket (passed: 3)");
        assert_eq!(sm.take_sockets(Some(3)).unwrap().len(), 1);
        assert!(sm.passed.is_empty());
    }
}
