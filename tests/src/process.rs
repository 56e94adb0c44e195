//! Child processes that die with the test: killed on drop, and by the kernel
//! if the test process itself is killed.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

pub struct Guarded {
    child: Option<Child>,
    name: String,
}

impl Guarded {
    pub fn spawn(name: &str, cmd: &mut Command) -> std::io::Result<Self> {
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from));
        }
        let child = cmd.spawn().map_err(|e| std::io::Error::new(e.kind(), format!("failed to start {name}: {e}")))?;
        Ok(Self { child: Some(child), name: name.into() })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn signal(&self, sig: Signal) {
        let _ = kill(Pid::from_raw(self.pid() as i32), sig);
    }

    /// Exit status if it has exited within `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asks politely (SIGTERM), then insists (SIGKILL) after `grace`.
    pub fn stop(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        self.signal(Signal::SIGTERM);
        let status = self.wait_timeout(grace);
        if status.is_none() {
            eprintln!("{} did not stop within {grace:?}; killing it", self.name);
            self.signal(Signal::SIGKILL);
            return self.child.as_mut().and_then(|c| c.wait().ok());
        }
        status
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if matches!(child.try_wait(), Ok(None)) {
                self.stop(Duration::from_secs(5));
            }
        }
    }
}
