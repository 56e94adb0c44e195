//! Linux capabilities: Docker's default set, `--cap-add`/`--cap-drop`
//! (with `ALL`), and everything for `--privileged`.

use std::str::FromStr;

use oci_spec::runtime::{Capabilities, Capability};

use super::ContainerError;

/// What a container gets unless told otherwise, as Docker grants.
const DEFAULT: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Every capability the OCI spec names, in the kernel's order (bit N is
/// the Nth).
const ALL: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

pub(super) fn parse(name: &str) -> Result<Capability, ContainerError> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    Capability::from_str(bare).map_err(|_| ContainerError::InvalidParameter(format!("unknown capability: {name:?}")))
}

fn set(names: &[&str]) -> Capabilities {
    names.iter().filter_map(|n| Capability::from_str(n).ok()).collect()
}

/// "All capabilities": those in the engine's own bounding set, the most
/// a container can hold (a sandbox may withhold some, such as SYS_RESOURCE).
fn all() -> Capabilities {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let bounding = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(u64::MAX);
    let held: Vec<&str> =
        ALL.iter().enumerate().filter(|(bit, _)| bounding & (1 << bit) != 0).map(|(_, n)| *n).collect();
    set(&held)
}

/// The container's capability set.
pub fn resolve(add: &[String], drop: &[String], privileged: bool) -> Result<Capabilities, ContainerError> {
    if privileged {
        return Ok(all());
    }
    let is_all = |n: &String| n.eq_ignore_ascii_case("ALL") || n.eq_ignore_ascii_case("CAP_ALL");
    let mut caps = if drop.iter().any(is_all) { Capabilities::new() } else { set(DEFAULT) };
    for a in add {
        if is_all(a) {
            caps.extend(all());
        } else {
            caps.insert(parse(a)?);
        }
    }
    for d in drop.iter().filter(|d| !is_all(d)) {
        caps.remove(&parse(d)?);
    }
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_rules() {
        let default = resolve(&[], &[], false).unwrap();
        assert_eq!(default.len(), DEFAULT.len());
        assert!(default.contains(&Capability::Chown));
        let more = resolve(&["NET_ADMIN".into()], &["cap_chown".into()], false).unwrap();
        assert!(more.contains(&Capability::NetAdmin) && !more.contains(&Capability::Chown));
        let only = resolve(&["KILL".into()], &["ALL".into()], false).unwrap();
        assert_eq!(only.into_iter().collect::<Vec<_>>(), [Capability::Kill]);
        assert!(resolve(&[], &[], true).unwrap().contains(&Capability::SysAdmin));
        assert!(resolve(&["BOGUS".into()], &[], false).is_err());
    }
}
