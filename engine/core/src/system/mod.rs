//! What `GET /info`, `GET /version` and `GET /system/df` report: host facts,
//! the engine's configuration and the state of its stores.

mod cgroups;
mod host;
mod identity;
mod runtime;
mod storage;

pub use cgroups::{CgroupVersion, Cgroups};
pub use host::{oci_arch, Host};
pub use identity::{engine_id, IdentityError};
pub use runtime::RuntimeVersion;

use std::sync::Arc;

use crate::config::{EngineConfig, SharedConfig};
use crate::events::EventBus;

/// Everything `GET /info` shows, gathered fresh on each call.
#[derive(Debug, Clone)]
pub struct SystemReport {
    pub id: String,
    pub host: Host,
    pub cgroups: Cgroups,
    pub backing_filesystem: String,
    pub supports_d_type: bool,
    pub default_runtime: Option<RuntimeVersion>,
    pub event_listeners: usize,
    pub open_fds: usize,
    pub tasks: usize,
    pub warnings: Vec<String>,
}

/// The system service: reads host facts and asks the other services for
/// their state. Cheap to clone.
#[derive(Clone)]
pub struct SystemService {
    config: SharedConfig,
    events: Arc<EventBus>,
    id: String,
}

impl SystemService {
    pub fn new(config: SharedConfig, events: Arc<EventBus>, id: String) -> Self {
        Self { config, events, id }
    }

    /// A snapshot of the current configuration.
    pub fn config(&self) -> Arc<EngineConfig> {
        self.config.get()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Gathers the report; blocking file reads, so call it off the reactor.
    pub fn report(&self) -> SystemReport {
        let config = self.config.get();
        let cgroups = Cgroups::probe();
        let supports_d_type = storage::supports_d_type(&config.data_root);
        let mut warnings = cgroups.warnings();
        if !supports_d_type {
            warnings
                .push("WARNING: the data root's filesystem does not support d_type; overlayfs will misbehave".into());
        }
        SystemReport {
            id: self.id.clone(),
            host: Host::probe(),
            backing_filesystem: storage::backing_filesystem(&config.data_root),
            supports_d_type,
            cgroups,
            default_runtime: self.runtime_version(),
            event_listeners: self.events.listeners(),
            open_fds: std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0),
            tasks: tokio::runtime::Handle::try_current().map(|h| h.metrics().num_alive_tasks()).unwrap_or(0),
            warnings,
        }
    }

    /// Version of the default OCI runtime, if its binary answers.
    pub fn runtime_version(&self) -> Option<RuntimeVersion> {
        let config = self.config.get();
        let rt = config.runtimes.get(&config.default_runtime)?;
        RuntimeVersion::probe(&rt.path)
    }
}
