//! A hijacked connection end to end: a client upgrades over a real UNIX
//! socket served by `berth_api::serve`, then bytes flow both ways framed as
//! Docker's multiplexed stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;

use axum::routing::post;
use axum::Router;
use berth_api::hijack::{Hijack, StreamKind};
use berth_api::stream::{frame, parse_frame, StdStream};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Echoes each chunk of stdin back on stdout, upper-cased, until EOF, then
/// writes a goodbye on stderr.
async fn echo(hijack: Hijack) -> axum::response::Response {
    hijack.respond(StreamKind::Multiplexed, |mut io| async move {
        let mut buf = [0u8; 1024];
        loop {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = io.write_all(&frame(StdStream::Stdout, &buf[..n].to_ascii_uppercase())).await;
                }
            }
        }
        let _ = io.write_all(&frame(StdStream::Stderr, b"bye")).await;
        let _ = io.shutdown().await;
    })
}

/// Serves the echo route on a fresh socket; keep the guards alive.
fn serve_echo() -> (tempfile::TempDir, tokio::runtime::Runtime, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(async { tokio::net::UnixListener::bind(&sock) }).unwrap();
    let routes = Router::new().route("/containers/{id}/attach", post(echo));
    rt.spawn(berth_api::serve(listener, routes, std::future::pending()));
    (dir, rt, sock)
}

#[test]
fn hijack_round_trip() {
    let (_dir, _rt, sock) = serve_echo();
    let mut conn = UnixStream::connect(&sock).unwrap();
    conn.write_all(
        b"POST /v1.50/containers/abc/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: berth\r\n\
          Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 101"), "{status}");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        headers.push(line.trim().to_ascii_lowercase());
    }
    assert!(headers.contains(&"content-type: application/vnd.docker.multiplexed-stream".into()), "{headers:?}");
    assert!(headers.contains(&"upgrade: tcp".into()), "{headers:?}");

    conn.write_all(b"hello berth").unwrap();
    // Half-close like `docker attach` does when stdin ends; output keeps flowing.
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    let mut buf = BytesMut::from(&rest[..]);
    let mut out = Vec::new();
    while let Some((stream, payload)) = parse_frame(&mut buf) {
        out.push((stream, String::from_utf8(payload.to_vec()).unwrap()));
    }
    assert_eq!(out, [(1, "HELLO BERTH".to_string()), (2, "bye".to_string())]);
}

#[test]
fn hijack_without_upgrade_header_is_400() {
    let (_dir, _rt, sock) = serve_echo();
    let mut conn = UnixStream::connect(&sock).unwrap();
    conn.write_all(
        b"POST /containers/abc/attach HTTP/1.1\r\nHost: b\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("requires a connection upgrade"), "{text}");
}
