//! The finer host settings of a container — `--shm-size`, `--sysctl`, `--ulimit`, `--group-add`,
//! `--device`, `--security-opt`, `--oom-score-adj`, cpuset and CFS quota, memory reservation and
//! swap — checked at create with dockerd's messages, and turned into OCI spec pieces at start.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use oci_spec::runtime::{
    LinuxDevice, LinuxDeviceBuilder, LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType, PosixRlimit,
    PosixRlimitBuilder, PosixRlimitType,
};
use serde::{Deserialize, Serialize};

use super::ContainerError;

/// Docker's default `/dev/shm` size.
pub const DEFAULT_SHM_SIZE: i64 = 64 << 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tuning {
    /// Bytes of `/dev/shm`; 0 is Docker's default.
    pub shm_size: i64,
    pub sysctls: BTreeMap<String, String>,
    /// Extra groups, by name (the container's /etc/group) or number.
    pub group_add: Vec<String>,
    pub ulimits: Vec<Ulimit>,
    pub devices: Vec<DeviceMapping>,
    pub no_new_privileges: bool,
    /// `--security-opt seccomp=...`: `unconfined`, `builtin` or a
    /// profile's JSON; unset is the default profile.
    #[serde(default)]
    pub seccomp: Option<String>,
    pub oom_score_adj: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub memory_reservation: i64,
    /// Memory plus swap in bytes; -1 is unlimited, 0 the default (twice the memory limit).
    pub memory_swap: i64,
    /// `--memory-swappiness` 0–100; unset (or -1) leaves the kernel's.
    pub memory_swappiness: Option<i64>,
    pub oom_kill_disable: bool,
    /// `--device-cgroup-rule`, as `c 1:3 mr` or `b *:* rwm`.
    pub device_cgroup_rules: Vec<String>,
    /// `--cgroup-parent`: the cgroup the container's goes under instead of the engine's.
    pub cgroup_parent: String,
    /// `--blkio-weight` and the block I/O throttles, already checked against this host.
    pub blkio: super::blkio::Blkio,
    /// Paths hidden and paths read-only in the container; unset is Docker's lists
    /// (`--security-opt systempaths=unconfined` sends them empty).
    pub masked_paths: Option<Vec<String>>,
    pub readonly_paths: Option<Vec<String>>,
    /// OCI annotations for the runtime (`--annotation`).
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceMapping {
    pub path_on_host: String,
    pub path_in_container: String,
    /// `rwm` or a subset.
    pub cgroup_permissions: String,
}

fn invalid(message: String) -> ContainerError {
    ContainerError::InvalidParameter(message)
}

/// Sysctls that are namespaced, so a container may set its own (dockerd's list).
fn sysctl_allowed(name: &str, host_network: bool) -> bool {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    IPC.contains(&name)
        || name.starts_with("fs.mqueue.")
        || matches!(name, "kernel.domainname" | "kernel.hostname") && !host_network
        || name.starts_with("net.") && !host_network
}

/// Checks everything that can be checked before the container exists.
pub fn validate(t: &Tuning, memory: i64, network_mode: &str) -> Result<(), ContainerError> {
    if t.shm_size < 0 {
        return Err(invalid("SHM size can not be less than 0".into()));
    }
    let host_network = network_mode == "host";
    for name in t.sysctls.keys() {
        if !sysctl_allowed(name, host_network) {
            let why = if host_network && name.starts_with("net.") {
                format!("sysctl '{name}' is not allowed in the host's network namespace")
            } else {
                format!("sysctl '{name}' is not whitelisted")
            };
            return Err(invalid(why));
        }
    }
    for u in &t.ulimits {
        rlimit(u)?;
    }
    for d in &t.devices {
        device(d)?;
    }
    if let Some(v) = t.memory_swappiness.filter(|v| *v != -1 && !(0..=100).contains(v)) {
        return Err(invalid(format!("Invalid value: {v}, valid memory swappiness range is 0-100")));
    }
    for rule in &t.device_cgroup_rules {
        device_cgroup_rule(rule)?;
    }
    if t.cgroup_parent.split('/').any(|c| c == "..") {
        return Err(invalid(format!("invalid cgroup parent {:?}: it may not contain ..", t.cgroup_parent)));
    }
    if t.annotations.contains_key("") {
        return Err(invalid("invalid Annotations: the empty string is not permitted as an annotation key".into()));
    }
    if !(-1000..=1000).contains(&t.oom_score_adj) {
        return Err(invalid(format!("Invalid value {}, range for oom score adj is [-1000, 1000]", t.oom_score_adj)));
    }
    if t.cpu_period != 0 && !(1000..=1_000_000).contains(&t.cpu_period) {
        return Err(invalid(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)".into(),
        ));
    }
    if t.cpu_quota > 0 && t.cpu_quota < 1000 {
        return Err(invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)".into()));
    }
    // The host's online CPUs, not the engine's own affinity or quota.
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let online = online.trim();
    if let (Some(max), Ok(Some(last))) = (cpu_list_max(&t.cpuset_cpus, "cpus")?, cpu_list_max(online, "cpus")) {
        if max > last {
            return Err(invalid(format!(
                "Requested CPUs are not available - requested {}, available: {online}",
                t.cpuset_cpus
            )));
        }
    }
    cpu_list_max(&t.cpuset_mems, "mems")?;
    if memory > 0 && t.memory_reservation > memory {
        return Err(invalid("Minimum memory limit can not be less than memory reservation limit, see usage".into()));
    }
    if t.memory_swap > 0 && memory > 0 && t.memory_swap < memory {
        return Err(invalid("Minimum memoryswap limit should be larger than memory limit, see usage".into()));
    }
    if t.memory_swap > 0 && memory == 0 {
        return Err(invalid("You should always set the Memory limit when using Memoryswap limit, see usage".into()));
    }
    Ok(())
}

