//! The docker-credential-helpers protocol: one action per run, its input on
//! stdin, its answer on stdout, and on failure a message on stdout with exit
//! status 1 (which is where the docker CLI looks for it).

use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, Stored};

/// The message the docker CLI matches to tell "not logged in" from a failure.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// Input and output of `store` and `get`, spelled as the protocol spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(rename = "ServerURL", default)]
    pub server_url: String,
    #[serde(rename = "Username", default)]
    pub username: String,
    #[serde(rename = "Secret", default)]
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("{NOT_FOUND}")]
    NotFound,
    #[error("no credentials server URL")]
    MissingServerUrl,
    #[error("no credentials username")]
    MissingUsername,
    #[error("error reading credentials from stdin: {0}")]
    BadInput(serde_json::Error),
    #[error("Unknown credential action `{0}`")]
    UnknownAction(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs one action with its stdin; `Ok` holds what to print.
pub fn run(store: &dyn Store, action: &str, input: &str) -> Result<String, ProtocolError> {
    match action {
        "store" => {
            let creds: Credentials = serde_json::from_str(input.trim()).map_err(ProtocolError::BadInput)?;
            let server = creds.server_url.trim();
            if server.is_empty() {
                return Err(ProtocolError::MissingServerUrl);
            }
            if creds.username.is_empty() {
                return Err(ProtocolError::MissingUsername);
            }
            store.put(server, &Stored { username: creds.username, secret: creds.secret })?;
            Ok(String::new())
        }
        "get" => {
            let server = server_url(input)?;
            let found = store.get(server)?.ok_or(ProtocolError::NotFound)?;
            let answer = Credentials { server_url: server.into(), username: found.username, secret: found.secret };
            Ok(serde_json::to_string(&answer).expect("credentials serialize"))
        }
        "erase" => {
            // Erasing what is not there succeeds, as with the Secret Service
            // helper: `docker logout` then has nothing to warn about.
            store.delete(server_url(input)?)?;
            Ok(String::new())
        }
        "list" => Ok(serde_json::to_string(&store.list()?).expect("a map serializes")),
        other => Err(ProtocolError::UnknownAction(other.into())),
    }
}

fn server_url(input: &str) -> Result<&str, ProtocolError> {
    Some(input.trim()).filter(|s| !s.is_empty()).ok_or(ProtocolError::MissingServerUrl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn store_get_list_erase() {
        let s = MemoryStore::default();
        let input = r#"{"ServerURL":"127.0.0.1:5000","Username":"alice","Secret":"pw"}"#;
        assert_eq!(run(&s, "store", input).unwrap(), "");
        let got: Credentials = serde_json::from_str(&run(&s, "get", "127.0.0.1:5000\n").unwrap()).unwrap();
        assert_eq!((got.username.as_str(), got.secret.as_str()), ("alice", "pw"));
        assert_eq!(run(&s, "list", "").unwrap(), r#"{"127.0.0.1:5000":"alice"}"#);
        assert_eq!(run(&s, "erase", "127.0.0.1:5000").unwrap(), "");
        assert_eq!(run(&s, "get", "127.0.0.1:5000").unwrap_err().to_string(), NOT_FOUND);
        assert_eq!(run(&s, "list", "").unwrap(), "{}");
    }

    #[test]
    fn bad_input_is_named() {
        let s = MemoryStore::default();
        assert_eq!(run(&s, "store", r#"{"Username":"a"}"#).unwrap_err().to_string(), "no credentials server URL");
        assert_eq!(run(&s, "store", r#"{"ServerURL":"r"}"#).unwrap_err().to_string(), "no credentials username");
        assert!(run(&s, "store", "{").unwrap_err().to_string().starts_with("error reading credentials from stdin"));
        assert_eq!(run(&s, "get", " ").unwrap_err().to_string(), "no credentials server URL");
        assert_eq!(run(&s, "fly", "").unwrap_err().to_string(), "Unknown credential action `fly`");
    }
}
