//! `POST /build` (the classic builder, what `docker build` uses without
//! BuildKit) and `POST /build/prune`.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Query, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_core::builder::{BuildEvent, BuildOptions, BuildOutput};
use berth_core::distribution::manifest::Platform;
use berth_core::distribution::Credentials;
use berth_core::reference::ImageRef;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::HeaderMap;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::StreamExt;

use crate::blocking_io::body_reader;
use crate::error::ApiError;
use crate::query::{all_values, flag, Params};
use crate::state::AppState;
use crate::types::{BuildPruneResponse, ErrorDetail, JsonMessage};

/// A JSON-encoded parameter (`buildargs`, `labels`, `cachefrom`).
fn json_param<T: serde::de::DeserializeOwned + Default>(q: &Params, key: &str) -> Result<T, ApiError> {
    match q.get(key).filter(|v| !v.is_empty()) {
        Some(v) => serde_json::from_str(v).map_err(|e| ApiError::bad_request(format!("invalid {key}: {e}"))),
        None => Ok(T::default()),
    }
}

fn options(q: &Params, raw: Option<&str>, headers: &HeaderMap) -> Result<BuildOptions, ApiError> {
    let tags = all_values(raw, "t")
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| ImageRef::parse(t).map_err(ApiError::from))
        .collect::<Result<_, _>>()?;
    let platform = match q.get("platform").filter(|p| !p.is_empty()) {
        Some(p) => Some(Platform::parse(p).ok_or_else(|| ApiError::bad_request(format!("invalid platform {p:?}")))?),
        None => None,
    };
    let auth = headers
        .get("x-registry-config")
        .and_then(|v| v.to_str().ok())
        .map(Credentials::map_from_header)
        .unwrap_or_default();
    Ok(BuildOptions {
        // The first value, as dockerd reads a form: docker-py sends a second
        // `dockerfile` (the text) after the name it gave it in the context.
        dockerfile: all_values(raw, "dockerfile").into_iter().next().unwrap_or_default(),
        tags,
        build_args: json_param::<BTreeMap<String, Option<String>>>(q, "buildargs")?,
        labels: json_param(q, "labels")?,
        target: q.get("target").cloned().filter(|t| !t.is_empty()),
        no_cache: flag(q, "nocache"),
        cache_from: json_param(q, "cachefrom")?,
        pull: flag(q, "pull"),
        quiet: flag(q, "q"),
        network_mode: q.get("networkmode").cloned().unwrap_or_default(),
        extra_hosts: all_values(raw, "extrahosts")
            .iter()
            .flat_map(|h| h.split(','))
            .filter(|h| !h.is_empty())
            .map(String::from)
            .collect(),
        platform,
        auth,
    })
}

pub async fn build(
    State(state): State<AppState>,
    Query(q): Query<Params>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if q.get("version").is_some_and(|v| v == "2") {
        return Err(ApiError::bad_request("BuildKit builds are not supported by Berth; use the classic builder"));
    }
    if q.get("remote").is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::bad_request("building from a remote context is not supported by Berth yet"));
    }
    let opts = options(&q, raw.as_deref(), &headers)?;
    let builder = state.builder.clone();
    let reader = body_reader(body);
    let ctx = tokio::task::spawn_blocking(move || builder.context(reader))
        .await
        .map_err(|e| ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    let dockerfile = state.builder.parse(&ctx, &opts)?;
    let (out, rx) = BuildOutput::channel(opts.quiet);
    let builder = state.builder.clone();
    tokio::spawn(async move {
        if let Err(e) = builder.build(&ctx, &dockerfile, &opts, &out).await {
            let code = e.code();
            out.error(ApiError::from(e).message, code);
        }
    });
    let lines = UnboundedReceiverStream::new(rx).map(|event| {
        let mut line = serde_json::to_vec(&message(event)).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(Bytes::from(line))
    });
    Ok(([(CONTENT_TYPE, "application/json")], Body::from_stream(lines)).into_response())
}

fn message(event: BuildEvent) -> JsonMessage {
    match event {
        BuildEvent::Stream(stream) => JsonMessage { stream, ..Default::default() },
        BuildEvent::Progress(p) => crate::progress::to_message(p),
        BuildEvent::Built(id) => JsonMessage { aux: Some(serde_json::json!({ "ID": id })), ..Default::default() },
        BuildEvent::Error { message, code } => JsonMessage {
            error_detail: Some(ErrorDetail { code, message: message.clone() }),
            error: Some(message),
            ..Default::default()
        },
    }
}

pub async fn prune(State(state): State<AppState>) -> Result<Json<BuildPruneResponse>, ApiError> {
    let builder = state.builder.clone();
    let (removed, freed) = tokio::task::spawn_blocking(move || builder.prune())
        .await
        .map_err(|e| ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Json(BuildPruneResponse { caches_deleted: removed, space_reclaimed: freed }))
}
