//! Tauri commands: the UI's only way to the engine. Each is thin and calls bollard; the wire JSON
//! goes to the UI as Docker sends it, and errors as messages.

pub mod containers;
pub mod engine;
pub mod images;
pub mod registries;
pub mod system;
