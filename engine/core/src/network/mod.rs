//! Container networking: the default `bridge` network (device `berth0`
//! unless configured)
//! with addresses from a subnet that collides with nothing on the host,
//! NAT to the outside, and published ports. User-defined networks and the
//! embedded DNS server are still to come.

mod ipam;
mod link;
mod nat;
mod proxy;

pub use ipam::Subnet;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("invalid bip {0:?}: expected an address and prefix such as 172.30.0.1/16")]
    BadBip(String),
    #[error("{0}")]
    Netlink(String),
    #[error("failed to set up NAT: {0}")]
    Nat(String),
    #[error("{0}")]
    PortInUse(String),
    #[error("no free address in {0}")]
    Exhausted(String),
    #[error("network {0} not found")]
    NotFound(String),
    #[error("network with name {0} already exists")]
    Exists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("failed to {action} {path}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl Classify for NetworkError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::PortInUse(_) | Self::Exists(_) => ErrorKind::Conflict,
            Self::BadBip(_) | Self::Invalid(_) => ErrorKind::InvalidParameter,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            _ => ErrorKind::Internal,
        }
    }
}

/// A port to publish: container port/protocol to host address/port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBinding {
    pub container_port: u16,
    pub protocol: String,
    pub host_ip: String,
    /// 0 asks for any free port.
    pub host_port: u16,
}

/// A container's place on the bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub network_id: String,
    /// The network's name when the container joined it.
    #[serde(default = "default_name")]
    pub network: String,
    pub endpoint_id: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: String,
    /// Published ports with the host ports actually bound.
    pub ports: Vec<PortBinding>,
}

/// A bridge network: the default one (`bridge`) or a user-defined one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BridgeNetwork {
    pub id: String,
    #[serde(default = "default_name")]
    pub name: String,
    pub subnet: Subnet,
    pub created: String,
    /// The Linux bridge device.
    #[serde(default)]
    pub device: String,
    /// No route out: no NAT.
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

fn default_name() -> String {
    "bridge".into()
}

impl BridgeNetwork {
    /// The default network, created with the engine; it cannot be removed.
    pub fn is_default(&self) -> bool {
        self.name == "bridge"
    }
}

