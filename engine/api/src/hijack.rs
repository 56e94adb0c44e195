//! Connection hijacking for attach and exec: the client asks to upgrade
//! (`Connection: Upgrade`, `Upgrade: tcp`), the engine answers 101 and the
//! socket becomes a raw byte pipe in both directions.

use std::future::Future;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::header::{CONNECTION, CONTENT_TYPE, UPGRADE};
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;

use crate::error::ApiError;
use crate::version::ApiVersion;

/// The upgraded connection handed to a hijack handler.
pub type HijackedIo = TokioIo<Upgraded>;

/// How the bytes on a hijacked or streamed connection are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// The container has a TTY: one stream, bytes as they come.
    Raw,
    /// stdout and stderr interleaved in 8-byte-header frames (see `stream`).
    Multiplexed,
}

impl StreamKind {
    /// dockerd frames non-TTY output, and says so in the content type from
    /// API 1.42 on; older clients expect the raw-stream media type regardless.
    pub fn for_container(tty: bool) -> Self {
        if tty {
            Self::Raw
        } else {
            Self::Multiplexed
        }
    }

    pub fn content_type(self, version: ApiVersion) -> &'static str {
        match self {
            Self::Multiplexed if version >= ApiVersion(1, 42) => "application/vnd.docker.multiplexed-stream",
            _ => "application/vnd.docker.raw-stream",
        }
    }
}

/// Extractor for a request that asked to take over its connection.
pub struct Hijack {
    on_upgrade: OnUpgrade,
    version: ApiVersion,
}

impl<S: Send + Sync> FromRequestParts<S> for Hijack {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let wants_upgrade =
            parts.headers.get(UPGRADE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("tcp"));
        if !wants_upgrade {
            return Err(ApiError::bad_request("this endpoint requires a connection upgrade (Upgrade: tcp)"));
        }
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "connection cannot be upgraded"))?;
        let version = parts.extensions.get::<ApiVersion>().copied().unwrap_or(crate::version::MAX_API_VERSION);
        Ok(Self { on_upgrade, version })
    }
}

/// `Option<Hijack>`: `None` when the client did not ask to upgrade.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Hijack {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, ApiError> {
        if parts.headers.get(UPGRADE).is_none() {
            return Ok(None);
        }
        <Self as FromRequestParts<S>>::from_request_parts(parts, state).await.map(Some)
    }
}

impl Hijack {
    /// Answers `101 UPGRADED` and runs `handler` on the raw connection once
    /// the client has read the response head.
    pub fn respond<F, Fut>(self, kind: StreamKind, handler: F) -> Response
    where
        F: FnOnce(HijackedIo) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => handler(TokioIo::new(upgraded)).await,
                Err(e) => tracing::warn!(error = %e, "connection upgrade failed"),
            }
        });
        let mut res = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let h = res.headers_mut();
        h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(UPGRADE, HeaderValue::from_static("tcp"));
        h.insert(CONTENT_TYPE, HeaderValue::from_static(kind.content_type(self.version)));
        res
    }
}
