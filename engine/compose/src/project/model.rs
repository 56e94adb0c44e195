//! Typed view of a normalized project: what the convergence code reads. The canonical JSON tree stays
//! the source of truth (it is what `config` prints and what the config hash covers).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::normalize::{scalar_string, truthy};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    #[serde(skip)]
    pub name: String,
    pub image: Option<String>,
    pub build: Option<Build>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub environment: BTreeMap<String, Option<String>>,
    pub ports: Vec<Port>,
    pub expose: Vec<String>,
    pub volumes: Vec<Mount>,
    pub networks: BTreeMap<String, Option<ServiceNetwork>>,
    pub network_mode: Option<String>,
    pub depends_on: BTreeMap<String, Dependency>,
    pub healthcheck: Option<Healthcheck>,
    pub restart: Option<String>,
    pub deploy: Option<Deploy>,
    #[serde(deserialize_with = "lenient::u64_opt")]
    pub scale: Option<u64>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub extra_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub group_add: Vec<Value>,
    pub devices: Vec<Value>,
    #[serde(deserialize_with = "lenient::bool")]
    pub privileged: bool,
    #[serde(deserialize_with = "lenient::bool")]
    pub read_only: bool,
    #[serde(deserialize_with = "lenient::bool_opt")]
    pub init: Option<bool>,
    #[serde(deserialize_with = "lenient::bool")]
    pub tty: bool,
    #[serde(deserialize_with = "lenient::bool")]
    pub stdin_open: bool,
    pub tmpfs: Vec<String>,
    pub stop_signal: Option<String>,
    pub stop_grace_period: Option<String>,
    pub logging: Option<Logging>,
    pub container_name: Option<String>,
    pub pull_policy: Option<String>,
    pub platform: Option<String>,
    pub secrets: Vec<FileRef>,
    pub configs: Vec<FileRef>,
    pub ulimits: BTreeMap<String, Ulimit>,
    pub sysctls: BTreeMap<String, String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub shm_size: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub mem_limit: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub mem_reservation: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub cpus: Option<String>,
    #[serde(deserialize_with = "lenient::u64_opt")]
    pub cpu_shares: Option<u64>,
    pub cpuset: Option<String>,
    #[serde(deserialize_with = "lenient::u64_opt")]
    pub pids_limit: Option<u64>,
    pub pid: Option<String>,
    pub ipc: Option<String>,
    pub uts: Option<String>,
    pub userns_mode: Option<String>,
    /// `host` or `private`: the cgroup namespace.
    pub cgroup: Option<String>,
    pub cgroup_parent: Option<String>,
    pub runtime: Option<String>,
    pub mac_address: Option<String>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub oom_score_adj: Option<i64>,
    pub volumes_from: Vec<String>,
    pub profiles: Vec<String>,
    /// Every other key, so the loader can warn about what Berth does not apply.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Build {
    pub context: String,
    pub dockerfile: Option<String>,
    pub dockerfile_inline: Option<String>,
    pub args: BTreeMap<String, Option<String>>,
    pub target: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub network: Option<String>,
    #[serde(deserialize_with = "lenient::bool")]
    pub no_cache: bool,
    #[serde(deserialize_with = "lenient::bool")]
    pub pull: bool,
    pub extra_hosts: Value,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Port {
    #[serde(deserialize_with = "lenient::u64")]
    pub target: u64,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub published: Option<String>,
    pub host_ip: Option<String>,
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Mount {
    #[serde(rename = "type")]
    pub kind: String,
    pub source: Option<String>,
    pub target: String,
    #[serde(deserialize_with = "lenient::bool")]
    pub read_only: bool,
    pub bind: Option<BindOptions>,
    pub volume: Option<VolumeOptions>,
    pub tmpfs: Option<TmpfsOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BindOptions {
    pub propagation: Option<String>,
    #[serde(deserialize_with = "lenient::bool_opt")]
    pub create_host_path: Option<bool>,
    pub selinux: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VolumeOptions {
    #[serde(deserialize_with = "lenient::bool")]
    pub nocopy: bool,
    pub subpath: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TmpfsOptions {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub size: Option<String>,
    #[serde(deserialize_with = "lenient::u64_opt")]
    pub mode: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceNetwork {
    pub aliases: Vec<String>,
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Dependency {
    pub condition: String,
    #[serde(deserialize_with = "lenient::bool")]
    pub required: bool,
    #[serde(deserialize_with = "lenient::bool")]
    pub restart: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Healthcheck {
    pub test: Option<Vec<String>>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    #[serde(deserialize_with = "lenient::u64_opt")]
    pub retries: Option<u64>,
    #[serde(deserialize_with = "lenient::bool")]
    pub disable: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Deploy {
    #[serde(deserialize_with = "lenient::u64_opt")]
    pub replicas: Option<u64>,
    pub resources: Resources,
    pub restart_policy: Option<RestartPolicy>,
    pub labels: Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Resources {
    pub limits: Option<ResourceSpec>,
    pub reservations: Option<ResourceSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResourceSpec {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub cpus: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub memory: Option<String>,
    #[serde(deserialize_with = "lenient::u64_opt")]
    pub pids: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RestartPolicy {
    pub condition: Option<String>,
    #[serde(deserialize_with = "lenient::u64_opt")]
    pub max_attempts: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Logging {
    pub driver: Option<String>,
    pub options: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FileRef {
    pub source: String,
    pub target: Option<String>,
    pub uid: Option<String>,
    pub gid: Option<String>,
    #[serde(deserialize_with = "lenient::octal_opt")]
    pub mode: Option<u64>,
}

/// `nofile: 1024` or `nofile: {soft: 1024, hard: 2048}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ulimit {
    pub soft: i64,
    pub hard: i64,
}

impl<'de> Deserialize<'de> for Ulimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let num = |v: &Value| scalar_string(v).parse::<i64>().map_err(serde::de::Error::custom);
        match &v {
            Value::Object(m) => Ok(Ulimit {
                soft: num(m.get("soft").unwrap_or(&Value::Null))?,
                hard: num(m.get("hard").unwrap_or(&Value::Null))?,
            }),
            single => {
                let n = num(single)?;
                Ok(Ulimit { soft: n, hard: n })
            }
        }
    }
}

/// Top-level `networks` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Network {
    pub name: String,
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    #[serde(deserialize_with = "lenient::bool")]
    pub external: bool,
    #[serde(deserialize_with = "lenient::bool")]
    pub internal: bool,
    #[serde(deserialize_with = "lenient::bool")]
    pub attachable: bool,
    #[serde(deserialize_with = "lenient::bool")]
    pub enable_ipv6: bool,
    pub labels: BTreeMap<String, String>,
    pub ipam: Option<Ipam>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Ipam {
    pub driver: Option<String>,
    pub config: Vec<IpamPool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IpamPool {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
}

/// Top-level `volumes` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Volume {
    pub name: String,
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    #[serde(deserialize_with = "lenient::bool")]
    pub external: bool,
    pub labels: BTreeMap<String, String>,
}

/// Top-level `secrets` / `configs` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FileObject {
    pub name: String,
    pub file: Option<String>,
    pub environment: Option<String>,
    pub content: Option<String>,
    #[serde(deserialize_with = "lenient::bool")]
    pub external: bool,
}

/// Values that interpolation may have turned into strings (`replicas: ${N}`) read as their type.
mod lenient {
    use super::*;

    fn parsed<T: std::str::FromStr>(v: &Value) -> Option<T> {
        scalar_string(v).parse().ok()
    }

    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(truthy(&Value::deserialize(d)?))
    }

    pub fn bool_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let v = Value::deserialize(d)?;
        Ok((!v.is_null()).then(|| truthy(&v)))
    }

    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let v = Value::deserialize(d)?;
        parsed(&v).ok_or_else(|| serde::de::Error::custom(format!("{v} is not a number")))
    }

    pub fn u64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let v = Value::deserialize(d)?;
        if v.is_null() {
            return Ok(None);
        }
        parsed(&v).map(Some).ok_or_else(|| serde::de::Error::custom(format!("{v} is not a number")))
    }

    pub fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let v = Value::deserialize(d)?;
        if v.is_null() {
            return Ok(None);
        }
        parsed(&v).map(Some).ok_or_else(|| serde::de::Error::custom(format!("{v} is not a number")))
    }

    /// File modes: numbers as they are, text (`"0440"`, `"0o440"`) as octal.
    pub fn octal_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => u64::from_str_radix(s.trim_start_matches("0o"), 8)
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an octal mode"))),
            other => parsed(&other).map(Some).ok_or_else(|| serde::de::Error::custom(format!("{other} is not a mode"))),
        }
    }

    pub fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let v = Value::deserialize(d)?;
        Ok((!v.is_null()).then(|| scalar_string(&v)))
    }
}

/// Keys of a service that Berth reads; anything else in `Service::other` draws a warning.
pub fn is_ignored_quietly(key: &str) -> bool {
    key.starts_with("x-") || matches!(key, "develop" | "attach")
}
