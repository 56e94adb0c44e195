//! Managed plugins (`docker plugin`), which Berth does not run: the list is empty, a named
//! plugin is not found, and installing or creating one is refused with a message that says so.
//! Volume and network drivers are built in, as `docker info` reports.

use axum::extract::{Path, Query};
use axum::Json;
use berth_core::filters::Filters;
use http::StatusCode;

use crate::error::ApiError;
use crate::query::Params;

const UNSUPPORTED: &str = "managed plugins (docker plugin install/create) are not supported by Berth";

/// `GET /plugins`.
pub async fn list(Query(q): Query<Params>) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    Filters::parse(q.get("filters").map(String::as_str).unwrap_or(""))?.validate(&["capability", "enabled"])?;
    Ok(Json(Vec::new()))
}

/// `GET /plugins/privileges`, `POST /plugins/pull`, `POST /plugins/create`.
pub async fn unsupported() -> ApiError {
    ApiError::new(StatusCode::NOT_IMPLEMENTED, UNSUPPORTED)
}

/// `/plugins/{name}/json`, `/enable`, `/disable`, `/set`, `/push`, `/upgrade` and
/// `DELETE /plugins/{name}`: there is no plugin of any name.
pub async fn named(Path(path): Path<String>) -> ApiError {
    let name = ["/json", "/enable", "/disable", "/set", "/push", "/upgrade"]
        .iter()
        .find_map(|action| path.strip_suffix(action))
        .unwrap_or(&path);
    ApiError::not_found(format!("plugin {name:?} not found"))
}
