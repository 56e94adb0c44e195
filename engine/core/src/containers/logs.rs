//! Reading a container's json-file log: selection by stream and time,
//! `tail`, and `follow` while the container runs.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use berth_shim::log_file::{files, rotated};

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use serde::Deserialize;

use super::record::Status;
use super::{ContainerError, ContainerService};

#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub stdout: bool,
    pub stderr: bool,
    /// Nanoseconds since the epoch.
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub tail: Option<usize>,
    pub follow: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// 1 = stdout, 2 = stderr.
    pub stream: u8,
    /// RFC 3339 with nanoseconds, as recorded.
    pub time: String,
    pub text: Bytes,
}

#[derive(Deserialize)]
struct Entry {
    log: String,
    stream: String,
    time: String,
}

fn parse(line: &str) -> Option<(LogLine, i64)> {
    let e: Entry = serde_json::from_str(line).ok()?;
    let nanos = chrono::DateTime::parse_from_rfc3339(&e.time).ok()?.timestamp_nanos_opt()?;
    let stream = if e.stream == "stderr" { 2 } else { 1 };
    Some((LogLine { stream, time: e.time, text: Bytes::from(e.log) }, nanos))
}

fn select(opts: &LogOptions, line: &LogLine, at: i64) -> bool {
    (if line.stream == 2 { opts.stderr } else { opts.stdout })
        && opts.since.is_none_or(|s| at >= s)
        && opts.until.is_none_or(|u| at <= u)
}

/// What `docker logs -f` has read of the live log file so far.
#[derive(Default)]
struct Cursor {
    /// The live file's inode: a new one means the file rotated.
    inode: u64,
    offset: u64,
    /// A line not yet whole.
    partial: String,
    /// One more read after the container stopped catches its last lines.
    last: bool,
}

/// Reads `path` from `offset` on; the file's inode with the text, or
/// nothing when there is no such file.
fn read_from(path: &Path, offset: u64) -> Option<(u64, String)> {
    let mut f = std::fs::File::open(path).ok()?;
    let inode = f.metadata().ok()?.ino();
    let mut text = String::new();
    if f.seek(SeekFrom::Start(offset)).is_ok() {
        let _ = f.read_to_string(&mut text);
    }
    Some((inode, text))
}

impl Cursor {
    /// New text of the log since the last read, following a rotation: the
    /// rest of the file that became `.1`, then the new live file.
    fn advance(&mut self, path: &Path) -> String {
        let Some((inode, mut text)) = read_from(path, self.offset) else { return String::new() };
        if inode != self.inode {
            let mut rest = read_from(&rotated(path, 1), self.offset)
                .filter(|(old, _)| *old == self.inode)
                .map(|(_, t)| t)
                .unwrap_or_default();
            let (_, live) = read_from(path, 0).unwrap_or_default();
            rest.push_str(&live);
            (self.inode, self.offset, text) = (inode, live.len() as u64, rest);
        } else if text.is_empty() && std::fs::metadata(path).is_ok_and(|m| m.len() < self.offset) {
            // Started over (a single file): read it from the top.
            (_, text) = read_from(path, 0).unwrap_or_default();
            self.offset = text.len() as u64;
        } else {
            self.offset += text.len() as u64;
        }
        text
    }
}

/// The whole lines of `partial` that `opts` selects; the rest stays.
fn take_lines(partial: &mut String, opts: &LogOptions) -> Vec<LogLine> {
    let complete = partial.rfind('\n').map_or(0, |i| i + 1);
    let lines =
        partial[..complete].lines().filter_map(parse).filter(|(l, at)| select(opts, l, *at)).map(|(l, _)| l).collect();
    partial.drain(..complete);
    lines
}

impl ContainerService {
    pub fn logs(&self, name: &str, opts: LogOptions) -> Result<BoxStream<'static, LogLine>, ContainerError> {
        let c = self.get(name)?;
        let Ok(Some(kept)) = c.spec.host.log.retention() else {
            return Err(ContainerError::NotImplemented("configured logging driver does not support reading".into()));
        };
        let path = self.log_path(&c.id);
        // Rotated files first, then the live one, whose offset follow goes on from.
        let mut text = String::new();
        let mut cursor = Cursor::default();
        for file in files(&path, kept.max_files) {
            let Some((inode, t)) = read_from(&file, 0) else { continue };
            text.push_str(&t);
            if file == path {
                (cursor.inode, cursor.offset) = (inode, t.len() as u64);
            }
        }
        // Only whole lines; a partial last line is picked up by follow.
        let mut past = take_lines(&mut text, &opts);
        cursor.partial = text;
        if let Some(n) = opts.tail {
            past.drain(..past.len().saturating_sub(n));
        }
        let past = stream::iter(past);
        let running = c.state.status == Status::Running;
        if !opts.follow || !running {
            return Ok(past.boxed());
        }
        let svc = self.clone();
        let id = c.id.clone();
        let live = stream::unfold(cursor, move |mut cursor| {
            let (svc, id, path, opts) = (svc.clone(), id.clone(), path.clone(), opts.clone());
            async move {
                loop {
                    if cursor.last {
                        return None;
                    }
                    let stopped = svc.get(&id).map(|c| c.state.status != Status::Running).unwrap_or(true);
                    let chunk = cursor.advance(&path);
                    cursor.partial.push_str(&chunk);
                    let lines = take_lines(&mut cursor.partial, &opts);
                    cursor.last = stopped;
                    if !lines.is_empty() || cursor.last {
                        return Some((stream::iter(lines), cursor));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
        .flatten();
        Ok(past.chain(live).boxed())
    }
}
