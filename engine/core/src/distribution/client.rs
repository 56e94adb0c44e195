//! The distribution API v2 client: endpoint choice (mirrors, plain HTTP for
//! loopback and insecure registries), authentication, manifests and blobs.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;

use super::auth::{parse_challenge, Challenge, Credentials};
use super::manifest::{ManifestError, ACCEPT as MANIFEST_ACCEPT};
use super::token::{self, TokenRequest};
use crate::config::SharedConfig;
use crate::content::Digest;
use crate::{Classify, ErrorKind};

pub(super) const DOCKER_HUB: &str = "docker.io";
pub(super) const DOCKER_HUB_ENDPOINT: &str = "https://registry-1.docker.io";

#[derive(Debug, thiserror::Error)]
pub enum DistributionError {
    #[error("failed to reach registry {registry}")]
    Unreachable { registry: String, source: reqwest::Error },
    #[error("manifest for {reference} not found: manifest unknown: {message}")]
    ManifestUnknown { reference: String, message: String },
    #[error("repository {name} not found: name unknown: {message}")]
    NameUnknown { name: String, message: String },
    #[error(
        "pull access denied for {name}, repository does not exist or may require 'docker login': denied: {message}"
    )]
    Denied { name: String, message: String },
    #[error("authentication to {registry} failed: {message}")]
    Unauthorized { registry: String, message: String },
    /// A request that never got an answer, with its cause.
    #[error("{0}")]
    Request(String),
    /// A login the registry refused, in dockerd's words.
    #[error("{0}")]
    LoginFailed(String),
    #[error("registry answered {status} for {url}: {message}")]
    Unexpected { url: String, status: u16, message: String },
    #[error("request to {url} failed")]
    Http { url: String, source: reqwest::Error },
    #[error("manifest for {reference} is invalid")]
    Manifest { reference: String, source: ManifestError },
    #[error("manifest for {reference} has digest {actual}, not the requested {expected}")]
    ManifestDigest { reference: String, expected: String, actual: Digest },
}

impl Classify for DistributionError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::ManifestUnknown { .. } | Self::NameUnknown { .. } | Self::Denied { .. } => ErrorKind::NotFound,
            // Only a login answers 401: the docker CLI takes a 401 from a
            // pull as a cue to prompt for a password, so pulls and pushes
            // report a refused token as dockerd does, a 500.
            Self::LoginFailed(_) => ErrorKind::Unauthorized,
            Self::Manifest { .. } | Self::ManifestDigest { .. } => ErrorKind::InvalidParameter,
            Self::Unauthorized { .. }
            | Self::Unreachable { .. }
            | Self::Unexpected { .. }
            | Self::Http { .. }
            | Self::Request(_) => ErrorKind::Internal,
        }
    }
}

/// One hit of a registry search (the v1 search API).
#[derive(Debug, Clone, Deserialize)]
pub struct SearchResult {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub star_count: u64,
    #[serde(default)]
    pub is_official: bool,
    #[serde(default)]
    pub is_automated: bool,
}

#[derive(Debug, Deserialize)]
struct SearchResponse {
    #[serde(default)]
    results: Vec<SearchResult>,
}

/// Talks to registries on the engine's behalf.
#[derive(Clone)]
pub struct RegistryClient {
    pub(super) http: reqwest::Client,
    config: SharedConfig,
}

impl RegistryClient {
    pub fn new(config: SharedConfig) -> Self {
        static PROVIDER: OnceLock<()> = OnceLock::new();
        PROVIDER.get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self { http, config }
    }

    /// Endpoints to try for `domain`, in order.
    pub(super) fn endpoints(&self, domain: &str) -> Vec<String> {
        let cfg = self.config.get();
        if domain == DOCKER_HUB {
            let mut v: Vec<String> = cfg.registry_mirrors.iter().map(|m| m.trim_end_matches('/').to_string()).collect();
            v.push(DOCKER_HUB_ENDPOINT.into());
            return v;
        }
        let insecure = cfg.insecure_registries.iter().any(|r| r == domain);
        if is_loopback(domain) {
            vec![format!("http://{domain}")]
        } else if insecure {
            vec![format!("https://{domain}"), format!("http://{domain}")]
        } else {
            vec![format!("https://{domain}")]
        }
    }

    /// Searches a registry's index (`docker search`); Docker Hub's unless
    /// `domain` names another registry.
    pub async fn search(&self, domain: &str, term: &str, limit: usize) -> Result<Vec<SearchResult>, DistributionError> {
        let base = match domain {
            DOCKER_HUB => "https://index.docker.io".to_string(),
            d if is_loopback(d) => format!("http://{d}"),
            d => format!("https://{d}"),
        };
        let url = format!("{base}/v1/search");
        let res = self
            .http
            .get(&url)
            .query(&[("q", term), ("n", &limit.to_string())])
            .send()
            .await
            .map_err(|source| DistributionError::Unreachable { registry: domain.into(), source })?;
        if !res.status().is_success() {
            return Err(DistributionError::Unexpected {
                url,
                status: res.status().as_u16(),
                message: "the registry does not offer search".into(),
            });
        }
        let body: SearchResponse = res.json().await.map_err(|source| DistributionError::Http { url, source })?;
        Ok(body.results.into_iter().take(limit).collect())
    }

