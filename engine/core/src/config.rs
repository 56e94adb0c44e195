//! The engine's resolved settings: flags and daemon.json merged by `berthd`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    pub path: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPool {
    pub base: String,
    pub size: u8,
}

/// How the binary was built, reported by `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: String,
    pub git_commit: String,
    pub rustc: String,
    pub build_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    pub debug: bool,
    pub experimental: bool,
    pub live_restore: bool,
    pub labels: Vec<String>,
    /// daemon.json `log-driver` and `log-opts`: what containers log with
    /// unless they say otherwise.
    pub log_driver: String,
    pub log_opts: BTreeMap<String, String>,
    /// daemon.json `init`: containers that do not say get `--init`.
    pub init: bool,
    /// The static init binary bind-mounted as the container's PID 1 with
    /// `--init` (daemon.json `init-path`; berth-init beside berthd).
    pub init_path: PathBuf,
    pub default_runtime: String,
    pub runtimes: BTreeMap<String, RuntimeConfig>,
    pub cgroup_driver: String,
    pub registry_mirrors: Vec<String>,
    pub insecure_registries: Vec<String>,
    pub default_address_pools: Vec<AddressPool>,
    /// The default bridge's device name (dockerd's `--bridge`).
    pub bridge: String,
    /// The default bridge's address and subnet, e.g. `172.30.0.1/16` (`--bip`).
    pub bip: Option<String>,
    /// IPv6 on the default bridge too (`--ipv6`).
    pub ipv6: bool,
    /// The default bridge's IPv6 subnet (`--fixed-cidr-v6`); a unique local /64 when unset.
    pub fixed_cidr_v6: Option<String>,
    pub http_proxy: String,
    pub https_proxy: String,
    pub no_proxy: String,
    pub build: BuildInfo,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            data_root: PathBuf::from("/var/lib/berth"),
            exec_root: PathBuf::from("/run/berth"),
            debug: false,
            experimental: false,
            live_restore: false,
            labels: Vec::new(),
            log_driver: "json-file".into(),
            log_opts: BTreeMap::new(),
            init: false,
            init_path: PathBuf::from("berth-init"),
            default_runtime: "runc".into(),
            runtimes: BTreeMap::from([("runc".into(), RuntimeConfig { path: "runc".into(), args: Vec::new() })]),
            cgroup_driver: "cgroupfs".into(),
            registry_mirrors: Vec::new(),
            insecure_registries: Vec::new(),
            default_address_pools: Vec::new(),
            bridge: "berth0".into(),
            bip: None,
            ipv6: false,
            fixed_cidr_v6: None,
            http_proxy: String::new(),
            https_proxy: String::new(),
            no_proxy: String::new(),
            build: BuildInfo::default(),
        }
    }
}

/// The live configuration: readers take a snapshot, a reload swaps it whole.
#[derive(Debug, Clone)]
pub struct SharedConfig(Arc<RwLock<Arc<EngineConfig>>>);

impl SharedConfig {
    pub fn new(config: EngineConfig) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(config))))
    }

    pub fn get(&self) -> Arc<EngineConfig> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn replace(&self, config: EngineConfig) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
    }
}
