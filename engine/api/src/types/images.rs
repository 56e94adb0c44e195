//! Image endpoints: list, inspect, history, delete, prune, and the JSON
//! progress messages of pull and push.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: i64,
    pub size: u64,
    pub shared_size: i64,
    pub labels: BTreeMap<String, String>,
    pub containers: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub parent: String,
    pub comment: String,
    pub created: Option<String>,
    pub docker_version: String,
    pub author: String,
    pub config: serde_json::Value,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    pub size: u64,
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
    pub metadata: ImageMetadata,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    pub r#type: String,
    pub layers: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_tag_time: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryResponseItem {
    pub id: String,
    pub created: i64,
    pub created_by: String,
    pub tags: Vec<String>,
    pub size: u64,
    pub comment: String,
}

#[derive(Debug, Serialize)]
pub enum ImageDeleteResponseItem {
    Untagged(String),
    Deleted(String),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagePruneResponse {
    pub images_deleted: Option<Vec<ImageDeleteResponseItem>>,
    pub space_reclaimed: u64,
}

/// One line of a pull/push progress stream (Docker's JSONMessage).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stream: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<ProgressDetail>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub progress: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<ErrorDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A push's result or a build's `{"ID": ...}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

/// The `aux` record closing each pushed tag.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PushResult {
    pub tag: String,
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct ProgressDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    /// A failed build step's exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    pub message: String,
}

/// `GET /distribution/{name}/json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionInspect {
    pub descriptor: OciDescriptor,
    pub platforms: Vec<OciPlatform>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OciDescriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Serialize)]
pub struct OciPlatform {
    pub architecture: String,
    pub os: String,
    #[serde(rename = "os.version", skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// One entry of `GET /images/search`.
#[derive(Debug, Serialize)]
pub struct ImageSearchResponseItem {
    pub description: String,
    pub is_official: bool,
    pub is_automated: bool,
    pub name: String,
    pub star_count: u64,
}

/// `POST /build/prune`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuildPruneResponse {
    pub caches_deleted: Vec<String>,
    pub space_reclaimed: u64,
}
