//! Background watchers: the engine's health (backing off while it is down, no busy loop) and, while
//! it runs, its event stream, forwarded to the UI and the tray.

use std::time::Duration;

use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use tauri::{AppHandle, Emitter};

use crate::engine::{context, locate, next_check, Engine, EngineStatus, State};
use crate::tray;

pub fn spawn(app: AppHandle, engine: Engine) {
    tauri::async_runtime::spawn(async move {
        let mut delay = Duration::from_secs(1);
        let mut last: Option<EngineStatus> = None;
        loop {
            let status = engine.refresh().await;
            if last.as_ref() != Some(&status) {
                let _ = app.emit("engine-status", &status);
                if status.state == State::Running {
                    keep_context(&status.host);
                }
                tray::refresh(&app, &engine).await;
                last = Some(status.clone());
            }
            if status.state == State::Running {
                // The event stream ends when the engine goes away; then check again at once.
                follow_events(&app, &engine).await;
                delay = Duration::from_secs(1);
                continue;
            }
            delay = next_check(status.state, delay);
            tokio::time::sleep(delay).await;
        }
    });
}

async fn follow_events(app: &AppHandle, engine: &Engine) {
    let Ok(docker) = engine.docker().await else { return };
    let mut events = docker.events(None::<EventsOptions>);
    while let Some(event) = events.next().await {
        let Ok(event) = event else { break };
        let container = event.typ.as_ref().is_some_and(|t| t.to_string() == "container");
        let _ = app.emit("engine-event", &event);
        if container {
            tray::refresh(app, engine).await;
        }
    }
}

/// Points the `berth` docker context at the engine the app uses, so `docker --context berth` works.
fn keep_context(host: &str) {
    let env = locate::Environment::from_process();
    match context::write_context(&env.docker_config_dir, host) {
        Ok(true) => tracing::info!(host, "docker context \"berth\" now points at the engine"),
        Ok(false) => {}
        Err(e) => tracing::warn!("could not write the berth docker context: {e}"),
    }
}
