//! Container endpoints: the create request, inspect, list and wait.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::host_config::{HostConfig, MountPoint, PortBindingWire, RestartPolicy};

/// The parts of `POST /containers/create`'s body the engine acts on. The
/// whole body is also kept verbatim for inspect.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreateRequest {
    /// Deprecated (API < 1.44): the MAC address on the primary network.
    pub mac_address: String,
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Option<Vec<String>>,
    #[serde(deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    #[serde(deserialize_with = "string_or_list")]
    pub entrypoint: Option<Vec<String>>,
    pub image: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub working_dir: String,
    pub stop_signal: String,
    pub stop_timeout: Option<i64>,
    /// The old way to ask for no network, which docker-py still offers.
    pub network_disabled: bool,
    /// docker-py's place for `HostConfig.Runtime`.
    pub runtime: String,
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    pub healthcheck: Option<HealthConfig>,
    pub host_config: Option<HostConfig>,
    pub networking_config: Option<NetworkingConfig>,
}

/// `NetworkingConfig` of a create request: per-network endpoint settings.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    pub endpoints_config: Option<BTreeMap<String, EndpointConfig>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointConfig {
    pub aliases: Option<Vec<String>>,
    pub links: Option<Vec<String>>,
    pub mac_address: String,
    pub driver_opts: Option<BTreeMap<String, String>>,
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamRequest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EndpointIpamRequest {
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
    #[serde(rename = "LinkLocalIPs")]
    pub link_local_ips: Option<Vec<String>>,
}

impl EndpointConfig {
    /// The engine's view of these settings; a bad address is the client's
    /// fault.
    pub fn attachment(self) -> Result<berth_core::containers::NetworkAttachment, crate::error::ApiError> {
        let ipam = self.ipam_config.unwrap_or_default();
        let link_local_ips = ipam.link_local_ips.unwrap_or_default();
        let ipv4_address = parse_address(&ipam.ipv4_address, "IPv4")?;
        let ipv6_address = parse_address(&ipam.ipv6_address, "IPv6")?;
        let links = self
            .links
            .unwrap_or_default()
            .iter()
            .map(|l| berth_core::containers::links::Link::parse(l))
            .collect::<Result<_, _>>()?;
        let mac_address = Some(self.mac_address).filter(|m| !m.is_empty());
        if let Some(m) = mac_address.as_deref().filter(|m| berth_core::containers::parse_mac(m).is_none()) {
            return Err(crate::error::ApiError::bad_request(format!("invalid MAC address: {m}")));
        }
        Ok(berth_core::containers::NetworkAttachment {
            aliases: self.aliases.unwrap_or_default(),
            ipv4_address,
            ipv6_address,
            links,
            mac_address,
            driver_opts: self.driver_opts.unwrap_or_default(),
            link_local_ips,
        })
    }
}

/// An endpoint's fixed address of one family, if given.
fn parse_address<A: std::str::FromStr>(text: &str, family: &str) -> Result<Option<A>, crate::error::ApiError> {
    match text {
        "" => Ok(None),
        ip => ip
            .parse()
            .map(Some)
            .map_err(|_| crate::error::ApiError::bad_request(format!("invalid {family} address: {ip}"))),
    }
}

/// `Config.Healthcheck` (durations in nanoseconds).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    pub test: Option<Vec<String>>,
    #[serde(deserialize_with = "null_as_default")]
    pub interval: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub timeout: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub retries: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub start_period: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub start_interval: i64,
}

/// `null` read as the type's default: docker-py sends the fields it was not
/// given as null.
fn null_as_default<'de, D: serde::Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `Cmd: "echo hi"` (a string) or `["echo", "hi"]`, as clients send either.
fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => None,
        Some(Either::One(s)) => Some(s.split_whitespace().map(str::to_owned).collect()),
        Some(Either::Many(v)) => Some(v),
    })
}

