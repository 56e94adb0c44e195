//! Registry credentials and the token dance: a 401 names a realm, the
//! realm hands out a bearer token for a scope.

use base64::Engine;
use serde::Deserialize;

/// Credentials a client sent in `X-Registry-Auth` (base64url JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Credentials {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub username: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub password: String,
    #[serde(default, rename = "identitytoken", deserialize_with = "null_as_empty")]
    pub identity_token: String,
    #[serde(default, rename = "registrytoken", deserialize_with = "null_as_empty")]
    pub registry_token: String,
}

/// Some clients (bollard among them) send absent fields as `null`.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

impl Credentials {
    /// Decodes the header; empty or `{}` means anonymous.
    pub fn from_header(value: &str) -> Option<Self> {
        decode_header::<Self>(value).filter(|c| !c.is_anonymous())
    }

    /// `X-Registry-Config` of a build: credentials by registry host
    /// (`https://index.docker.io/v1/` stands for Docker Hub).
    pub fn map_from_header(value: &str) -> std::collections::BTreeMap<String, Self> {
        let all: std::collections::BTreeMap<String, Self> = decode_header(value).unwrap_or_default();
        all.into_iter()
            .filter(|(_, c)| !c.is_anonymous())
            .map(|(host, c)| {
                let host = host.trim_start_matches("https://").trim_start_matches("http://");
                let host = host.split('/').next().unwrap_or_default();
                let host = if host == "index.docker.io" { "docker.io" } else { host };
                (host.to_string(), c)
            })
            .collect()
    }

    /// The `Authorization` value for a registry that asked for Basic.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }

    pub fn is_anonymous(&self) -> bool {
        self.username.is_empty() && self.identity_token.is_empty() && self.registry_token.is_empty()
    }
}

/// Base64 JSON as Docker clients send it in headers: URL-safe, some older
/// ones the standard alphabet.
fn decode_header<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    let json = engines.iter().find_map(|e| e.decode(value).ok())?;
    serde_json::from_slice(&json).ok()
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut scope = None;
    for (k, v) in split_params(params) {
        match k.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(v),
            "service" => service = Some(v),
            "scope" => scope = Some(v),
            _ => {}
        }
    }
    Some(Challenge::Bearer { realm: realm?, service, scope })
}

/// `k="v", k2="v,2"` → pairs; commas inside quotes do not split.
fn split_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else { break };
        let key = key.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (value, remaining) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_string(), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((key, value));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into())
            }
        );
        assert_eq!(parse_challenge(r#"Basic realm="Registry Realm""#), Some(Challenge::Basic));
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn registry_auth_header() {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE.encode(s);
        assert_eq!(Credentials::from_header(&enc("{}")), None);
        assert_eq!(Credentials::from_header(""), None);
        let c = Credentials::from_header(&enc(r#"{"username":"u","password":"p","serveraddress":"r"}"#)).unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p"));
        let nulls = r#"{"username":"u","password":"p","auth":null,"identitytoken":null,"registrytoken":null}"#;
        let c = base64::engine::general_purpose::STANDARD.encode(nulls);
        assert_eq!(Credentials::from_header(&c).unwrap().identity_token, "");
    }
}
