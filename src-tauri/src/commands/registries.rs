//! Registries: the logins Berth's credential helper keeps, log in (checked by the engine first),
//! log out.

use serde::Serialize;
use tauri::State;

use crate::engine::locate::Environment;
use crate::engine::Engine;
use crate::error::{CommandError, CommandResult};
use crate::registries::{self, auth, config};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistriesState {
    /// Where secrets are kept, for the user to read.
    backend: String,
    /// The docker CLI's `credsStore`.
    creds_store: Option<String>,
    logins: Vec<Login>,
    /// Why the keyring cannot be used, with what to do about it.
    error: Option<String>,
}

#[derive(Serialize)]
pub struct Login {
    server: String,
    username: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    server: String,
    identity_token: bool,
}

/// Runs keyring work (D-Bus round trips) off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> CommandResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| CommandError(e.to_string()))?.map_err(CommandError)
}

#[tauri::command]
pub async fn list_registries() -> CommandResult<RegistriesState> {
    blocking(|| {
        let env = Environment::from_process();
        let creds_store = config::creds_store(&env.docker_config_dir);
        let (backend, logins, error) = match berth_credential::backend::chosen() {
            Err(e) => (String::from("unknown"), Vec::new(), Some(e)),
            Ok((backend, _)) => match backend.open().and_then(|s| s.list()) {
                Ok(list) => (
                    backend.label().to_string(),
                    list.into_iter().map(|(server, username)| Login { server, username }).collect(),
                    None,
                ),
                Err(e) => (backend.label().to_string(), Vec::new(), Some(e.to_string())),
            },
        };
        Ok(RegistriesState { backend, creds_store, logins, error })
    })
    .await
}

#[tauri::command]
pub async fn registry_login(
    engine: State<'_, Engine>,
    server: String,
    username: String,
    secret: String,
) -> CommandResult<LoginResult> {
    let key = registries::server_key(&server).map_err(CommandError)?;
    if username.trim().is_empty() || secret.is_empty() {
        return Err(CommandError("Enter a username and a password or token".into()));
    }
    let host = engine.status().await.host;
    let answer =
        auth::login(&host, &auth::AuthConfig { username: username.trim(), password: &secret, serveraddress: &key })
            .await
            .map_err(CommandError)?;
    let identity_token = !answer.identity_token.is_empty();
    // Like the CLI: keep the identity token in place of the password when the registry gave one.
    let stored = if identity_token {
        berth_credential::Stored { username: registries::TOKEN_USERNAME.into(), secret: answer.identity_token }
    } else {
        berth_credential::Stored { username: username.trim().into(), secret }
    };
    let server = key.clone();
    blocking(move || {
        let (_, store) = berth_credential::open().map_err(|e| e.to_string())?;
        store.put(&key, &stored).map_err(|e| e.to_string())?;
        let env = Environment::from_process();
        config::adopt(&env.docker_config_dir, store.as_ref())?;
        config::record_login(&env.docker_config_dir, &key)
    })
    .await?;
    Ok(LoginResult { server, identity_token })
}

#[tauri::command]
pub async fn registry_logout(server: String) -> CommandResult<()> {
    let key = registries::server_key(&server).map_err(CommandError)?;
    blocking(move || {
        let (_, store) = berth_credential::open().map_err(|e| e.to_string())?;
        store.delete(&key).map_err(|e| e.to_string())?;
        config::forget_login(&Environment::from_process().docker_config_dir, &key)
    })
    .await
}