#[derive(Clone)]
pub struct NetworkService {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    networks: Mutex<Vec<BridgeNetwork>>,
    used: Mutex<HashMap<String, BTreeSet<Ipv4Addr>>>,
    proxies: Mutex<HashMap<String, Vec<JoinHandle<()>>>>,
    /// Networks whose bridge and NAT are in place.
    ready: tokio::sync::Mutex<BTreeSet<String>>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> NetworkError {
    let path = path.to_path_buf();
    move |source| NetworkError::Io { action, path, source }
}

impl NetworkService {
    /// Loads the networks, choosing (and recording) the default bridge's
    /// subnet on first start. The kernel side of a network is set up when
    /// its first container needs it.
    pub fn open(data_root: &Path, device: &str, bip: Option<&str>) -> Result<Self, NetworkError> {
        let dir = data_root.join("network");
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let path = dir.join("bridge.json");
        let wanted = bip.map(|b| Subnet::parse(b).ok_or_else(|| NetworkError::BadBip(b.into()))).transpose()?;
        let saved = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<BridgeNetwork>(&b).ok());
        let mut bridge = match saved.filter(|b| wanted.is_none_or(|w| w == b.subnet)) {
            Some(b) => b,
            None => {
                let subnet = match wanted {
                    Some(w) => w,
                    None => ipam::pick_subnet(&ipam::host_routes())
                        .ok_or_else(|| NetworkError::Exhausted("the default address pools".into()))?,
                };
                let b = BridgeNetwork {
                    id: crate::containers::names::new_id(),
                    name: default_name(),
                    subnet,
                    created: now(),
                    device: device.into(),
                    internal: false,
                    labels: BTreeMap::new(),
                    options: BTreeMap::new(),
                };
                let bytes = serde_json::to_vec(&b).unwrap_or_default();
                std::fs::write(&path, bytes).map_err(io("write", &path))?;
                b
            }
        };
        bridge.device = device.into();
        let user: Vec<BridgeNetwork> = std::fs::read(dir.join("networks.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let mut networks = vec![bridge];
        networks.extend(user);
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                networks: Mutex::new(networks),
                used: Mutex::new(HashMap::new()),
                proxies: Mutex::new(HashMap::new()),
                ready: tokio::sync::Mutex::new(BTreeSet::new()),
            }),
        })
    }

    fn networks(&self) -> std::sync::MutexGuard<'_, Vec<BridgeNetwork>> {
        self.inner.networks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every bridge network, the default first.
    pub fn list(&self) -> Vec<BridgeNetwork> {
        self.networks().clone()
    }

    /// The default bridge network.
    pub fn bridge(&self) -> BridgeNetwork {
        self.networks()[0].clone()
    }

    /// By name, full ID or unique ID prefix.
    pub fn get(&self, name: &str) -> Result<BridgeNetwork, NetworkError> {
        let nets = self.networks();
        if let Some(n) = nets.iter().find(|n| n.name == name || n.id == name) {
            return Ok(n.clone());
        }
        let mut matches = nets.iter().filter(|n| !name.is_empty() && n.id.starts_with(name));
        match (matches.next(), matches.next()) {
            (Some(n), None) => Ok(n.clone()),
            _ => Err(NetworkError::NotFound(name.into())),
        }
    }

    fn save(&self, nets: &[BridgeNetwork]) -> Result<(), NetworkError> {
        let path = self.inner.dir.join("networks.json");
        let bytes = serde_json::to_vec(&nets[1..]).unwrap_or_default();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io("write", &path))
    }

    /// `docker network create` (bridge driver).
    pub fn create(
        &self,
        name: &str,
        subnet: Option<&str>,
        internal: bool,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    ) -> Result<BridgeNetwork, NetworkError> {
        if name.is_empty() || matches!(name, "host" | "none") {
            return Err(NetworkError::Invalid(format!("network name {name:?} is reserved or empty")));
        }
        let mut nets = self.networks();
        if nets.iter().any(|n| n.name == name) {
            return Err(NetworkError::Exists(name.into()));
        }
        let subnet = match subnet {
            Some(s) => {
                let s = Subnet::parse(s).ok_or_else(|| NetworkError::Invalid(format!("invalid subnet {s:?}")))?;
                if let Some(other) = nets.iter().find(|n| n.subnet.overlaps(&s)) {
                    return Err(NetworkError::Invalid(format!(
                        "Pool overlaps with other one on this address space ({} of network {})",
                        other.subnet, other.name
                    )));
                }
                s
            }
            None => {
                let mut taken = ipam::host_routes();
                taken.extend(nets.iter().map(|n| n.subnet));
                ipam::pick_subnet(&taken).ok_or_else(|| NetworkError::Exhausted("the default address pools".into()))?
            }
        };
        let id = crate::containers::names::new_id();
        let device =
            options.get("com.docker.network.bridge.name").cloned().unwrap_or_else(|| format!("br-{}", &id[..12]));
        let n = BridgeNetwork { id, name: name.into(), subnet, created: now(), device, internal, labels, options };
        nets.push(n.clone());
        self.save(&nets)?;
        Ok(n)
    }

    /// Removes a user-defined network and its bridge and NAT table.
    pub async fn remove(&self, name: &str) -> Result<BridgeNetwork, NetworkError> {
        let n = self.get(name)?;
        if n.is_default() {
            return Err(NetworkError::Forbidden(format!("{} is a pre-defined network and cannot be removed", n.name)));
        }
        {
            let mut nets = self.networks();
            nets.retain(|x| x.id != n.id);
            self.save(&nets)?;
        }
        self.inner.ready.lock().await.remove(&n.id);
        link::unplug(&n.device).await?;
        nat::remove(&n.device);
        Ok(n)
    }

    /// Marks addresses of containers that kept running across a restart.
    pub fn reserve(&self, network_id: &str, ip: Ipv4Addr) {
        self.inner.used.lock().unwrap_or_else(|p| p.into_inner()).entry(network_id.into()).or_default().insert(ip);
    }

    async fn ensure_ready(&self, n: &BridgeNetwork) -> Result<(), NetworkError> {
        let mut ready = self.inner.ready.lock().await;
        if ready.contains(&n.id) {
            return Ok(());
        }
        link::ensure_bridge(&n.device, n.subnet.gateway(), n.subnet.prefix).await?;
        if !n.internal {
            nat::enable_forwarding()?;
        }
        nat::apply(&n.device, &n.subnet, n.internal)?;
        ready.insert(n.id.clone());
        Ok(())
    }

    /// Puts the container whose init is `pid` on `network` and publishes
    /// its ports.
    pub async fn connect(
        &self,
        container_id: &str,
        pid: i32,
        network: &BridgeNetwork,
        ports: &[PortBinding],
    ) -> Result<Endpoint, NetworkError> {
        self.ensure_ready(network).await?;
        let s = network.subnet;
        let ip = {
            let mut used = self.inner.used.lock().unwrap_or_else(|p| p.into_inner());
            let used = used.entry(network.id.clone()).or_default();
            let ip = ipam::allocate(&s, used).ok_or_else(|| NetworkError::Exhausted(s.to_string()))?;
            used.insert(ip);
            ip
        };
        let o = ip.octets();
        let mac = [0x02, 0x42, o[0], o[1], o[2], o[3]];
        let endpoint = Endpoint {
            network_id: network.id.clone(),
            network: network.name.clone(),
            endpoint_id: crate::containers::names::new_id(),
            ip,
            prefix: s.prefix,
            gateway: s.gateway(),
            mac: mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
            ports: Vec::new(),
        };
        let result = async {
            link::plug(&network.device, &host_if(container_id), pid, ip, s.prefix, s.gateway(), mac).await?;
            self.publish(container_id, ip, ports).await
        }
        .await;
        match result {
            Ok(ports) => Ok(Endpoint { ports, ..endpoint }),
            Err(e) => {
                self.disconnect(container_id, &endpoint).await;
                Err(e)
            }
        }
    }

    /// (Re)starts the proxies of published ports; returns the bound ports.
    pub async fn publish(
        &self,
        container_id: &str,
        ip: Ipv4Addr,
        ports: &[PortBinding],
    ) -> Result<Vec<PortBinding>, NetworkError> {
        let mut bound = Vec::new();
        let mut tasks = Vec::new();
        for p in ports.iter().filter(|p| p.protocol == "tcp") {
            let host_ip = if p.host_ip.is_empty() { "0.0.0.0" } else { p.host_ip.as_str() };
            let host: SocketAddr = format!("{host_ip}:{}", p.host_port)
                .parse()
                .map_err(|_| NetworkError::PortInUse(format!("invalid host address {host_ip}")))?;
            match proxy::spawn(host, SocketAddr::from((ip, p.container_port))).await {
                Ok((task, port)) => {
                    tasks.push(task);
                    bound.push(PortBinding { host_port: port, host_ip: host_ip.into(), ..p.clone() });
                }
                Err(e) => {
                    tasks.iter().for_each(JoinHandle::abort);
                    return Err(e);
                }
            }
        }
        self.inner.proxies.lock().unwrap_or_else(|p| p.into_inner()).insert(container_id.into(), tasks);
        Ok(bound)
    }

    /// Takes the container off its network and frees its address and ports.
    pub async fn disconnect(&self, container_id: &str, endpoint: &Endpoint) {
        if let Some(tasks) = self.inner.proxies.lock().unwrap_or_else(|p| p.into_inner()).remove(container_id) {
            tasks.iter().for_each(JoinHandle::abort);
        }
        if let Err(e) = link::unplug(&host_if(container_id)).await {
            tracing::warn!(container = %container_id, error = %e, "failed to remove veth");
        }
        if let Some(used) = self.inner.used.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&endpoint.network_id) {
            used.remove(&endpoint.ip);
        }
    }
}

/// Host-side interface name: 15 bytes at most.
fn host_if(container_id: &str) -> String {
    format!("vb{}", &container_id[..12.min(container_id.len())])
}
