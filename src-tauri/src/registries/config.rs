//! The docker CLI's config.json as far as logins go: which credential store it uses, and the
//! `auths` entries that say "logged in" (empty objects once a helper holds the secret).

use std::path::{Path, PathBuf};

use base64::Engine;
use berth_credential::{Store, Stored};
use serde_json::{json, Value};

use super::TOKEN_USERNAME;
use crate::json_file;

/// Our helper's name, as config.json spells it (`docker-credential-<name>`).
pub const STORE_NAME: &str = "berth";

/// What `adopt` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Adoption {
    /// The user already has a credential store; it stays.
    Kept(String),
    /// `credsStore` is now ours; plain-text logins moved into the keyring, the old file kept.
    Adopted { migrated: usize, backup: Option<PathBuf> },
}

fn config_path(config_dir: &Path) -> PathBuf {
    config_dir.join("config.json")
}

/// The `credsStore` in force, if any.
pub fn creds_store(config_dir: &Path) -> Option<String> {
    let config = json_file::read_object(&config_path(config_dir)).ok()?;
    config.get("credsStore").and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from)
}

/// Makes our helper the CLI's credential store unless another one is configured. Logins kept in
/// plain text (`auth`, `identitytoken`) move into the keyring first, and the previous file is
/// kept beside it (owner-only) in case anything needs undoing.
pub fn adopt(config_dir: &Path, store: &dyn Store) -> Result<Adoption, String> {
    let path = config_path(config_dir);
    let mut config = json_file::read_object(&path).map_err(|e| e.to_string())?;
    if let Some(existing) = config.get("credsStore").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        return Ok(Adoption::Kept(existing.to_string()));
    }
    let mut migrated = 0;
    if let Some(auths) = config.get_mut("auths").and_then(Value::as_object_mut) {
        for (server, entry) in auths.iter_mut() {
            let Some(item) = plain_text_login(entry) else { continue };
            store.put(server, &item).map_err(|e| format!("moving the login for {server} into the keyring: {e}"))?;
            *entry = json!({});
            migrated += 1;
        }
    }
    let backup = if path.exists() {
        let backup = config_dir.join("config.json.before-berth");
        std::fs::copy(&path, &backup).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&backup, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(|e| e.to_string())?;
        Some(backup)
    } else {
        None
    };
    config["credsStore"] = json!(STORE_NAME);
    json_file::write(&path, &config).map_err(|e| e.to_string())?;
    Ok(Adoption::Adopted { migrated, backup })
}

/// A login config.json holds in plain text.
fn plain_text_login(entry: &Value) -> Option<Stored> {
    let token = entry.get("identitytoken").and_then(Value::as_str).filter(|t| !t.is_empty());
    if let Some(token) = token {
        return Some(Stored { username: TOKEN_USERNAME.into(), secret: token.into() });
    }
    let auth = entry.get("auth").and_then(Value::as_str).filter(|a| !a.is_empty())?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(auth).ok()?;
    let (user, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some(Stored { username: user.into(), secret: secret.into() })
}

/// Marks `server` as logged in, as the CLI does when a helper holds the secret.
pub fn record_login(config_dir: &Path, server: &str) -> Result<(), String> {
    edit_auths(config_dir, |auths| {
        auths.insert(server.into(), json!({}));
    })
}

/// Removes `server`'s entry.
pub fn forget_login(config_dir: &Path, server: &str) -> Result<(), String> {
    edit_auths(config_dir, |auths| {
        auths.remove(server);
    })
}

fn edit_auths(config_dir: &Path, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Result<(), String> {
    let path = config_path(config_dir);
    let mut config = json_file::read_object(&path).map_err(|e| e.to_string())?;
    if !config.get("auths").is_some_and(Value::is_object) {
        config["auths"] = json!({});
    }
    f(config["auths"].as_object_mut().expect("auths is an object"));
    json_file::write(&path, &config).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_credential::MemoryStore;

    #[test]
    fn adoption_moves_plain_text_logins_and_keeps_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let original = r#"{"auths":{"reg:5000":{"auth":"YWxpY2U6cHc="},"tok:1":{"auth":"YWxpY2U6","identitytoken":"rt"},"empty":{}},"currentContext":"x"}"#;
        std::fs::write(dir.path().join("config.json"), original).unwrap();
        let store = MemoryStore::default();
        let Adoption::Adopted { migrated, backup } = adopt(dir.path(), &store).unwrap() else { panic!("kept") };
        assert_eq!(migrated, 2);
        assert_eq!(std::fs::read_to_string(backup.unwrap()).unwrap(), original);
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap()).unwrap();
        assert_eq!(config["credsStore"], STORE_NAME);
        assert_eq!(config["currentContext"], "x");
        assert_eq!(config["auths"], json!({"reg:5000": {}, "tok:1": {}, "empty": {}}));
        assert_eq!(store.get("reg:5000").unwrap().unwrap(), Stored { username: "alice".into(), secret: "pw".into() });
        assert_eq!(store.get("tok:1").unwrap().unwrap().username, TOKEN_USERNAME);
        // Never twice, and never over somebody else's store.
        assert_eq!(adopt(dir.path(), &store).unwrap(), Adoption::Kept(STORE_NAME.into()));
    }

    #[test]
    fn another_store_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"credsStore":"pass"}"#).unwrap();
        assert_eq!(adopt(dir.path(), &MemoryStore::default()).unwrap(), Adoption::Kept("pass".into()));
    }

    #[test]
    fn login_entries() {
        let dir = tempfile::tempdir().unwrap();
        record_login(dir.path(), "reg:5000").unwrap();
        record_login(dir.path(), "other").unwrap();
        forget_login(dir.path(), "other").unwrap();
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap()).unwrap();
        assert_eq!(config["auths"], json!({"reg:5000": {}}));
    }
}
