//! `berth-shim`: one per running container. It starts the container with
//! the OCI runtime, holds its stdio (pipes or a pty), writes its json-file
//! log, serves attach clients on a socket, reaps it and records its exit.
//! It runs in its own session, so it outlives an engine restart.
//!
//! Kept to std and nix, with a thread per stream, so each shim costs about
//! a megabyte of memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use berth_shim::log_file::LogFile;
use berth_shim::{write_frame, ExitRecord, ShimPaths, CLOSE_STDIN, EXIT, RESIZE, STDERR, STDIN, STDOUT};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

struct Args {
    id: String,
    bundle: PathBuf,
    state: PathBuf,
    runtime: String,
    /// daemon.json's `runtimeArgs`: global options, before the runtime's command.
    runtime_args: Vec<String>,
    runtime_root: PathBuf,
    /// None: the `none` log driver.
    log: Option<PathBuf>,
    /// Rotation: the live file's size in bytes, and how many files to keep.
    log_max_size: Option<u64>,
    log_max_files: u32,
    /// The container's cgroup path, where OOM kills are counted.
    cgroup: Option<String>,
    tty: bool,
    stdin: bool,
    /// The container has its own network namespace: bring its `lo` up.
    loopback: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut id, mut bundle, mut state, mut runtime, mut root, mut log) = (None, None, None, None, None, None);
    let (mut tty, mut stdin, mut loopback) = (false, false, false);
    let (mut log_max_size, mut log_max_files, mut cgroup) = (None, 1, None);
    let mut runtime_args = Vec::new();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--id" => id = Some(value()?),
            "--bundle" => bundle = Some(value()?),
            "--state" => state = Some(value()?),
            "--runtime" => runtime = Some(value()?),
            "--runtime-root" => root = Some(value()?),
            "--runtime-arg" => runtime_args.push(value()?),
            "--log" => log = Some(value()?),
            "--cgroup" => cgroup = Some(value()?),
            "--log-max-size" => log_max_size = Some(value()?.parse().map_err(|_| "bad --log-max-size")?),
            "--log-max-files" => log_max_files = value()?.parse().map_err(|_| "bad --log-max-files")?,
            "--tty" => tty = true,
            "--stdin" => stdin = true,
            "--loopback" => loopback = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let need = |v: Option<String>, n: &str| v.ok_or_else(|| format!("missing --{n}"));
    Ok(Args {
        id: need(id, "id")?,
        bundle: need(bundle, "bundle")?.into(),
        state: need(state, "state")?.into(),
        runtime: runtime.unwrap_or_else(|| "runc".into()),
        runtime_args,
        runtime_root: need(root, "runtime-root")?.into(),
        log: log.map(PathBuf::from),
        log_max_size,
        log_max_files,
        cgroup,
        tty,
        stdin,
        loopback,
    })
}

/// Attached clients; output goes to each, stdin comes from any.
type Clients = Arc<Mutex<Vec<UnixStream>>>;

