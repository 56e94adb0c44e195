//! `POST /auth`, which bollard does not offer: one small HTTP/1.1 request to the engine the app
//! found, over its UNIX socket or TCP address.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};

/// The engine's API version this request speaks (any engine since 1.24 has `/auth`).
const PATH: &str = "/v1.41/auth";

#[derive(Serialize)]
pub struct AuthConfig<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub serveraddress: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct AuthResponse {
    #[serde(rename = "IdentityToken", default)]
    pub identity_token: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

/// Asks the engine at `host` to check `config` against the registry.
pub async fn login(host: &str, config: &AuthConfig<'_>) -> Result<AuthResponse, String> {
    let body = serde_json::to_vec(config).expect("JSON");
    let (status, bytes) = if let Some(path) = host.strip_prefix("unix://") {
        let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| format!("{host}: {e}"))?;
        send(TokioIo::new(stream), body).await?
    } else if let Some(addr) = host.strip_prefix("tcp://").or_else(|| host.strip_prefix("http://")) {
        let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("{host}: {e}"))?;
        send(TokioIo::new(stream), body).await?
    } else {
        return Err(format!("unsupported engine address {host}"));
    };
    if status.is_success() {
        serde_json::from_slice(&bytes).map_err(|e| format!("unexpected answer from the engine: {e}"))
    } else {
        Err(serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.message)
            .unwrap_or_else(|_| format!("the engine answered {status}")))
    }
}

async fn send<I>(io: I, body: Vec<u8>) -> Result<(hyper::StatusCode, Bytes), String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = hyper::Request::post(PATH)
        .header("host", "berth")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid request");
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status();
    let bytes = res.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, bytes))
}