    /// Opens a repository on the first endpoint that answers.
    pub async fn repository(
        &self,
        domain: &str,
        name: &str,
        creds: Option<Credentials>,
    ) -> Result<Repository, DistributionError> {
        let mut last = None;
        for base in self.endpoints(domain) {
            match self.http.get(format!("{base}/v2/")).send().await {
                Ok(_) => {
                    return Ok(Repository {
                        http: self.http.clone(),
                        registry: domain.into(),
                        base,
                        name: name.into(),
                        creds,
                        auth: Arc::new(Mutex::new(None)),
                    })
                }
                Err(e) => {
                    tracing::debug!(endpoint = %base, error = %e, "registry endpoint unreachable");
                    last = Some(e);
                }
            }
        }
        Err(DistributionError::Unreachable { registry: domain.into(), source: last.expect("at least one endpoint") })
    }
}

fn is_loopback(domain: &str) -> bool {
    let host =
        domain.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(domain, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// One repository on one registry endpoint, with its authorization cached.
#[derive(Clone)]
pub struct Repository {
    http: reqwest::Client,
    registry: String,
    base: String,
    name: String,
    creds: Option<Credentials>,
    auth: Arc<Mutex<Option<String>>>,
}

/// The registry's error body: `{"errors":[{"code":..., "message":...}]}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Debug, Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl Repository {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends a request, answering one authentication challenge if asked.
    pub async fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Response, DistributionError> {
        let res = self.send_once(&build).await?;
        if res.status() != StatusCode::UNAUTHORIZED {
            return Ok(res);
        }
        let challenge = res.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).and_then(parse_challenge);
        let Some(challenge) = challenge else { return Ok(res) };
        let header = self.authorize(challenge).await?;
        *self.auth.lock().unwrap_or_else(|p| p.into_inner()) = Some(header);
        self.send_once(&build).await
    }

    async fn send_once(&self, build: &impl Fn() -> RequestBuilder) -> Result<Response, DistributionError> {
        let mut req = build();
        if let Some(h) = self.auth.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            req = req.header(AUTHORIZATION, h);
        }
        let req = req.build().map_err(|source| DistributionError::Http { url: self.base.clone(), source })?;
        let url = req.url().to_string();
        self.http.execute(req).await.map_err(|source| DistributionError::Http { url, source })
    }

    async fn authorize(&self, challenge: Challenge) -> Result<String, DistributionError> {
        let basic = self.creds.as_ref().filter(|c| !c.username.is_empty());
        match challenge {
            Challenge::Basic => {
                let c = basic.ok_or_else(|| DistributionError::Unauthorized {
                    registry: self.registry.clone(),
                    message: format!("no basic auth credentials: run 'docker login {}'", self.registry),
                })?;
                Ok(c.basic_header())
            }
            Challenge::Bearer { realm, service, scope } => {
                if let Some(t) = self.creds.as_ref().map(|c| &c.registry_token).filter(|t| !t.is_empty()) {
                    return Ok(format!("Bearer {t}"));
                }
                let scope = scope.unwrap_or_else(|| format!("repository:{}:pull", self.name));
                let grant = token::fetch(
                    &self.http,
                    TokenRequest {
                        registry: &self.registry,
                        realm: &realm,
                        service: service.as_deref(),
                        scope: Some(&scope),
                        creds: self.creds.as_ref(),
                        offline: false,
                    },
                )
                .await?;
                Ok(format!("Bearer {}", grant.token))
            }
        }
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/v2/{}/{tail}", self.base, self.name)
    }

    /// Fetches a manifest or index by tag or digest: (content type, body, digest).
    /// `display` is how errors name the reference.
    pub async fn manifest(
        &self,
        reference: &str,
        display: &str,
    ) -> Result<(String, Vec<u8>, Digest), DistributionError> {
        let url = self.url(&format!("manifests/{reference}"));
        let res = self.send(|| self.http.request(Method::GET, &url).header(ACCEPT, MANIFEST_ACCEPT)).await?;
        let res = self.check(res, display).await?;
        let ct = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body = res.bytes().await.map_err(|source| DistributionError::Http { url: url.clone(), source })?.to_vec();
        let digest = Digest::of(&body);
        if reference.starts_with("sha256:") && digest.as_str() != reference {
            return Err(DistributionError::ManifestDigest {
                reference: display.into(),
                expected: reference.into(),
                actual: digest,
            });
        }
        Ok((ct, body, digest))
    }

    /// Starts a blob download; the caller streams and verifies the body.
    pub async fn blob(&self, digest: &Digest, display: &str) -> Result<Response, DistributionError> {
        let url = self.url(&format!("blobs/{digest}"));
        let res = self.send(|| self.http.get(&url)).await?;
        self.check(res, display).await
    }

    /// Whether the registry already has a blob in this repository.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<bool, DistributionError> {
        let url = self.url(&format!("blobs/{digest}"));
        let res = self.send(|| self.http.head(&url)).await?;
        Ok(res.status().is_success())
    }

    /// Starts an upload, asking the registry to mount `digest` from `from`
    /// (another repository on it) when given. `Ok(None)` means the mount
    /// worked and nothing needs uploading; otherwise the upload URL.
    pub async fn start_upload(&self, mount: Option<(&Digest, &str)>) -> Result<Option<String>, DistributionError> {
        let mut url = self.url("blobs/uploads/");
        if let Some((digest, from)) = mount {
            url = format!("{url}?mount={digest}&from={from}");
        }
        let res = self.send(|| self.http.post(&url).header(reqwest::header::CONTENT_LENGTH, 0)).await?;
        if res.status() == StatusCode::CREATED && mount.is_some() {
            return Ok(None);
        }
        let res = self.check(res, &self.name).await?;
        let location = res.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
            DistributionError::Unexpected {
                url: url.clone(),
                status: res.status().as_u16(),
                message: "upload started without a Location".into(),
            }
        })?;
        Ok(Some(if location.starts_with("http") { location.to_string() } else { format!("{}{location}", self.base) }))
    }

    /// Finishes an upload in one PUT of the whole blob.
    pub async fn finish_upload(
        &self,
        location: &str,
        digest: &Digest,
        size: u64,
        body: reqwest::Body,
    ) -> Result<(), DistributionError> {
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={digest}");
        let mut req = self
            .http
            .put(&url)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(body);
        // The body streams once, so this request cannot be replayed after a
        // challenge; start_upload has already earned the token.
        if let Some(h) = self.auth.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            req = req.header(AUTHORIZATION, h);
        }
        let res = req.send().await.map_err(|source| DistributionError::Http { url: url.clone(), source })?;
        self.check(res, &self.name).await.map(drop)
    }

    /// Uploads a manifest under a tag; returns its digest.
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Result<Digest, DistributionError> {
        let url = self.url(&format!("manifests/{reference}"));
        let res = self.send(|| self.http.put(&url).header(CONTENT_TYPE, media_type).body(body.to_vec())).await?;
        self.check(res, &self.name).await?;
        Ok(Digest::of(body))
    }

    /// Turns registry error responses into errors Docker users recognise.
    async fn check(&self, res: Response, display: &str) -> Result<Response, DistributionError> {
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let url = res.url().to_string();
        let text = res.text().await.unwrap_or_default();
        let body: ErrorBody = serde_json::from_str(&text).unwrap_or_default();
        let first = body.errors.first();
        let message =
            first.map(|e| e.message.clone()).filter(|m| !m.is_empty()).unwrap_or_else(|| text.trim().to_string());
        let name = format!("{}/{}", self.registry, self.name);
        Err(match (status, first.map(|e| e.code.as_str())) {
            (_, Some("MANIFEST_UNKNOWN")) => DistributionError::ManifestUnknown { reference: display.into(), message },
            (_, Some("NAME_UNKNOWN")) => DistributionError::NameUnknown { name, message },
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) | (_, Some("DENIED" | "UNAUTHORIZED")) => {
                DistributionError::Denied { name, message }
            }
            (StatusCode::NOT_FOUND, _) => DistributionError::ManifestUnknown { reference: display.into(), message },
            _ => DistributionError::Unexpected { url, status: status.as_u16(), message },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EngineConfig;

    #[test]
    fn endpoint_choice() {
        let cfg = EngineConfig {
            registry_mirrors: vec!["https://mirror.example/".into()],
            insecure_registries: vec!["reg.lan:5000".into()],
            ..Default::default()
        };
        let c = RegistryClient::new(SharedConfig::new(cfg));
        assert_eq!(c.endpoints("docker.io"), ["https://mirror.example", DOCKER_HUB_ENDPOINT]);
        assert_eq!(c.endpoints("127.0.0.1:5000"), ["http://127.0.0.1:5000"]);
        assert_eq!(c.endpoints("localhost:5000"), ["http://localhost:5000"]);
        assert_eq!(c.endpoints("reg.lan:5000"), ["https://reg.lan:5000", "http://reg.lan:5000"]);
        assert_eq!(c.endpoints("ghcr.io"), ["https://ghcr.io"]);
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }
}
