//! Registry logins from the dashboard, kept as the docker CLI keeps them with a credential helper:
//! secrets in the OS keyring through `berth-credential` (the library behind
//! `docker-credential-berth`), an empty `auths` entry in config.json, and the engine's
//! `POST /auth` to check them first.

pub mod auth;
pub mod config;

/// The key the CLI files Docker Hub's credentials under.
pub const HUB_KEY: &str = "https://index.docker.io/v1/";
/// The username the CLI stores when the secret is an identity token.
pub const TOKEN_USERNAME: &str = "<token>";

/// The key the docker CLI files a registry's credentials under: Docker Hub's index URL, or the
/// bare `host[:port]` for any other registry.
pub fn server_key(input: &str) -> Result<String, String> {
    let input = input.trim();
    let rest = input.strip_prefix("https://").or_else(|| input.strip_prefix("http://")).unwrap_or(input);
    let host = rest.split('/').next().unwrap_or_default().to_ascii_lowercase();
    if host.contains(char::is_whitespace) || (host.is_empty() && !rest.is_empty()) {
        return Err(format!("{input:?} is not a registry address (host or host:port)"));
    }
    Ok(match host.as_str() {
        "" | "docker.io" | "index.docker.io" | "registry-1.docker.io" => HUB_KEY.to_string(),
        _ => host,
    })
}

/// The credentials to send with a pull of `reference`, if Berth's helper holds some for its
/// registry (blocking: it asks the keyring).
pub fn credentials_for(reference: &str) -> Option<bollard::auth::DockerCredentials> {
    let first = reference.split('/').next().unwrap_or_default();
    let domain =
        if reference.contains('/') && (first.contains(['.', ':']) || first == "localhost") { first } else { "" };
    let key = server_key(domain).ok()?;
    let (_, store) = berth_credential::open().ok()?;
    let item = store.get(&key).ok()??;
    let mut creds = bollard::auth::DockerCredentials { serveraddress: Some(key), ..Default::default() };
    if item.username == TOKEN_USERNAME {
        creds.identitytoken = Some(item.secret);
    } else {
        creds.username = Some(item.username);
        creds.password = Some(item.secret);
    }
    Some(creds)
}

/// On the app's first run, makes Berth's helper the docker CLI's credential store unless the
/// user has one (see [`config::adopt`]); remembered in Berth's settings so it happens once.
pub fn adopt_on_first_run() {
    let env = crate::engine::locate::Environment::from_process();
    let settings = env.settings_file();
    let Ok(mut marks) = crate::json_file::read_object(&settings) else { return };
    if marks.get("credsStoreOffered").and_then(serde_json::Value::as_bool) == Some(true) {
        return;
    }
    let (backend, store) = match berth_credential::open() {
        Ok(s) => s,
        // Try again next run: the keyring may just not be up yet.
        Err(e) => return tracing::warn!("credential store not adopted: {e}"),
    };
    match config::adopt(&env.docker_config_dir, store.as_ref()) {
        Ok(config::Adoption::Kept(other)) => tracing::info!("docker CLI keeps using docker-credential-{other}"),
        Ok(config::Adoption::Adopted { migrated, backup }) => tracing::info!(
            migrated,
            backup = ?backup,
            "docker CLI credentials now kept by docker-credential-berth in the {}",
            backend.label()
        ),
        Err(e) => return tracing::warn!("credential store not adopted: {e}"),
    }
    marks["credsStoreOffered"] = serde_json::Value::Bool(true);
    if let Err(e) = crate::json_file::write(&settings, &marks) {
        tracing::warn!("{}: {e}", settings.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_the_cli_files_them() {
        assert_eq!(server_key("").unwrap(), HUB_KEY);
        assert_eq!(server_key("docker.io").unwrap(), HUB_KEY);
        assert_eq!(server_key("https://index.docker.io/v1/").unwrap(), HUB_KEY);
        assert_eq!(server_key("127.0.0.1:5000").unwrap(), "127.0.0.1:5000");
        assert_eq!(server_key("https://Reg.Example:443/v2/").unwrap(), "reg.example:443");
        assert!(server_key("bad host").is_err());
        assert!(server_key("/x").is_err());
    }
}
