//! Links and addresses through netlink: the bridge, and a veth pair per
//! container with one end moved into the container's network namespace.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

use futures_util::TryStreamExt;
use rtnetlink::{Handle, LinkBridge, LinkUnspec, LinkVeth, RouteMessageBuilder};

use super::NetworkError;

fn nl(action: &str) -> impl FnOnce(rtnetlink::Error) -> NetworkError + '_ {
    move |e| NetworkError::Netlink(format!("{action}: {e}"))
}

/// A netlink connection in the calling thread's network namespace.
fn connect() -> Result<Handle, NetworkError> {
    let (conn, handle, _) = rtnetlink::new_connection().map_err(|e| NetworkError::Netlink(format!("netlink: {e}")))?;
    tokio::spawn(conn);
    Ok(handle)
}

async fn index_of(h: &Handle, name: &str) -> Result<Option<u32>, NetworkError> {
    let mut links = h.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(l) => Ok(l.map(|l| l.header.index)),
        // "No such device" is an answer, not a failure.
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc_enodev() => Ok(None),
        Err(e) => Err(NetworkError::Netlink(format!("look up {name}: {e}"))),
    }
}

fn libc_enodev() -> i32 {
    nix::errno::Errno::ENODEV as i32
}

fn exists_ok(r: Result<(), rtnetlink::Error>) -> Result<(), rtnetlink::Error> {
    match r {
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -(nix::errno::Errno::EEXIST as i32) => Ok(()),
        other => other,
    }
}

/// Adds an address to a link. IPv6 ones skip duplicate address detection,
/// as the engine hands them out: otherwise they stay unusable ("tentative")
/// for the first seconds of a container.
async fn add_address(h: &Handle, idx: u32, ip: IpAddr, prefix: u8) -> Result<(), rtnetlink::Error> {
    let mut req = h.address().add(idx, ip, prefix);
    if ip.is_ipv6() {
        use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags, AddressHeaderFlags};
        let msg = req.message_mut();
        msg.header.flags = AddressHeaderFlags::Nodad;
        msg.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    exists_ok(req.execute().await)
}

/// Removes a link's global addresses other than `keep`: a gateway the settings moved (`--bip`,
/// `--fixed-cidr-v6`, IPv6 turned off) must not linger and route its old subnet. Link-local
/// addresses stay.
async fn drop_other_addresses(h: &Handle, idx: u32, keep: &[IpAddr]) -> Result<(), rtnetlink::Error> {
    use rtnetlink::packet_route::address::{AddressAttribute, AddressScope};
    let addrs: Vec<_> = h.address().get().set_link_index_filter(idx).execute().try_collect().await?;
    for msg in addrs {
        let ip = msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        });
        if msg.header.scope == AddressScope::Universe && ip.is_some_and(|ip| !keep.contains(&ip)) {
            h.address().del(msg).execute().await?;
        }
    }
    Ok(())
}

/// Creates the bridge if needed, gives it the gateway addresses (IPv4, and
/// IPv6 on a dual-stack network), brings it up.
pub async fn ensure_bridge(
    name: &str,
    gateway: Ipv4Addr,
    prefix: u8,
    gateway6: Option<(Ipv6Addr, u8)>,
) -> Result<(), NetworkError> {
    let h = connect()?;
    if index_of(&h, name).await?.is_none() {
        exists_ok(h.link().add(LinkBridge::new(name).build()).execute().await).map_err(nl("create bridge"))?;
    }
    let idx = index_of(&h, name).await?.ok_or_else(|| NetworkError::Netlink(format!("bridge {name} vanished")))?;
    let keep: Vec<IpAddr> = std::iter::once(gateway.into()).chain(gateway6.map(|(gw6, _)| gw6.into())).collect();
    drop_other_addresses(&h, idx, &keep).await.map_err(nl("clear the bridge's old addresses"))?;
    add_address(&h, idx, gateway.into(), prefix).await.map_err(nl("address the bridge"))?;
    if let Some((gw6, prefix6)) = gateway6 {
        add_address(&h, idx, gw6.into(), prefix6).await.map_err(nl("address the bridge (IPv6)"))?;
    }
    h.link().set(LinkUnspec::new_with_index(idx).up().build()).execute().await.map_err(nl("bring the bridge up"))
}

