//! Talking to registries: the distribution API v2, its manifests and its
//! authentication.

pub mod auth;
mod client;
pub mod manifest;

pub use auth::Credentials;
pub use client::{DistributionError, RegistryClient, Repository, SearchResult};
