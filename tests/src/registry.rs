//! A real registry (Debian's `docker-registry`, distribution v2) on a free
//! loopback port, storing into a temp dir, open or behind htpasswd or token
//! auth, plus the push half of the distribution API for loading fixtures
//! into an open one.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::process::Guarded;

pub struct Registry {
    /// `127.0.0.1:PORT`, the registry part of image references.
    pub addr: String,
    http: reqwest::Client,
    _process: Guarded,
    _dir: tempfile::TempDir,
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// How the registry checks who is asking.
pub enum RegistryAuth {
    Open,
    /// Basic auth against one bcrypt htpasswd user (made with `htpasswd`).
    Htpasswd {
        user: String,
        password: String,
    },
    /// Bearer tokens from a token server whose signing cert is `cert_pem`.
    Token {
        realm: String,
        service: String,
        issuer: String,
        cert_pem: std::path::PathBuf,
    },
}

impl Registry {
    pub async fn start() -> Self {
        Self::start_with(RegistryAuth::Open).await
    }

    pub async fn start_with(auth: RegistryAuth) -> Self {
        let bin = std::env::var("BERTH_TEST_REGISTRY").unwrap_or_else(|_| "/usr/bin/docker-registry".into());
        assert!(
            std::path::Path::new(&bin).exists(),
            "{bin} is missing: install Debian's docker-registry package (scripts/test does)"
        );
        let dir = tempfile::Builder::new().prefix("berth-registry-").tempdir().unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        let auth = auth_config(&auth, dir.path());
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    \
                 rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n  secret: berth-e2e\n{auth}",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.arg("serve").arg(&config).stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log);
        let mut process = Guarded::spawn("docker-registry", &mut cmd).expect("start registry");
        // reqwest is built without a default TLS provider (the engine picks ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = process.wait_timeout(Duration::ZERO) {
                let log = std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
                panic!("registry exited ({status}):\n{log}");
            }
            if let Ok(r) = http.get(format!("http://{addr}/v2/")).send().await {
                if r.status().is_success() || r.status() == 401 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "registry did not answer on {addr}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Self { addr, http, _process: process, _dir: dir }
    }

    /// Where the registry keeps a blob's bytes, to corrupt it on purpose.
    pub fn blob_path(&self, digest: &str) -> std::path::PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self._dir.path().join(format!("data/docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]))
    }

    /// Uploads a blob (monolithic upload) unless the registry has it; returns its digest.
    pub async fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        let head = self.http.head(format!("http://{}/v2/{repo}/blobs/{digest}", self.addr)).send().await.unwrap();
        if head.status().is_success() {
            return digest;
        }
        let start = self.http.post(format!("http://{}/v2/{repo}/blobs/uploads/", self.addr)).send().await.unwrap();
        assert_eq!(start.status(), 202, "starting upload to {repo}");
        let location = start.headers()["location"].to_str().unwrap().to_string();
        let url = if location.starts_with("http") { location } else { format!("http://{}{location}", self.addr) };
        let sep = if url.contains('?') { '&' } else { '?' };
        let put = self
            .http
            .put(format!("{url}{sep}digest={digest}"))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "finishing upload of {digest}: {:?}", put.text().await);
        digest
    }

    /// Puts a manifest or index under `reference` (a tag or digest); returns its digest.
    pub async fn push_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) -> String {
        let res = self
            .http
            .put(format!("http://{}/v2/{repo}/manifests/{reference}", self.addr))
            .header("content-type", media_type)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "pushing manifest {repo}:{reference}: {:?}", res.text().await);
        sha256_digest(bytes)
    }

    /// Fetches a manifest as a client accepting every format would.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> (String, Vec<u8>) {
        let res = self
            .http
            .get(format!("http://{}/v2/{repo}/manifests/{reference}", self.addr))
            .header(
                "accept",
                "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
                 application/vnd.docker.distribution.manifest.v2+json, \
                 application/vnd.docker.distribution.manifest.list.v2+json",
            )
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "GET manifest {repo}:{reference}: {}", res.status());
        let media_type = res.headers()["content-type"].to_str().unwrap().to_string();
        (media_type, res.bytes().await.unwrap().to_vec())
    }

    pub async fn get_blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        let res = self.http.get(format!("http://{}/v2/{repo}/blobs/{digest}", self.addr)).send().await.unwrap();
        assert!(res.status().is_success(), "GET blob {digest}: {}", res.status());
        res.bytes().await.unwrap().to_vec()
    }
}

/// The `auth:` section of the registry's config.
fn auth_config(auth: &RegistryAuth, dir: &std::path::Path) -> String {
    match auth {
        RegistryAuth::Open => String::new(),
        RegistryAuth::Htpasswd { user, password } => {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd is missing: install apache2-utils (scripts/test does)");
            assert!(out.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&out.stderr));
            let file = dir.join("htpasswd");
            std::fs::write(&file, out.stdout).unwrap();
            format!("auth:\n  htpasswd:\n    realm: berth-e2e\n    path: {}\n", file.display())
        }
        RegistryAuth::Token { realm, service, issuer, cert_pem } => format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
            cert_pem.display()
        ),
    }
}

/// A loopback port nothing listens on (for now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
