//! A container's streams: `logs` (framed or raw), `attach` (hijacked, before
//! or after start) and terminal `resize`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use berth_core::containers::logs::LogOptions;
use berth_core::containers::{Input, Status};
use bytes::Bytes;
use futures_util::StreamExt;
use http::header::CONTENT_TYPE;
use http::StatusCode;
use tokio::io::AsyncWriteExt;

use crate::detach::{self, Escape, Typed};
use crate::error::ApiError;
use crate::hijack::{Hijack, StreamKind};
use crate::query::{flag, Params};
use crate::state::AppState;
use crate::stream::{frame, StdStream};
use crate::version::ApiVersion;

pub async fn logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
    axum::Extension(version): axum::Extension<ApiVersion>,
) -> Result<Response, ApiError> {
    let c = state.containers.get(&id)?;
    let (stdout, stderr) = (flag(&q, "stdout"), flag(&q, "stderr"));
    if !stdout && !stderr {
        return Err(ApiError::bad_request("Bad parameters: you must choose at least one stream"));
    }
    let time = |key: &str| -> Result<Option<i64>, ApiError> {
        match q.get(key).filter(|v| !v.is_empty() && v.as_str() != "0") {
            None => Ok(None),
            Some(v) => crate::handlers::events::parse_timestamp(key, v).map(Some),
        }
    };
    let tail = match q.get("tail").map(String::as_str) {
        None | Some("") | Some("all") => None,
        Some(n) => Some(n.parse::<usize>().map_err(|_| ApiError::bad_request(format!("invalid tail value {n:?}")))?),
    };
    let opts =
        LogOptions { stdout, stderr, since: time("since")?, until: time("until")?, tail, follow: flag(&q, "follow") };
    let timestamps = flag(&q, "timestamps");
    let kind = StreamKind::for_container(c.spec.tty);
    let lines = state.containers.logs(&c.id, opts)?.map(move |l| {
        let mut payload = Vec::with_capacity(l.text.len() + 40);
        if timestamps {
            payload.extend_from_slice(l.time.as_bytes());
            payload.push(b' ');
        }
        payload.extend_from_slice(&l.text);
        let out = match kind {
            StreamKind::Raw => Bytes::from(payload),
            StreamKind::Multiplexed => {
                frame(if l.stream == 2 { StdStream::Stderr } else { StdStream::Stdout }, &payload)
            }
        };
        Ok::<_, std::convert::Infallible>(out)
    });
    Ok(([(CONTENT_TYPE, kind.content_type(version))], Body::from_stream(lines)).into_response())
}

/// `POST /containers/{id}/attach`: the container's streams over a hijacked
/// connection, before or after it starts: with `logs`, what it wrote so far,
/// then with `stream` what it writes until it exits or the client types
/// the detach keys (on a terminal).
pub async fn attach(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
    hijack: Hijack,
) -> Result<Response, ApiError> {
    let c = state.containers.get(&id)?;
    let hub = state.containers.hub(&c.id)?;
    let (want_stdin, want_stdout, want_stderr) = (flag(&q, "stdin"), flag(&q, "stdout"), flag(&q, "stderr"));
    let kind = StreamKind::for_container(c.spec.tty);
    // A terminal's stdin stays open when its client goes, as in dockerd:
    // `docker run -it` then detaching must not end the shell.
    let stdin_once = c.spec.stdin_once && !c.spec.tty;
    let live = flag(&q, "stream");
    // Detaching is a terminal's gesture, as in dockerd.
    let escape = match c.spec.tty && want_stdin {
        true => Some(Escape::parse(q.get("detachKeys").map(String::as_str).unwrap_or(""))?),
        false => None,
    };
    let replay = LogOptions { stdout: want_stdout, stderr: want_stderr, ..Default::default() };
    // A container that keeps no log has nothing to replay.
    let past = if flag(&q, "logs") { state.containers.logs(&c.id, replay).ok() } else { None };
    let mut output = hub.subscribe();
    let mut exits = hub.exits();
    let already_exited = c.state.status != Status::Running && c.state.status != Status::Created;
    Ok(hijack.respond(kind, move |io| async move {
        let (rd, mut wr) = tokio::io::split(io);
        let (detach_tx, detached) = detach::signal();
        tokio::pin!(detached);
        if want_stdin && live {
            let hub = hub.clone();
            tokio::spawn(async move {
                let mut input = detach::Input::new(rd, escape);
                while let Some(typed) = input.next().await {
                    match typed {
                        Typed::Bytes(b) => hub.send(Input::Stdin(Bytes::from(b))),
                        // The container keeps its stdin: another attach may use it.
                        Typed::Detach => {
                            let _ = detach_tx.send(());
                            return;
                        }
                    }
                }
                if stdin_once {
                    hub.send(Input::CloseStdin);
                }
            });
        }
        let send = |stream: u8, data: &Bytes| -> Option<Bytes> {
            let wanted = if stream == 2 { want_stderr } else { want_stdout };
            wanted.then(|| match kind {
                StreamKind::Raw => data.clone(),
                StreamKind::Multiplexed => frame(if stream == 2 { StdStream::Stderr } else { StdStream::Stdout }, data),
            })
        };
        if let Some(mut past) = past {
            // The log is there at once; dockerd's reply comes a moment after
            // its 101, and clients that read the 101 through a buffer (docker-py)
            // lose what arrives with it.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            while let Some(line) = past.next().await {
                if let Some(b) = send(line.stream, &line.text) {
                    if wr.write_all(&b).await.is_err() {
                        return;
                    }
                }
            }
        }
        if live && !already_exited {
            let start = exits.borrow_and_update().count;
            loop {
                tokio::select! {
                    () = &mut detached => break,
                    msg = output.recv() => match msg {
                        Ok((stream, data)) => {
                            if let Some(b) = send(stream, &data) {
                                if wr.write_all(&b).await.is_err() { return; }
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    },
                    changed = exits.changed() => {
                        if changed.is_err() || exits.borrow().count > start || exits.borrow().removed {
                            // Output published before the exit is already queued: drain it.
                            while let Ok((stream, data)) = output.try_recv() {
                                if let Some(b) = send(stream, &data) {
                                    let _ = wr.write_all(&b).await;
                                }
                            }
                            break;
                        }
                    }
                }
            }
        }
        let _ = wr.flush().await;
        let _ = wr.shutdown().await;
    }))
}

pub async fn resize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<StatusCode, ApiError> {
    let c = state.containers.get(&id)?;
    let dim = |k: &str| {
        q.get(k).and_then(|v| v.parse::<u16>().ok()).ok_or_else(|| ApiError::bad_request(format!("invalid {k}")))
    };
    let (rows, cols) = (dim("h")?, dim("w")?);
    if c.state.status != Status::Running {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("Container {} is not running", c.id)));
    }
    state.containers.hub(&c.id)?.send(Input::Resize { rows, cols });
    Ok(StatusCode::OK)
}
