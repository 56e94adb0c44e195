//! The tray menu: a pure model built from the engine status and the running containers, turned
//! into a Tauri menu, and the actions its items trigger.

use bollard::query_parameters::ListContainersOptionsBuilder;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::engine::{Engine, EngineStatus, State};

const TRAY_ID: &str = "berth";

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Label(String),
    Action { id: String, text: String, enabled: bool },
    Separator,
    Submenu { text: String, items: Vec<Entry> },
}

/// What the tray needs to know of a running container.
#[derive(Debug, Clone, PartialEq)]
pub struct TrayContainer {
    pub id: String,
    pub name: String,
    pub first_port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Open,
    EngineStart,
    EngineStop,
    EngineRestart,
    Quit,
    Stop(String),
    Restart(String),
    Browse(u16),
    Logs(String),
}

fn action(id: impl Into<String>, text: impl Into<String>, enabled: bool) -> Entry {
    Entry::Action { id: id.into(), text: text.into(), enabled }
}

pub fn model(status: &EngineStatus, running: &[TrayContainer]) -> Vec<Entry> {
    let up = status.state == State::Running;
    let line = match (&status.state, &status.version) {
        (State::Running, Some(v)) => format!("Engine running (version {v})"),
        (State::Running, None) => "Engine running".to_string(),
        (State::Starting, _) => "Engine starting…".to_string(),
        (State::Stopped, _) => "Engine stopped".to_string(),
        (State::Unreachable, _) => "Engine not reachable".to_string(),
    };
    let mut items = vec![Entry::Label(line), action("open", "Open Dashboard", true), Entry::Separator];
    items.push(action("engine:start", "Start Engine", !up));
    items.push(action("engine:stop", "Stop Engine", up));
    items.push(action("engine:restart", "Restart Engine", up));
    if up {
        let containers: Vec<Entry> = if running.is_empty() {
            vec![Entry::Label("No running containers".into())]
        } else {
            running
                .iter()
                .map(|c| {
                    let mut sub = vec![
                        action(format!("container:stop:{}", c.id), "Stop", true),
                        action(format!("container:restart:{}", c.id), "Restart", true),
                    ];
                    if let Some(port) = c.first_port {
                        sub.push(action(
                            format!("container:browse:{port}"),
                            format!("Open in Browser (:{port})"),
                            true,
                        ));
                    }
                    sub.push(action(format!("container:logs:{}", c.id), "Logs", true));
                    Entry::Submenu { text: c.name.clone(), items: sub }
                })
                .collect()
        };
        items.push(Entry::Separator);
        items.push(Entry::Submenu { text: format!("Containers ({})", running.len()), items: containers });
    }
    items.push(Entry::Separator);
    items.push(action("quit", "Quit Berth", true));
    items
}

pub fn parse_action(id: &str) -> Option<Action> {
    Some(match id.split_once(':') {
        None => match id {
            "open" => Action::Open,
            "quit" => Action::Quit,
            _ => return None,
        },
        Some(("engine", "start")) => Action::EngineStart,
        Some(("engine", "stop")) => Action::EngineStop,
        Some(("engine", "restart")) => Action::EngineRestart,
        Some(("container", rest)) => match rest.split_once(':')? {
            ("stop", id) => Action::Stop(id.into()),
            ("restart", id) => Action::Restart(id.into()),
            ("logs", id) => Action::Logs(id.into()),
            ("browse", port) => Action::Browse(port.parse().ok()?),
            _ => return None,
        },
        _ => return None,
    })
}

fn build<R: Runtime>(app: &AppHandle<R>, entries: &[Entry]) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for e in entries {
        match e {
            Entry::Submenu { text, items } => menu.append(&submenu(app, text, items)?)?,
            other => append_item(app, &menu, other)?,
        }
    }
    Ok(menu)
}

