//! A container's streams: `logs` (framed or raw), `attach` (hijacked or over
//! a websocket, before or after start) and terminal `resize`.

use axum::body::Body;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use berth_core::containers::logs::LogOptions;
use berth_core::containers::{Input, Status};
use bytes::Bytes;
use futures_util::StreamExt;
use http::header::CONTENT_TYPE;
use http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

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
    let kind = StreamKind::for_container(c.spec.tty);
    let session = Session::open(&state, &c, &q, kind)?;
    Ok(hijack.respond(kind, move |io| session.run(io)))
}

/// `GET /containers/{id}/attach/ws`: the same streams over a websocket, for
/// browsers and docker-py: never multiplexed; binary messages from API 1.42
/// on, text messages before, as dockerd sends them.
pub async fn attach_ws(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
    axum::Extension(version): axum::Extension<ApiVersion>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let c = state.containers.get(&id)?;
    let upgrade = upgrade.map_err(|e| ApiError::bad_request(format!("websocket handshake: {}", e.body_text())))?;
    let session = Session::open(&state, &c, &q, StreamKind::Raw)?;
    let binary = version >= ApiVersion(1, 42);
    Ok(upgrade.on_upgrade(move |ws| async move {
        let (engine_side, bridge_side) = tokio::io::duplex(64 * 1024);
        tokio::join!(session.run(engine_side), websocket_bridge(ws, bridge_side, binary));
    }))
}

/// Carries bytes between a websocket and the attach session's end of a pipe:
/// each chunk of output becomes one message, each message's payload is input.
async fn websocket_bridge(ws: WebSocket, pipe: tokio::io::DuplexStream, binary: bool) {
    use futures_util::SinkExt;
    use tokio::io::AsyncReadExt;
    let (mut ws_tx, mut ws_rx) = ws.split();
    let (mut from_session, mut to_session) = tokio::io::split(pipe);
    let output = async {
        let mut buf = vec![0u8; 32 * 1024];
        while let Ok(n @ 1..) = from_session.read(&mut buf).await {
            let chunk = Bytes::copy_from_slice(&buf[..n]);
            // A text message must be UTF-8; output that is not goes as binary.
            let msg = match binary {
                false => match Utf8Bytes::try_from(chunk.clone()) {
                    Ok(text) => Message::Text(text),
                    Err(_) => Message::Binary(chunk),
                },
                true => Message::Binary(chunk),
            };
            if ws_tx.send(msg).await.is_err() {
                return;
            }
        }
        let _ = ws_tx.send(Message::Close(None)).await;
    };
    let input = async {
        while let Some(Ok(msg)) = ws_rx.next().await {
            let data = match msg {
                Message::Text(t) => Bytes::from(t),
                Message::Binary(b) => b,
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if to_session.write_all(&data).await.is_err() {
                break;
            }
        }
        // The client is gone: the session sees the end of its input.
        let _ = to_session.shutdown().await;
    };
    // Output ends the attachment; input may end first and output go on.
    tokio::pin!(input);
    tokio::select! {
        () = output => {}
        () = async { (&mut input).await; std::future::pending::<()>().await } => {}
    }
}

/// One attachment to a container's streams, whatever carries its bytes.
struct Session {
    hub: std::sync::Arc<berth_core::containers::Hub>,
    /// Taken when the request comes, so nothing written before the
    /// connection is handed over is lost.
    output: tokio::sync::broadcast::Receiver<(u8, Bytes)>,
    exits: tokio::sync::watch::Receiver<berth_core::containers::ExitState>,
    kind: StreamKind,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    /// Whether the end of the client's input closes the container's stdin.
    stdin_once: bool,
    live: bool,
    escape: Option<Escape>,
    past: Option<futures_util::stream::BoxStream<'static, berth_core::containers::logs::LogLine>>,
    already_exited: bool,
}

impl Session {
    fn open(
        state: &AppState,
        c: &berth_core::containers::Container,
        q: &Params,
        kind: StreamKind,
    ) -> Result<Self, ApiError> {
        let hub = state.containers.hub(&c.id)?;
        let (stdin, stdout, stderr) = (flag(q, "stdin"), flag(q, "stdout"), flag(q, "stderr"));
        // Detaching is a terminal's gesture, as in dockerd.
        let escape = match c.spec.tty && stdin {
            true => Some(Escape::parse(q.get("detachKeys").map(String::as_str).unwrap_or(""))?),
            false => None,
        };
        let replay = LogOptions { stdout, stderr, ..Default::default() };
        Ok(Self {
            output: hub.subscribe(),
            exits: hub.exits(),
            hub,
            kind,
            stdin,
            stdout,
            stderr,
            // A terminal's stdin stays open when its client goes, as in
            // dockerd: `docker run -it` then detaching must not end the shell.
            stdin_once: c.spec.stdin_once && !c.spec.tty,
            live: flag(q, "stream"),
            escape,
            // A container that keeps no log has nothing to replay.
            past: if flag(q, "logs") { state.containers.logs(&c.id, replay).ok() } else { None },
            already_exited: c.state.status != Status::Running && c.state.status != Status::Created,
        })
    }

    async fn run<S: AsyncRead + AsyncWrite + Send + 'static>(self, io: S) {
        let Self {
            hub,
            mut output,
            mut exits,
            kind,
            stdin,
            stdout,
            stderr,
            stdin_once,
            live,
            escape,
            past,
            already_exited,
        } = self;
        let (rd, mut wr) = tokio::io::split(io);
        let (detach_tx, detached) = detach::signal();
        tokio::pin!(detached);
        if stdin && live {
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
            let wanted = if stream == 2 { stderr } else { stdout };
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
    }
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
