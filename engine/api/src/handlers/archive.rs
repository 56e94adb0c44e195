//! `/containers/{id}/archive`: what `docker cp` reads and writes.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use berth_core::containers::{Owners, PathStat};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde::Serialize;

use crate::blocking_io::{blocking, body_reader, BodyWriter};
use crate::error::ApiError;
use crate::query::{flag, Params};
use crate::state::AppState;

/// The JSON behind `X-Docker-Container-Path-Stat`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerPathStat {
    name: String,
    size: u64,
    mode: u32,
    mtime: String,
    link_target: String,
}

fn stat_header(s: PathStat) -> HeaderValue {
    let json = serde_json::to_vec(&ContainerPathStat {
        name: s.name,
        size: s.size,
        mode: s.mode,
        mtime: s.mtime,
        link_target: s.link_target,
    })
    .unwrap_or_default();
    HeaderValue::from_str(&base64::engine::general_purpose::STANDARD.encode(json))
        .unwrap_or(HeaderValue::from_static(""))
}

fn path_param(q: &Params) -> Result<String, ApiError> {
    q.get("path").filter(|p| !p.is_empty()).cloned().ok_or_else(|| ApiError::bad_request("path is required"))
}

/// Stats the path (off the reactor); a missing path is the 404 of both
/// HEAD and GET.
async fn stat(state: &AppState, id: &str, path: &str) -> Result<HeaderValue, ApiError> {
    let (svc, id, path) = (state.containers.clone(), id.to_string(), path.to_string());
    blocking(move || Ok(stat_header(svc.stat_path(&id, &path)?))).await
}

pub async fn head(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let header = stat(&state, &id, &path_param(&q)?).await?;
    Ok(([("X-Docker-Container-Path-Stat", header)], StatusCode::OK).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let path = path_param(&q)?;
    let header = stat(&state, &id, &path).await?;
    let (writer, body) = BodyWriter::new();
    let svc = state.containers.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = svc.read_path(&id, &path, writer) {
            tracing::error!(error = %ApiError::from(e).message, "docker cp failed mid-stream");
        }
    });
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/x-tar")),
            ("X-Docker-Container-Path-Stat".parse().unwrap(), header),
        ],
        body,
    )
        .into_response())
}

pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let path = path_param(&q)?;
    let no_overwrite = flag(&q, "noOverwriteDirNonDir");
    let owners = if flag(&q, "copyUIDGID") { Owners::ContainerUser } else { Owners::Root };
    let svc = state.containers.clone();
    let reader = body_reader(body);
    blocking(move || Ok(svc.write_path(&id, &path, reader, no_overwrite, owners)?)).await?;
    Ok(StatusCode::OK)
}

/// `GET /containers/{id}/export`: the root filesystem as a tar.
pub async fn export(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.containers.get(&id)?;
    let (writer, body) = BodyWriter::new();
    let svc = state.containers.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = svc.export(&id, writer) {
            tracing::error!(error = %ApiError::from(e).message, "docker export failed mid-stream");
        }
    });
    Ok(([(CONTENT_TYPE, HeaderValue::from_static("application/x-tar"))], body).into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilesystemChange {
    path: String,
    kind: u8,
}

/// `GET /containers/{id}/changes`: `docker diff`.
pub async fn changes(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<FilesystemChange>>, ApiError> {
    let svc = state.containers.clone();
    let changes = blocking(move || Ok(svc.changes(&id)?)).await?;
    Ok(axum::Json(changes.into_iter().map(|c| FilesystemChange { path: c.path, kind: c.kind }).collect()))
}
