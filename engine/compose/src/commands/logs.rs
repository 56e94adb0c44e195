//! Container output with coloured `service-N  | ` prefixes: `logs`, and `up` when attached.

use std::io::{IsTerminal, Write};

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;
use tokio::task::JoinSet;

use crate::cli::LogsArgs;
use crate::convergence::{members, Member, Oneoff};
use crate::error::{ComposeError, Result};
use crate::project::Project;

const COLORS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub follow: bool,
    pub tail: String,
    pub timestamps: bool,
    pub since: Option<String>,
    pub until: Option<String>,
    pub color: bool,
    pub prefix: bool,
}

/// How a container is named in front of its lines: its name without the `project-` prefix.
pub fn short_name(project: &str, m: &Member) -> String {
    m.name.strip_prefix(&format!("{project}-")).unwrap_or(&m.name).to_string()
}

/// Prefixes per container, padded to one width and coloured in turn.
pub fn prefixes(project: &str, list: &[Member], color: bool) -> Vec<String> {
    let names: Vec<String> = list.iter().map(|m| short_name(project, m)).collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let padded = format!("{n:<width$}  | ");
            if color {
                format!("\x1b[{}m{padded}\x1b[0m", COLORS[i % COLORS.len()])
            } else {
                padded
            }
        })
        .collect()
}

/// Streams the containers' logs until they end (or forever with `follow`), line by line.
pub async fn stream(docker: &Docker, project: &str, list: Vec<Member>, opts: &LogOptions) -> Result<()> {
    let prefixes = prefixes(project, &list, opts.color);
    let mut tasks = JoinSet::new();
    for (m, prefix) in list.into_iter().zip(prefixes) {
        let docker = docker.clone();
        let opts = opts.clone();
        tasks.spawn(
            async move { follow_one(&docker, &m, if opts.prefix { prefix } else { String::new() }, &opts).await },
        );
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| ComposeError::Failed(e.to_string()))??;
    }
    Ok(())
}

pub async fn follow_one(docker: &Docker, m: &Member, prefix: String, opts: &LogOptions) -> Result<()> {
    let mut b = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .follow(opts.follow)
        .timestamps(opts.timestamps)
        .tail(&opts.tail);
    if let Some(since) = opts.since.as_deref().and_then(to_unix) {
        b = b.since(since);
    }
    if let Some(until) = opts.until.as_deref().and_then(to_unix) {
        b = b.until(until);
    }
    let mut logs = docker.logs(&m.id, Some(b.build()));
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = logs.next().await {
        let (bytes, to_err) = match chunk? {
            LogOutput::StdErr { message } => (message, true),
            LogOutput::StdOut { message } | LogOutput::Console { message } | LogOutput::StdIn { message } => {
                (message, false)
            }
        };
        pending.extend_from_slice(&bytes);
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            emit(&prefix, &line, to_err);
        }
    }
    if !pending.is_empty() {
        pending.push(b'\n');
        emit(&prefix, &pending, false);
    }
    Ok(())
}

fn emit(prefix: &str, line: &[u8], _stderr: bool) {
    // Compose prints every container's output, stdout and stderr alike, on its own stdout.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(prefix.as_bytes());
    let _ = out.write_all(line);
    let _ = out.flush();
}

/// `42m`, `10s` (relative) or an RFC 3339 time / unix seconds, as seconds since the epoch.
fn to_unix(text: &str) -> Option<i32> {
    if let Ok(secs) = text.parse::<i64>() {
        return i32::try_from(secs).ok();
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return i32::try_from(t.timestamp()).ok();
    }
    let nanos = berth_dockerfile::parse_duration(text).ok()?;
    i32::try_from(chrono::Utc::now().timestamp() - nanos / 1_000_000_000).ok()
}

pub async fn run(docker: &Docker, project: &Project, args: &LogsArgs) -> Result<i32> {
    let mut list = members(docker, &project.name, &args.services, Oneoff::Exclude, true).await?;
    if let Some(index) = args.index {
        list.retain(|m| m.number == index);
    }
    let opts = LogOptions {
        follow: args.follow,
        tail: args.tail.clone(),
        timestamps: args.timestamps,
        since: args.since.clone(),
        until: args.until.clone(),
        color: !args.no_color && std::io::stdout().is_terminal(),
        prefix: !args.no_log_prefix,
    };
    stream(docker, &project.name, list, &opts).await?;
    Ok(0)
}
