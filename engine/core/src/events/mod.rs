//! The engine's event exchange: every service publishes what happened to its
//! objects here, and `GET /events` subscribers read it back, from history
//! (`since`) and live.

mod bus;
mod filter;

pub use bus::{EventBus, Subscription};
pub use filter::{EventFilter, EVENT_FILTER_KEYS};

use std::collections::BTreeMap;

/// The kind of object an event is about, as the Engine API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectType {
    Builder,
    Container,
    Daemon,
    Image,
    Network,
    Plugin,
    Volume,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Builder => "builder",
            Self::Container => "container",
            Self::Daemon => "daemon",
            Self::Image => "image",
            Self::Network => "network",
            Self::Plugin => "plugin",
            Self::Volume => "volume",
        }
    }
}

/// One thing that happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub object: ObjectType,
    pub action: String,
    pub actor_id: String,
    pub attributes: BTreeMap<String, String>,
    /// Nanoseconds since the Unix epoch.
    pub time_nano: i64,
}

impl Event {
    /// An event stamped with the current time.
    pub fn now(
        object: ObjectType,
        action: impl Into<String>,
        actor_id: impl Into<String>,
        attributes: BTreeMap<String, String>,
    ) -> Self {
        Self { object, action: action.into(), actor_id: actor_id.into(), attributes, time_nano: now_nanos() }
    }
}

/// Current wall-clock time in nanoseconds since the Unix epoch.
pub fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}
