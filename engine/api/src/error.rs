//! The one place where engine errors become HTTP responses.

use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_core::{Classify, ErrorKind};
use http::StatusCode;

use crate::types::ErrorResponse;

/// An error on its way to the client: a status and Docker's `{"message"}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

/// Maps an error kind to the status dockerd uses for it.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidParameter => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::NotModified => StatusCode::NOT_MODIFIED,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The error and its causes, `outer: inner: root`, as Go's wrapped errors read.
pub fn message_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

impl<E: Classify + std::error::Error> From<E> for ApiError {
    fn from(err: E) -> Self {
        let status = status_for(err.kind());
        let message = message_chain(&err);
        if status.is_server_error() {
            tracing::error!(error = %message, "request failed");
        }
        Self { status, message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A 304 carries no body.
        if self.status == StatusCode::NOT_MODIFIED {
            return self.status.into_response();
        }
        (self.status, Json(ErrorResponse { message: self.message })).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to open /x")]
    struct Outer(#[source] std::io::Error);

    impl Classify for Outer {
        fn kind(&self) -> ErrorKind {
            ErrorKind::Conflict
        }
    }

    #[test]
    fn chains_sources_and_maps_status() {
        let e: ApiError = Outer(std::io::Error::other("disk on fire")).into();
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.message, "failed to open /x: disk on fire");
    }
}
