//! Berth Desktop: the dashboard window and tray. All engine access is here, through bollard; the UI
//! calls the commands and hears the events.

mod commands;
mod engine;
mod error;
mod json_file;
mod registries;
mod tray;
mod watch;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

use tauri::{Manager, WindowEvent};

use engine::Engine;

/// Stops one followed log stream; the number is the UI channel's, which tells streams apart.
pub type LogStop = (u32, tokio::sync::oneshot::Sender<()>);

/// Log streams the UI follows, by container, so `stop_logs` can end them.
#[derive(Default)]
pub struct LogFollowers(pub tokio::sync::Mutex<HashMap<String, Vec<LogStop>>>);

/// The CPU counters of the containers view's last usage poll, by container, for CPU rates.
#[derive(Default)]
pub struct UsageSamples(pub tokio::sync::Mutex<HashMap<String, commands::containers::CpuSample>>);

/// When the process started, for the first-paint figure the benchmark reads.
static STARTED: OnceLock<Instant> = OnceLock::new();

/// The UI calls this once its first frame is drawn; the time since start goes to the log.
#[tauri::command]
fn ui_ready() {
    static REPORTED: OnceLock<()> = OnceLock::new();
    if REPORTED.set(()).is_ok() {
        let ms = STARTED.get().map_or(0, |t| t.elapsed().as_millis());
        tracing::info!(ms, "first paint");
    }
}

/// WebKitGTK's compositing mode keeps GL buffers in the web process: about 60 MB of private memory
/// for a dashboard that needs none of it, which would put the app over its 80 MB budget. It stays
/// off unless asked for (`BERTH_WEBKIT_COMPOSITING=1`; WebKitWebDriver's screenshots need it).
#[cfg(target_os = "linux")]
fn lean_webkit() {
    const WEBKIT_VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(WEBKIT_VAR).is_none() && std::env::var("BERTH_WEBKIT_COMPOSITING").as_deref() != Ok("1") {
        // Still single-threaded here: nothing else reads the environment yet.
        std::env::set_var(WEBKIT_VAR, "1");
    }
}

fn main() {
    STARTED.get_or_init(Instant::now);
    #[cfg(target_os = "linux")]
    lean_webkit();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        ))
        .with_writer(std::io::stderr)
        .init();
    let engine = Engine::new();
    tauri::Builder::default()
        .manage(engine.clone())
        .manage(LogFollowers::default())
        .manage(UsageSamples::default())
        .invoke_handler(tauri::generate_handler![
            ui_ready,
            commands::engine::engine_status,
            commands::engine::engine_start,
            commands::engine::engine_stop,
            commands::engine::engine_restart,
            commands::engine::use_berth_context,
            commands::engine::quit_app,
            commands::containers::list_containers,
            commands::containers::container_action,
            commands::containers::container_inspect,
            commands::containers::container_stats,
            commands::containers::containers_usage,
            commands::containers::container_logs,
            commands::containers::stop_logs,
            commands::containers::run_container,
            commands::images::list_images,
            commands::images::pull_image,
            commands::images::remove_image,
            commands::images::prune_images,
            commands::system::system_info,
            commands::system::system_df,
            commands::system::prune,
            commands::registries::list_registries,
            commands::registries::registry_login,
            commands::registries::registry_logout,
        ])
        .setup(move |app| {
            let mut hosted = tray::host_present();
            if !hosted {
                tracing::warn!(
                    "no system tray on this desktop (no StatusNotifierWatcher on the session bus): \
                     Berth runs without its tray icon, and closing the window quits it"
                );
            }
            if let Err(e) = tray::create(app.handle()) {
                tracing::warn!("no tray icon: {e}");
                hosted = false;
            }
            app.manage(tray::Hosted(hosted));
            watch::spawn(app.handle().clone(), engine.clone());
            tauri::async_runtime::spawn_blocking(registries::adopt_on_first_run);
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the dashboard keeps Berth running in the tray; Quit is in the tray menu.
            if let WindowEvent::CloseRequested { api, .. } = event {
                let hosted = window.app_handle().try_state::<tray::Hosted>().is_some_and(|h| h.0);
                if hosted && std::env::var_os("BERTH_QUIT_ON_CLOSE").is_none() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .run(tauri::generate_context!())
        .expect("Berth Desktop failed to start");
}
