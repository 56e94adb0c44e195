//! A token server for the distribution token auth spec, written for the
//! suites: it knows one user, signs ES256 JWTs the registry verifies against
//! a self-signed cert (made with `openssl`), hands out refresh tokens on
//! `offline_token=true`, and records every request so tests can check how
//! the engine asked.

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use sha2::{Digest, Sha256};

/// One request the issuer saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Query or form parameters.
    pub params: BTreeMap<String, String>,
    /// The user of a Basic `Authorization`, if any.
    pub basic_user: Option<String>,
}

pub struct TokenIssuer {
    pub realm: String,
    pub service: String,
    pub issuer: String,
    pub cert_pem: PathBuf,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

struct State {
    key: EcdsaKeyPair,
    kid: String,
    service: String,
    issuer: String,
    user: (String, String),
    refresh_tokens: Mutex<HashSet<String>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TokenIssuer {
    /// Starts on a free loopback port, accepting `user`/`password`.
    pub async fn start(user: &str, password: &str) -> Self {
        let dir = tempfile::Builder::new().prefix("berth-token-").tempdir().unwrap();
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let cert_pem = dir.path().join("cert.pem");
        self_signed_cert(pkcs8.as_ref(), dir.path(), &cert_pem);
        let kid = libtrust_key_id(key.public_key().as_ref());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State {
            key,
            kid,
            service: "berth-e2e-registry".into(),
            issuer: "berth-e2e-issuer".into(),
            user: (user.into(), password.into()),
            refresh_tokens: Mutex::new(HashSet::new()),
            seen: seen.clone(),
        });
        let (service, issuer) = (state.service.clone(), state.issuer.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let state = state.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(state.handle(req).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
                });
            }
        });
        Self { realm: format!("http://{addr}/token"), service, issuer, cert_pem, seen, task, _dir: dir }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl State {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = req.method().to_string();
        let basic = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_string(), p.to_string())));
        let query = req.uri().query().unwrap_or("").to_string();
        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let raw = if method == "POST" { body.to_vec() } else { query.into_bytes() };
        let params: BTreeMap<String, String> = form_urlencoded::parse(&raw).into_owned().collect();
        self.seen.lock().unwrap().push(Seen {
            method: method.clone(),
            params: params.clone(),
            basic_user: basic.as_ref().map(|(u, _)| u.clone()),
        });
        let p = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
        let subject = if method == "POST" && p("grant_type") == "refresh_token" {
            if !self.refresh_tokens.lock().unwrap().contains(p("refresh_token")) {
                return json(400, r#"{"error":"invalid_grant","error_description":"unknown refresh token"}"#.into());
            }
            self.user.0.clone()
        } else {
            match basic {
                Some(pair) if pair == self.user => pair.0,
                Some(_) => return json(401, r#"{"details":"incorrect username or password"}"#.into()),
                // A private registry: no anonymous tokens.
                None => return json(401, r#"{"details":"authentication required"}"#.into()),
            }
        };
        let token = self.sign(&subject, p("scope"));
        let mut answer = serde_json::json!({ "token": token, "access_token": token, "expires_in": 300 });
        if p("offline_token") == "true" || p("grant_type") == "refresh_token" {
            let refresh = format!("berth-refresh-{}", hex(&Sha256::digest(token.as_bytes())[..12]));
            self.refresh_tokens.lock().unwrap().insert(refresh.clone());
            answer["refresh_token"] = refresh.into();
        }
        json(200, answer.to_string())
    }

    /// A JWT granting every action asked for in `scope`.
    fn sign(&self, subject: &str, scope: &str) -> String {
        let access: Vec<serde_json::Value> = scope
            .split(' ')
            .filter_map(|one| {
                let (kind, rest) = one.split_once(':')?;
                let (name, actions) = rest.rsplit_once(':')?;
                Some(serde_json::json!({ "type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>() }))
            })
            .collect();
        let now = crate::unix_now();
        let header = serde_json::json!({ "typ": "JWT", "alg": "ES256", "kid": self.kid });
        let claims = serde_json::json!({
            "iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300, "nbf": now - 10,
            "iat": now, "jti": format!("{now}-{}", access.len()), "access": access,
        });
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let sig = self.key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

fn json(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The registry finds the signing key by this id: the libtrust fingerprint,
/// base32 of the first 240 bits of the SPKI's SHA-256, in groups of four.
fn libtrust_key_id(public_point: &[u8]) -> String {
    // DER SubjectPublicKeyInfo header for an uncompressed P-256 point.
    const P256_SPKI_PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let spki = [&P256_SPKI_PREFIX[..], public_point].concat();
    let hash = Sha256::digest(&spki);
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    // 30 bytes = 240 bits = exactly 48 base32 characters, no padding.
    let bits: Vec<bool> = hash[..30].iter().flat_map(|b| (0..8).rev().map(move |i| b >> i & 1 == 1)).collect();
    let chars: Vec<char> =
        bits.chunks(5).map(|c| ALPHABET[c.iter().fold(0usize, |acc, &bit| acc << 1 | bit as usize)] as char).collect();
    chars.chunks(4).map(|g| g.iter().collect::<String>()).collect::<Vec<_>>().join(":")
}

/// A self-signed cert for the key, for the registry's `rootcertbundle`.
fn self_signed_cert(pkcs8: &[u8], dir: &std::path::Path, cert: &std::path::Path) {
    let key_pem = dir.join("key.pem");
    let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs8);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    std::fs::write(&key_pem, format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n")))
        .unwrap();
    let out = Command::new("openssl")
        .args(["req", "-new", "-x509", "-days", "2", "-subj", "/CN=berth-e2e-token-issuer", "-key"])
        .arg(&key_pem)
        .arg("-out")
        .arg(cert)
        .output()
        .expect("openssl is missing: install it (scripts/test does)");
    assert!(out.status.success(), "openssl req failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_id_shape() {
        let id = super::libtrust_key_id(&[4u8; 65]);
        assert_eq!(id.len(), 48 + 11);
        assert_eq!(id.split(':').count(), 12);
    }
}
