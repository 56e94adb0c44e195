//! Versions, disk usage and pruning.

use bollard::query_parameters::{
    DataUsageOptions, PruneContainersOptions, PruneImagesOptionsBuilder, PruneVolumesOptions,
};
use serde_json::{json, Value};
use tauri::State;

use crate::engine::Engine;
use crate::error::{CommandError, CommandResult};

fn to_json(v: impl serde::Serialize) -> CommandResult<Value> {
    serde_json::to_value(v).map_err(|e| CommandError(e.to_string()))
}

#[tauri::command]
pub async fn system_info(engine: State<'_, Engine>) -> CommandResult<Value> {
    let docker = engine.docker().await?;
    Ok(json!({"version": to_json(docker.version().await?)?, "info": to_json(docker.info().await?)?}))
}

#[tauri::command]
pub async fn system_df(engine: State<'_, Engine>) -> CommandResult<Value> {
    let docker = engine.docker().await?;
    to_json(docker.df(None::<DataUsageOptions>).await?)
}

#[tauri::command]
pub async fn prune(engine: State<'_, Engine>, what: String) -> CommandResult<Value> {
    let docker = engine.docker().await?;
    let reclaimed = match what.as_str() {
        "containers" => docker.prune_containers(None::<PruneContainersOptions>).await?.space_reclaimed,
        "images" => {
            let dangling = std::collections::HashMap::from([("dangling", vec!["true"])]);
            docker
                .prune_images(Some(PruneImagesOptionsBuilder::new().filters(&dangling).build()))
                .await?
                .space_reclaimed
        }
        "volumes" => docker.prune_volumes(None::<PruneVolumesOptions>).await?.space_reclaimed,
        "build" => docker.prune_build(None::<bollard::query_parameters::PruneBuildOptions>).await?.space_reclaimed,
        other => return Err(CommandError(format!("cannot prune {other:?}"))),
    };
    Ok(json!({"spaceReclaimed": reclaimed.unwrap_or(0)}))
}
