//! What the engine remembers about a container, persisted as JSON in its
//! directory and replaced atomically on every change.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::content::Digest;

/// How a container was asked to run, with the image's defaults applied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// The image as the user named it.
    pub image: String,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub hostname: String,
    pub domainname: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    /// `port/proto` the container exposes (request and image).
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// The bridge networks it joins, by network name: the one of
    /// `network_mode` first in spirit, plus `NetworkingConfig` and
    /// `network connect`.
    #[serde(default)]
    pub networks: BTreeMap<String, NetworkAttachment>,
    pub host: HostSpec,
}

/// A container's settings on one network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkAttachment {
    /// Extra names there (`--network-alias`).
    pub aliases: Vec<String>,
    /// A fixed address (`--ip`).
    pub ipv4_address: Option<std::net::Ipv4Addr>,
    /// A fixed IPv6 address (`--ip6`).
    #[serde(default)]
    pub ipv6_address: Option<std::net::Ipv6Addr>,
    /// Names only this container resolves there (an endpoint's `Links`).
    #[serde(default)]
    pub links: Vec<super::links::Link>,
    /// `--mac-address` on this network.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// The endpoint's `DriverOpts` and `LinkLocalIPs`, kept and shown.
    #[serde(default)]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(default)]
    pub link_local_ips: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostSpec {
    pub auto_remove: bool,
    pub privileged: bool,
    pub read_only: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// Bytes; 0 is unlimited.
    pub memory: i64,
    pub pids_limit: Option<i64>,
    pub cpu_shares: i64,
    /// CPU quota in 1e-9 CPUs (`--cpus`).
    pub nano_cpus: i64,
    pub network_mode: String,
    pub restart_policy: String,
    pub restart_max_retries: i64,
    #[serde(default)]
    pub port_bindings: Vec<crate::network::PortBinding>,
    /// `-P`: publish every exposed port on a free host port.
    #[serde(default)]
    pub publish_all: bool,
    /// `--add-host NAME:IP` (`host-gateway` for the host's address).
    #[serde(default)]
    pub extra_hosts: Vec<String>,
    /// `--dns`, `--dns-search`, `--dns-option`.
    #[serde(default)]
    pub dns: Vec<String>,
    #[serde(default)]
    pub dns_search: Vec<String>,
    #[serde(default)]
    pub dns_options: Vec<String>,
    /// `--shm-size`, `--sysctl`, `--ulimit`, `--device` and the other finer settings.
    #[serde(default)]
    pub tuning: super::tuning::Tuning,
    /// `--log-driver` and `--log-opt`, resolved against the engine's
    /// default at create.
    #[serde(default)]
    pub log: super::logging::LogConfig,
    /// `--init`; unset follows the engine's `init` setting at each start.
    #[serde(default)]
    pub init: Option<bool>,
    /// `--link`: legacy links on the default bridge, names on the primary
    /// user-defined network.
    #[serde(default)]
    pub links: Vec<super::links::Link>,
    /// `--runtime`: the name of a configured OCI runtime; empty in records older than it.
    #[serde(default)]
    pub runtime: String,
    /// `--pid`, `--ipc`, `--uts` and `--cgroupns`.
    #[serde(default)]
    pub namespaces: super::namespaces::Modes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub oom_killed: bool,
    #[serde(default)]
    pub health: Option<super::health::Health>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: None,
            finished_at: None,
            oom_killed: false,
            health: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub created: String,
    pub image_id: Digest,
    pub spec: ContainerSpec,
    /// The process: entrypoint + cmd resolved.
    pub path: String,
    pub args: Vec<String>,
    /// The request's Config and HostConfig as sent (with image defaults),
    /// returned by inspect.
    pub config_json: serde_json::Value,
    pub host_config_json: serde_json::Value,
    pub state: State,
    pub restart_count: u64,
    /// Stopped or killed by request: restart policies leave it down.
    #[serde(default)]
    pub manually_stopped: bool,
    #[serde(default)]
    pub mounts: Vec<super::mounts::MountSpec>,
    /// The healthcheck in force (request's, else image's); `None`: none.
    #[serde(default)]
    pub health_config: Option<super::health::HealthConfig>,
    /// Its places on networks while it runs, the primary one first.
    #[serde(default)]
    pub endpoints: Vec<crate::network::Endpoint>,
}

impl Container {
    /// The networks it joins, the one `network_mode` names first (that one
    /// carries the default route and the published ports).
    pub fn network_order(&self) -> Vec<(&String, &NetworkAttachment)> {
        let primary = match self.spec.host.network_mode.as_str() {
            "" | "default" => "bridge",
            m => m,
        };
        let mut nets: Vec<_> = self.spec.networks.iter().collect();
        nets.sort_by_key(|(name, _)| name.as_str() != primary);
        nets
    }
}

pub fn save(path: &Path, c: &Container) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut tmp, c)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn load(path: &Path) -> std::io::Result<Container> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}
