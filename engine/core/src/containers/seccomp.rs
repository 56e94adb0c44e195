//! Seccomp filters. Every container gets Berth's default profile
//! (`seccomp_default.json`) unless it runs `--privileged` or with
//! `--security-opt seccomp=unconfined`; `--security-opt seccomp=PROFILE`
//! applies a profile in Docker's JSON format (the docker CLI sends the
//! file's content).
//!
//! Berth's default is a deny list, where Docker's is an allow list: it
//! refuses the calls that reach past a container — each group unless the
//! container holds the capability that makes it legitimate — and lets the
//! rest through, so programs using system calls newer than the profile
//! keep working. Capabilities, namespaces and masked paths still bound what
//! the allowed calls can do.
//!
//! Docker's format is the OCI one plus `archMap` (architectures by host)
//! and per-rule `includes`/`excludes` (capabilities, architectures, minimum
//! kernel); those are resolved here for this host and container.

use oci_spec::runtime::{Capabilities, LinuxSeccomp};
use serde_json::{json, Value};

use super::ContainerError;

const DEFAULT_PROFILE: &str = include_str!("seccomp_default.json");

/// What `--security-opt seccomp=...` (or its absence) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    Default,
    Unconfined,
    /// A profile's JSON text.
    Custom(String),
}

impl Profile {
    /// From the `seccomp=` value: `unconfined`, `builtin`/`default`, or a
    /// profile's JSON.
    pub fn from_option(value: &str) -> Result<Self, ContainerError> {
        match value {
            "unconfined" => Ok(Self::Unconfined),
            "builtin" | "default" => Ok(Self::Default),
            json if json.trim_start().starts_with('{') => {
                // Checked now so a bad profile fails the create, not the start.
                let profile = Self::Custom(json.to_string());
                profile.filter(&Capabilities::new())?;
                Ok(profile)
            }
            other => Err(ContainerError::InvalidParameter(format!(
                "invalid seccomp profile {other:?}: give the profile's JSON (the docker CLI reads the file), \
                 unconfined or builtin"
            ))),
        }
    }

    /// The filter for a container holding `caps`; `None` when unconfined.
    pub fn filter(&self, caps: &Capabilities) -> Result<Option<LinuxSeccomp>, ContainerError> {
        let text = match self {
            Self::Unconfined => return Ok(None),
            Self::Default => DEFAULT_PROFILE,
            Self::Custom(json) => json,
        };
        let bad = |e: String| ContainerError::InvalidParameter(format!("decoding seccomp profile failed: {e}"));
        let profile: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let oci = resolve(&profile, caps, host_arch(), &kernel_release()).map_err(bad)?;
        serde_json::from_value(oci).map(Some).map_err(|e| bad(e.to_string()))
    }
}

/// The host's seccomp architecture name.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "SCMP_ARCH_X86_64",
        "x86" => "SCMP_ARCH_X86",
        "aarch64" => "SCMP_ARCH_AARCH64",
        "arm" => "SCMP_ARCH_ARM",
        "powerpc64" => "SCMP_ARCH_PPC64LE",
        "s390x" => "SCMP_ARCH_S390X",
        "riscv64" => "SCMP_ARCH_RISCV64",
        _ => "SCMP_ARCH_NATIVE",
    }
}

fn kernel_release() -> String {
    nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default()
}

/// A Docker-format profile as OCI's `linux.seccomp` for this host
/// (`arch`, kernel `release`) and a container holding `caps`.
fn resolve(profile: &Value, caps: &Capabilities, arch: &str, release: &str) -> Result<Value, String> {
    let obj = profile.as_object().ok_or("the profile is not a JSON object")?;
    let default_action = obj.get("defaultAction").ok_or("the profile has no defaultAction")?;
    let mut out = json!({ "defaultAction": default_action });
    if let Some(errno) = obj.get("defaultErrnoRet") {
        out["defaultErrnoRet"] = errno.clone();
    }
    if let Some(flags) = obj.get("flags") {
        out["flags"] = flags.clone();
    }
    // `archMap`: the host's architecture and its sub-architectures only.
    let arches: Vec<Value> = match (obj.get("archMap"), obj.get("architectures")) {
        (Some(Value::Array(map)), _) => map
            .iter()
            .filter(|m| m["architecture"] == arch)
            .flat_map(|m| {
                let subs = m["subArchitectures"].as_array().cloned().unwrap_or_default();
                std::iter::once(m["architecture"].clone()).chain(subs)
            })
            .collect(),
        (_, Some(Value::Array(list))) => list.clone(),
        _ => Vec::new(),
    };
    if !arches.is_empty() {
        out["architectures"] = Value::Array(arches);
    }
    let mut syscalls = Vec::new();
    for rule in obj.get("syscalls").and_then(Value::as_array).into_iter().flatten() {
        if !applies(rule, caps, arch, release)? {
            continue;
        }
        // Old profiles name one call in `name`.
        let names = match (rule.get("names"), rule.get("name")) {
            (Some(n @ Value::Array(_)), _) => n.clone(),
            (_, Some(Value::String(n))) => json!([n]),
            _ => return Err("a syscalls rule has no names".into()),
        };
        let mut call = json!({ "names": names, "action": rule.get("action").ok_or("a syscalls rule has no action")? });
        for key in ["errnoRet", "args"] {
            if let Some(v) = rule.get(key).filter(|v| !v.is_null()) {
                call[key] = v.clone();
            }
        }
        syscalls.push(call);
    }
    out["syscalls"] = Value::Array(syscalls);
    Ok(out)
}

