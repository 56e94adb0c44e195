//! Manifests and indexes as registries serve them: Docker schema2 and OCI,
//! single-platform and multi-platform.

use serde::{Deserialize, Serialize};

use crate::content::Digest;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// What a manifest GET accepts, most specific first.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, rename = "os.version", skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
}

impl Platform {
    /// The platform this engine runs containers for.
    pub fn host() -> Self {
        let machine =
            nix::sys::utsname::uname().map(|u| u.machine().to_string_lossy().into_owned()).unwrap_or_default();
        let variant = match machine.as_str() {
            "aarch64" => Some("v8".to_string()),
            "armv7l" => Some("v7".to_string()),
            "armv6l" => Some("v6".to_string()),
            _ => None,
        };
        Self { architecture: crate::system::oci_arch(&machine).into(), os: "linux".into(), variant, os_version: None }
    }

    /// Parses `os[/arch[/variant]]` as the API's `platform` parameter.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('/');
        let os = parts.next().filter(|p| !p.is_empty())?.to_lowercase();
        let host = Self::host();
        let architecture = parts.next().map(|a| crate::system::oci_arch(a).to_string()).unwrap_or(host.architecture);
        let variant = parts.next().map(str::to_owned);
        parts.next().is_none().then_some(Self { architecture, os, variant, os_version: None })
    }

    /// Whether an image for `self` runs where `wanted` was asked for.
    pub fn satisfies(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && match (&wanted.variant, &self.variant) {
                (Some(w), Some(v)) => w == v,
                // arm64 images rarely say v8; treat absent as compatible.
                _ => true,
            }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A single-platform image manifest (Docker schema2 or OCI).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// A multi-platform index (OCI) or manifest list (Docker).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug)]
pub enum Parsed {
    Manifest(Manifest),
    Index(Index),
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("unsupported manifest media type {0:?} (Docker schema 1 images are no longer supported)")]
    Unsupported(String),
    #[error("invalid manifest")]
    Invalid(#[source] serde_json::Error),
}

/// Parses a manifest body using the content type, or the body's own
/// `mediaType` when the registry sends a generic one.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Parsed, ManifestError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default)]
        media_type: String,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(body).map_err(ManifestError::Invalid)?;
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let kind = if probe.media_type.is_empty() { ct } else { probe.media_type.as_str() };
    match kind {
        DOCKER_MANIFEST | OCI_MANIFEST => serde_json::from_slice(body).map(Parsed::Manifest),
        DOCKER_MANIFEST_LIST | OCI_INDEX => serde_json::from_slice(body).map(Parsed::Index),
        _ if probe.manifests.is_some() => serde_json::from_slice(body).map(Parsed::Index),
        DOCKER_SCHEMA1 | "application/vnd.docker.distribution.manifest.v1+json" => {
            return Err(ManifestError::Unsupported(kind.into()))
        }
        _ => serde_json::from_slice(body).map(Parsed::Manifest),
    }
    .map_err(ManifestError::Invalid)
}

impl Index {
    /// The entry for `wanted`, skipping attestation manifests.
    pub fn select(&self, wanted: &Platform) -> Option<&Descriptor> {
        self.manifests.iter().filter(|m| m.platform.as_ref().is_some_and(|p| p.satisfies(wanted))).min_by_key(|m| {
            // Prefer an exact variant match over a compatible one.
            let p = m.platform.as_ref();
            (p.and_then(|p| p.variant.as_ref()) != wanted.variant.as_ref()) as u8
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    #[test]
    fn selects_the_platform() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
              {{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1,"platform":{{"architecture":"arm64","os":"linux"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1,"platform":{{"architecture":"unknown","os":"unknown"}}}}]}}"#,
            d(1),
            d(2),
            d(3)
        );
        let Parsed::Index(idx) = parse(OCI_INDEX, body.as_bytes()).unwrap() else { panic!("not an index") };
        let amd = Platform::parse("linux/amd64").unwrap();
        assert_eq!(idx.select(&amd).unwrap().digest.as_str(), d(2));
        assert_eq!(idx.select(&Platform::parse("linux/arm64").unwrap()).unwrap().digest.as_str(), d(1));
        assert!(idx.select(&Platform::parse("linux/s390x").unwrap()).is_none());
        assert_eq!(Platform::parse("linux/x86_64").unwrap().architecture, "amd64");
    }

    #[test]
    fn schema1_is_refused_clearly() {
        let err = parse(DOCKER_SCHEMA1, br#"{"schemaVersion":1}"#).unwrap_err();
        assert!(err.to_string().contains("schema 1"));
    }
}