/// `POST /containers/{id}/update` body: resources and the restart policy.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerUpdateRequest {
    pub memory: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub memory_swap: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<i64>,
    pub restart_policy: Option<RestartPolicy>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerUpdateResponse {
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerCreateResponse {
    pub id: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerWaitResponse {
    pub status_code: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: String,
    pub failing_streak: i64,
    pub log: Vec<HealthcheckResult>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthcheckResult {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspectResponse {
    pub id: String,
    /// With `size=1`: bytes written in the container, and those plus the image's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: ContainerState,
    pub image: String,
    pub resolv_conf_path: String,
    pub hostname_path: String,
    pub hosts_path: String,
    pub log_path: String,
    pub name: String,
    pub restart_count: u64,
    pub driver: String,
    pub platform: String,
    pub mount_label: String,
    pub process_label: String,
    pub app_armor_profile: String,
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    pub host_config: serde_json::Value,
    pub graph_driver: super::GraphDriver,
    pub mounts: Vec<MountPoint>,
    pub config: serde_json::Value,
    pub network_settings: NetworkSettings,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    pub bridge: String,
    #[serde(rename = "SandboxID")]
    pub sandbox_id: String,
    pub sandbox_key: String,
    pub ports: BTreeMap<String, Option<Vec<PortBindingWire>>>,
    #[serde(flatten)]
    pub addresses: EndpointAddresses,
    pub mac_address: String,
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// An endpoint's addresses, as inspect shows them for each network (and at
/// the top of `NetworkSettings` for the default bridge).
#[derive(Debug, Default, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointAddresses {
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
}

#[derive(Debug, Default, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    #[serde(flatten)]
    pub addresses: EndpointAddresses,
    pub mac_address: String,
    pub aliases: Option<Vec<String>>,
    pub links: Option<Vec<String>>,
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpam>,
    /// Always present, null when empty, as dockerd shows it.
    pub driver_opts: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Serialize, Clone)]
pub struct EndpointIpam {
    #[serde(rename = "IPv4Address", skip_serializing_if = "String::is_empty")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address", skip_serializing_if = "String::is_empty")]
    pub ipv6_address: String,
    #[serde(rename = "LinkLocalIPs", skip_serializing_if = "Vec::is_empty")]
    pub link_local_ips: Vec<String>,
}

/// One entry of `ps`'s `Ports`.
#[derive(Debug, Serialize)]
pub struct Port {
    #[serde(rename = "IP", skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(rename = "PrivatePort")]
    pub private_port: u16,
    #[serde(rename = "PublicPort", skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub r#type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummaryItem {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    pub created: i64,
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    pub labels: BTreeMap<String, String>,
    pub state: String,
    pub status: String,
    pub host_config: SummaryHostConfig,
    pub network_settings: SummaryNetworkSettings,
    pub mounts: Vec<MountPoint>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    pub network_mode: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworkSettings {
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// `POST /containers/{id}/exec`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecConfigRequest {
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub tty: bool,
    pub env: Option<Vec<String>>,
    #[serde(deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    pub privileged: bool,
    pub user: String,
    pub working_dir: String,
    /// docker-py spells it `detachKeys` (Go's decoder ignores case).
    #[serde(alias = "detachKeys")]
    pub detach_keys: String,
}

/// `POST /exec/{id}/start`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStartRequest {
    pub detach: bool,
    pub tty: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdResponse {
    pub id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecInspectResponse {
    #[serde(rename = "ID")]
    pub id: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    pub process_config: ProcessConfig,
    pub open_stdin: bool,
    pub open_stderr: bool,
    pub open_stdout: bool,
    pub can_remove: bool,
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    pub detach_keys: String,
    pub pid: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessConfig {
    pub privileged: bool,
    pub user: String,
    pub tty: bool,
    pub entrypoint: String,
    pub arguments: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerTopResponse {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerPruneResponse {
    pub containers_deleted: Option<Vec<String>>,
    pub space_reclaimed: u64,
}

/// One `GET /containers/{id}/stats` sample, as dockerd shapes it.
#[derive(Debug, Default, Serialize)]
pub struct ContainerStatsResponse {
    pub name: String,
    pub id: String,
    pub read: String,
    pub preread: String,
    pub pids_stats: PidsStats,
    pub blkio_stats: BlkioStats,
    pub num_procs: u32,
    pub storage_stats: serde_json::Value,
    pub cpu_stats: CpuStats,
    pub precpu_stats: CpuStats,
    pub memory_stats: MemoryStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networks: Option<BTreeMap<String, NetworkStats>>,
}

/// One interface in `networks` of a stats sample.
#[derive(Debug, Default, Serialize)]
pub struct NetworkStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// One `blkio_stats` entry.
#[derive(Debug, Default, Serialize)]
pub struct BlkioStatEntry {
    pub major: u64,
    pub minor: u64,
    pub op: String,
    pub value: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct PidsStats {
    pub current: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

#[derive(Debug, Default, Serialize)]
pub struct BlkioStats {
    pub io_service_bytes_recursive: Option<Vec<BlkioStatEntry>>,
    pub io_serviced_recursive: Option<Vec<BlkioStatEntry>>,
}

#[derive(Debug, Default, Serialize)]
pub struct CpuStats {
    pub cpu_usage: CpuUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_cpu_usage: Option<u64>,
    pub online_cpus: u32,
    pub throttling_data: serde_json::Value,
}

#[derive(Debug, Default, Serialize)]
pub struct CpuUsage {
    pub total_usage: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_usage: Vec<u64>,
    pub usage_in_kernelmode: u64,
    pub usage_in_usermode: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct MemoryStats {
    pub usage: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_usage: Option<u64>,
    pub stats: BTreeMap<String, u64>,
    pub limit: u64,
}
