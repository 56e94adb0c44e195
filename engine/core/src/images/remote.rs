//! Questions asked of a registry without pulling: what a reference
//! resolves to (`GET /distribution/{name}/json`), `docker search` and
//! `docker login` (`POST /auth`).

use super::config::ImageConfig;
use super::{ImageError, ImageService};
use crate::distribution::manifest::{self, Descriptor, Parsed, Platform};
use crate::distribution::{Credentials, DistributionError, Login, SearchResult};
use crate::reference::ImageRef;

impl ImageService {
    /// The descriptor a reference resolves to and the platforms it offers.
    pub async fn distribution_inspect(
        &self,
        reference: &ImageRef,
        creds: Option<Credentials>,
    ) -> Result<(Descriptor, Vec<Platform>), ImageError> {
        let repo = self.inner.registry.repository(reference.domain(), reference.repository(), creds).await?;
        let display = reference.to_string();
        let tag_or_digest = reference.digest().or(reference.tag()).unwrap_or("latest");
        let (ct, body, digest) = repo.manifest(tag_or_digest, &display).await?;
        let parsed = manifest::parse(&ct, &body)
            .map_err(|source| DistributionError::Manifest { reference: display.clone(), source })?;
        let (media_type, platforms) = match parsed {
            Parsed::Index(i) => (i.media_type, i.manifests.into_iter().filter_map(|m| m.platform).collect()),
            Parsed::Manifest(m) => {
                let res = repo.blob(&m.config.digest, &display).await?;
                let bytes =
                    res.bytes().await.map_err(|source| DistributionError::Http { url: display.clone(), source })?;
                let config = ImageConfig::parse(&bytes)
                    .map_err(|source| ImageError::Config { id: m.config.digest.clone(), source })?;
                let platform = Platform {
                    architecture: config.architecture,
                    os: config.os,
                    variant: config.variant,
                    os_version: config.os_version,
                };
                (m.media_type, vec![platform])
            }
        };
        let media_type =
            if media_type.is_empty() { ct.split(';').next().unwrap_or("").to_string() } else { media_type };
        let size = body.len() as u64;
        Ok((Descriptor { media_type, digest, size, platform: None, annotations: None }, platforms))
    }

    /// `docker search TERM`: `registry/term` searches that registry.
    pub async fn search(&self, term: &str, limit: usize) -> Result<Vec<SearchResult>, ImageError> {
        let (domain, query) = match term.split_once('/') {
            Some((d, rest)) if d.contains('.') || d.contains(':') || d == "localhost" => (d, rest),
            _ => ("docker.io", term),
        };
        Ok(self.inner.registry.search(domain, query, limit).await?)
    }

    /// `docker login SERVER`: `server` as the CLI sends it (`host[:port]`,
    /// a URL, or empty for Docker Hub).
    pub async fn login(&self, server: &str, creds: &Credentials) -> Result<Login, ImageError> {
        let domain = login_domain(server)
            .ok_or_else(|| ImageError::InvalidParameter(format!("unable to parse server address: {server:?}")))?;
        Ok(self.inner.registry.login(&domain, creds).await?)
    }
}

/// The registry host a login names: URLs lose scheme and path, Docker Hub's
/// index addresses become `docker.io`.
fn login_domain(server: &str) -> Option<String> {
    let server = server.trim();
    let rest = server.strip_prefix("https://").or_else(|| server.strip_prefix("http://")).unwrap_or(server);
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() && !rest.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some(match host {
        "" | "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".into(),
        h => h.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::login_domain;

    #[test]
    fn login_servers() {
        assert_eq!(login_domain("").as_deref(), Some("docker.io"));
        assert_eq!(login_domain("https://index.docker.io/v1/").as_deref(), Some("docker.io"));
        assert_eq!(login_domain("127.0.0.1:5000").as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(login_domain("http://Reg.Example:443/v2/").as_deref(), Some("reg.example:443"));
        assert_eq!(login_domain("/path"), None);
        assert_eq!(login_domain("bad host"), None);
    }
}
