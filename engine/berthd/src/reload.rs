//! SIGHUP: re-read daemon.json and apply what can change while running, as
//! dockerd does, announcing it with a `daemon reload` event.

use std::collections::BTreeMap;

use berth_core::config::SharedConfig;
use berth_core::events::{Event, EventBus, ObjectType};

use crate::cli::Flags;
use crate::settings;

pub fn reload(flags: &Flags, config: &SharedConfig, events: &EventBus, id: &str) {
    let fresh = match settings::resolve(flags) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("reload failed, configuration unchanged: {}", berth_api::error::message_chain(&e));
            return;
        }
    };
    for w in &fresh.warnings {
        tracing::warn!("{w}");
    }
    let current = config.get();
    let new = fresh.engine;
    if new.data_root != current.data_root || new.exec_root != current.exec_root {
        tracing::warn!("data-root and exec-root changes take effect after a restart");
    }
    let mut next = (*current).clone();
    next.debug = new.debug;
    next.labels = new.labels;
    next.live_restore = new.live_restore;
    next.registry_mirrors = new.registry_mirrors;
    next.insecure_registries = new.insecure_registries;
    next.runtimes = new.runtimes;
    next.default_runtime = new.default_runtime;

    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    let hostname = nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default();
    let attributes = BTreeMap::from([
        ("debug".to_string(), next.debug.to_string()),
        ("labels".to_string(), json(&next.labels)),
        ("live-restore".to_string(), next.live_restore.to_string()),
        ("registry-mirrors".to_string(), json(&next.registry_mirrors)),
        ("insecure-registries".to_string(), json(&next.insecure_registries)),
        ("default-runtime".to_string(), next.default_runtime.clone()),
        ("name".to_string(), hostname),
    ]);
    config.replace(next);
    tracing::info!("configuration reloaded");
    events.publish(Event::now(ObjectType::Daemon, "reload", id, attributes));
}
