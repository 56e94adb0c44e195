//! Talking to registries: the distribution API v2, its manifests and its
//! authentication.

pub mod auth;
mod client;
mod login;
pub mod manifest;
mod token;

pub use auth::Credentials;
pub use client::{DistributionError, RegistryClient, Repository, SearchResult};
pub use login::Login;