fn main() -> ExitCode {
    // berthd reads our stdout: "created PID" once the container exists (it
    // then attaches), then "ok PID" once it runs; "err MESSAGE" on failure.
    let report = |line: &str| {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            report(&format!("err berth-shim: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match run(&args, &report) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&format!("err {}", e.replace('\n', " ")));
            let _ = runtime(&args).args(["delete", "--force", &args.id]).output();
            ExitCode::FAILURE
        }
    }
}

fn runtime(args: &Args) -> Command {
    let mut c = Command::new(&args.runtime);
    c.args(&args.runtime_args).arg("--root").arg(&args.runtime_root);
    c
}

/// Runs a runtime command to completion; its stderr becomes the error.
fn run_runtime(mut cmd: Command) -> Result<(), String> {
    let out = cmd.stderr(Stdio::piped()).output().map_err(|e| format!("failed to run the OCI runtime: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    // runc logs JSON-ish lines; keep the message part.
    let msg = err.lines().map(|l| l.split("msg=").nth(1).unwrap_or(l).trim_matches('"')).collect::<Vec<_>>().join(": ");
    Err(msg)
}

fn run(args: &Args, report: &dyn Fn(&str)) -> Result<(), String> {
    let paths = ShimPaths::new(&args.state);
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("set subreaper: {e}"))?;
    std::fs::write(paths.shim_pid(), std::process::id().to_string()).map_err(|e| format!("write shim pid: {e}"))?;
    let _ = std::fs::remove_file(paths.attach_socket());
    let listener = UnixListener::bind(paths.attach_socket()).map_err(|e| format!("listen for attach: {e}"))?;
    let log = match &args.log {
        Some(path) => {
            Some(LogFile::open(path, args.log_max_size, args.log_max_files).map_err(|e| format!("open log: {e}"))?)
        }
        None => None,
    };
    let log = Arc::new(Mutex::new(log));

    let mut create = runtime(args);
    create.args(["create", "--bundle"]).arg(&args.bundle).arg("--pid-file").arg(paths.init_pid());
    let mut outputs: Vec<(u8, File)> = Vec::new();
    let stdin: Arc<Mutex<Option<File>>>;
    let mut pty: Option<Arc<File>> = None;
    if args.tty {
        let console = args.state.join("console.sock");
        let _ = std::fs::remove_file(&console);
        let console_listener = UnixListener::bind(&console).map_err(|e| format!("console socket: {e}"))?;
        create.arg("--console-socket").arg(&console).stdin(Stdio::null()).stdout(Stdio::null());
        create.arg(&args.id);
        let handle = std::thread::spawn(move || berth_shim::receive_fd(&console_listener));
        run_runtime(create)?;
        let master = handle.join().map_err(|_| "console thread panicked".to_string())??;
        let master = File::from(master);
        let reader = master.try_clone().map_err(|e| e.to_string())?;
        outputs.push((STDOUT, reader));
        let master = Arc::new(master);
        stdin = Arc::new(Mutex::new(master.try_clone().ok()));
        pty = Some(master);
    } else {
        let (out_r, out_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
        let (err_r, err_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
        let mut stdin_w = None;
        if args.stdin {
            let (in_r, in_w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
            create.stdin(Stdio::from(in_r));
            stdin_w = Some(File::from(in_w));
        } else {
            create.stdin(Stdio::null());
        }
        create.stdout(Stdio::from(out_w)).arg(&args.id);
        create.stderr(Stdio::from(err_w));
        // run_runtime needs stderr for errors, but here it is the
        // container's: report failures from runc's exit status instead.
        let status = create.status().map_err(|e| format!("failed to run the OCI runtime: {e}"))?;
        drop(create);
        if !status.success() {
            let mut text = String::new();
            let _ = File::from(err_r).read_to_string(&mut text);
            return Err(clean_runtime_error(&text));
        }
        outputs.push((STDOUT, File::from(out_r)));
        outputs.push((STDERR, File::from(err_r)));
        stdin = Arc::new(Mutex::new(stdin_w));
    }
    let init: i32 = std::fs::read_to_string(paths.init_pid())
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| "the runtime did not report the container's pid".to_string())?;

    if args.loopback {
        berth_shim::loopback_up(init)?;
    }
    let clients: Clients = Arc::new(Mutex::new(Vec::new()));
    // The engine connects before the process runs, so no output is missed.
    report(&format!("created {init}"));
    let first = accept_first(&listener)?;
    add_client(first, &clients, &stdin, &pty);
    {
        let clients = clients.clone();
        let stdin = stdin.clone();
        let pty = pty.clone();
        std::thread::spawn(move || serve_clients(listener, clients, stdin, pty));
    }
    let (done_tx, done_rx) = mpsc::channel();
    for (kind, file) in outputs {
        let (clients, log, done) = (clients.clone(), log.clone(), done_tx.clone());
        std::thread::spawn(move || {
            pump_output(kind, file, &clients, &log);
            let _ = done.send(());
        });
    }
    drop(done_tx);

    let mut start = runtime(args);
    start.args(["start", &args.id]);
    run_runtime(start)?;
    report(&format!("ok {init}"));
    // Nothing more goes to berthd's pipe.
    if let Ok(null) = File::options().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
    }

    let code = reap(init);
    // Give the output threads a moment to drain what the process wrote last
    // (descendants may keep the pipes open; do not wait for them forever).
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        match done_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(()) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    // Clean up before announcing the exit: the engine may start the
    // container again at once, with a new shim on the same paths.
    // The cgroup goes with `delete`: count its OOM kills first.
    let oom_killed = args.cgroup.as_deref().is_some_and(|c| berth_shim::oom_kills(c) > 0);
    let _ = runtime(args).args(["delete", "--force", &args.id]).output();
    let _ = std::fs::remove_file(paths.attach_socket());
    let tmp = paths.exit_file().with_extension("tmp");
    let record = ExitRecord { code, at: rfc3339_now(), oom_killed }.to_line();
    if std::fs::write(&tmp, &record).and_then(|_| std::fs::rename(&tmp, paths.exit_file())).is_err() {
        return Err("failed to record the exit status".into());
    }
    for c in clients.lock().unwrap_or_else(|p| p.into_inner()).iter_mut() {
        let _ = write_frame(c, EXIT, code.to_string().as_bytes());
        let _ = c.shutdown(std::net::Shutdown::Both);
    }
    Ok(())
}

fn clean_runtime_error(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split("msg=").nth(1).unwrap_or(l).trim_matches('"').replace("\\\"", "\""))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Waits (bounded) for the engine's first connection.
fn accept_first(listener: &UnixListener) -> Result<UnixStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                listener.set_nonblocking(false).map_err(|e| e.to_string())?;
                conn.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(conn);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(format!("the engine did not attach: {e}")),
        }
    }
}

