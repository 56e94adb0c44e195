//! Image references as Docker reads them: `busybox` means
//! `docker.io/library/busybox:latest`, `host:port/repo:tag` names another
//! registry, and `@sha256:...` pins a digest. The grammar is distribution's
//! (`reference.go`), checked by hand: the regex crates that implement it
//! keep megabytes of compiled automaton alive for the engine's lifetime.

use std::fmt;

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
        let (rest, digest) = match s.split_once('@') {
            Some((rest, d)) if is_digest(d) => (rest, Some(d.to_string())),
            Some(_) => return Err(ReferenceError::InvalidFormat),
            None => (s, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => {
                validate_tag(tag)?;
                (name, Some(tag.to_string()))
            }
            _ => (rest, None),
        };
        let (domain, path) = split_domain(name);
        if name.len() > 255 || !domain.is_none_or(is_domain) {
            return Err(ReferenceError::InvalidFormat);
        }
        if !is_path(path) {
            return Err(match is_path(&path.to_lowercase()) {
                true => ReferenceError::Uppercase(name.into()),
                false => ReferenceError::InvalidFormat,
            });
        }
        let domain = match domain {
            None | Some("index.docker.io") => "docker.io",
            Some(d) => d,
        };
        let repository = match domain == "docker.io" && !path.contains('/') {
            true => format!("library/{path}"),
            false => path.to_string(),
        };
        // A bare name means `latest`; a digest alone stays alone.
        let tag = tag.or_else(|| digest.is_none().then(|| "latest".to_string()));
        Ok(Self { domain: domain.into(), repository, tag, digest })
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

/// The registry part of a name, if it has one: a first component with a
/// dot or a port, or `localhost`, as Docker tells them apart.
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (Some(first), rest),
        _ => (None, name),
    }
}

/// `host[:port]`: DNS-style labels, or an IPv6 address in brackets.
fn is_domain(d: &str) -> bool {
    let (host, port) = match d.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) if addr.parse::<std::net::Ipv6Addr>().is_ok() => ("", rest),
            _ => return false,
        },
        None => match d.rsplit_once(':') {
            Some((host, _)) => (host, &d[host.len()..]),
            None => (d, ""),
        },
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    port_ok && (d.starts_with('[') || host.split('.').all(label_ok))
}

/// The repository path: components of lower-case letters and digits, joined
/// within a component by `.`, `_`, `__` or dashes, and by `/` between them.
fn is_path(path: &str) -> bool {
    let component = |c: &str| {
        let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let mut rest = c;
        loop {
            let run = rest.find(['.', '_', '-']).unwrap_or(rest.len());
            if !alnum(&rest[..run]) {
                return false;
            }
            if run == rest.len() {
                return true;
            }
            let sep_len = rest[run..].find(|ch: char| !matches!(ch, '.' | '_' | '-')).unwrap_or(rest.len() - run);
            let sep = &rest[run..run + sep_len];
            if !(matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-')) {
                return false;
            }
            rest = &rest[run + sep_len..];
        }
    };
    path.split('/').all(component)
}

/// `algorithm:hex`, the hex part 128 bits at least.
fn is_digest(d: &str) -> bool {
    let Some((algorithm, hex)) = d.split_once(':') else { return false };
    let part = |p: &str| {
        p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && p.chars().all(|c| c.is_ascii_alphanumeric())
    };
    algorithm.split(['+', '.', '-', '_']).all(part) && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
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
        for bad in
            ["a/", "/a", "a//b", "a..b", "a-", "-a", "a___b", "a:b:c", "a@sha256:abc", "a@md5", "ho_st.io/a", "a:"]
        {
            assert_eq!(ImageRef::parse(bad), Err(ReferenceError::InvalidFormat), "{bad}");
        }
    }

    #[test]
    fn the_grammar_of_names() {
        for ok in ["a__b", "a--b", "a-b.c_d", "my.registry:5000/x/y", "localhost/a", "[::1]:5000/a"] {
            assert!(ImageRef::parse(ok).is_ok(), "{ok}");
        }
        let d = "sha256:".to_string() + &"0".repeat(64);
        assert_eq!(full(&format!("[::1]:5000/a@{d}")), format!("[::1]:5000/a@{d}"));
        assert_eq!(full("A.io/b"), "A.io/b:latest");
        assert_eq!(full("localhost/app"), "localhost/app:latest");
        assert_eq!(full("reg.io/app"), "reg.io/app:latest");
        assert_eq!(ImageRef::parse(&format!("{}:1", "a".repeat(256))), Err(ReferenceError::InvalidFormat));
    }
}