/// Whether a rule's `includes` hold and its `excludes` do not.
fn applies(rule: &Value, caps: &Capabilities, arch: &str, release: &str) -> Result<bool, String> {
    let has_cap = |name: &Value| -> Result<bool, String> {
        let name = name.as_str().ok_or("a capability name is not a string")?;
        Ok(caps.contains(&super::caps::parse(name).map_err(|e| e.to_string())?))
    };
    let list = |v: &Value, key: &str| v.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(inc) = rule.get("includes") {
        for cap in list(inc, "caps") {
            if !has_cap(&cap)? {
                return Ok(false);
            }
        }
        let arches = list(inc, "arches");
        if !arches.is_empty() && !arches.iter().any(|a| arch_matches(a, arch)) {
            return Ok(false);
        }
        if let Some(min) = inc.get("minKernel").and_then(Value::as_str) {
            if version(release) < version(min) {
                return Ok(false);
            }
        }
    }
    if let Some(exc) = rule.get("excludes") {
        for cap in list(exc, "caps") {
            if has_cap(&cap)? {
                return Ok(false);
            }
        }
        if list(exc, "arches").iter().any(|a| arch_matches(a, arch)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Docker's `arches` use Go's names (`amd64`, `arm64`) or seccomp's.
fn arch_matches(name: &Value, arch: &str) -> bool {
    let Some(name) = name.as_str() else { return false };
    let go = match arch {
        "SCMP_ARCH_X86_64" => "amd64",
        "SCMP_ARCH_X86" => "386",
        "SCMP_ARCH_AARCH64" => "arm64",
        "SCMP_ARCH_ARM" => "arm",
        "SCMP_ARCH_PPC64LE" => "ppc64le",
        "SCMP_ARCH_S390X" => "s390x",
        "SCMP_ARCH_RISCV64" => "riscv64",
        _ => "",
    };
    name == arch || name == go
}

/// `5.10.0-28-amd64` → (5, 10).
fn version(release: &str) -> (u32, u32) {
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).filter_map(|p| p.parse().ok());
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::Capability;
    use std::str::FromStr;

    fn caps(names: &[&str]) -> Capabilities {
        names.iter().map(|n| Capability::from_str(n).unwrap()).collect()
    }

    fn denied(filter: &LinuxSeccomp) -> Vec<String> {
        filter.syscalls().clone().unwrap_or_default().iter().flat_map(|s| s.names().clone()).collect()
    }

    #[test]
    fn default_profile_follows_capabilities() {
        let plain = Profile::Default.filter(&caps(&["CHOWN"])).unwrap().unwrap();
        let names = denied(&plain);
        for call in ["mount", "unshare", "keyctl", "reboot", "settimeofday", "clone3", "init_module"] {
            assert!(names.iter().any(|n| n == call), "{call} allowed");
        }
        assert!(!names.iter().any(|n| n == "read" || n == "openat"));
        let arches = plain.architectures().clone().unwrap_or_default();
        assert!(!arches.is_empty() && arches.len() <= 3, "{arches:?}");

        let admin = Profile::Default.filter(&caps(&["SYS_ADMIN", "SYS_TIME"])).unwrap().unwrap();
        let names = denied(&admin);
        assert!(!names.iter().any(|n| n == "mount" || n == "clone" || n == "settimeofday"));
        assert!(names.iter().any(|n| n == "keyctl" || n == "reboot"));
        assert_eq!(Profile::Unconfined.filter(&caps(&[])).unwrap(), None);
    }

    #[test]
    fn custom_profiles_in_dockers_format() {
        let text = r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
            "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]},
                       {"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]}],
            "syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
                        {"name":"ptrace","action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_PTRACE"]}},
                        {"names":["personality"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"99.0"}},
                        {"names":["arch_prctl"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["amd64"]}}]}"#;
        let profile: Value = serde_json::from_str(text).unwrap();
        let out = resolve(&profile, &caps(&[]), "SCMP_ARCH_X86_64", "6.1.0-13-amd64").unwrap();
        assert_eq!(out["architectures"], json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]));
        let names: Vec<&str> = out["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["names"].as_array().unwrap())
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(names, ["read", "write", "arch_prctl"]);
        let traced = resolve(&profile, &caps(&["SYS_PTRACE"]), "SCMP_ARCH_AARCH64", "6.1").unwrap();
        assert_eq!(traced["syscalls"].as_array().unwrap().len(), 2);
        assert!(Profile::Custom(text.into()).filter(&caps(&[])).unwrap().is_some());

        assert!(Profile::from_option("/etc/profile.json").is_err());
        let err = Profile::from_option("{\"syscalls\": []}").unwrap_err().to_string();
        assert!(err.contains("no defaultAction"), "{err}");
        assert_eq!(Profile::from_option("unconfined").unwrap(), Profile::Unconfined);
    }
}
