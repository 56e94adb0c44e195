//! Published ports: a userland TCP proxy from the host port to the
//! container, which also serves connections to the host's own loopback
//! (where NAT rules do not apply).

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::NetworkError;

/// Binds `host` now (so a taken port fails the start) and forwards every
/// connection to `target` until the returned task is aborted.
pub async fn spawn(host: SocketAddr, target: SocketAddr) -> Result<(JoinHandle<()>, u16), NetworkError> {
    let listener = TcpListener::bind(host)
        .await
        .map_err(|e| NetworkError::PortInUse(format!("Bind for {host} failed: port is already allocated ({e})")))?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(host.port());
    let task = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok((task, port))
}
