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
    let login = state.images.login(&config.serveraddress, &creds).await?;
    Ok(Json(SystemAuthResponse {
        status: "Login Succeeded".into(),
        identity_token: login.identity_token.unwrap_or_default(),
    }))
}

/// The body's credentials; `auth` (base64 `user:password`) stands in for
/// username and password when those are absent.
fn credentials(config: &AuthConfig) -> Result<Credentials, ApiError> {
    let (mut username, mut password) = (config.username.clone(), config.password.clone());
    if username.is_empty() && !config.auth.is_empty() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(config.auth.trim())
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
        identity_token: config.identitytoken.clone(),
        registry_token: config.registrytoken.clone(),
    })
}