fn add_client(conn: UnixStream, clients: &Clients, stdin: &Arc<Mutex<Option<File>>>, pty: &Option<Arc<File>>) {
    let Ok(reader) = conn.try_clone() else { return };
    clients.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
    let stdin = stdin.clone();
    let pty = pty.clone();
    std::thread::spawn(move || read_client(reader, &stdin, pty.as_deref()));
}

fn serve_clients(listener: UnixListener, clients: Clients, stdin: Arc<Mutex<Option<File>>>, pty: Option<Arc<File>>) {
    for conn in listener.incoming().flatten() {
        add_client(conn, &clients, &stdin, &pty);
    }
}

/// Input from one attached client: stdin bytes, stdin close, resizes.
fn read_client(mut conn: UnixStream, stdin: &Mutex<Option<File>>, pty: Option<&File>) {
    while let Ok(Some((kind, payload))) = berth_shim::read_frame(&mut conn) {
        match kind {
            STDIN => {
                let mut guard = stdin.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(f) = guard.as_mut() {
                    if f.write_all(&payload).is_err() {
                        *guard = None;
                    }
                }
            }
            // A pty has no separate stdin to close; EOF is the user's ^D.
            CLOSE_STDIN if pty.is_none() => *stdin.lock().unwrap_or_else(|p| p.into_inner()) = None,
            RESIZE => {
                if let (Some(pty), Some((rows, cols))) = (pty, parse_size(&payload)) {
                    berth_shim::set_terminal_size(pty, rows, cols);
                }
            }
            _ => {}
        }
    }
}

fn parse_size(payload: &[u8]) -> Option<(u16, u16)> {
    let text = std::str::from_utf8(payload).ok()?;
    let (r, c) = text.split_once(' ')?;
    Some((r.parse().ok()?, c.parse().ok()?))
}

/// Copies one output stream to the log (json-file lines) and to clients.
fn pump_output(kind: u8, file: File, clients: &Clients, log: &Mutex<Option<LogFile>>) {
    let stream = if kind == STDERR { "stderr" } else { "stdout" };
    let mut reader = BufReader::with_capacity(16 * 1024, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        // A pty master reports EIO once the other side is gone: that is EOF.
        match reader.by_ref().take(16 * 1024).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if let Some(log) = log.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            let entry =
                format!("{{\"log\":{},\"stream\":\"{stream}\",\"time\":\"{}\"}}\n", json_string(&line), rfc3339_now());
            let _ = log.write(entry.as_bytes());
        }
        clients.lock().unwrap_or_else(|p| p.into_inner()).retain_mut(|c| write_frame(c, kind, &line).is_ok());
    }
}

/// Waits for the container's init; returns its exit code, 128+N for a signal.
/// Other children (orphans re-parented to us) are reaped on the way.
fn reap(init: i32) -> i32 {
    loop {
        match waitpid(Pid::from_raw(-1), None) {
            Ok(WaitStatus::Exited(pid, code)) if pid.as_raw() == init => return code,
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid.as_raw() == init => return 128 + sig as i32,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            // No children left: the init is gone without our seeing it.
            Err(_) => return 255,
        }
    }
}

/// JSON string literal of arbitrary bytes (invalid UTF-8 replaced).
fn json_string(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Current UTC time as RFC 3339 with nanoseconds, without a date library.
fn rfc3339_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_nanos()
    )
}
