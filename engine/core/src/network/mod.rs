//! Container networking: the default `bridge` network (device `berth0`
//! unless configured) with addresses from a subnet that collides with
//! nothing on the host, user-defined bridge networks with an embedded DNS
//! server, NAT to the outside, isolation between networks, and published
//! ports.

mod default_bridge;
mod dns;
mod firewall;
mod ipam;
mod link;
mod nat;
mod ports;
mod proxy;
pub mod resolv;

pub use default_bridge::DefaultBridge;
pub use ipam::{Cidr, Family, Ipam, PoolRequest, Subnet, Subnet6};

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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
    /// With a range (`8000-8010`), its last port: the first free one of
    /// the range is bound.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub host_port_end: u16,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// A container's place on a network while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub network_id: String,
    /// The network's name when the container joined it.
    pub network: String,
    pub endpoint_id: String,
    /// `ethN` inside the container.
    pub interface: String,
    /// The host end of the veth pair.
    pub host_if: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    /// The container's IPv6 address, on an IPv6 network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Endpoint6>,
    pub mac: String,
    pub aliases: Vec<String>,
    /// Names the embedded DNS server answers with this address.
    pub dns_names: Vec<String>,
    /// (alias, container name): names only this container resolves (links).
    #[serde(default)]
    pub links: Vec<(String, String)>,
    /// Published ports with the host ports actually bound (on the
    /// container's first network only).
    pub ports: Vec<PortBinding>,
}

/// A container's IPv6 side on a network with IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint6 {
    pub ip: Ipv6Addr,
    pub prefix: u8,
    pub gateway: Ipv6Addr,
}

/// What a container asks for when it joins a network.
#[derive(Debug, Clone, Default)]
pub struct Attach {
    pub container_id: String,
    /// The init process, whose network namespace gets the interface.
    pub pid: i32,
    /// N of `ethN`.
    pub index: u8,
    /// A fixed address (`--ip`), else the next free one.
    pub ip: Option<Ipv4Addr>,
    /// A fixed IPv6 address (`--ip6`), else the next free one when the
    /// network has IPv6.
    pub ip6: Option<Ipv6Addr>,
    /// A fixed MAC address, else one derived from the IP, as Docker does.
    pub mac: Option<[u8; 6]>,
    pub aliases: Vec<String>,
    pub dns_names: Vec<String>,
    /// (alias, container name): names only this container resolves (links).
    pub links: Vec<(String, String)>,
    /// The default route goes through the first network only.
    pub default_route: bool,
    /// Where the embedded DNS server sends names it does not know
    /// (`--dns`), else the host's resolvers.
    pub upstream_dns: Vec<Ipv4Addr>,
}

/// A container as the embedded DNS server knows it on one network.
#[derive(Debug, Clone)]
struct Member {
    container_id: String,
    ipv6: Option<Ipv6Addr>,
    names: Vec<String>,
    upstream_dns: Vec<Ipv4Addr>,
    links: Vec<(String, String)>,
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
    #[serde(default)]
    pub ipam: Ipam,
    /// `--attachable`: recorded and reported; every bridge network accepts
    /// containers anyway.
    #[serde(default)]
    pub attachable: bool,
    /// `--ipv6`: the network's IPv6 subnet, next to its IPv4 one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Net>,
}

/// The IPv6 side of a dual-stack network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Net {
    pub subnet: Subnet6,
    #[serde(default)]
    pub ipam: Ipam<Ipv6Addr>,
}

impl Ipv6Net {
    pub fn gateway(&self) -> Ipv6Addr {
        self.ipam.gateway.unwrap_or_else(|| self.subnet.gateway())
    }
}

fn default_name() -> String {
    "bridge".into()
}

impl BridgeNetwork {
    /// The default network, created with the engine; it cannot be removed.
    pub fn is_default(&self) -> bool {
        self.name == "bridge"
    }

    /// The bridge's own address, the containers' gateway.
    pub fn gateway(&self) -> Ipv4Addr {
        self.ipam.gateway.unwrap_or_else(|| self.subnet.gateway())
    }
}

/// `docker network create` options beyond the name.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub ipv4: PoolRequest,
    /// `--ipv6`, with what was asked of its addresses.
    pub ipv6: Option<PoolRequest>,
    pub internal: bool,
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

#[derive(Clone)]
pub struct NetworkService {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    networks: Mutex<Vec<BridgeNetwork>>,
    /// Per network ID: the addresses in use and who holds them.
    members: Mutex<HashMap<String, BTreeMap<Ipv4Addr, Member>>>,
    /// Per container: its published ports and their proxies.
    published: Mutex<HashMap<String, ports::Published>>,
    nat_writer: Mutex<()>,
    /// Networks whose bridge and NAT are in place, with their DNS server.
    ready: tokio::sync::Mutex<HashMap<String, Vec<JoinHandle<()>>>>,
    /// daemon.json `default-address-pools`, parsed.
    pools: Vec<ipam::AddressPool>,
}

