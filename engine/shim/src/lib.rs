//! What berthd and `berth-shim` say to each other over a container's
//! `attach.sock`, and where a shim keeps its files.
//!
//! Frames in both directions are Docker's multiplexed framing:
//! `[kind, 0, 0, 0, len: u32 big-endian]` then `len` bytes.

pub mod log_file;

use std::io::{self, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use std::path::{Path, PathBuf};

/// Shim → client: container output.
pub const STDOUT: u8 = 1;
/// Shim → client: container error output.
pub const STDERR: u8 = 2;
/// Shim → client: the container exited; payload is the exit code (decimal).
pub const EXIT: u8 = 3;
/// Client → shim: bytes for the container's stdin.
pub const STDIN: u8 = 0;
/// Client → shim: close the container's stdin.
pub const CLOSE_STDIN: u8 = 4;
/// Client → shim: resize the terminal; payload `rows cols` (decimal).
pub const RESIZE: u8 = 5;

pub fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let mut head = [kind, 0, 0, 0, 0, 0, 0, 0];
    head[4..].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    w.write_all(&head)?;
    w.write_all(payload)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 8];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some((head[0], payload)))
}

/// The files of one container's shim, under its state directory.
#[derive(Debug, Clone)]
pub struct ShimPaths {
    pub dir: PathBuf,
}

impl ShimPaths {
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.into() }
    }
    /// The socket clients attach to.
    pub fn attach_socket(&self) -> PathBuf {
        self.dir.join("attach.sock")
    }
    /// The shim's own pid, for reconnecting after an engine restart.
    pub fn shim_pid(&self) -> PathBuf {
        self.dir.join("shim.pid")
    }
    /// The container's init pid, as the runtime reported it.
    pub fn init_pid(&self) -> PathBuf {
        self.dir.join("init.pid")
    }
    /// An [`ExitRecord`], written atomically once the container has exited.
    pub fn exit_file(&self) -> PathBuf {
        self.dir.join("exit")
    }
}

/// How a container ended: `CODE TIME[ oom]` in the exit file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitRecord {
    pub code: i32,
    /// RFC 3339, UTC.
    pub at: String,
    /// The kernel's OOM killer killed a process of the container.
    pub oom_killed: bool,
}

impl ExitRecord {
    pub fn parse(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        let code = words.next()?.parse().ok()?;
        let at = words.next()?.to_string();
        Some(Self { code, at, oom_killed: words.next() == Some("oom") })
    }

    pub fn to_line(&self) -> String {
        format!("{} {}{}", self.code, self.at, if self.oom_killed { " oom" } else { "" })
    }
}

/// How many times the OOM killer struck in the container's cgroup (its
/// path under the hierarchy, such as `/berth/ID`): cgroup v1's
/// memory.oom_control or v2's memory.events.
pub fn oom_kills(cgroup: &str) -> u64 {
    let rel = cgroup.trim_start_matches('/');
    [format!("/sys/fs/cgroup/memory/{rel}/memory.oom_control"), format!("/sys/fs/cgroup/{rel}/memory.events")]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .find_map(|t| t.lines().find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok()))
        .unwrap_or(0)
}

/// Receives the pty master an OCI runtime sends over its console socket
/// (`--console-socket`), for a container or an exec.
pub fn receive_fd(listener: &UnixListener) -> Result<OwnedFd, String> {
    let (conn, _) = listener.accept().map_err(|e| format!("console socket: {e}"))?;
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(conn.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::empty())
        .map_err(|e| format!("receive console: {e}"))?;
    for c in msg.cmsgs().map_err(|e| e.to_string())? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(fd) = fds.first() {
                // SAFETY: the kernel just gave us this descriptor; we own it.
                return Ok(unsafe { OwnedFd::from_raw_fd(*fd) });
            }
        }
    }
    Err("the runtime sent no console".into())
}

nix::ioctl_write_ptr_bad!(tiocswinsz, libc::TIOCSWINSZ, libc::winsize);

/// Sets a terminal's size (rows, columns).
pub fn set_terminal_size(pty: &impl AsRawFd, rows: u16, cols: u16) {
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: a valid winsize for a descriptor the caller owns.
    let _ = unsafe { tiocswinsz(pty.as_raw_fd(), &ws) };
}

/// Brings up the loopback interface in the network namespace of `pid`,
/// which a fresh namespace starts without. Runs on a short-lived thread,
/// since entering a namespace changes the calling thread.
pub fn loopback_up(pid: i32) -> Result<(), String> {
    std::thread::spawn(move || -> Result<(), String> {
        let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).map_err(|e| format!("open netns: {e}"))?;
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("enter netns: {e}"))?;
        let sock = nix::sys::socket::socket(
            nix::sys::socket::AddressFamily::Inet,
            nix::sys::socket::SockType::Datagram,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| format!("socket: {e}"))?;
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (i, b) in b"lo".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        // SAFETY: ifreq is a plain C struct sized for these requests.
        unsafe {
            if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
                return Err(format!("get lo flags: {}", std::io::Error::last_os_error()));
            }
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
                return Err(format!("set lo up: {}", std::io::Error::last_os_error()));
            }
        }
        Ok(())
    })
    .join()
    .map_err(|_| "loopback thread panicked".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        write_frame(&mut buf, STDOUT, b"hello").unwrap();
        write_frame(&mut buf, EXIT, b"3").unwrap();
        let mut r = &buf[..];
        assert_eq!(read_frame(&mut r).unwrap(), Some((STDOUT, b"hello".to_vec())));
        assert_eq!(read_frame(&mut r).unwrap(), Some((EXIT, b"3".to_vec())));
        assert_eq!(read_frame(&mut r).unwrap(), None);
        let plain = ExitRecord::parse("137 2026-11-26T10:00:00Z\n").unwrap();
        assert_eq!((plain.code, plain.at.as_str(), plain.oom_killed), (137, "2026-11-26T10:00:00Z", false));
        let oom = ExitRecord { oom_killed: true, ..plain };
        assert_eq!(ExitRecord::parse(&oom.to_line()), Some(oom));
    }
}
