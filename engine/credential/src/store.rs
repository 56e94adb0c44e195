//! Where credentials live: one keyring item per registry, keyed by the
//! server URL exactly as the docker CLI names it, holding the username and
//! secret together (a `get` brings only the URL).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;

/// The keyring service every item of ours is filed under.
pub const SERVICE: &str = "docker-credential-berth";

/// What one item holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    #[serde(rename = "Username")]
    pub username: String,
    #[serde(rename = "Secret")]
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{backend}: {source}")]
    Keyring { backend: &'static str, source: keyring_core::Error },
    #[error("the {backend} item for {server} is not ours: {detail}")]
    Corrupt { backend: &'static str, server: String, detail: String },
    #[error("{0}")]
    Unavailable(String),
}

/// The operations the protocol needs.
pub trait Store: Send + Sync {
    fn put(&self, server: &str, item: &Stored) -> Result<(), StoreError>;
    fn get(&self, server: &str) -> Result<Option<Stored>, StoreError>;
    /// Whether there was something to delete.
    fn delete(&self, server: &str) -> Result<bool, StoreError>;
    /// Server URL → username.
    fn list(&self) -> Result<BTreeMap<String, String>, StoreError>;
}

/// A store backed by one of the OS keyrings.
pub struct KeyringStore {
    backend: Backend,
    store: Arc<CredentialStore>,
}

impl KeyringStore {
    pub fn new(backend: Backend, store: Arc<CredentialStore>) -> Self {
        Self { backend, store }
    }

    fn entry(&self, server: &str) -> Result<Entry, StoreError> {
        Entry::new_in_store(&self.store, SERVICE, server).map_err(|e| self.err(e))
    }

    fn err(&self, source: keyring_core::Error) -> StoreError {
        StoreError::Keyring { backend: self.backend.label(), source }
    }

    fn decode(&self, server: &str, text: &str) -> Result<Stored, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
            backend: self.backend.label(),
            server: server.into(),
            detail: e.to_string(),
        })
    }

    /// The server URLs we hold, found by the store's own search.
    fn servers(&self) -> Result<Vec<String>, StoreError> {
        let spec = self.backend.search_spec();
        let spec: HashMap<&str, &str> = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let found = self.store.search(&spec).map_err(|e| self.err(e))?;
        Ok(found
            .iter()
            .filter_map(Entry::get_specifiers)
            .filter(|(service, _)| service == SERVICE)
            .map(|(_, user)| user)
            .collect())
    }
}

impl Store for KeyringStore {
    fn put(&self, server: &str, item: &Stored) -> Result<(), StoreError> {
        let text = serde_json::to_string(item).expect("credentials serialize");
        self.entry(server)?.set_password(&text).map_err(|e| self.err(e))
    }

    fn get(&self, server: &str) -> Result<Option<Stored>, StoreError> {
        match self.entry(server)?.get_password() {
            Ok(text) => self.decode(server, &text).map(Some),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    fn delete(&self, server: &str) -> Result<bool, StoreError> {
        match self.entry(server)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    fn list(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let mut out = BTreeMap::new();
        for server in self.servers()? {
            if let Some(item) = self.get(&server)? {
                out.insert(server, item.username);
            }
        }
        Ok(out)
    }
}

/// An in-process store, for tests of code above the keyring (here and in the desktop app).
#[derive(Default)]
pub struct MemoryStore(std::sync::Mutex<BTreeMap<String, Stored>>);

impl Store for MemoryStore {
    fn put(&self, server: &str, item: &Stored) -> Result<(), StoreError> {
        self.0.lock().unwrap().insert(server.into(), item.clone());
        Ok(())
    }

    fn get(&self, server: &str) -> Result<Option<Stored>, StoreError> {
        Ok(self.0.lock().unwrap().get(server).cloned())
    }

    fn delete(&self, server: &str) -> Result<bool, StoreError> {
        Ok(self.0.lock().unwrap().remove(server).is_some())
    }

    fn list(&self) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self.0.lock().unwrap().iter().map(|(k, v)| (k.clone(), v.username.clone())).collect())
    }
}
