//! `/images/...`: pull, list, inspect, history, tag, remove, prune.
//! Image names may contain `/` and `:` unescaped, so routes under
//! `/images/{name}` are dispatched on their last path segment.

use axum::body::Body;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_core::containers::{CommitConfig, CommitRequest};
use berth_core::distribution::manifest::Platform;
use berth_core::distribution::Credentials;
use berth_core::filters::Filters;
use berth_core::images::progress::ProgressSink;
use berth_core::images::{DeleteItem, ImageDetails, ListOptions};
use berth_core::reference::ImageRef;
use bytes::Bytes;
use http::HeaderMap;

use crate::blocking_io::{body_reader, BodyWriter};
use crate::error::ApiError;
use crate::progress::json_stream;
use crate::query::{all_values, flag, Params};
use crate::state::AppState;
use crate::types::*;

/// `POST /images/create`: pull `fromImage` (with `tag`, or a digest), or
/// import the request body as a root filesystem (`fromSrc=-`).
pub async fn create(
    State(state): State<AppState>,
    Query(q): Query<Params>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if let Some(src) = q.get("fromSrc") {
        return import(&state, src, &q, raw.as_deref(), body).await;
    }
    let image =
        q.get("fromImage").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::bad_request("fromImage is required"))?;
    let name = match q.get("tag").filter(|t| !t.is_empty()) {
        Some(t) if t.starts_with("sha256:") => format!("{image}@{t}"),
        Some(t) => format!("{image}:{t}"),
        None => image.clone(),
    };
    let reference = ImageRef::parse(&name)?;
    let platform = match q.get("platform").filter(|p| !p.is_empty()) {
        Some(p) => Some(Platform::parse(p).ok_or_else(|| ApiError::bad_request(format!("invalid platform {p:?}")))?),
        None => None,
    };
    let plan = state.images.resolve_pull(reference, platform, credentials(&headers)).await?;
    let (sink, rx) = ProgressSink::channel();
    // The pull finishes even if the client goes away; the next pull reuses it.
    tokio::spawn(async move {
        if let Err(e) = plan.execute(&sink).await {
            sink.error(ApiError::from(e).message);
        }
    });
    Ok(json_stream(rx))
}

/// `fromSrc=-`: the body is the tar; URLs would be fetched by the engine.
async fn import(state: &AppState, src: &str, q: &Params, raw: Option<&str>, body: Body) -> Result<Response, ApiError> {
    if src != "-" {
        return Err(ApiError::new(
            http::StatusCode::NOT_IMPLEMENTED,
            "importing from a URL is not supported by Berth yet; pipe the tarball to docker import instead",
        ));
    }
    let tag = repo_tag(q)?;
    let platform = match q.get("platform").filter(|p| !p.is_empty()) {
        Some(p) => Some(Platform::parse(p).ok_or_else(|| ApiError::bad_request(format!("invalid platform {p:?}")))?),
        None => None,
    };
    let changes = all_values(raw, "changes");
    let message = q.get("message").cloned().unwrap_or_default();
    let images = state.images.clone();
    let reader = body_reader(body);
    let id = tokio::task::spawn_blocking(move || images.import(reader, &changes, &message, tag, platform))
        .await
        .map_err(|e| ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    let line = serde_json::to_string(&JsonMessage { status: id.to_string(), ..Default::default() }).unwrap_or_default();
    Ok(([(http::header::CONTENT_TYPE, "application/json")], format!("{line}\n")).into_response())
}

/// The `repo` and `tag` parameters of import and commit, as a reference.
fn repo_tag(q: &Params) -> Result<Option<ImageRef>, ApiError> {
    let Some(repo) = q.get("repo").filter(|r| !r.is_empty()) else { return Ok(None) };
    let name = match q.get("tag").filter(|t| !t.is_empty()) {
        Some(t) => format!("{repo}:{t}"),
        None => repo.clone(),
    };
    Ok(Some(ImageRef::parse(&name)?))
}

/// `POST /commit`: a container's changes as a new image (`docker commit`).
pub async fn commit(
    State(state): State<AppState>,
    Query(q): Query<Params>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<(http::StatusCode, Json<IdResponse>), ApiError> {
    let container = q
        .get("container")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("container is required: name the container to commit"))?;
    let config = if body.iter().all(u8::is_ascii_whitespace) || body.as_ref() == b"null" {
        CommitConfig::Container
    } else {
        let user = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid container configuration: {e}")))?;
        CommitConfig::Merge(user)
    };
    let req = CommitRequest {
        config,
        changes: all_values(raw.as_deref(), "changes"),
        comment: q.get("comment").cloned().unwrap_or_default(),
        author: q.get("author").cloned().unwrap_or_default(),
        tags: repo_tag(&q)?.into_iter().collect(),
        created_by: None,
        layer: true,
        // Docker pauses unless told not to.
        pause: !q.contains_key("pause") || flag(&q, "pause"),
    };
    let id = state.containers.commit(container, req).await?;
    Ok((http::StatusCode::CREATED, Json(IdResponse { id: id.to_string() })))
}

/// `GET /images/get?names=...`: a tarball of the images (`docker save`).
pub async fn save_many(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    save(&state, all_values(raw.as_deref(), "names"))
}

fn save(state: &AppState, names: Vec<String>) -> Result<Response, ApiError> {
    if names.is_empty() {
        return Err(ApiError::bad_request("no images named: pass names=IMAGE"));
    }
    let set = state.images.resolve_save(&names)?;
    let (writer, body) = BodyWriter::new();
    let images = state.images.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = images.save(&set, writer) {
            // Headers are gone; all that is left is to cut the stream short.
            tracing::error!(error = %ApiError::from(e).message, "docker save failed mid-stream");
        }
    });
    Ok(([(http::header::CONTENT_TYPE, "application/x-tar")], body).into_response())
}

