//! Where the engine is: the configured address, the `berth` docker context, Berth's default socket,
//! then `DOCKER_HOST` — the first that answers wins.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";
pub const CONTEXT_NAME: &str = "berth";

/// Where a candidate address came from, shown to the user next to it.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Configured,
    Context,
    Default,
    DockerHost,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub host: String,
    pub source: Source,
}

/// The environment the locator reads, so tests can supply their own.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `BERTH_HOST`, or the `engineHost` of the app's settings file.
    pub configured: Option<String>,
    pub docker_host: Option<String>,
    pub docker_config_dir: PathBuf,
    /// `~/.config/berth`.
    pub berth_config_dir: PathBuf,
}

impl Environment {
    pub fn from_process() -> Self {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/root".into());
        let berth_config_dir = home.join(".config/berth");
        let configured =
            std::env::var("BERTH_HOST").ok().filter(|h| !h.is_empty()).or_else(|| settings_host(&berth_config_dir));
        Environment {
            berth_config_dir,
            configured,
            docker_host: std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()),
            docker_config_dir: std::env::var_os("DOCKER_CONFIG")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".docker")),
        }
    }

    /// Berth's settings file, `~/.config/berth/settings.json`.
    pub fn settings_file(&self) -> PathBuf {
        self.berth_config_dir.join("settings.json")
    }
}

/// `engineHost` from Berth's settings file.
fn settings_host(berth_config_dir: &Path) -> Option<String> {
    let json = crate::json_file::read_object(&berth_config_dir.join("settings.json")).ok()?;
    json.get("engineHost")?.as_str().map(String::from)
}

/// Every address worth trying, in order, without duplicates.
pub fn candidates(env: &Environment) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut push = |host: Option<String>, source: Source| {
        if let Some(host) = host {
            if !out.iter().any(|c| c.host == host) {
                out.push(Candidate { host, source });
            }
        }
    };
    push(env.configured.clone(), Source::Configured);
    push(context_host(&env.docker_config_dir, CONTEXT_NAME), Source::Context);
    push(Some(format!("unix://{DEFAULT_SOCKET}")), Source::Default);
    push(env.docker_host.clone(), Source::DockerHost);
    out
}

/// The docker CLI keeps a context's metadata under `contexts/meta/<sha256(name)>/meta.json`.
pub fn context_meta_dir(config_dir: &Path, name: &str) -> PathBuf {
    config_dir.join("contexts/meta").join(format!("{:x}", Sha256::digest(name.as_bytes())))
}

pub fn context_host(config_dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(context_meta_dir(config_dir, name).join("meta.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.pointer("/Endpoints/docker/Host")?.as_str().map(String::from)
}

pub fn connect(host: &str) -> Result<bollard::Docker, String> {
    let docker = if let Some(path) = host.strip_prefix("unix://") {
        bollard::Docker::connect_with_unix(path, 30, bollard::API_DEFAULT_VERSION)
    } else if host.starts_with("tcp://") || host.starts_with("http://") {
        bollard::Docker::connect_with_http(&host.replacen("tcp://", "http://", 1), 30, bollard::API_DEFAULT_VERSION)
    } else {
        return Err(format!("unsupported engine address {host}"));
    };
    docker.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let meta = context_meta_dir(dir.path(), "berth");
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"berth","Endpoints":{"docker":{"Host":"unix:///ctx.sock"}}}"#,
        )
        .unwrap();
        let env = Environment {
            configured: Some("unix:///configured.sock".into()),
            docker_host: Some("unix:///run/berth/berth.sock".into()),
            docker_config_dir: dir.path().into(),
            ..Default::default()
        };
        let got: Vec<(String, Source)> = candidates(&env).into_iter().map(|c| (c.host, c.source)).collect();
        assert_eq!(
            got,
            vec![
                ("unix:///configured.sock".into(), Source::Configured),
                ("unix:///ctx.sock".into(), Source::Context),
                ("unix:///run/berth/berth.sock".into(), Source::Default),
            ]
        );
        let bare = Environment { docker_config_dir: dir.path().join("none"), ..Default::default() };
        assert_eq!(
            candidates(&bare),
            vec![Candidate { host: "unix:///run/berth/berth.sock".into(), source: Source::Default }]
        );
    }
}
