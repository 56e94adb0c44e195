//! Request handlers, one file per API area. Each handler parses the request,
//! calls a service and converts the result to wire types; nothing more.

pub mod archive;
pub mod attach;
pub mod auth;
pub mod build;
pub mod container_create;
pub mod containers;
pub mod events;
pub mod exec;
pub mod images;
pub mod network_view;
pub mod networks;
pub mod plugins;
pub mod stats;
pub mod swarm;
pub mod system;
pub mod volumes;
