//! The Docker Engine API as Berth serves it: wire types, the route table,
//! version negotiation, hijacked and multiplexed streams, and the mapping
//! of engine errors to HTTP statuses.

mod blocking_io;
pub mod body;
mod detach;
pub mod error;
mod handlers;
pub mod hijack;
mod progress;
pub mod query;
pub mod router;
pub mod server;
pub mod state;
pub mod stream;
pub mod types;
pub mod version;

pub use router::router;
pub use server::serve;
pub use state::AppState;
