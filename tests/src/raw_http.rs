//! Hand-made HTTP/1.1 requests over a UNIX socket, for the cases clients
//! refuse to send: bad versions, malformed bodies, hijacks.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or_default().to_string()
    }
}

/// Sends one request and reads the whole response (the server closes or
/// sends Content-Length / chunked).
pub fn request(socket: &Path, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut stream = UnixStream::connect(socket).expect("connect to berthd");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write_head(&mut stream, method, path, headers, body.len(), true);
    stream.write_all(body).unwrap();
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    let body = if headers.get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(&mut reader)
    } else if let Some(len) = headers.get("content-length") {
        let mut buf = vec![0; len.parse().unwrap()];
        reader.read_exact(&mut buf).unwrap();
        buf
    } else {
        let mut buf = Vec::new();
        reader.read_to_end(&mut buf).unwrap();
        buf
    };
    Response { status, headers, body }
}

pub fn write_head(w: &mut impl Write, method: &str, path: &str, headers: &[(&str, &str)], len: usize, close: bool) {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: berth\r\nContent-Length: {len}\r\n");
    if close {
        head.push_str("Connection: close\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes()).unwrap();
}

/// Reads a status line and headers (names lower-cased).
pub fn read_head(r: &mut impl BufRead) -> (u16, BTreeMap<String, String>) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = BTreeMap::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    (status, headers)
}

fn read_chunked(r: &mut impl BufRead) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size).unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut chunk = vec![0; n + 2];
        r.read_exact(&mut chunk).unwrap();
        if n == 0 {
            return body;
        }
        body.extend_from_slice(&chunk[..n]);
    }
}
