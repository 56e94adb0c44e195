//! `berth-init -- COMMAND [ARG...]`: PID 1 of containers run with `--init`
//! (Berth's own, in the role tini plays for dockerd). Without it, a
//! command that is not written to be PID 1 leaves zombies behind and
//! ignores SIGTERM and Ctrl-C, since the kernel drops signals PID 1 has no
//! handler for. berth-init starts the command as its child, in its own
//! process group (the terminal's foreground one when there is a terminal),
//! passes on every signal it gets, reaps whatever orphans land on it, and
//! exits with the command's status — 128+N when signal N ended it.

use std::ffi::CString;
use std::process::ExitCode;

use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{execvp, fork, getpid, isatty, setpgid, tcsetpgrp, ForkResult, Pid};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args.iter().position(|a| a == "--") {
        Some(i) => &args[i + 1..],
        None => &args[..],
    };
    if command.is_empty() {
        eprintln!("usage: berth-init -- COMMAND [ARG...]");
        return ExitCode::from(2);
    }
    let argv: Vec<CString> = match command.iter().map(|a| CString::new(a.as_bytes())).collect() {
        Ok(v) => v,
        Err(_) => {
            eprintln!("berth-init: an argument holds a NUL byte");
            return ExitCode::from(2);
        }
    };
    // Every signal waits for sigwait below; the child gets them unblocked.
    let all = SigSet::all();
    if let Err(e) = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all), None) {
        eprintln!("berth-init: failed to block signals: {e}");
        return ExitCode::from(1);
    }
    // SAFETY: single-threaded here; the child only calls async-signal-safe
    // functions before exec.
    let child = match unsafe { fork() } {
        Ok(ForkResult::Child) => run_command(&argv),
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => {
            eprintln!("berth-init: fork failed: {e}");
            return ExitCode::from(1);
        }
    };
    ExitCode::from(supervise(child, &all))
}

/// In the child: its own process group, the terminal's foreground one if
/// stdin is a terminal (so Ctrl-C reaches it), then the command.
fn run_command(argv: &[CString]) -> ! {
    let me = getpid();
    let _ = setpgid(me, me);
    // SIGTTOU is still blocked, so a background group may take the terminal.
    if isatty(std::io::stdin()).unwrap_or(false) {
        let _ = tcsetpgrp(std::io::stdin(), me);
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    let Err(err) = execvp(&argv[0], argv);
    eprintln!("berth-init: exec {} failed: {err}", argv[0].to_string_lossy());
    // The shell's codes: 127 not found, 126 found but not runnable.
    let code = if err == nix::errno::Errno::ENOENT { 127 } else { 126 };
    // SAFETY: _exit skips the parent's atexit work, which belongs to it.
    unsafe { nix::libc::_exit(code) }
}

/// In PID 1: forwards signals to the command and reaps every child until
/// the command is gone; returns its exit code.
fn supervise(child: Pid, signals: &SigSet) -> u8 {
    loop {
        let sig = match signals.wait() {
            Ok(sig) => sig,
            Err(_) => continue,
        };
        if sig != Signal::SIGCHLD {
            // The child may have just exited; then there is no one to tell.
            let _ = kill(child, sig);
            continue;
        }
        if let Some(code) = reap(child) {
            return code;
        }
    }
}

/// Collects every exited child; the command's exit code once it is one of them.
fn reap(child: Pid) -> Option<u8> {
    let mut code = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, status)) if pid == child => code = Some(status as u8),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => code = Some(128 + sig as u8),
            Ok(WaitStatus::StillAlive) | Err(_) => return code,
            Ok(_) => {}
        }
    }
}
