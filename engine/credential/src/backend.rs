//! Which keyring holds the secrets. Each OS has its native one; on Linux
//! without a Secret Service the kernel keyring is a fallback the user picks
//! on purpose (it forgets everything at reboot), never a silent one.

use std::path::PathBuf;
use std::sync::Arc;

use keyring_core::CredentialStore;

use crate::store::{KeyringStore, Store, StoreError, SERVICE};

/// Overrides the saved choice for one process.
pub const ENV: &str = "BERTH_CREDENTIAL_BACKEND";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    SecretService,
    Keyutils,
    Keychain,
    CredentialManager,
}

/// Where the choice came from, for `backend` to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    Env,
    File(PathBuf),
}

impl Backend {
    pub const ALL: [Backend; 4] = [Self::SecretService, Self::Keyutils, Self::Keychain, Self::CredentialManager];

    pub fn name(self) -> &'static str {
        match self {
            Self::SecretService => "secret-service",
            Self::Keyutils => "keyutils",
            Self::Keychain => "keychain",
            Self::CredentialManager => "wincred",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::SecretService => "Secret Service",
            Self::Keyutils => "kernel keyring (keyutils; cleared at reboot)",
            Self::Keychain => "macOS Keychain",
            Self::CredentialManager => "Windows Credential Manager",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name.trim())
    }

    /// [`Self::parse`], with a message naming the choices when `name` is none of them.
    pub fn named(name: &str) -> Result<Self, String> {
        Self::parse(name).ok_or_else(|| unknown(name))
    }

    /// The native keyring of the platform this was built for.
    pub fn platform_default() -> Self {
        if cfg!(target_os = "macos") {
            Self::Keychain
        } else if cfg!(windows) {
            Self::CredentialManager
        } else {
            Self::SecretService
        }
    }

    /// The store's search query for all of our items.
    pub(crate) fn search_spec(self) -> Vec<(&'static str, String)> {
        match self {
            // Windows names items `{user}.{service}`.
            Self::CredentialManager => vec![("pattern", format!(r"^.*\.{}$", SERVICE.replace('-', r"\-")))],
            _ => vec![("service", SERVICE.to_string())],
        }
    }

    /// Connects to this backend.
    pub fn open(self) -> Result<Box<dyn Store>, StoreError> {
        #[cfg(target_os = "linux")]
        if self == Self::Keyutils {
            return Ok(Box::new(crate::keyutils::KeyutilsStore::open()?));
        }
        let store = self.connect().map_err(|e| self.unavailable(e))?;
        Ok(Box::new(KeyringStore::new(self, store)))
    }

    fn unavailable(self, e: keyring_core::Error) -> StoreError {
        let hint = match self {
            Self::SecretService => format!(
                "no Secret Service answers on the session D-Bus ({e}); start one (gnome-keyring, KeePassXC) or \
                 choose the kernel keyring, which forgets at reboot: docker-credential-berth backend keyutils"
            ),
            _ => format!("the {} is not available here: {e}", self.label()),
        };
        StoreError::Unavailable(hint)
    }

    #[cfg(target_os = "linux")]
    fn connect(self) -> Result<Arc<CredentialStore>, keyring_core::Error> {
        match self {
            Self::SecretService => Ok(dbus_secret_service_keyring_store::Store::new()?),
            other => Err(not_here(other)),
        }
    }

    #[cfg(target_os = "macos")]
    fn connect(self) -> Result<Arc<CredentialStore>, keyring_core::Error> {
        match self {
            Self::Keychain => Ok(apple_native_keyring_store::keychain::Store::new()?),
            other => Err(not_here(other)),
        }
    }

    #[cfg(windows)]
    fn connect(self) -> Result<Arc<CredentialStore>, keyring_core::Error> {
        match self {
            Self::CredentialManager => Ok(windows_native_keyring_store::Store::new()?),
            other => Err(not_here(other)),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "macos", windows))]
fn not_here(b: Backend) -> keyring_core::Error {
    keyring_core::Error::NotSupportedByStore(format!("{} does not exist on this operating system", b.name()))
}

/// The file that keeps the user's choice.
pub fn choice_file() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("berth").join("credential-backend"))
}

/// The backend in force and why.
pub fn chosen() -> Result<(Backend, Source), String> {
    if let Some(v) = std::env::var(ENV).ok().filter(|v| !v.trim().is_empty()) {
        return Backend::named(&v).map(|b| (b, Source::Env));
    }
    if let Some(path) = choice_file().filter(|p| p.exists()) {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        return Backend::named(&text).map(|b| (b, Source::File(path)));
    }
    Ok((Backend::platform_default(), Source::Default))
}

/// Saves `backend` as the user's choice.
pub fn choose(backend: Backend) -> Result<PathBuf, String> {
    let path = choice_file().ok_or("neither XDG_CONFIG_HOME nor HOME is set")?;
    let dir = path.parent().expect("a file in a directory");
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    std::fs::write(&path, format!("{}\n", backend.name())).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

fn unknown(name: &str) -> String {
    let names: Vec<&str> = Backend::ALL.iter().map(|b| b.name()).collect();
    format!("unknown credential backend {:?}: choose one of {}", name.trim(), names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in Backend::ALL {
            assert_eq!(Backend::parse(b.name()), Some(b));
        }
        assert_eq!(Backend::parse("keyutils\n"), Some(Backend::Keyutils));
        assert_eq!(Backend::parse("plaintext"), None);
        assert!(unknown("plaintext").contains("secret-service, keyutils, keychain, wincred"));
    }
}