/// `POST /images/load`: imports a `docker save` tarball or an OCI layout.
pub async fn load(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let images = state.images.clone();
    let reader = body_reader(body);
    let loaded = tokio::task::spawn_blocking(move || images.load(reader))
        .await
        .map_err(|e| ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let messages: Vec<JsonMessage> = match loaded {
        Ok(lines) => {
            lines.into_iter().map(|l| JsonMessage { stream: format!("{l}\n"), ..Default::default() }).collect()
        }
        // As dockerd answers today: the failure is in the stream (docker-py's ImageLoadError).
        Err(e) => vec![crate::progress::error_message(ApiError::from(e).message)],
    };
    let mut out = String::new();
    for msg in messages {
        out.push_str(&serde_json::to_string(&msg).unwrap_or_default());
        out.push('\n');
    }
    Ok(([(http::header::CONTENT_TYPE, "application/json")], out).into_response())
}

fn credentials(headers: &HeaderMap) -> Option<Credentials> {
    headers.get("x-registry-auth").and_then(|v| v.to_str().ok()).and_then(Credentials::from_header)
}

/// `POST /images/{name}/push?tag=`: an empty tag pushes every tag of the repository.
fn push(state: &AppState, name: &str, q: &Params, headers: &HeaderMap) -> Result<Response, ApiError> {
    let reference = ImageRef::parse(name)?;
    let tag = match q.get("tag").filter(|t| !t.is_empty()) {
        Some(t) => Some(t.as_str()),
        None if berth_core::reference::has_explicit_tag(name) => reference.tag(),
        None => None,
    };
    let plan = state.images.resolve_push(&reference, tag, credentials(headers))?;
    let (sink, rx) = ProgressSink::channel();
    tokio::spawn(async move {
        if let Err(e) = plan.execute(&sink).await {
            sink.error(ApiError::from(e).message);
        }
    });
    Ok(json_stream(rx))
}

pub async fn list(State(state): State<AppState>, Query(q): Query<Params>) -> Result<Json<Vec<ImageSummary>>, ApiError> {
    let filters = Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?;
    let images = state.images.list(&ListOptions { filters, all: flag(&q, "all") })?;
    // Shared size and container counts cost a scan; only `system df` pays it.
    Ok(Json(images.into_iter().map(|i| summary(i, -1, -1)).collect()))
}

/// The wire summary of an image.
pub fn summary(i: berth_core::images::ImageSummary, shared_size: i64, containers: i64) -> ImageSummary {
    ImageSummary {
        id: i.id.to_string(),
        parent_id: i.parent.map(|p| p.to_string()).unwrap_or_default(),
        repo_tags: i.repo_tags,
        repo_digests: i.repo_digests,
        created: i.created,
        size: i.size,
        shared_size,
        labels: i.labels,
        containers,
    }
}

pub async fn get_named(State(state): State<AppState>, Path(rest): Path<String>) -> Result<Response, ApiError> {
    if let Some(name) = rest.strip_suffix("/json") {
        return Ok(Json(inspect(state.images.inspect(name)?)).into_response());
    }
    if let Some(name) = rest.strip_suffix("/history") {
        return Ok(Json(history(&state, name)?).into_response());
    }
    if let Some(name) = rest.strip_suffix("/get") {
        return save(&state, vec![name.to_string()]);
    }
    Err(ApiError::not_found("page not found"))
}

pub async fn post_named(
    State(state): State<AppState>,
    Path(rest): Path<String>,
    Query(q): Query<Params>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(name) = rest.strip_suffix("/push") {
        return push(&state, name, &q, &headers);
    }
    if let Some(name) = rest.strip_suffix("/tag") {
        let repo = q.get("repo").filter(|r| !r.is_empty()).ok_or_else(|| ApiError::bad_request("repo is required"))?;
        state.images.tag(name, repo, q.get("tag").map(String::as_str))?;
        return Ok(http::StatusCode::CREATED.into_response());
    }
    Err(ApiError::not_found("page not found"))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<Params>,
) -> Result<Json<Vec<ImageDeleteResponseItem>>, ApiError> {
    let items = state.images.remove(&name, flag(&q, "force"))?;
    Ok(Json(items.into_iter().map(delete_item).collect()))
}

pub async fn prune(
    State(state): State<AppState>,
    Query(q): Query<Params>,
) -> Result<Json<ImagePruneResponse>, ApiError> {
    let filters = Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?;
    let report = state.images.prune(&filters)?;
    let deleted: Vec<_> = report.deleted.into_iter().map(delete_item).collect();
    Ok(Json(ImagePruneResponse {
        images_deleted: (!deleted.is_empty()).then_some(deleted),
        space_reclaimed: report.space_reclaimed,
    }))
}

fn delete_item(item: DeleteItem) -> ImageDeleteResponseItem {
    match item {
        DeleteItem::Untagged(s) => ImageDeleteResponseItem::Untagged(s),
        DeleteItem::Deleted(s) => ImageDeleteResponseItem::Deleted(s),
    }
}

fn inspect(d: ImageDetails) -> ImageInspect {
    let mut dirs = d.lower_dirs.iter().map(|p| p.display().to_string());
    let mut data = std::collections::BTreeMap::new();
    if let Some(top) = dirs.next() {
        data.insert("UpperDir".to_string(), top);
    }
    let lower: Vec<String> = dirs.collect();
    if !lower.is_empty() {
        data.insert("LowerDir".to_string(), lower.join(":"));
    }
    let c = d.config;
    ImageInspect {
        id: d.record.id.to_string(),
        repo_tags: d.repo_tags,
        repo_digests: d.repo_digests,
        parent: d.record.parent.as_ref().map(ToString::to_string).unwrap_or_default(),
        comment: c.comment,
        created: c.created,
        docker_version: c.docker_version,
        author: c.author,
        config: serde_json::to_value(&c.config).unwrap_or_default(),
        architecture: c.architecture,
        variant: c.variant,
        os: c.os,
        os_version: c.os_version,
        size: d.size,
        graph_driver: GraphDriver { name: "overlay2".into(), data },
        root_fs: RootFs { r#type: "layers".into(), layers: c.rootfs.diff_ids.iter().map(|d| d.to_string()).collect() },
        metadata: ImageMetadata { last_tag_time: d.record.last_tag_time },
    }
}

/// Newest first; layers line up with non-empty history entries.
fn history(state: &AppState, name: &str) -> Result<Vec<HistoryResponseItem>, ApiError> {
    let d = state.images.inspect(name)?;
    let sizes = state.images.layer_sizes(&d.record);
    let mut layer = 0;
    let mut out = Vec::new();
    for h in &d.config.history {
        let size = if h.empty_layer {
            0
        } else {
            layer += 1;
            sizes.get(layer - 1).copied().unwrap_or(0)
        };
        let created = h
            .created
            .as_deref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map_or(0, |t| t.timestamp());
        out.push(HistoryResponseItem {
            id: "<missing>".into(),
            created,
            created_by: h.created_by.clone(),
            tags: Vec::new(),
            size,
            comment: h.comment.clone(),
        });
    }
    out.reverse();
    if let Some(top) = out.first_mut() {
        top.id = d.record.id.to_string();
        top.tags = d.repo_tags;
    }
    Ok(out)
}

/// `GET /distribution/{name}/json`: what the registry serves for a reference.
pub async fn distribution(
    State(state): State<AppState>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Result<Json<DistributionInspect>, ApiError> {
    let name = rest.strip_suffix("/json").ok_or_else(|| ApiError::not_found("page not found"))?;
    let reference = ImageRef::parse(name)?;
    let (desc, platforms) = state.images.distribution_inspect(&reference, credentials(&headers)).await?;
    Ok(Json(DistributionInspect {
        descriptor: OciDescriptor { media_type: desc.media_type, digest: desc.digest.to_string(), size: desc.size },
        platforms: platforms
            .into_iter()
            .map(|p| OciPlatform {
                architecture: p.architecture,
                os: p.os,
                os_version: p.os_version,
                variant: p.variant,
            })
            .collect(),
    }))
}

/// `GET /images/search?term=`: the registry's search, filtered as dockerd does.
pub async fn search(
    State(state): State<AppState>,
    Query(q): Query<Params>,
) -> Result<Json<Vec<ImageSearchResponseItem>>, ApiError> {
    let term = q.get("term").filter(|t| !t.is_empty()).ok_or_else(|| ApiError::bad_request("term is required"))?;
    let limit = match q.get("limit").filter(|l| !l.is_empty()) {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("invalid limit {l:?}: must be between 1 and 100")))?,
        None => 25,
    };
    let filters = Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?;
    filters.validate(&["is-automated", "is-official", "stars"])?;
    let min_stars = match filters.values("stars").next() {
        Some(s) => s.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid filter 'stars={s}'")))?,
        None => 0,
    };
    let want = |key: &str, value: bool| filters.values(key).all(|v| (v == "true") == value);
    let results = state.images.search(term, limit).await?;
    Ok(Json(
        results
            .into_iter()
            .filter(|r| {
                r.star_count >= min_stars && want("is-official", r.is_official) && want("is-automated", r.is_automated)
            })
            .map(|r| ImageSearchResponseItem {
                description: r.description,
                is_official: r.is_official,
                is_automated: r.is_automated,
                name: r.name,
                star_count: r.star_count,
            })
            .collect(),
    ))
}
