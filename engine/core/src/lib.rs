//! Berth engine services. Data flows one way: the API calls these services,
//! and they talk to stores, the runtime and the kernel.

pub mod builder;
pub mod compression;
pub mod config;
pub mod containers;
pub mod content;
pub mod distribution;
pub mod error;
pub mod events;
pub mod filters;
pub mod images;
pub mod network;
pub mod reference;
pub mod snapshots;
pub mod system;
pub mod volumes;

pub use error::{Classify, ErrorKind};