fn submenu<R: Runtime>(app: &AppHandle<R>, text: &str, items: &[Entry]) -> tauri::Result<Submenu<R>> {
    let sub = Submenu::new(app, text, true)?;
    for e in items {
        match e {
            Entry::Submenu { text, items } => sub.append(&submenu(app, text, items)?)?,
            Entry::Label(text) => sub.append(&MenuItem::new(app, text, false, None::<&str>)?)?,
            Entry::Action { id, text, enabled } => {
                sub.append(&MenuItem::with_id(app, id, text, *enabled, None::<&str>)?)?
            }
            Entry::Separator => sub.append(&PredefinedMenuItem::separator(app)?)?,
        }
    }
    Ok(sub)
}

fn append_item<R: Runtime>(app: &AppHandle<R>, menu: &Menu<R>, e: &Entry) -> tauri::Result<()> {
    match e {
        Entry::Label(text) => menu.append(&MenuItem::new(app, text, false, None::<&str>)?),
        Entry::Action { id, text, enabled } => menu.append(&MenuItem::with_id(app, id, text, *enabled, None::<&str>)?),
        Entry::Separator => menu.append(&PredefinedMenuItem::separator(app)?),
        Entry::Submenu { .. } => Ok(()),
    }
}

/// Whether a tray host shows the icon: the app state that closing the window consults, since
/// hiding the only window with no icon to bring it back would leave Berth unreachable.
pub struct Hosted(pub bool);

/// Whether a panel hosts tray icons: on Linux a StatusNotifierWatcher on the session bus, which
/// libayatana-appindicator registers with (it says nothing when there is none).
#[cfg(target_os = "linux")]
pub fn host_present() -> bool {
    use gio::prelude::*;
    // Without a session bus, GIO would launch one on the X display: there is no panel anyway.
    let bus_file = std::env::var_os("XDG_RUNTIME_DIR").map(|d| std::path::Path::new(&d).join("bus"));
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() && !bus_file.is_some_and(|b| b.exists()) {
        return false;
    }
    let Ok(bus) = gio::bus_get_sync(gio::BusType::Session, gio::Cancellable::NONE) else { return false };
    let reply = bus.call_sync(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "NameHasOwner",
        Some(&("org.kde.StatusNotifierWatcher",).to_variant()),
        Some(gio::glib::VariantTy::new("(b)").expect("a valid type string")),
        gio::DBusCallFlags::NONE,
        2000,
        gio::Cancellable::NONE,
    );
    reply.ok().and_then(|v| v.get::<(bool,)>()).is_some_and(|(owned,)| owned)
}

#[cfg(not(target_os = "linux"))]
pub fn host_present() -> bool {
    true
}

/// Creates the tray icon. Without a tray host (e.g. Xvfb alone) the icon is not shown and the app
/// goes on.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let status = EngineStatus {
        state: State::Unreachable,
        host: String::new(),
        version: None,
        api_version: None,
        os: None,
        managed: false,
        message: None,
        start_hint: None,
    };
    let menu = build(app, &model(&status, &[]))?;
    let mut tray = TrayIconBuilder::with_id(TRAY_ID).menu(&menu).tooltip("Berth").on_menu_event(|app, event| {
        if let Some(a) = parse_action(event.id().as_ref()) {
            perform(app.clone(), a);
        }
    });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Rebuilds the menu from the engine's current state.
pub async fn refresh(app: &AppHandle, engine: &Engine) {
    let status = engine.status().await;
    let running = match engine.docker().await {
        Ok(docker) if status.state == State::Running => {
            docker.list_containers(Some(ListContainersOptionsBuilder::new().build())).await.unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let running: Vec<TrayContainer> = running
        .into_iter()
        .map(|c| TrayContainer {
            id: c.id.unwrap_or_default(),
            name: c.names.and_then(|n| n.into_iter().next()).unwrap_or_default().trim_start_matches('/').to_string(),
            first_port: c.ports.unwrap_or_default().iter().find_map(|p| p.public_port),
        })
        .collect();
    let entries = model(&status, &running);
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        match build(app, &entries) {
            Ok(menu) => {
                let _ = tray.set_menu(Some(menu));
            }
            Err(e) => tracing::warn!("tray menu: {e}"),
        }
    }
}

fn show_window(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.set_focus();
    }
}

