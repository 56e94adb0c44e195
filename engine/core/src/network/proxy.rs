//! Userland proxies for published ports, like docker-proxy: they hold the
//! host port (so a taken port fails the start) and serve the traffic NAT
//! cannot, to the host's own loopback and from the container's bridge.

use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

use super::NetworkError;

/// How long a UDP flow without traffic keeps its socket, as docker-proxy.
const UDP_IDLE: Duration = Duration::from_secs(90);

/// Binds `host` now and forwards `protocol` ("tcp" or "udp") traffic to
/// `target` until the returned task is aborted; returns the bound port.
pub async fn spawn(
    protocol: &str,
    host: SocketAddr,
    target: SocketAddr,
) -> Result<(JoinHandle<()>, u16), NetworkError> {
    let taken =
        |e: std::io::Error| NetworkError::PortInUse(format!("Bind for {host} failed: port is already allocated ({e})"));
    match protocol {
        "tcp" => {
            let socket = bound(host, Type::STREAM).map_err(taken)?;
            socket.listen(1024).map_err(taken)?;
            let listener = TcpListener::from_std(socket.into()).map_err(taken)?;
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(host.port());
            Ok((tokio::spawn(tcp(listener, target)), port))
        }
        "udp" => {
            let socket = UdpSocket::from_std(bound(host, Type::DGRAM).map_err(taken)?.into()).map_err(taken)?;
            let port = socket.local_addr().map(|a| a.port()).unwrap_or(host.port());
            Ok((tokio::spawn(udp(socket, target)), port))
        }
        other => Err(NetworkError::Invalid(format!("unsupported protocol {other:?} for published port"))),
    }
}

/// Whether this host can bind IPv6 sockets at all (a kernel may have IPv6 off).
pub fn host_has_ipv6() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| bound((Ipv6Addr::LOCALHOST, 0).into(), Type::DGRAM).is_ok())
}

/// A non-blocking socket bound to `host`. An IPv6 socket takes IPv6 only, so [::] and 0.0.0.0
/// can hold the same port side by side, as dockerd's proxies do.
fn bound(host: SocketAddr, ty: Type) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(host), ty, None)?;
    if host.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if ty == Type::STREAM {
        // As std's TcpListener: a port whose last connections linger in TIME_WAIT can be bound.
        socket.set_reuse_address(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&host.into())?;
    Ok(socket)
}

async fn tcp(listener: TcpListener, target: SocketAddr) {
    // Connections end with the listener: aborting this task drops the set.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut inbound, _)) = accepted else { return };
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// One socket towards the container per client address, so replies find
/// their way back; a flow ends after [`UDP_IDLE`] without replies.
async fn udp(socket: UdpSocket, target: SocketAddr) {
    let socket = Arc::new(socket);
    let mut flows: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut replies = JoinSet::new();
    let mut buf = vec![0u8; 65535];
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((n, peer)) = received else { return };
                let flow = match flows.get(&peer) {
                    Some(f) => f.clone(),
                    None => {
                        let Ok(flow) = connect_udp(target).await else { continue };
                        let flow = Arc::new(flow);
                        flows.insert(peer, flow.clone());
                        replies.spawn(reply(flow.clone(), socket.clone(), peer));
                        flow
                    }
                };
                let _ = flow.send(&buf[..n]).await;
            }
            Some(Ok(peer)) = replies.join_next(), if !replies.is_empty() => {
                flows.remove(&peer);
            }
        }
    }
}

async fn connect_udp(target: SocketAddr) -> std::io::Result<UdpSocket> {
    let local: SocketAddr = if target.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let s = UdpSocket::bind(local).await?;
    s.connect(target).await?;
    Ok(s)
}

/// Relays the container's answers to `peer` until the flow goes idle.
async fn reply(flow: Arc<UdpSocket>, socket: Arc<UdpSocket>, peer: SocketAddr) -> SocketAddr {
    let mut buf = vec![0u8; 65535];
    while let Ok(Ok(n)) = tokio::time::timeout(UDP_IDLE, flow.recv(&mut buf)).await {
        if socket.send_to(&buf[..n], peer).await.is_err() {
            break;
        }
    }
    peer
}
