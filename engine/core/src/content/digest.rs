//! Content digests (`sha256:<64 hex>`), the names of everything in the store.

use std::fmt;

use sha2::{Digest as _, Sha256};

use crate::{Classify, ErrorKind};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid digest {0:?}: expected sha256:<64 hex digits>")]
pub struct InvalidDigest(pub String);

impl Classify for InvalidDigest {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidParameter
    }
}

impl Digest {
    pub fn parse(s: &str) -> Result<Self, InvalidDigest> {
        let hex = s.strip_prefix("sha256:").ok_or_else(|| InvalidDigest(s.into()))?;
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.into()))
        } else {
            Err(InvalidDigest(s.into()))
        }
    }

    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    pub fn from_hasher(h: Sha256) -> Self {
        Self(format!("sha256:{:x}", h.finalize()))
    }

    /// The hex part, used as a file name.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    /// The 12-digit short form the CLI shows.
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Digest {
    type Error = InvalidDigest;
    fn try_from(s: String) -> Result<Self, InvalidDigest> {
        Self::parse(&s)
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_compute() {
        let d = Digest::of(b"");
        assert_eq!(d.as_str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(Digest::parse(d.as_str()).unwrap(), d);
        assert_eq!(d.short(), "e3b0c44298fc");
        assert!(Digest::parse("sha256:xyz").is_err());
        assert!(Digest::parse("md5:abc").is_err());
        assert!(Digest::parse(&d.as_str().to_uppercase()).is_err());
    }
}
