//! The token server half of registry auth: trading credentials (or a refresh
//! token) for a bearer token, as the distribution token spec describes.

use serde::Deserialize;

use super::auth::Credentials;
use super::client::DistributionError;

/// The client id Docker sends; token servers may key refresh tokens on it.
const CLIENT_ID: &str = "docker";

/// What to ask a token server for.
pub(super) struct TokenRequest<'a> {
    pub registry: &'a str,
    pub realm: &'a str,
    pub service: Option<&'a str>,
    /// `None` when logging in: a login asks for no repository access.
    pub scope: Option<&'a str>,
    pub creds: Option<&'a Credentials>,
    /// Ask for a refresh token too (what `docker login` keeps as the
    /// identity token).
    pub offline: bool,
}

/// A token server's grant.
pub(super) struct Grant {
    pub token: String,
    pub refresh_token: Option<String>,
}

/// A token endpoint's answer (`token` or the OAuth2 `access_token`).
#[derive(Debug, Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    refresh_token: String,
}

/// A token endpoint's error answer: the registry's `errors` list or OAuth2's
/// `error`/`error_description`.
#[derive(Debug, Default, Deserialize)]
struct TokenErrorBody {
    #[serde(default)]
    errors: Vec<TokenErrorEntry>,
    #[serde(default)]
    details: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Debug, Deserialize)]
struct TokenErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl TokenErrorBody {
    /// `unauthorized: incorrect username or password`, as Docker prints it.
    fn message(&self, status: reqwest::StatusCode) -> String {
        if let Some(e) = self.errors.first() {
            return format!("{}: {}", e.code.to_ascii_lowercase(), e.message);
        }
        if !self.error.is_empty() {
            return [self.error.as_str(), self.error_description.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
        }
        if !self.details.is_empty() {
            return format!("unauthorized: {}", self.details);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            "unauthorized: authentication required".into()
        } else {
            format!("token server answered {status}")
        }
    }
}

/// Fetches a token: with a refresh token it is the OAuth2 POST form, else a
/// GET with basic auth (anonymous when there are no credentials).
pub(super) async fn fetch(http: &reqwest::Client, req: TokenRequest<'_>) -> Result<Grant, DistributionError> {
    let creds = req.creds.filter(|c| !c.is_anonymous());
    let mut params: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = req.service {
        params.push(("service", s));
    }
    let refresh = creds.map(|c| c.identity_token.as_str()).filter(|t| !t.is_empty());
    let builder = if let Some(refresh_token) = refresh {
        // The OAuth2 form always carries a scope, empty for a login.
        params.extend([
            ("scope", req.scope.unwrap_or("")),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
        ]);
        http.post(req.realm).form(&params)
    } else {
        if let Some(s) = req.scope {
            params.push(("scope", s));
        }
        if req.offline {
            params.extend([("offline_token", "true"), ("client_id", CLIENT_ID)]);
        }
        let user = creds.filter(|c| !c.username.is_empty());
        if let Some(c) = user {
            params.push(("account", &c.username));
        }
        let b = http.get(req.realm).query(&params);
        match user {
            Some(c) => b.basic_auth(&c.username, Some(&c.password)),
            None => b,
        }
    };
    let realm = req.realm.to_string();
    let res = builder.send().await.map_err(|source| DistributionError::Http { url: realm.clone(), source })?;
    let status = res.status();
    if !status.is_success() {
        let body: TokenErrorBody = res.json().await.unwrap_or_default();
        return Err(DistributionError::Unauthorized { registry: req.registry.into(), message: body.message(status) });
    }
    let body: TokenResponse = res.json().await.map_err(|source| DistributionError::Http { url: realm, source })?;
    let token = [body.token, body.access_token].into_iter().find(|t| !t.is_empty()).ok_or_else(|| {
        DistributionError::Unauthorized {
            registry: req.registry.into(),
            message: "token endpoint returned no token".into(),
        }
    })?;
    Ok(Grant { token, refresh_token: Some(body.refresh_token).filter(|t| !t.is_empty()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_read_like_docker() {
        let b: TokenErrorBody = serde_json::from_str(
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"incorrect username or password","detail":null}]}"#,
        )
        .unwrap();
        assert_eq!(b.message(reqwest::StatusCode::UNAUTHORIZED), "unauthorized: incorrect username or password");
        let b: TokenErrorBody =
            serde_json::from_str(r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#).unwrap();
        assert_eq!(b.message(reqwest::StatusCode::BAD_REQUEST), "invalid_grant: refresh token expired");
        assert_eq!(
            TokenErrorBody::default().message(reqwest::StatusCode::UNAUTHORIZED),
            "unauthorized: authentication required"
        );
    }
}
