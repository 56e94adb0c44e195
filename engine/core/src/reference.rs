//! Image references as Docker reads them: `busybox` means
//! `docker.io/library/busybox:latest`, `host:port/repo:tag` names another
//! registry, and `@sha256:...` pins a digest.

use std::fmt;

use oci_spec::distribution::Reference;

use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    LooksLikeId(String),
}

impl Classify for ReferenceError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidParameter
    }
}

/// A normalized image reference. It always has a tag or a digest (a bare
/// name gets `latest`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    domain: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<Self, ReferenceError> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(ReferenceError::LooksLikeId(s.into()));
        }
        let parsed: Reference = match s.parse() {
            Ok(r) => r,
            Err(_) => {
                let name = s.split('@').next().unwrap_or(s);
                let name = name.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map_or(name, |(n, _)| n);
                if name.chars().any(|c| c.is_ascii_uppercase()) && name.to_lowercase().parse::<Reference>().is_ok() {
                    return Err(ReferenceError::Uppercase(name.into()));
                }
                return Err(ReferenceError::InvalidFormat);
            }
        };
        // The grammar lets an upper-case first component through as a
        // domain-less path; Docker refuses it.
        if parsed.repository().chars().any(|c| c.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase(parsed.repository().into()));
        }
        let digest = parsed.digest().map(str::to_owned);
        // The parser adds `latest` to bare names; a digest alone stays alone.
        let explicit_tag = has_explicit_tag(s);
        let tag = parsed.tag().filter(|_| explicit_tag || digest.is_none()).map(str::to_owned);
        Ok(Self { domain: parsed.registry().into(), repository: parsed.repository().into(), tag, digest })
    }

    /// The registry host (`docker.io`, `127.0.0.1:5000`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The path within the registry (`library/busybox`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.repository)
    }

    /// The name as users write it: `busybox`, `user/app`, `host:5000/app`.
    pub fn familiar_name(&self) -> String {
        match self.domain.as_str() {
            "docker.io" => self.repository.strip_prefix("library/").unwrap_or(&self.repository).to_string(),
            _ => self.name(),
        }
    }

    /// `busybox:latest` or `busybox@sha256:...`.
    pub fn familiar(&self) -> String {
        self.render(self.familiar_name())
    }

    /// The same name with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Self {
        Self { tag: Some(tag.into()), digest: None, ..self.clone() }
    }

    /// The same name pinned to a digest, without the tag.
    pub fn with_digest(&self, digest: &str) -> Self {
        Self { tag: None, digest: Some(digest.into()), ..self.clone() }
    }

    fn render(&self, name: String) -> String {
        let mut s = name;
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// Whether a tag was written (`a:b`), not a registry port (`host:5000/a`).
pub fn has_explicit_tag(s: &str) -> bool {
    let name = s.split('@').next().unwrap_or(s);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.contains(':')
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(self.name()))
    }
}

/// Tag names as Docker allows them.
pub fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let mut chars = tag.chars();
    let ok = tag.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::InvalidFormat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        ImageRef::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalizes_like_docker() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("user/app:1"), "docker.io/user/app:1");
        assert_eq!(full("index.docker.io/library/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("localhost:5000/a/b:tag"), "localhost:5000/a/b:tag");
        assert_eq!(full("127.0.0.1:5000/a"), "127.0.0.1:5000/a:latest");
        let d = "sha256:".to_string() + &"a".repeat(64);
        assert_eq!(full(&format!("busybox@{d}")), format!("docker.io/library/busybox@{d}"));
        assert_eq!(full(&format!("busybox:1@{d}")), format!("docker.io/library/busybox:1@{d}"));
    }

    #[test]
    fn familiar_forms() {
        let r = ImageRef::parse("busybox").unwrap();
        assert_eq!(r.familiar(), "busybox:latest");
        assert_eq!(r.familiar_name(), "busybox");
        let r = ImageRef::parse("127.0.0.1:5000/berth/busybox:single").unwrap();
        assert_eq!(r.familiar(), "127.0.0.1:5000/berth/busybox:single");
        assert_eq!(r.domain(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "berth/busybox");
    }

    #[test]
    fn errors() {
        assert_eq!(ImageRef::parse("Busybox"), Err(ReferenceError::Uppercase("Busybox".into())));
        assert_eq!(ImageRef::parse("a b"), Err(ReferenceError::InvalidFormat));
        assert_eq!(ImageRef::parse("UPPER/case"), Err(ReferenceError::Uppercase("UPPER/case".into())));
        assert_eq!(ImageRef::parse(""), Err(ReferenceError::InvalidFormat));
        assert!(matches!(ImageRef::parse(&"a".repeat(64)), Err(ReferenceError::LooksLikeId(_))));
        assert!(validate_tag("v1.0-rc_1").is_ok());
        assert!(validate_tag(".bad").is_err());
    }
}
