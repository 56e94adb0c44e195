//! `HostConfig` of a create request and its parts, and the `Mounts` inspect shows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub auto_remove: bool,
    pub privileged: bool,
    pub readonly_rootfs: bool,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub memory: i64,
    pub pids_limit: Option<i64>,
    pub cpu_shares: i64,
    pub nano_cpus: i64,
    pub network_mode: String,
    pub restart_policy: Option<RestartPolicy>,
    pub binds: Option<Vec<String>>,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBindingWire>>>>,
    pub publish_all_ports: bool,
    pub log_config: Option<LogConfigWire>,
    pub init: Option<bool>,
    pub links: Option<Vec<String>>,
    pub extra_hosts: Option<Vec<String>>,
    pub dns: Option<Vec<String>>,
    pub dns_search: Option<Vec<String>>,
    pub dns_options: Option<Vec<String>>,
    pub mounts: Option<Vec<Mount>>,
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub shm_size: i64,
    pub sysctls: Option<BTreeMap<String, String>>,
    pub group_add: Option<Vec<String>>,
    pub ulimits: Option<Vec<UlimitWire>>,
    pub devices: Option<Vec<DeviceWire>>,
    pub security_opt: Option<Vec<String>>,
    pub oom_score_adj: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub memory_reservation: i64,
    pub memory_swap: i64,
    pub volumes_from: Option<Vec<String>>,
    pub pid_mode: String,
    pub ipc_mode: String,
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    pub cgroupns_mode: String,
    pub userns_mode: String,
    pub memory_swappiness: Option<i64>,
    pub oom_kill_disable: Option<bool>,
    pub device_cgroup_rules: Option<Vec<String>>,
    pub cgroup_parent: String,
    pub blkio_weight: u16,
    pub blkio_weight_device: Option<Vec<WeightDeviceWire>>,
    pub blkio_device_read_bps: Option<Vec<ThrottleDeviceWire>>,
    pub blkio_device_write_bps: Option<Vec<ThrottleDeviceWire>>,
    #[serde(rename = "BlkioDeviceReadIOps")]
    pub blkio_device_read_iops: Option<Vec<ThrottleDeviceWire>>,
    #[serde(rename = "BlkioDeviceWriteIOps")]
    pub blkio_device_write_iops: Option<Vec<ThrottleDeviceWire>>,
    /// `--gpus`: no device drivers here, refused as dockerd refuses them without one.
    pub device_requests: Option<Vec<DeviceRequestWire>>,
    pub storage_opt: Option<BTreeMap<String, String>>,
    pub volume_driver: String,
    pub runtime: String,
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
    pub annotations: Option<BTreeMap<String, String>>,
}

/// `HostConfig.BlkioWeightDevice[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WeightDeviceWire {
    pub path: String,
    pub weight: u16,
}

/// `HostConfig.BlkioDevice{Read,Write}{Bps,IOps}[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ThrottleDeviceWire {
    pub path: String,
    pub rate: u64,
}

/// `HostConfig.DeviceRequests[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceRequestWire {
    pub driver: String,
    pub capabilities: Option<Vec<Vec<String>>>,
}

/// `HostConfig.Ulimits[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UlimitWire {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// `HostConfig.Devices[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceWire {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

/// `HostConfig.LogConfig`: `--log-driver` and `--log-opt`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfigWire {
    #[serde(rename = "Type")]
    pub driver: Option<String>,
    pub config: Option<BTreeMap<String, String>>,
}

/// A host side of a published port.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBindingWire {
    pub host_ip: String,
    pub host_port: String,
}

/// One `HostConfig.Mounts` entry (`--mount`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    pub r#type: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub bind_options: Option<BindOptions>,
    pub volume_options: Option<VolumeOptions>,
    pub tmpfs_options: Option<TmpfsOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    pub propagation: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    pub no_copy: bool,
    /// `volume-subpath` (API 1.45).
    pub subpath: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    pub size_bytes: i64,
    pub mode: u32,
}

/// One entry of inspect's `Mounts`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    pub r#type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub source: String,
    pub destination: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: i64,
}
