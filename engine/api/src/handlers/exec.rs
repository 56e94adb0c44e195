//! `docker exec`: create, start (hijacked or detached), inspect, resize.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_core::containers::ExecConfig;
use bytes::Bytes;
use http::StatusCode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::body::JsonBody;
use crate::detach::{self, Escape, Typed};
use crate::error::ApiError;
use crate::hijack::{Hijack, StreamKind};
use crate::query::Params;
use crate::state::AppState;
use crate::stream::{frame, StdStream};
use crate::types::*;

pub async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ExecConfigRequest>,
) -> Result<(StatusCode, Json<IdResponse>), ApiError> {
    if req.tty {
        Escape::parse(&req.detach_keys)?;
    }
    let config = ExecConfig {
        cmd: req.cmd.unwrap_or_default(),
        env: req.env.unwrap_or_default(),
        working_dir: req.working_dir,
        user: req.user,
        tty: req.tty,
        attach_stdin: req.attach_stdin,
        attach_stdout: req.attach_stdout,
        attach_stderr: req.attach_stderr,
        privileged: req.privileged,
        detach_keys: req.detach_keys,
    };
    let id = state.containers.exec_create(&id, config)?;
    Ok((StatusCode::CREATED, Json(IdResponse { id })))
}

pub async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    hijack: Option<Hijack>,
    JsonBody(req): JsonBody<ExecStartRequest>,
) -> Result<Response, ApiError> {
    // Framing follows the start request's Tty, as in dockerd (the process's
    // terminal follows the exec's own).
    let kind = StreamKind::for_container(req.tty);
    if req.detach {
        let io = state.containers.exec_launch(state.containers.exec_claim(&id)?).await?;
        // Nobody reads the output; let the process run to its end.
        tokio::spawn(drain(io.stdout));
        tokio::spawn(drain(io.stderr));
        return Ok(StatusCode::OK.into_response());
    }
    let hijack =
        hijack.ok_or_else(|| ApiError::bad_request("exec start needs a connection upgrade unless Detach is set"))?;
    let rec = state.containers.exec_claim(&id)?;
    let (want_out, want_err) = (rec.config.attach_stdout, rec.config.attach_stderr);
    let containers = state.containers.clone();
    // Detaching is a terminal's gesture; the keys were checked at create.
    let escape = if rec.config.tty { Escape::parse(&rec.config.detach_keys).ok() } else { None };
    Ok(hijack.respond(kind, move |conn| async move {
        let (rd, mut wr) = tokio::io::split(conn);
        // The upgrade is answered before the process starts, as dockerd does,
        // so no output can arrive with the 101 (docker-py would lose it).
        let io = match containers.exec_launch(rec).await {
            Ok(io) => io,
            Err(e) => {
                // The client reads why on its stream, and the exit code (126/127) from inspect.
                let message = format!("{}\r\n", ApiError::from(e).message);
                let bytes = match kind {
                    StreamKind::Raw => Bytes::from(message),
                    StreamKind::Multiplexed => frame(StdStream::Stdout, message.as_bytes()),
                };
                let _ = wr.write_all(&bytes).await;
                let _ = wr.shutdown().await;
                return;
            }
        };
        let (detach_tx, detached) = detach::signal();
        tokio::pin!(detached);
        if let Some(mut stdin) = io.stdin {
            tokio::spawn(async move {
                let mut input = detach::Input::new(rd, escape);
                while let Some(typed) = input.next().await {
                    match typed {
                        Typed::Bytes(b) => {
                            if stdin.write_all(&b).await.is_err() || stdin.flush().await.is_err() {
                                break;
                            }
                        }
                        // The process runs on, its terminal left open.
                        Typed::Detach => {
                            let _ = detach_tx.send(());
                            return;
                        }
                    }
                }
                let _ = stdin.shutdown().await;
            });
        }
        let (tx, mut rx) = mpsc::channel::<(StdStream, Bytes)>(64);
        for (reader, stream, wanted) in
            [(io.stdout, StdStream::Stdout, want_out), (io.stderr, StdStream::Stderr, want_err)]
        {
            if let Some(mut r) = reader {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 32 * 1024];
                    // A pty reports EIO once the process is gone: the end.
                    while let Ok(n) = r.read(&mut buf).await {
                        if n == 0 || (wanted && tx.send((stream, Bytes::copy_from_slice(&buf[..n]))).await.is_err()) {
                            break;
                        }
                    }
                });
            }
        }
        drop(tx);
        let mut left = false;
        loop {
            let (stream, data) = tokio::select! {
                () = &mut detached => {
                    left = true;
                    break;
                }
                next = rx.recv() => match next {
                    Some(chunk) => chunk,
                    None => break,
                },
            };
            let out = match kind {
                StreamKind::Raw => data,
                StreamKind::Multiplexed => frame(stream, &data),
            };
            if wr.write_all(&out).await.is_err() {
                break;
            }
        }
        // The client asks for the exit code as soon as the stream ends:
        // have it recorded first (unless it detached, and the process runs on).
        if !left {
            containers.exec_wait(&id).await;
        }
        let _ = wr.flush().await;
        let _ = wr.shutdown().await;
    }))
}

async fn drain(r: Option<Box<dyn AsyncRead + Send + Unpin>>) {
    if let Some(mut r) = r {
        let _ = tokio::io::copy(&mut r, &mut tokio::io::sink()).await;
    }
}

pub async fn inspect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ExecInspectResponse>, ApiError> {
    let r = state.containers.exec_get(&id)?;
    let mut args = r.config.cmd.clone();
    let entrypoint = if args.is_empty() { String::new() } else { args.remove(0) };
    Ok(Json(ExecInspectResponse {
        id: r.id,
        running: r.running,
        exit_code: r.exit_code.map(i64::from),
        process_config: ProcessConfig {
            privileged: r.config.privileged,
            user: r.config.user.clone(),
            tty: r.config.tty,
            entrypoint,
            arguments: args,
        },
        open_stdin: r.config.attach_stdin,
        open_stderr: r.config.attach_stderr,
        open_stdout: r.config.attach_stdout,
        can_remove: false,
        container_id: r.container_id,
        detach_keys: r.config.detach_keys.clone(),
        pid: r.pid.into(),
    }))
}

pub async fn resize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<StatusCode, ApiError> {
    let dim = |k: &str| {
        q.get(k).and_then(|v| v.parse::<u16>().ok()).ok_or_else(|| ApiError::bad_request(format!("invalid {k}")))
    };
    state.containers.exec_resize(&id, dim("h")?, dim("w")?)?;
    Ok(StatusCode::OK)
}
