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

use std::collections::{BTreeSet, HashMap};
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
    #[error("failed to {action} {path}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl Classify for NetworkError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::PortInUse(_) => ErrorKind::Conflict,
            Self::BadBip(_) => ErrorKind::InvalidParameter,
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
    pub endpoint_id: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: String,
    /// Published ports with the host ports actually bound.
    pub ports: Vec<PortBinding>,
}

/// The default bridge network's identity, kept so it stays the same.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BridgeNetwork {
    pub id: String,
    pub subnet: Subnet,
    pub created: String,
    /// The Linux bridge device.
    #[serde(default)]
    pub device: String,
}

#[derive(Clone)]
pub struct NetworkService {
    inner: Arc<Inner>,
}

struct Inner {
    bridge: BridgeNetwork,
    used: Mutex<BTreeSet<Ipv4Addr>>,
    proxies: Mutex<HashMap<String, Vec<JoinHandle<()>>>>,
    ready: tokio::sync::OnceCell<()>,
}

impl NetworkService {
    /// Loads (or chooses and records) the default bridge's subnet. The
    /// kernel side is set up when the first container needs it.
    pub fn open(data_root: &Path, device: &str, bip: Option<&str>) -> Result<Self, NetworkError> {
        let dir = data_root.join("network");
        std::fs::create_dir_all(&dir).map_err(|source| NetworkError::Io {
            action: "create",
            path: dir.clone(),
            source,
        })?;
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
                    subnet,
                    created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                    device: device.into(),
                };
                let bytes = serde_json::to_vec(&b).unwrap_or_default();
                std::fs::write(&path, bytes).map_err(|source| NetworkError::Io { action: "write", path, source })?;
                b
            }
        };
        bridge.device = device.into();
        Ok(Self {
            inner: Arc::new(Inner {
                bridge,
                used: Mutex::new(BTreeSet::new()),
                proxies: Mutex::new(HashMap::new()),
                ready: tokio::sync::OnceCell::new(),
            }),
        })
    }

    pub fn bridge(&self) -> &BridgeNetwork {
        &self.inner.bridge
    }

    /// Marks addresses of containers that kept running across a restart.
    pub fn reserve(&self, ip: Ipv4Addr) {
        self.inner.used.lock().unwrap_or_else(|p| p.into_inner()).insert(ip);
    }

    async fn ensure_ready(&self) -> Result<(), NetworkError> {
        let s = self.inner.bridge.subnet;
        self.inner
            .ready
            .get_or_try_init(|| async {
                link::ensure_bridge(&self.inner.bridge.device, s.gateway(), s.prefix).await?;
                nat::enable_forwarding()?;
                nat::apply(&self.inner.bridge.device, &s)
            })
            .await
            .map(drop)
    }

    /// Puts the container whose init is `pid` on the bridge and publishes
    /// its ports.
    pub async fn connect(&self, container_id: &str, pid: i32, ports: &[PortBinding]) -> Result<Endpoint, NetworkError> {
        self.ensure_ready().await?;
        let s = self.inner.bridge.subnet;
        let ip = {
            let mut used = self.inner.used.lock().unwrap_or_else(|p| p.into_inner());
            let ip = ipam::allocate(&s, &used).ok_or_else(|| NetworkError::Exhausted(s.to_string()))?;
            used.insert(ip);
            ip
        };
        let o = ip.octets();
        let mac = [0x02, 0x42, o[0], o[1], o[2], o[3]];
        let result = async {
            link::plug(&self.inner.bridge.device, &host_if(container_id), pid, ip, s.prefix, s.gateway(), mac).await?;
            self.publish(container_id, ip, ports).await
        }
        .await;
        match result {
            Ok(ports) => Ok(Endpoint {
                network_id: self.inner.bridge.id.clone(),
                endpoint_id: crate::containers::names::new_id(),
                ip,
                prefix: s.prefix,
                gateway: s.gateway(),
                mac: mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
                ports,
            }),
            Err(e) => {
                self.disconnect(container_id, ip).await;
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

    /// Takes the container off the bridge and frees its address and ports.
    pub async fn disconnect(&self, container_id: &str, ip: Ipv4Addr) {
        if let Some(tasks) = self.inner.proxies.lock().unwrap_or_else(|p| p.into_inner()).remove(container_id) {
            tasks.iter().for_each(JoinHandle::abort);
        }
        if let Err(e) = link::unplug(&host_if(container_id)).await {
            tracing::warn!(container = %container_id, error = %e, "failed to remove veth");
        }
        self.inner.used.lock().unwrap_or_else(|p| p.into_inner()).remove(&ip);
    }
}

/// Host-side interface name: 15 bytes at most.
fn host_if(container_id: &str) -> String {
    format!("vb{}", &container_id[..12.min(container_id.len())])
}
