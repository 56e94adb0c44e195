//! The kernel keyring fallback: one `user` key per registry in the user's keyring (`@u`), which
//! lives while the user has processes and is gone at reboot. Written against the kernel API
//! directly because the keyring-core store insists on the persistent keyring, which some kernels
//! and sandboxes refuse to link into.

use std::collections::BTreeMap;

use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier, LinkNode};

use crate::store::{Store, StoreError, Stored, SERVICE};

const LABEL: &str = "kernel keyring";

pub struct KeyutilsStore {
    ring: KeyRing,
}

impl KeyutilsStore {
    pub fn open() -> Result<Self, StoreError> {
        let ring = KeyRing::from_special_id(KeyRingIdentifier::User, true)
            .map_err(|e| StoreError::Unavailable(format!("{LABEL}: {e}")))?;
        Ok(Self { ring })
    }

    fn description(server: &str) -> String {
        format!("{SERVICE}:{server}")
    }

    fn find(&self, server: &str) -> Result<Option<linux_keyutils::Key>, StoreError> {
        match self.ring.search(&Self::description(server)) {
            Ok(key) => Ok(Some(key)),
            // An erased key lingers as revoked until the kernel collects it.
            Err(KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }
}

fn err(e: KeyError) -> StoreError {
    StoreError::Unavailable(format!("{LABEL}: {e}"))
}

impl Store for KeyutilsStore {
    fn put(&self, server: &str, item: &Stored) -> Result<(), StoreError> {
        let payload = serde_json::to_vec(item).expect("credentials serialize");
        self.ring.add_key(&Self::description(server), &payload).map(drop).map_err(err)
    }

    fn get(&self, server: &str) -> Result<Option<Stored>, StoreError> {
        let Some(key) = self.find(server)? else { return Ok(None) };
        let payload = key.read_to_vec().map_err(err)?;
        serde_json::from_slice(&payload).map(Some).map_err(|e| StoreError::Corrupt {
            backend: LABEL,
            server: server.into(),
            detail: e.to_string(),
        })
    }

    fn delete(&self, server: &str) -> Result<bool, StoreError> {
        let Some(key) = self.find(server)? else { return Ok(false) };
        key.invalidate().map_err(err)?;
        Ok(true)
    }

    fn list(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let prefix = format!("{SERVICE}:");
        let mut out = BTreeMap::new();
        for node in self.ring.get_links(4096).map_err(err)?.iter() {
            let LinkNode::Key(key) = node else { continue };
            let Ok(meta) = key.metadata() else { continue }; // revoked or gone meanwhile
            let Some(server) = meta.get_description().strip_prefix(&prefix) else { continue };
            if let Some(item) = self.get(server)? {
                out.insert(server.to_string(), item.username);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real kernel keyring of whoever runs the tests, under a name no one else uses.
    #[test]
    fn round_trip_in_the_user_keyring() {
        let store = KeyutilsStore::open().expect("the user keyring");
        let server = format!("berth-unit-test-{}.invalid", std::process::id());
        let item = Stored { username: "alice".into(), secret: "s3cret".into() };
        store.put(&server, &item).unwrap();
        assert_eq!(store.get(&server).unwrap(), Some(item));
        assert_eq!(store.list().unwrap().get(&server).map(String::as_str), Some("alice"));
        assert!(store.delete(&server).unwrap());
        assert_eq!(store.get(&server).unwrap(), None);
        assert!(!store.delete(&server).unwrap());
    }
}
