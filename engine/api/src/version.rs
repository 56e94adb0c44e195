//! API version negotiation: `/v1.NN/...` paths are checked against the
//! supported range, stripped, and the version handed to handlers.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Uri};

use crate::error::ApiError;

pub const MIN_API_VERSION: ApiVersion = ApiVersion(1, 24);
pub const MAX_API_VERSION: ApiVersion = ApiVersion(1, 50);

/// A negotiated API version, e.g. `1.41`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(pub u16, pub u16);

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl ApiVersion {
    fn parse(s: &str) -> Option<Self> {
        let (major, minor) = s.split_once('.')?;
        Some(Self(major.parse().ok()?, minor.parse().ok()?))
    }
}

/// Splits `/v1.41/containers/json` into the version and `/containers/json`.
/// Paths without a version prefix are left alone.
fn split_version(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let (version, tail) = rest.split_at(end);
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.')).then_some((version, tail))
}

/// Middleware: resolves the request's API version and stamps dockerd's
/// identification headers on every response.
pub async fn negotiate(mut req: Request, next: Next) -> Response {
    let mut version = MAX_API_VERSION;
    if let Some((raw, tail)) = split_version(req.uri().path()) {
        let Some(v) = ApiVersion::parse(raw) else {
            return ApiError::bad_request(format!("invalid API version {raw:?}")).into_response();
        };
        if v < MIN_API_VERSION {
            return ApiError::bad_request(format!(
                "client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, \
                 please upgrade your client to a newer version"
            ))
            .into_response();
        }
        if v > MAX_API_VERSION {
            return ApiError::bad_request(format!(
                "client version {v} is too new. Maximum supported API version is {MAX_API_VERSION}"
            ))
            .into_response();
        }
        version = v;
        let tail = if tail.is_empty() { "/" } else { tail };
        let new_path = match req.uri().query() {
            Some(q) => format!("{tail}?{q}"),
            None => tail.to_string(),
        };
        match new_path.parse::<Uri>() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(e) => return ApiError::bad_request(format!("invalid request path: {e}")).into_response(),
        }
    }
    req.extensions_mut().insert(version);
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert("Api-Version", HeaderValue::from_static(MAX_API_STR));
    h.insert("Ostype", HeaderValue::from_static("linux"));
    h.insert("Server", HeaderValue::from_static(SERVER));
    res
}

const MAX_API_STR: &str = "1.50";
const SERVER: &str = concat!("Berth/", env!("CARGO_PKG_VERSION"), " (linux)");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_versioned_paths() {
        assert_eq!(split_version("/v1.41/info"), Some(("1.41", "/info")));
        assert_eq!(split_version("/v1.50"), Some(("1.50", "")));
        assert_eq!(split_version("/info"), None);
        assert_eq!(split_version("/volumes/x"), None);
        assert_eq!(ApiVersion::parse("1.9"), Some(ApiVersion(1, 9)));
        assert!(ApiVersion(1, 9) < MIN_API_VERSION);
        assert_eq!(MAX_API_VERSION.to_string(), MAX_API_STR);
    }
}
