//! Images: list, pull with progress, remove, prune.

use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListImagesOptionsBuilder, PruneImagesOptionsBuilder, RemoveImageOptionsBuilder,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tauri::ipc::Channel;
use tauri::State;

use crate::engine::Engine;
use crate::error::{CommandError, CommandResult};

#[tauri::command]
pub async fn list_images(engine: State<'_, Engine>) -> CommandResult<Value> {
    let docker = engine.docker().await?;
    let list = docker.list_images(Some(ListImagesOptionsBuilder::new().build())).await?;
    serde_json::to_value(list).map_err(|e| CommandError(e.to_string()))
}

/// The reference with an explicit tag: without one, the pull endpoint of dockerd pulls every tag.
fn tagged(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if reference.contains('@') || last.contains(':') {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    }
}

/// Pulls `reference`, sending every progress message of the engine's stream to `on_progress`.
#[tauri::command]
pub async fn pull_image(
    engine: State<'_, Engine>,
    reference: String,
    on_progress: Channel<Value>,
) -> CommandResult<()> {
    let docker = engine.docker().await?;
    let reference = reference.trim();
    if reference.is_empty() {
        return Err(CommandError("Enter an image reference to pull".into()));
    }
    let reference = tagged(reference);
    let lookup = reference.clone();
    let creds = tokio::task::spawn_blocking(move || crate::registries::credentials_for(&lookup)).await.ok().flatten();
    let opts = CreateImageOptionsBuilder::new().from_image(&reference).build();
    let mut stream = docker.create_image(Some(opts), None, creds);
    while let Some(item) = stream.next().await {
        let info = item?;
        let detail = info.progress_detail.map(|d| json!({"current": d.current, "total": d.total}));
        let _ = on_progress.send(json!({
            "status": info.status, "id": info.id, "progress": info.progress, "progressDetail": detail,
        }));
    }
    Ok(())
}

#[tauri::command]
pub async fn remove_image(engine: State<'_, Engine>, id: String, force: bool) -> CommandResult<()> {
    let docker = engine.docker().await?;
    docker.remove_image(&id, Some(RemoveImageOptionsBuilder::new().force(force).build()), None).await?;
    Ok(())
}

#[tauri::command]
pub async fn prune_images(engine: State<'_, Engine>) -> CommandResult<Value> {
    let docker = engine.docker().await?;
    let dangling = std::collections::HashMap::from([("dangling", vec!["true"])]);
    let r = docker.prune_images(Some(PruneImagesOptionsBuilder::new().filters(&dangling).build())).await?;
    Ok(json!({"deleted": r.images_deleted.map_or(0, |d| d.len()), "spaceReclaimed": r.space_reclaimed.unwrap_or(0)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_get_a_tag() {
        assert_eq!(tagged("busybox"), "busybox:latest");
        assert_eq!(tagged("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
        assert_eq!(tagged("127.0.0.1:5000/app:v2"), "127.0.0.1:5000/app:v2");
        assert_eq!(tagged("app@sha256:ab"), "app@sha256:ab");
    }
}
