//! The `berth` docker context, written in the CLI's own store so `docker --context berth` reaches
//! the engine the app found.

use std::path::Path;

use serde_json::{json, Value};

use crate::json_file;

use super::locate::{context_meta_dir, CONTEXT_NAME};

/// Creates or updates the `berth` context to point at `host`; leaves it alone when it already does.
pub fn write_context(config_dir: &Path, host: &str) -> std::io::Result<bool> {
    let dir = context_meta_dir(config_dir, CONTEXT_NAME);
    let path = dir.join("meta.json");
    let mut meta = json_file::read_object(&path)
        .ok()
        .filter(|m| m.get("Name").is_some())
        .unwrap_or_else(|| json!({"Name": CONTEXT_NAME, "Metadata": {"Description": "Berth engine"}}));
    if meta.pointer("/Endpoints/docker/Host").and_then(Value::as_str) == Some(host) {
        return Ok(false);
    }
    meta["Endpoints"] = json!({"docker": {"Host": host, "SkipTLSVerify": false}});
    json_file::write(&path, &meta)?;
    Ok(true)
}

/// Makes `berth` the CLI's current context, keeping every other setting of config.json.
pub fn use_context(config_dir: &Path) -> std::io::Result<()> {
    let path = config_dir.join("config.json");
    let mut config = json_file::read_object(&path)?;
    config["currentContext"] = json!(CONTEXT_NAME);
    json_file::write(&path, &config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::locate::context_host;

    #[test]
    fn context_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_context(dir.path(), "unix:///run/berth/berth.sock").unwrap());
        assert!(!write_context(dir.path(), "unix:///run/berth/berth.sock").unwrap(), "unchanged");
        assert_eq!(context_host(dir.path(), "berth").as_deref(), Some("unix:///run/berth/berth.sock"));
        assert!(write_context(dir.path(), "unix:///other.sock").unwrap());
        assert_eq!(context_host(dir.path(), "berth").as_deref(), Some("unix:///other.sock"));

        std::fs::write(dir.path().join("config.json"), r#"{"auths":{"r":{}},"credsStore":"berth"}"#).unwrap();
        use_context(dir.path()).unwrap();
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap()).unwrap();
        assert_eq!(config["currentContext"], "berth");
        assert_eq!(config["credsStore"], "berth");
        assert!(config["auths"]["r"].is_object());
    }
}