/// Whether the kernel accounts swap per cgroup; without it a swap limit cannot be set.
pub fn swap_accounting() -> bool {
    Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists()
        || std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").is_ok_and(|c| c.contains("memory"))
}

/// What create answers in `Warnings` about settings this host cannot honour in full.
pub fn warnings(t: &Tuning, memory: i64) -> Vec<String> {
    let mut out = Vec::new();
    let cgroups = crate::system::Cgroups::host();
    if t.memory_swappiness.is_some_and(|v| v != -1) && !cgroups.memory_swappiness {
        out.push(
            "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded."
                .into(),
        );
    }
    if t.oom_kill_disable && !cgroups.oom_kill_disable {
        out.push("Your kernel does not support OomKillDisable. OomKillDisable discarded.".into());
    } else if t.oom_kill_disable && memory == 0 {
        out.push(
            "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources."
                .into(),
        );
    }
    if t.memory_swap != 0 && !swap_accounting() {
        out.push(
            "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap."
                .into(),
        );
    }
    out
}

/// `--device-cgroup-rule TYPE MAJOR:MINOR ACCESS` as a device cgroup allow rule.
pub fn device_cgroup_rule(rule: &str) -> Result<LinuxDeviceCgroup, ContainerError> {
    let bad = || invalid(format!("invalid device cgroup format '{rule}'"));
    let parts: Vec<&str> = rule.split_whitespace().collect();
    let [kind, numbers, access] = parts.as_slice() else { return Err(bad()) };
    let typ = match *kind {
        "a" => LinuxDeviceType::A,
        "b" => LinuxDeviceType::B,
        "c" => LinuxDeviceType::C,
        _ => return Err(bad()),
    };
    let number = |n: &str| -> Result<Option<i64>, ContainerError> {
        if n == "*" {
            Ok(None)
        } else {
            n.parse().map(Some).map_err(|_| bad())
        }
    };
    let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
    if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
        return Err(bad());
    }
    let mut b = LinuxDeviceCgroupBuilder::default().allow(true).typ(typ).access(access.to_string());
    if let Some(m) = number(major)? {
        b = b.major(m);
    }
    if let Some(m) = number(minor)? {
        b = b.minor(m);
    }
    b.build().map_err(|e| invalid(e.to_string()))
}

/// What `--security-opt` asks for.
#[derive(Debug, Default)]
pub struct SecurityOpts {
    pub no_new_privileges: bool,
    pub seccomp: Option<String>,
}

/// `--security-opt` values: what Berth applies, and a 400 for what it does not know.
pub fn parse_security_opts(opts: &[String]) -> Result<SecurityOpts, ContainerError> {
    let mut no_new_privileges = false;
    let mut seccomp = None;
    for opt in opts {
        let (key, value) = opt.split_once(['=', ':']).unwrap_or((opt.as_str(), ""));
        match key {
            "no-new-privileges" => {
                no_new_privileges = match value {
                    "" | "true" => true,
                    "false" => false,
                    _ => return Err(invalid(format!("invalid --security-opt 2: {opt:?}"))),
                }
            }
            // Confinement Berth does not have yet is refused, not ignored: a user who asks
            // for a profile must not believe one is applied.
            "seccomp" => {
                super::seccomp::Profile::from_option(value)?;
                seccomp = Some(value.to_string());
            }
            "apparmor" if value == "unconfined" => {}
            "label" if value == "disable" => {}
            "apparmor" | "label" => {
                return Err(invalid(format!("--security-opt {opt}: Berth does not apply {key} profiles yet")))
            }
            _ => return Err(invalid(format!("invalid --security-opt 1: {opt:?}"))),
        }
    }
    Ok(SecurityOpts { no_new_privileges, seccomp })
}

