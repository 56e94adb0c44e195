//! daemon.json: dockerd's configuration file format, read by berthd.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The keys berthd understands. Keys of dockerd's that Berth does not act on
/// yet are listed in [`NOT_YET_SUPPORTED`] so users are told, not ignored.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct DaemonJson {
    pub hosts: Option<Vec<String>>,
    pub data_root: Option<PathBuf>,
    pub exec_root: Option<PathBuf>,
    pub pidfile: Option<PathBuf>,
    pub debug: Option<bool>,
    pub log_level: Option<String>,
    pub group: Option<String>,
    pub labels: Option<Vec<String>>,
    pub experimental: Option<bool>,
    pub live_restore: Option<bool>,
    pub log_driver: Option<String>,
    pub log_opts: Option<BTreeMap<String, String>>,
    pub init: Option<bool>,
    pub init_path: Option<PathBuf>,
    pub storage_driver: Option<String>,
    pub default_runtime: Option<String>,
    pub runtimes: Option<BTreeMap<String, RuntimeJson>>,
    pub exec_opts: Option<Vec<String>>,
    pub registry_mirrors: Option<Vec<String>>,
    pub insecure_registries: Option<Vec<String>>,
    pub default_address_pools: Option<Vec<AddressPoolJson>>,
    pub proxies: Option<ProxiesJson>,
    pub bridge: Option<String>,
    pub bip: Option<String>,
    pub ipv6: Option<bool>,
    #[serde(rename = "fixed-cidr-v6")]
    pub fixed_cidr_v6: Option<String>,
    pub tls: Option<bool>,
    pub tlsverify: Option<bool>,
    pub tlscacert: Option<PathBuf>,
    pub tlscert: Option<PathBuf>,
    pub tlskey: Option<PathBuf>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct RuntimeJson {
    pub path: String,
    #[serde(default, rename = "runtimeArgs")]
    pub runtime_args: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct AddressPoolJson {
    pub base: String,
    pub size: u8,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct ProxiesJson {
    #[serde(default, rename = "http-proxy")]
    pub http_proxy: String,
    #[serde(default, rename = "https-proxy")]
    pub https_proxy: String,
    #[serde(default, rename = "no-proxy")]
    pub no_proxy: String,
}

/// dockerd keys that berthd accepts but does not act on yet.
const NOT_YET_SUPPORTED: &[&str] = &[
    "builder",
    "cgroup-parent",
    "default-cgroupns-mode",
    "default-gateway",
    "default-ipc-mode",
    "default-shm-size",
    "default-ulimits",
    "dns",
    "dns-opts",
    "dns-search",
    "features",
    "fixed-cidr",
    "icc",
    "ip",
    "ip-forward",
    "ip-masq",
    "ip6tables",
    "iptables",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "mtu",
    "no-new-privileges",
    "seccomp-profile",
    "selinux-enabled",
    "shutdown-timeout",
    "storage-opts",
    "userland-proxy",
    "userns-remap",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("unable to read configuration file {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid JSON in configuration file {path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
}

/// A parsed file plus what the user should be warned about.
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: DaemonJson,
    /// Keys present in the file, for detecting flag/file conflicts.
    pub keys: Vec<String>,
    pub warnings: Vec<String>,
}

/// Reads `path`. A missing file is fine unless `required` (the user named it).
pub fn load(path: &Path, required: bool) -> Result<Loaded, ConfigFileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(Loaded::default()),
        Err(source) => return Err(ConfigFileError::Read { path: path.into(), source }),
    };
    parse(&text).map_err(|source| ConfigFileError::Json { path: path.into(), source })
}

fn parse(text: &str) -> Result<Loaded, serde_json::Error> {
    if text.trim().is_empty() {
        return Ok(Loaded::default());
    }
    let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)?;
    let mut known = serde_json::Map::new();
    let mut warnings = Vec::new();
    let keys: Vec<String> = raw.keys().cloned().collect();
    for (key, value) in raw {
        if KNOWN_KEYS.contains(&key.as_str()) {
            known.insert(key, value);
        } else if NOT_YET_SUPPORTED.contains(&key.as_str()) {
            warnings.push(format!("configuration key {key:?} is not supported by berthd yet; ignored"));
        } else {
            warnings.push(format!("unknown configuration key {key:?}; ignored"));
        }
    }
    let config = serde_json::from_value(serde_json::Value::Object(known))?;
    Ok(Loaded { config, keys, warnings })
}

const KNOWN_KEYS: &[&str] = &[
    "hosts",
    "data-root",
    "exec-root",
    "pidfile",
    "debug",
    "log-level",
    "group",
    "labels",
    "experimental",
    "live-restore",
    "log-driver",
    "log-opts",
    "init",
    "init-path",
    "storage-driver",
    "default-runtime",
    "runtimes",
    "exec-opts",
    "registry-mirrors",
    "insecure-registries",
    "default-address-pools",
    "proxies",
    "bridge",
    "bip",
    "ipv6",
    "fixed-cidr-v6",
    "tls",
    "tlsverify",
    "tlscacert",
    "tlscert",
    "tlskey",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_unknown_and_unsupported_keys() {
        let l = parse(r#"{"debug": true, "labels": ["a=b"], "colour": 1, "mtu": 1400}"#).unwrap();
        assert_eq!(l.config.debug, Some(true));
        assert_eq!(l.config.labels, Some(vec!["a=b".to_string()]));
        assert_eq!(l.warnings.len(), 2);
        assert!(l.warnings[0].contains("unknown configuration key \"colour\""));
        assert!(l.warnings[1].contains("\"mtu\" is not supported"));
        let l =
            parse(r#"{"bip": "10.9.0.1/24", "bridge": "b9", "ipv6": true, "fixed-cidr-v6": "fd00:9::/64"}"#).unwrap();
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(l.config.bip.as_deref(), Some("10.9.0.1/24"));
        assert_eq!(l.config.fixed_cidr_v6.as_deref(), Some("fd00:9::/64"));
    }

    #[test]
    fn bad_json_and_bad_types_are_errors() {
        assert!(parse("{\"debug\": ").is_err());
        assert!(parse(r#"{"debug": "yes"}"#).is_err());
        assert!(parse("[]").is_err());
    }

    #[test]
    fn missing_file_only_matters_when_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.json");
        assert!(load(&path, false).is_ok());
        let err = load(&path, true).unwrap_err();
        assert!(err.to_string().contains("unable to read configuration file"));
    }
}
