//! `GET /system/df` and the summaries it lists.

use serde::Serialize;

use super::{ContainerSummaryItem, ImageSummary, Volume};

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SystemDataUsageResponse {
    pub layers_size: i64,
    pub images: Vec<ImageSummary>,
    pub containers: Vec<ContainerSummaryItem>,
    pub volumes: Vec<Volume>,
    pub build_cache: Vec<BuildCache>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuildCache {
    #[serde(rename = "ID")]
    pub id: String,
    pub parents: Vec<String>,
    pub r#type: String,
    pub description: String,
    pub in_use: bool,
    pub shared: bool,
    pub size: i64,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub usage_count: i64,
}