/// The IPv6 side of a new network: the subnet asked for, else a unique local
/// /64 of its own, overlapping no other network's in `nets`.
fn ipv6_net(nets: &[BridgeNetwork], id: &str, pool: &PoolRequest) -> Result<Ipv6Net, NetworkError> {
    let subnet = match &pool.subnet {
        Some(s) => Subnet6::parse(s).ok_or_else(|| NetworkError::Invalid(format!("invalid subnet {s:?}")))?,
        None if pool.gateway.is_some() || pool.ip_range.is_some() => {
            return Err(NetworkError::Invalid("a gateway or an ip-range needs a subnet".into()))
        }
        None => ipam::ula_for(id),
    };
    let taken = nets.iter().filter_map(|n| n.ipv6.as_ref().map(|v6| (n, v6.subnet)));
    if let Some((other, _)) = taken.into_iter().find(|(_, s)| s.overlaps(&subnet)) {
        return Err(NetworkError::Invalid(format!(
            "Pool overlaps with other one on this address space ({} of network {})",
            other.ipv6.as_ref().map_or(String::new(), |v6| v6.subnet.to_string()),
            other.name
        )));
    }
    Ok(Ipv6Net { ipam: Ipam::build(&subnet, pool)?, subnet })
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
    pub fn open(data_root: &Path, bridge: &DefaultBridge) -> Result<Self, NetworkError> {
        let dir = data_root.join("network");
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let user: Vec<BridgeNetwork> = std::fs::read(dir.join("networks.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let pools = bridge
            .address_pools
            .iter()
            .map(|p| ipam::AddressPool::parse(&p.base, p.size))
            .collect::<Result<Vec<_>, _>>()?;
        let bridge = default_bridge::load(&dir, bridge, &pools, &user)?;
        let mut networks = vec![bridge];
        networks.extend(user);
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                networks: Mutex::new(networks),
                members: Mutex::new(HashMap::new()),
                published: Mutex::new(HashMap::new()),
                nat_writer: Mutex::new(()),
                ready: tokio::sync::Mutex::new(HashMap::new()),
                pools,
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
    pub fn create(&self, name: &str, req: CreateOptions) -> Result<BridgeNetwork, NetworkError> {
        if name.is_empty() || matches!(name, "host" | "none") {
            return Err(NetworkError::Invalid(format!("network name {name:?} is reserved or empty")));
        }
        let mut nets = self.networks();
        if nets.iter().any(|n| n.name == name) {
            return Err(NetworkError::Exists(name.into()));
        }
        let subnet = match &req.ipv4.subnet {
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
            None if req.ipv4.gateway.is_some() || req.ipv4.ip_range.is_some() => {
                return Err(NetworkError::Invalid("a gateway or an ip-range needs a subnet".into()))
            }
            None => {
                let mut taken = ipam::host_routes();
                taken.extend(nets.iter().map(|n| n.subnet));
                ipam::pick_subnet(&taken, &self.inner.pools)
                    .ok_or_else(|| NetworkError::Exhausted("the default address pools".into()))?
            }
        };
        let ipam = Ipam::build(&subnet, &req.ipv4)?;
        let id = crate::containers::names::new_id();
        let ipv6 = req.ipv6.as_ref().map(|pool| ipv6_net(&nets, &id, pool)).transpose()?;
        let device =
            req.options.get("com.docker.network.bridge.name").cloned().unwrap_or_else(|| format!("br-{}", &id[..12]));
        let n = BridgeNetwork {
            id,
            name: name.into(),
            subnet,
            created: now(),
            device,
            internal: req.internal,
            labels: req.labels,
            options: req.options,
            ipam,
            attachable: req.attachable,
            ipv6,
        };
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
        if let Some(dns) = self.inner.ready.lock().await.remove(&n.id) {
            dns.iter().for_each(JoinHandle::abort);
        }
        link::unplug(&n.device).await?;
        nat::remove(&n.device);
        firewall::forget(&n.device);
        Ok(n)
    }

    fn members(&self) -> std::sync::MutexGuard<'_, HashMap<String, BTreeMap<Ipv4Addr, Member>>> {
        self.inner.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes note of an endpoint that kept running across an engine restart:
    /// its address stays taken and its names resolvable.
    pub async fn restore(&self, container_id: &str, ep: &Endpoint, upstream_dns: &[Ipv4Addr]) {
        let member = Member {
            container_id: container_id.into(),
            ipv6: ep.ipv6.map(|v6| v6.ip),
            names: ep.dns_names.clone(),
            upstream_dns: upstream_dns.to_vec(),
            links: ep.links.clone(),
        };
        self.members().entry(ep.network_id.clone()).or_default().insert(ep.ip, member);
        match self.get(&ep.network_id) {
            Ok(n) => {
                if let Err(e) = self.ensure_ready(&n).await {
                    tracing::warn!(network = %n.name, error = %e, "failed to restore network");
                }
            }
            Err(_) => tracing::warn!(network = %ep.network, "a running container's network is gone"),
        }
    }

    /// Brings up the bridge, NAT and (on user-defined networks) the DNS
    /// server, once per engine run.
    async fn ensure_ready(&self, n: &BridgeNetwork) -> Result<(), NetworkError> {
        let mut ready = self.inner.ready.lock().await;
        if ready.contains_key(&n.id) {
            return Ok(());
        }
        let gateway6 = n.ipv6.as_ref().map(|v6| (v6.gateway(), v6.subnet.prefix));
        link::ensure_bridge(&n.device, n.gateway(), n.subnet.prefix, gateway6).await?;
        if !n.internal {
            nat::enable_forwarding(n.ipv6.is_some())?;
        }
        self.apply_nat(n)?;
        firewall::allow(&n.device);
        let mut dns = Vec::new();
        if !n.is_default() {
            let book = Arc::new(NameBook { service: Arc::downgrade(&self.inner), network_id: n.id.clone() });
            match dns::serve(n.gateway(), book).await {
                Ok(tasks) => dns = tasks,
                // Containers still get the host's resolvers through it; only
                // names of other containers are lost.
                Err(e) => tracing::warn!(network = %n.name, error = %e, "embedded DNS server unavailable"),
            }
        }
        ready.insert(n.id.clone(), dns);
        Ok(())
    }

    /// Once running containers are restored: networks none of them uses
    /// lose their nftables table, which may still hold the published ports
    /// of containers that ended while the engine was down.
    pub async fn sweep(&self) {
        let ready = self.inner.ready.lock().await;
        for n in self.list().iter().filter(|n| !ready.contains_key(&n.id)) {
            nat::remove(&n.device);
        }
    }

    /// Whether the embedded DNS server answers on `network`: containers
    /// there use it as their resolver.
    pub async fn has_dns(&self, network_id: &str) -> bool {
        self.inner.ready.lock().await.get(network_id).is_some_and(|t| !t.is_empty())
    }

    /// Puts a container on `network`: an address, a veth pair into its
    /// namespace, and its names in the network's DNS.
    pub async fn connect(&self, network: &BridgeNetwork, req: Attach) -> Result<Endpoint, NetworkError> {
        self.ensure_ready(network).await?;
        let s = network.subnet;
        let gateway = network.gateway();
        let (ip, ipv6) = {
            let mut members = self.members();
            let used = members.entry(network.id.clone()).or_default();
            if (req.ip.is_some() || req.ip6.is_some()) && network.is_default() {
                return Err(NetworkError::Invalid(
                    "user specified IP address is supported on user defined networks only".into(),
                ));
            }
            let ip = network.ipam.pick(&s, gateway, req.ip, used.keys().copied().collect())?;
            let ipv6 = match (&network.ipv6, req.ip6) {
                (Some(v6), wanted) => {
                    let taken = used.values().filter_map(|m| m.ipv6).collect();
                    let ip = v6.ipam.pick(&v6.subnet, v6.gateway(), wanted, taken)?;
                    Some(Endpoint6 { ip, prefix: v6.subnet.prefix, gateway: v6.gateway() })
                }
                (None, Some(ip)) => {
                    return Err(NetworkError::Invalid(format!("no configured subnet contains IP address {ip}")))
                }
                (None, None) => None,
            };
            let member = Member {
                container_id: req.container_id.clone(),
                ipv6: ipv6.map(|v6| v6.ip),
                names: req.dns_names.clone(),
                upstream_dns: req.upstream_dns.clone(),
                links: req.links.clone(),
            };
            used.insert(ip, member);
            (ip, ipv6)
        };
        let o = ip.octets();
        let mac = req.mac.unwrap_or([0x02, 0x42, o[0], o[1], o[2], o[3]]);
        let endpoint = Endpoint {
            network_id: network.id.clone(),
            network: network.name.clone(),
            endpoint_id: crate::containers::names::new_id(),
            interface: format!("eth{}", req.index),
            host_if: host_if(&req.container_id, req.index),
            ip,
            prefix: s.prefix,
            gateway,
            ipv6,
            mac: mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
            aliases: req.aliases,
            dns_names: req.dns_names,
            links: req.links,
            ports: Vec::new(),
        };
        let plug = link::Plug {
            bridge: &network.device,
            host_if: &endpoint.host_if,
            interface: &endpoint.interface,
            pid: req.pid,
            ip,
            prefix: s.prefix,
            gateway: req.default_route.then_some(gateway),
            ipv6: ipv6.map(|v6| (v6.ip, v6.prefix, req.default_route.then_some(v6.gateway))),
            mac,
        };
        if let Err(e) = link::plug(&plug).await {
            self.disconnect(&endpoint).await;
            return Err(e);
        }
        Ok(endpoint)
    }

    /// The DNS names of a container's endpoint changed (`docker rename`).
    pub fn rename(&self, ep: &Endpoint, container_id: &str) {
        if let Some(m) = self.members().get_mut(&ep.network_id).and_then(|m| m.get_mut(&ep.ip)) {
            if m.container_id == container_id {
                m.names.clone_from(&ep.dns_names);
            }
        }
    }

    /// Takes the container off one network: its veth, address and names.
    pub async fn disconnect(&self, endpoint: &Endpoint) {
        if let Err(e) = link::unplug(&endpoint.host_if).await {
            tracing::warn!(interface = %endpoint.host_if, error = %e, "failed to remove veth");
        }
        if let Some(used) = self.members().get_mut(&endpoint.network_id) {
            used.remove(&endpoint.ip);
        }
    }
}

/// One network's view for its DNS server: names of the containers that
/// share a network with the asker.
struct NameBook {
    service: std::sync::Weak<Inner>,
    network_id: String,
}

impl NameBook {
    /// The networks the container at `src` (on this network) is on.
    fn scope(&self, inner: &Inner, src: Ipv4Addr) -> Option<(Member, Vec<String>)> {
        let members = inner.members.lock().unwrap_or_else(|p| p.into_inner());
        let asker = members.get(&self.network_id)?.get(&src)?.clone();
        let nets = members
            .iter()
            .filter(|(_, m)| m.values().any(|x| x.container_id == asker.container_id))
            .map(|(id, _)| id.clone())
            .collect();
        Some((asker, nets))
    }
}

impl dns::Resolve for NameBook {
    fn lookup(&self, src: Ipv4Addr, name: &str) -> Option<Vec<IpAddr>> {
        let inner = self.service.upgrade()?;
        let (asker, nets) = self.scope(&inner, src)?;
        let names: Vec<(String, String)> = {
            let all = inner.networks.lock().unwrap_or_else(|p| p.into_inner());
            all.iter().filter(|n| nets.contains(&n.id)).map(|n| (n.id.clone(), n.name.to_lowercase())).collect()
        };
        let members = inner.members.lock().unwrap_or_else(|p| p.into_inner());
        let name = name.trim_end_matches('.').to_lowercase();
        // A link's alias stands for its container, for the linking one only.
        let name = match asker.links.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(&name)) {
            Some((_, target)) => target.to_lowercase(),
            None => name,
        };
        let mut found = Vec::new();
        for (net_id, net_name) in &names {
            // `name` or `name.network`, as Docker answers.
            let short = name.strip_suffix(&format!(".{net_name}")).unwrap_or(&name);
            for (ip, m) in members.get(net_id).into_iter().flatten() {
                if m.names.iter().any(|n| n.eq_ignore_ascii_case(short)) {
                    found.push(IpAddr::V4(*ip));
                    found.extend(m.ipv6.map(IpAddr::V6));
                }
            }
        }
        (!found.is_empty()).then_some(found)
    }

    fn reverse(&self, src: Ipv4Addr, ip: Ipv4Addr) -> Option<String> {
        let inner = self.service.upgrade()?;
        let (_, nets) = self.scope(&inner, src)?;
        let members = inner.members.lock().unwrap_or_else(|p| p.into_inner());
        let m = nets.iter().find_map(|n| members.get(n)?.get(&ip))?;
        m.names.first().cloned()
    }

    fn upstreams(&self, src: Ipv4Addr) -> Vec<SocketAddr> {
        let own = self.service.upgrade().and_then(|inner| self.scope(&inner, src)).map(|(m, _)| m.upstream_dns);
        match own {
            Some(servers) if !servers.is_empty() => servers.into_iter().map(|ip| SocketAddr::from((ip, 53))).collect(),
            _ => resolv::HostResolv::read().upstreams(),
        }
    }
}

/// Host-side interface name: 15 bytes at most.
fn host_if(container_id: &str, index: u8) -> String {
    format!("vb{}{index:x}", &container_id[..11.min(container_id.len())])
}
