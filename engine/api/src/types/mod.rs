//! Wire types of the Docker Engine API, named as the v1.50 specification
//! names them. Handlers build these; nothing else serializes JSON by hand.

mod containers;
mod df;
mod events;
mod host_config;
mod images;
mod networks;
mod system;
mod volumes;

pub use containers::*;
pub use df::*;
pub use events::*;
pub use host_config::*;
pub use images::*;
pub use networks::*;
pub use system::*;
pub use volumes::*;

use serde::Serialize;

/// The body of every error response: `{"message": "..."}`.
#[derive(Debug, Serialize)]
pub struct ErrorResponse {
    pub message: String,
}
