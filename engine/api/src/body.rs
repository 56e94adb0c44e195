//! Request bodies: Docker's rules for JSON payloads, and a 400 with a
//! message for anything malformed (dockerd 20.10 answers 500 there).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest JSON body accepted; bigger is not a config, it is a mistake.
const MAX_JSON_BODY: usize = 16 << 20;

/// A JSON request body.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON_BODY)
            .await
            .map_err(|e| ApiError::bad_request(format!("failed to read request body: {e}")))?;
        let _ = state;
        parse_json(content_type.as_deref(), &bytes).map(JsonBody)
    }
}

fn parse_json<T: DeserializeOwned>(content_type: Option<&str>, bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("request body is empty; a JSON object was expected"));
    }
    if let Some(ct) = content_type {
        let media = ct.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::bad_request(format!(
                "unsupported Content-Type header ({ct}): must be 'application/json'"
            )));
        }
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("invalid JSON in request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Thing {
        #[allow(dead_code)]
        name: String,
    }

    #[test]
    fn malformed_and_mistyped_bodies_are_400() {
        let bad = parse_json::<Thing>(Some("application/json"), &Bytes::from_static(b"{\"name\":")).unwrap_err();
        assert_eq!(bad.status, 400);
        assert!(bad.message.starts_with("invalid JSON in request body: EOF"), "{}", bad.message);
        let ct = parse_json::<Thing>(Some("text/plain"), &Bytes::from_static(b"{}")).unwrap_err();
        assert!(ct.message.contains("must be 'application/json'"));
        assert!(parse_json::<Thing>(None, &Bytes::from_static(b"")).is_err());
        assert!(parse_json::<Thing>(None, &Bytes::from_static(b"{\"name\":\"x\"}")).is_ok());
    }
}