fn perform(app: AppHandle, a: Action) {
    tauri::async_runtime::spawn(async move {
        let engine = app.state::<Engine>().inner().clone();
        let result: Result<(), String> = match a {
            Action::Open => {
                show_window(&app);
                Ok(())
            }
            Action::EngineStart => engine.start().await.map(|_| ()).map_err(|e| e.0),
            Action::EngineStop => engine.stop().await.map(|_| ()).map_err(|e| e.0),
            Action::EngineRestart => engine.restart().await.map(|_| ()).map_err(|e| e.0),
            Action::Quit => {
                // When the app started the engine, the user decides whether it goes too.
                if engine.managed().await {
                    show_window(&app);
                    app.emit("confirm-quit", ()).map_err(|e| e.to_string())
                } else {
                    app.exit(0);
                    Ok(())
                }
            }
            Action::Stop(id) => match engine.docker().await {
                Ok(d) => d
                    .stop_container(&id, None::<bollard::query_parameters::StopContainerOptions>)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.0),
            },
            Action::Restart(id) => match engine.docker().await {
                Ok(d) => d
                    .restart_container(&id, None::<bollard::query_parameters::RestartContainerOptions>)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.0),
            },
            Action::Browse(port) => open_url(&format!("http://localhost:{port}/")),
            Action::Logs(id) => {
                show_window(&app);
                app.emit("show-logs", id).map_err(|e| e.to_string())
            }
        };
        if let Err(e) = result {
            tracing::warn!("tray action failed: {e}");
            let _ = app.emit("app-error", e);
        }
        refresh(&app, &engine).await;
    });
}

/// The desktop's opener; the app never runs the docker CLI, only the system's URL handler.
fn open_url(url: &str) -> Result<(), String> {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    std::process::Command::new(opener).arg(url).spawn().map(|_| ()).map_err(|e| format!("{opener} {url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: State) -> EngineStatus {
        EngineStatus {
            state,
            host: "unix:///run/berth/berth.sock".into(),
            version: Some("0.1.0".into()),
            api_version: None,
            os: None,
            managed: false,
            message: None,
            start_hint: None,
        }
    }

    fn ids(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .flat_map(|e| match e {
                Entry::Action { id, enabled: true, .. } => vec![id.clone()],
                Entry::Submenu { items, .. } => ids(items),
                _ => vec![],
            })
            .collect()
    }

    #[test]
    fn running_engine_lists_containers_with_actions() {
        let running = [
            TrayContainer { id: "abc".into(), name: "web".into(), first_port: Some(8080) },
            TrayContainer { id: "def".into(), name: "db".into(), first_port: None },
        ];
        let m = model(&status(State::Running), &running);
        assert_eq!(m[0], Entry::Label("Engine running (version 0.1.0)".into()));
        assert_eq!(
            ids(&m),
            [
                "open",
                "engine:stop",
                "engine:restart",
                "container:stop:abc",
                "container:restart:abc",
                "container:browse:8080",
                "container:logs:abc",
                "container:stop:def",
                "container:restart:def",
                "container:logs:def",
                "quit",
            ]
        );
        for id in ids(&m) {
            assert!(parse_action(&id).is_some(), "{id}");
        }
        assert_eq!(parse_action("container:browse:8080"), Some(Action::Browse(8080)));
        assert_eq!(parse_action("container:logs:abc"), Some(Action::Logs("abc".into())));
        assert_eq!(parse_action("bogus"), None);
    }

    #[test]
    fn stopped_engine_offers_start_only() {
        let m = model(&status(State::Unreachable), &[]);
        assert_eq!(m[0], Entry::Label("Engine not reachable".into()));
        assert_eq!(ids(&m), ["open", "engine:start", "quit"]);
    }
}
