//! The OCI runtime binary's own account of its version (`runc --version`).

use std::process::Command;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVersion {
    pub name: String,
    pub version: String,
    pub commit: String,
}

impl RuntimeVersion {
    pub fn probe(path: &str) -> Option<Self> {
        let out = Command::new(path).arg("--version").output().ok()?;
        if !out.status.success() {
            return None;
        }
        Self::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// Parses `runc version 1.1.5+ds1\ncommit: abc\n...` (crun's is alike).
    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        let (name, version) = lines.next()?.split_once(" version ")?;
        let commit = text.lines().find_map(|l| l.strip_prefix("commit:")).unwrap_or("").trim();
        Some(Self { name: name.trim().into(), version: version.trim().into(), commit: commit.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_runc_output() {
        let v =
            RuntimeVersion::parse("runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n").unwrap();
        assert_eq!(v.name, "runc");
        assert_eq!(v.version, "1.1.5+ds1");
        assert_eq!(v.commit, "1.1.5+ds1-1+deb12u1");
        assert!(RuntimeVersion::parse("garbage").is_none());
    }
}