/// The largest CPU (or memory node) number in a cpuset list such as `0-2,4`.
fn cpu_list_max(list: &str, what: &str) -> Result<Option<usize>, ContainerError> {
    if list.is_empty() {
        return Ok(None);
    }
    let bad = || invalid(format!("Invalid value {list} for cpuset {what}"));
    let mut max = 0;
    for part in list.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (usize, usize) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
        if a > b {
            return Err(bad());
        }
        max = max.max(b);
    }
    Ok(Some(max))
}

/// One `--ulimit`, which may not go beyond what the engine itself may grant: raising a hard
/// limit needs CAP_SYS_RESOURCE.
pub fn rlimit(u: &Ulimit) -> Result<PosixRlimit, ContainerError> {
    let (typ, resource) = rlimit_type(&u.name).ok_or_else(|| invalid(format!("invalid ulimit type: {}", u.name)))?;
    if u.soft > u.hard {
        return Err(invalid(format!(
            "ulimit soft limit must be less than or equal to hard limit: {} > {}",
            u.soft, u.hard
        )));
    }
    let (_, own_hard) = nix::sys::resource::getrlimit(resource).map_err(|e| invalid(e.to_string()))?;
    let hard = if u.hard < 0 { u64::MAX } else { u.hard as u64 };
    if own_hard != nix::sys::resource::RLIM_INFINITY && hard > own_hard {
        return Err(invalid(format!(
            "ulimit {}: hard limit {} is above the engine's own hard limit {own_hard} (raising it needs CAP_SYS_RESOURCE)",
            u.name, u.hard
        )));
    }
    let soft = if u.soft < 0 { u64::MAX } else { u.soft as u64 };
    PosixRlimitBuilder::default()
        .typ(typ)
        .soft(soft)
        .hard(hard)
        .build()
        .map_err(|e| ContainerError::Internal(e.to_string()))
}

fn rlimit_type(name: &str) -> Option<(PosixRlimitType, nix::sys::resource::Resource)> {
    use nix::sys::resource::Resource as R;
    use PosixRlimitType as T;
    Some(match name {
        "as" => (T::RlimitAs, R::RLIMIT_AS),
        "core" => (T::RlimitCore, R::RLIMIT_CORE),
        "cpu" => (T::RlimitCpu, R::RLIMIT_CPU),
        "data" => (T::RlimitData, R::RLIMIT_DATA),
        "fsize" => (T::RlimitFsize, R::RLIMIT_FSIZE),
        "locks" => (T::RlimitLocks, R::RLIMIT_LOCKS),
        "memlock" => (T::RlimitMemlock, R::RLIMIT_MEMLOCK),
        "msgqueue" => (T::RlimitMsgqueue, R::RLIMIT_MSGQUEUE),
        "nice" => (T::RlimitNice, R::RLIMIT_NICE),
        "nofile" => (T::RlimitNofile, R::RLIMIT_NOFILE),
        "nproc" => (T::RlimitNproc, R::RLIMIT_NPROC),
        "rss" => (T::RlimitRss, R::RLIMIT_RSS),
        "rtprio" => (T::RlimitRtprio, R::RLIMIT_RTPRIO),
        "rttime" => (T::RlimitRttime, R::RLIMIT_RTTIME),
        "sigpending" => (T::RlimitSigpending, R::RLIMIT_SIGPENDING),
        "stack" => (T::RlimitStack, R::RLIMIT_STACK),
        _ => return None,
    })
}

