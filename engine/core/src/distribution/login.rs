//! `docker login`: proving credentials to a registry's `/v2/` base, through
//! whichever challenge it answers with, and keeping the refresh token a token
//! server hands out as the identity token.

use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;

use super::auth::{parse_challenge, Challenge, Credentials};
use super::client::{DistributionError, RegistryClient, DOCKER_HUB, DOCKER_HUB_ENDPOINT};
use super::token::{self, TokenRequest};

/// A successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// A token to keep instead of the password, when the registry gave one.
    pub identity_token: Option<String>,
}

impl RegistryClient {
    /// Checks `creds` against `domain`. Mirrors are never tried: they must
    /// not see the upstream registry's password.
    pub async fn login(&self, domain: &str, creds: &Credentials) -> Result<Login, DistributionError> {
        let mut last = None;
        let endpoints = if domain == DOCKER_HUB { vec![DOCKER_HUB_ENDPOINT.into()] } else { self.endpoints(domain) };
        for base in endpoints {
            let url = format!("{base}/v2/");
            let res = match self.http.get(&url).send().await {
                Ok(res) => res,
                Err(e) => {
                    tracing::debug!(endpoint = %base, error = %e, "registry endpoint unreachable");
                    last = Some(DistributionError::Request(format!("Get \"{url}\": {}", crate::error::root_cause(&e))));
                    continue;
                }
            };
            if res.status().is_success() {
                return Ok(Login { identity_token: None });
            }
            let challenge = res.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).and_then(parse_challenge);
            return match (res.status(), challenge) {
                (StatusCode::UNAUTHORIZED, Some(challenge)) => self.answer(domain, &url, challenge, creds).await,
                (status, _) => Err(attempt_failed(&url, status)),
            };
        }
        Err(last.unwrap_or_else(|| DistributionError::Unexpected {
            url: domain.into(),
            status: 0,
            message: "no endpoint to log in to".into(),
        }))
    }

    async fn answer(
        &self,
        domain: &str,
        url: &str,
        challenge: Challenge,
        creds: &Credentials,
    ) -> Result<Login, DistributionError> {
        let (authorization, identity_token) = match challenge {
            Challenge::Basic if creds.username.is_empty() => {
                return Err(DistributionError::LoginFailed(format!("Get \"{url}\": no basic auth credentials")));
            }
            Challenge::Basic => (creds.basic_header(), None),
            Challenge::Bearer { realm, service, .. } => {
                let grant = token::fetch(
                    &self.http,
                    TokenRequest {
                        registry: domain,
                        realm: &realm,
                        service: service.as_deref(),
                        scope: None,
                        creds: Some(creds),
                        offline: true,
                    },
                )
                .await
                .map_err(|e| match e {
                    DistributionError::Unauthorized { message, .. } => {
                        DistributionError::LoginFailed(format!("Get \"{url}\": {message}"))
                    }
                    other => other,
                })?;
                // A refresh grant keeps the identity token the client already has.
                let kept = Some(creds.identity_token.clone()).filter(|t| !t.is_empty());
                (format!("Bearer {}", grant.token), grant.refresh_token.or(kept))
            }
        };
        let res = self
            .http
            .get(url)
            .header(AUTHORIZATION, authorization)
            .send()
            .await
            .map_err(|e| DistributionError::Request(format!("Get \"{url}\": {}", crate::error::root_cause(&e))))?;
        if res.status().is_success() {
            Ok(Login { identity_token })
        } else {
            Err(attempt_failed(url, res.status()))
        }
    }
}

/// dockerd's words for a `/v2/` that still refuses after the challenge.
fn attempt_failed(url: &str, status: StatusCode) -> DistributionError {
    DistributionError::LoginFailed(format!(
        "login attempt to {url} failed with status: {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    ))
}
