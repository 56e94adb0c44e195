//! `POST /auth`: `docker login` asks the engine to check credentials.

use axum::extract::State;
use axum::Json;
use base64::Engine;
use berth_core::distribution::Credentials;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::state::AppState;
use crate::types::{AuthConfig, SystemAuthResponse};

pub async fn login(
    State(state): State<AppState>,
    JsonBody(config): JsonBody<AuthConfig>,
) -> Result<Json<SystemAuthResponse>, ApiError> {
    let creds = credentials(&config)?;
    let login = state.images.login(config.serveraddress.as_deref().unwrap_or(""), &creds).await?;
    Ok(Json(SystemAuthResponse {
        status: "Login Succeeded".into(),
        identity_token: login.identity_token.unwrap_or_default(),
    }))
}

/// The body's credentials; `auth` (base64 `user:password`) stands in for
/// username and password when those are absent.
fn credentials(config: &AuthConfig) -> Result<Credentials, ApiError> {
    let field = |f: &Option<String>| f.clone().unwrap_or_default();
    let (mut username, mut password) = (field(&config.username), field(&config.password));
    let auth = field(&config.auth);
    if username.is_empty() && !auth.is_empty() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| ApiError::bad_request("invalid auth configuration: auth is not base64 'user:password'"))?;
        let (u, p) = decoded
            .split_once(':')
            .ok_or_else(|| ApiError::bad_request("invalid auth configuration: auth is not 'user:password'"))?;
        (username, password) = (u.to_string(), p.to_string());
    }
    Ok(Credentials {
        username,
        password,
        identity_token: field(&config.identitytoken),
        registry_token: field(&config.registrytoken),
    })
}
