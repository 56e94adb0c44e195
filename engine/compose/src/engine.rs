//! Finding the engine the way the docker CLI does: `--host`, `DOCKER_HOST`, `--context`,
//! `DOCKER_CONTEXT`, the current context in `config.json`, then the default socket.

use std::path::{Path, PathBuf};

use bollard::Docker;
use sha2::{Digest, Sha256};

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
const TIMEOUT_SECS: u64 = 600;

/// The docker CLI's own global flags, as given before `compose` when run as a plugin.
#[derive(Debug, Default, Clone)]
pub struct Target {
    pub host: Option<String>,
    pub context: Option<String>,
    pub config_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("context {0:?} does not exist")]
    NoContext(String),
    #[error("reading context {0:?}: {1}")]
    BadContext(String, String),
    #[error("unsupported engine address {0:?}: use unix://, tcp:// or http://")]
    Scheme(String),
    #[error("cannot connect to the engine at {0}: {1}")]
    Connect(String, bollard::errors::Error),
}

impl Target {
    fn config_dir(&self) -> PathBuf {
        self.config_dir
            .clone()
            .or_else(|| std::env::var_os("DOCKER_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| Path::new(&std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join(".docker"))
    }

    /// The engine address this invocation talks to.
    pub fn resolve_host(&self) -> Result<String, EngineError> {
        if let Some(h) = &self.host {
            return Ok(h.clone());
        }
        let context = self.context.clone().or_else(|| std::env::var("DOCKER_CONTEXT").ok().filter(|c| !c.is_empty()));
        if context.is_none() {
            if let Ok(h) = std::env::var("DOCKER_HOST") {
                if !h.is_empty() {
                    return Ok(h);
                }
            }
        }
        let dir = self.config_dir();
        let context = context.or_else(|| current_context(&dir)).filter(|c| c != "default");
        match context {
            Some(name) => context_host(&dir, &name),
            None => Ok(DEFAULT_HOST.to_string()),
        }
    }

    pub fn connect(&self) -> Result<Docker, EngineError> {
        let host = self.resolve_host()?;
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(
                &host.replacen("tcp://", "http://", 1),
                TIMEOUT_SECS,
                bollard::API_DEFAULT_VERSION,
            )
        } else {
            return Err(EngineError::Scheme(host));
        };
        docker.map_err(|e| EngineError::Connect(host, e))
    }
}

fn current_context(config_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_dir.join("config.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("currentContext")?.as_str().filter(|c| !c.is_empty()).map(String::from)
}

/// The docker endpoint of a context in the CLI's store (`contexts/meta/<sha256(name)>/meta.json`).
fn context_host(config_dir: &Path, name: &str) -> Result<String, EngineError> {
    let digest = format!("{:x}", Sha256::digest(name.as_bytes()));
    let meta = config_dir.join("contexts/meta").join(digest).join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|_| EngineError::NoContext(name.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| EngineError::BadContext(name.to_string(), e.to_string()))?;
    json.pointer("/Endpoints/docker/Host")
        .and_then(|h| h.as_str())
        .map(String::from)
        .ok_or_else(|| EngineError::BadContext(name.to_string(), "no docker endpoint".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_from_the_cli_store() {
        let dir = tempfile::tempdir().unwrap();
        let digest = format!("{:x}", Sha256::digest(b"berth"));
        let meta = dir.path().join("contexts/meta").join(digest);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"berth","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/berth/berth.sock","SkipTLSVerify":false}}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"currentContext":"berth"}"#).unwrap();
        assert_eq!(current_context(dir.path()).as_deref(), Some("berth"));
        assert_eq!(context_host(dir.path(), "berth").unwrap(), "unix:///run/berth/berth.sock");
        assert!(matches!(context_host(dir.path(), "nope"), Err(EngineError::NoContext(_))));
        let explicit = Target { host: Some("unix:///x.sock".into()), ..Default::default() };
        assert_eq!(explicit.resolve_host().unwrap(), "unix:///x.sock");
    }
}
