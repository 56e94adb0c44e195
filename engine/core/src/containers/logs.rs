//! Reading a container's json-file log: selection by stream and time,
//! `tail`, and `follow` while the container runs.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

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

impl ContainerService {
    pub fn logs(&self, name: &str, opts: LogOptions) -> Result<BoxStream<'static, LogLine>, ContainerError> {
        let c = self.get(name)?;
        let path = self.log_path(&c.id);
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ContainerError::Io { action: "open", path, source: e }),
        };
        let mut text = String::new();
        if let Some(f) = file.as_mut() {
            f.read_to_string(&mut text).map_err(|e| ContainerError::Io {
                action: "read",
                path: path.clone(),
                source: e,
            })?;
        }
        // Only whole lines; a partial last line is picked up by follow.
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        let mut past: Vec<LogLine> = text[..complete]
            .lines()
            .filter_map(parse)
            .filter(|(l, at)| select(&opts, l, *at))
            .map(|(l, _)| l)
            .collect();
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
        let offset = complete as u64;
        let live = stream::unfold((offset, String::new(), false), move |(mut offset, mut partial, mut last)| {
            let (svc, id, path, opts) = (svc.clone(), id.clone(), path.clone(), opts.clone());
            async move {
                loop {
                    if last {
                        return None;
                    }
                    let stopped = svc.get(&id).map(|c| c.state.status != Status::Running).unwrap_or(true);
                    let mut chunk = String::new();
                    if let Ok(mut f) = std::fs::File::open(&path) {
                        if f.seek(SeekFrom::Start(offset)).is_ok() {
                            let _ = f.read_to_string(&mut chunk);
                        }
                    }
                    offset += chunk.len() as u64;
                    partial.push_str(&chunk);
                    let complete = partial.rfind('\n').map_or(0, |i| i + 1);
                    let lines: Vec<LogLine> = partial[..complete]
                        .lines()
                        .filter_map(parse)
                        .filter(|(l, at)| select(&opts, l, *at))
                        .map(|(l, _)| l)
                        .collect();
                    partial.drain(..complete);
                    // One more read after the stop catches the last lines.
                    last = stopped;
                    if !lines.is_empty() || last {
                        return Some((stream::iter(lines), (offset, partial, last)));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
        .flatten();
        Ok(past.chain(live).boxed())
    }
}
