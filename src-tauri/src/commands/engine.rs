//! Engine lifecycle commands.

use tauri::State;

use crate::engine::{Engine, EngineStatus};
use crate::error::CommandResult;

#[tauri::command]
pub async fn engine_status(engine: State<'_, Engine>) -> CommandResult<EngineStatus> {
    Ok(engine.refresh().await)
}

#[tauri::command]
pub async fn engine_start(engine: State<'_, Engine>) -> CommandResult<EngineStatus> {
    engine.start().await
}

#[tauri::command]
pub async fn engine_stop(engine: State<'_, Engine>) -> CommandResult<EngineStatus> {
    engine.stop().await
}

#[tauri::command]
pub async fn engine_restart(engine: State<'_, Engine>) -> CommandResult<EngineStatus> {
    engine.restart().await
}

/// Quits Berth Desktop, stopping the engine first when asked (the tray's Quit dialog).
#[tauri::command]
pub async fn quit_app(app: tauri::AppHandle, engine: State<'_, Engine>, stop_engine: bool) -> CommandResult<()> {
    if stop_engine {
        engine.stop().await?;
    }
    app.exit(0);
    Ok(())
}

/// Makes `berth` the docker CLI's current context (config.json keeps everything else).
#[tauri::command]
pub async fn use_berth_context() -> CommandResult<()> {
    let env = crate::engine::locate::Environment::from_process();
    crate::engine::context::use_context(&env.docker_config_dir).map_err(|e| crate::error::CommandError(e.to_string()))
}
