//! `/volumes`: create, list, inspect, remove, prune.

use axum::extract::{Path, Query, State};
use axum::Json;
use berth_core::filters::Filters;
use berth_core::volumes::Volume as VolumeRecord;
use http::StatusCode;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::query::{flag, Params};
use crate::state::AppState;
use crate::types::*;

/// The wire form of a volume; usage figures only when asked (they walk the tree).
pub fn to_wire(state: &AppState, v: VolumeRecord, usage: bool) -> Volume {
    let usage_data = usage.then(|| VolumeUsageData {
        size: state.volumes.size(&v) as i64,
        ref_count: state.volumes.ref_count(&v.name) as i64,
    });
    Volume {
        name: v.name,
        driver: v.driver,
        mountpoint: v.mountpoint.display().to_string(),
        created_at: v.created_at,
        labels: v.labels,
        scope: "local".into(),
        options: v.options,
        usage_data,
    }
}

pub async fn create(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<VolumeCreateOptions>,
) -> Result<(StatusCode, Json<Volume>), ApiError> {
    let v = state.volumes.create(
        Some(req.name.as_str()),
        &req.driver,
        req.driver_opts.unwrap_or_default(),
        req.labels.unwrap_or_default(),
    )?;
    Ok((StatusCode::CREATED, Json(to_wire(&state, v, false))))
}

pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<Params>,
) -> Result<Json<VolumeListResponse>, ApiError> {
    let filters = Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?;
    let vols = state.volumes.list(&filters)?;
    Ok(Json(VolumeListResponse {
        volumes: vols.into_iter().map(|v| to_wire(&state, v, false)).collect(),
        warnings: Vec::new(),
    }))
}

pub async fn inspect(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Volume>, ApiError> {
    let v = state.volumes.get(&name)?;
    Ok(Json(to_wire(&state, v, false)))
}

pub async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<Params>,
) -> Result<StatusCode, ApiError> {
    state.volumes.remove(&name, flag(&q, "force"))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn prune(
    State(state): State<AppState>,
    Query(q): Query<Params>,
) -> Result<Json<VolumePruneResponse>, ApiError> {
    let filters = Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?;
    let (removed, space) = state.volumes.prune(&filters)?;
    Ok(Json(VolumePruneResponse { volumes_deleted: (!removed.is_empty()).then_some(removed), space_reclaimed: space }))
}