/// One end of a container on a bridge.
pub struct Plug<'a> {
    pub bridge: &'a str,
    pub host_if: &'a str,
    /// The name inside the container (`ethN`).
    pub interface: &'a str,
    /// The container's init, whose network namespace gets the interface.
    pub pid: i32,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    /// The default route, on the container's first network only.
    pub gateway: Option<Ipv4Addr>,
    /// Address, prefix and (on the first network) default route of IPv6.
    pub ipv6: Option<(Ipv6Addr, u8, Option<Ipv6Addr>)>,
    pub mac: [u8; 6],
}

/// Plugs a container into its bridge: a veth pair, one end inside named
/// `p.interface` with its address (and default route).
pub async fn plug(p: &Plug<'_>) -> Result<(), NetworkError> {
    let h = connect()?;
    let peer = format!("{}p", p.host_if);
    if let Some(old) = index_of(&h, p.host_if).await? {
        let _ = h.link().del(old).execute().await;
    }
    h.link().add(LinkVeth::new(p.host_if, &peer).build()).execute().await.map_err(nl("create veth pair"))?;
    let bridge_idx =
        index_of(&h, p.bridge).await?.ok_or_else(|| NetworkError::Netlink(format!("no bridge {}", p.bridge)))?;
    let host_idx = index_of(&h, p.host_if).await?.ok_or_else(|| NetworkError::Netlink("veth vanished".into()))?;
    h.link()
        .set(LinkUnspec::new_with_index(host_idx).controller(bridge_idx).up().build())
        .execute()
        .await
        .map_err(nl("attach veth to bridge"))?;
    let peer_idx = index_of(&h, &peer).await?.ok_or_else(|| NetworkError::Netlink("veth peer vanished".into()))?;
    let ns = std::fs::File::open(format!("/proc/{}/ns/net", p.pid))
        .map_err(|e| NetworkError::Netlink(format!("open netns: {e}")))?;
    h.link()
        .set(LinkUnspec::new_with_index(peer_idx).address(p.mac.to_vec()).setns_by_fd(ns.as_raw_fd()).build())
        .execute()
        .await
        .map_err(nl("move veth into the container"))?;
    // Inside: a netlink socket must be opened from within the namespace,
    // which takes a thread of its own.
    let (interface, ip, prefix, gateway, ipv6) = (p.interface.to_string(), p.ip, p.prefix, p.gateway, p.ipv6);
    std::thread::spawn(move || -> Result<(), NetworkError> {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| NetworkError::Netlink(format!("enter netns: {e}")))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| NetworkError::Netlink(e.to_string()))?;
        rt.block_on(async {
            let h = connect()?;
            let idx = index_of(&h, &peer).await?.ok_or_else(|| NetworkError::Netlink("veth not in netns".into()))?;
            h.link()
                .set(LinkUnspec::new_with_index(idx).name(interface.clone()).up().build())
                .execute()
                .await
                .map_err(nl("bring the interface up"))?;
            add_address(&h, idx, ip.into(), prefix).await.map_err(nl("address the interface"))?;
            if let Some(gw) = gateway {
                let route = RouteMessageBuilder::<Ipv4Addr>::new().gateway(gw).build();
                h.route().add(route).execute().await.map_err(nl("add default route"))?;
            }
            if let Some((ip6, prefix6, gateway6)) = ipv6 {
                add_address(&h, idx, ip6.into(), prefix6).await.map_err(nl("address the interface (IPv6)"))?;
                if let Some(gw) = gateway6 {
                    let route = RouteMessageBuilder::<Ipv6Addr>::new().gateway(gw).build();
                    h.route().add(route).execute().await.map_err(nl("add default IPv6 route"))?;
                }
            }
            Ok(())
        })
    })
    .join()
    .map_err(|_| NetworkError::Netlink("netns thread panicked".into()))?
}

/// Removes a container's host-side veth (its peer goes with it).
pub async fn unplug(host_if: &str) -> Result<(), NetworkError> {
    let h = connect()?;
    if let Some(idx) = index_of(&h, host_if).await? {
        h.link().del(idx).execute().await.map_err(nl("delete veth"))?;
    }
    Ok(())
}