/// A `--device` as the runtime wants it: the node to create and the cgroup rule allowing it.
pub fn device(d: &DeviceMapping) -> Result<(LinuxDevice, LinuxDeviceCgroup), ContainerError> {
    let meta = std::fs::metadata(&d.path_on_host).map_err(|e| {
        invalid(format!("error gathering device information while adding custom device {:?}: {e}", d.path_on_host))
    })?;
    let ft = meta.file_type();
    let typ = if ft.is_char_device() {
        LinuxDeviceType::C
    } else if ft.is_block_device() {
        LinuxDeviceType::B
    } else {
        return Err(invalid(format!(
            "error gathering device information while adding custom device {:?}: not a device node",
            d.path_on_host
        )));
    };
    let access = if d.cgroup_permissions.is_empty() { "rwm" } else { d.cgroup_permissions.as_str() };
    if !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
        return Err(invalid(format!("invalid device cgroup permissions {access:?}: use r, w and m")));
    }
    let (major, minor) = (nix::sys::stat::major(meta.rdev()) as i64, nix::sys::stat::minor(meta.rdev()) as i64);
    let target = if d.path_in_container.is_empty() { &d.path_on_host } else { &d.path_in_container };
    let internal = |e: oci_spec::OciSpecError| ContainerError::Internal(e.to_string());
    let node = LinuxDeviceBuilder::default()
        .path(Path::new(target))
        .typ(typ)
        .major(major)
        .minor(minor)
        .file_mode(meta.mode() & 0o7777)
        .uid(meta.uid())
        .gid(meta.gid())
        .build()
        .map_err(internal)?;
    let rule = LinuxDeviceCgroupBuilder::default()
        .allow(true)
        .typ(typ)
        .major(major)
        .minor(minor)
        .access(access)
        .build()
        .map_err(internal)?;
    Ok((node, rule))
}

/// Every device node of the host, as a `--privileged` container sees
/// them; the pseudo-terminal, shared-memory and queue directories the
/// container gets its own of, and the console, stay out.
pub fn host_devices() -> Vec<DeviceMapping> {
    fn walk(dir: &Path, out: &mut Vec<DeviceMapping>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                let skip = ["pts", "shm", "fd", "mqueue"].iter().any(|s| name == *s);
                if !skip && !name.to_string_lossy().starts_with('.') {
                    walk(&path, out);
                }
            } else if (ft.is_char_device() || ft.is_block_device()) && path != Path::new("/dev/console") {
                out.push(DeviceMapping {
                    path_on_host: path.display().to_string(),
                    path_in_container: String::new(),
                    cgroup_permissions: "rwm".into(),
                });
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/dev"), &mut out);
    out.sort_by(|a, b| a.path_on_host.cmp(&b.path_on_host));
    out
}

/// `/dev/shm`'s mount options with the container's size.
pub fn shm_options(size: i64) -> Vec<String> {
    let size = if size > 0 { size } else { DEFAULT_SHM_SIZE };
    ["nosuid", "noexec", "nodev", "mode=1777"].into_iter().map(String::from).chain([format!("size={size}")]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctls_and_lists() {
        assert!(sysctl_allowed("net.ipv4.ip_forward", false));
        assert!(!sysctl_allowed("net.ipv4.ip_forward", true));
        assert!(sysctl_allowed("kernel.shmmax", true));
        assert!(!sysctl_allowed("vm.swappiness", false));
        assert_eq!(cpu_list_max("0-2,5", "cpus").unwrap(), Some(5));
        assert_eq!(cpu_list_max("", "cpus").unwrap(), None);
        assert_eq!(cpu_list_max("3-1", "mems").unwrap_err().to_string(), "Invalid value 3-1 for cpuset mems");
    }

    #[test]
    fn security_options() {
        assert!(parse_security_opts(&["no-new-privileges".into()]).unwrap().no_new_privileges);
        assert!(parse_security_opts(&["no-new-privileges:true".into()]).unwrap().no_new_privileges);
        let unconfined = parse_security_opts(&["seccomp=unconfined".into()]).unwrap();
        assert_eq!((unconfined.no_new_privileges, unconfined.seccomp.as_deref()), (false, Some("unconfined")));
        let err = parse_security_opts(&["seccomp=/p.json".into()]).unwrap_err().to_string();
        assert!(err.contains("invalid seccomp profile"), "{err}");
        assert!(parse_security_opts(&["apparmor=docker-default".into()])
            .unwrap_err()
            .to_string()
            .contains("does not apply"));
        assert_eq!(
            parse_security_opts(&["bogus".into()]).unwrap_err().to_string(),
            "invalid --security-opt 1: \"bogus\""
        );
    }

    #[test]
    fn ulimits_stay_under_the_engine_hard_limit() {
        let ok = rlimit(&Ulimit { name: "nofile".into(), soft: 64, hard: 128 }).unwrap();
        assert_eq!((ok.soft(), ok.hard()), (64, 128));
        assert!(rlimit(&Ulimit { name: "nofile".into(), soft: 9, hard: 8 }).is_err());
        assert!(rlimit(&Ulimit { name: "bogus".into(), soft: 1, hard: 1 }).is_err());
    }
}
