//! The OCI runtime spec (`config.json`) for a container: its process,
//! root filesystem, mounts, namespaces and resource limits.

use std::path::Path;

use oci_spec::runtime::{
    LinuxBuilder, LinuxCpuBuilder, LinuxDevice, LinuxDeviceCgroupBuilder, LinuxMemoryBuilder, LinuxPidsBuilder,
    LinuxResourcesBuilder, MountBuilder, ProcessBuilder, RootBuilder, Spec, UserBuilder,
};

use super::namespaces::{Ns, Plan, Shm};
use super::record::Container;
use super::seccomp::Profile;
use super::tuning::{self, Tuning};
use super::users;
use super::ContainerError;

/// Files the engine writes for each container and binds into it.
pub struct EtcFiles<'a> {
    pub hosts: &'a Path,
    pub hostname: &'a Path,
    pub resolv_conf: &'a Path,
}

fn err(e: impl std::fmt::Display) -> ContainerError {
    ContainerError::Internal(format!("failed to build the runtime spec: {e}"))
}

/// What one process in the container runs as: the container's own init,
/// or an exec.
pub struct ProcessSpec<'a> {
    pub args: Vec<String>,
    pub env: &'a [String],
    pub cwd: &'a str,
    pub user: &'a str,
    pub tty: bool,
    pub hostname: &'a str,
    pub capabilities: oci_spec::runtime::Capabilities,
    /// The container's `--group-add`, `--ulimit`, `no-new-privileges` and `--oom-score-adj`,
    /// which its execs get too.
    pub tuning: &'a Tuning,
}

/// The OCI process, with the user resolved against the container's files.
pub fn process(rootfs: &Path, p: &ProcessSpec<'_>) -> Result<oci_spec::runtime::Process, ContainerError> {
    let (uid, gid, mut additional) = resolve_user(rootfs, p.user)?;
    for g in &p.tuning.group_add {
        let gid = resolve_group(rootfs, g)?;
        if !additional.contains(&gid) {
            additional.push(gid);
        }
    }
    let mut env = p.env.to_vec();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    }
    if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
        env.push(format!("HOSTNAME={}", p.hostname));
    }
    if p.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    let defaults = Spec::default().process().clone().unwrap_or_default();
    let user = UserBuilder::default().uid(uid).gid(gid).additional_gids(additional).build().map_err(err)?;
    let cwd = if p.cwd.is_empty() { "/" } else { p.cwd };
    ProcessBuilder::default()
        .terminal(p.tty)
        .user(user)
        .args(p.args.clone())
        .env(env)
        .cwd(cwd)
        .capabilities(
            oci_spec::runtime::LinuxCapabilitiesBuilder::default()
                .bounding(p.capabilities.clone())
                .effective(p.capabilities.clone())
                .permitted(p.capabilities.clone())
                .inheritable(oci_spec::runtime::Capabilities::new())
                .ambient(oci_spec::runtime::Capabilities::new())
                .build()
                .map_err(err)?,
        )
        .rlimits(rlimits(defaults.rlimits().clone().unwrap_or_default(), &p.tuning.ulimits)?)
        .no_new_privileges(p.tuning.no_new_privileges)
        .oom_score_adj(p.tuning.oom_score_adj as i32)
        .build()
        .map_err(err)
}

/// The runtime's default limits, each replaced by a `--ulimit` of the same kind.
fn rlimits(
    defaults: Vec<oci_spec::runtime::PosixRlimit>,
    ulimits: &[tuning::Ulimit],
) -> Result<Vec<oci_spec::runtime::PosixRlimit>, ContainerError> {
    let asked = ulimits.iter().map(tuning::rlimit).collect::<Result<Vec<_>, _>>()?;
    let mut out: Vec<_> = defaults.into_iter().filter(|d| !asked.iter().any(|a| a.typ() == d.typ())).collect();
    out.extend(asked);
    Ok(out)
}

/// Where `--init` puts the init binary in the container, as dockerd does.
const INIT_PATH: &str = "/sbin/docker-init";

pub fn build(
    c: &Container,
    rootfs: &Path,
    etc: &EtcFiles<'_>,
    user_mounts: Vec<oci_spec::runtime::Mount>,
    namespaces: &Plan,
    cgroup_path: &str,
    init: Option<&Path>,
) -> Result<Spec, ContainerError> {
    let s = &c.spec;
    let mut args = Vec::new();
    if init.is_some() {
        args.extend([INIT_PATH.to_string(), "--".to_string()]);
    }
    args.push(c.path.clone());
    args.extend(c.args.iter().cloned());
    let capabilities = super::caps::resolve(&s.host.cap_add, &s.host.cap_drop, s.host.privileged)?;
    let seccomp = match (&s.host.tuning.seccomp, s.host.privileged) {
        (_, true) => Profile::Unconfined,
        (None, false) => Profile::Default,
        (Some(value), false) => Profile::from_option(value)?,
    };
    let seccomp = seccomp.filter(&capabilities)?;
    let process = process(
        rootfs,
        &ProcessSpec {
            args,
            env: &s.env,
            cwd: &s.working_dir,
            user: &s.user,
            tty: s.tty,
            hostname: &s.hostname,
            capabilities,
            tuning: &s.host.tuning,
        },
    )?;
    let defaults = Spec::default();
    let t = &s.host.tuning;

    let mut mounts = defaults.mounts().clone().unwrap_or_default();
    match &namespaces.shm {
        Shm::Own => {
            for m in mounts.iter_mut().filter(|m| m.destination() == Path::new("/dev/shm")) {
                m.set_options(Some(tuning::shm_options(t.shm_size)));
            }
        }
        Shm::Absent => mounts.retain(|m| m.destination() != Path::new("/dev/shm")),
        Shm::Bind(source) => {
            for m in mounts.iter_mut().filter(|m| m.destination() == Path::new("/dev/shm")) {
                m.set_typ(Some("bind".into()));
                m.set_source(Some(source.clone()));
                m.set_options(Some(vec!["rbind".into(), "rprivate".into()]));
            }
        }
    }
    for (dest, src) in
        [("/etc/hosts", etc.hosts), ("/etc/hostname", etc.hostname), ("/etc/resolv.conf", etc.resolv_conf)]
    {
        mounts.push(
            MountBuilder::default()
                .destination(dest)
                .typ("bind")
                .source(src)
                .options(vec!["rbind".into(), "rprivate".into()])
                .build()
                .map_err(err)?,
        );
    }

    // The user's mounts go last so they cover the defaults at the same path.
    mounts.extend(user_mounts);
    if let Some(init) = init {
        mounts.push(
            MountBuilder::default()
                .destination(INIT_PATH)
                .typ("bind")
                .source(init)
                .options(vec!["bind".into(), "ro".into(), "rprivate".into()])
                .build()
                .map_err(err)?,
        );
    }

    let mut resources = LinuxResourcesBuilder::default();
    let mut memory = LinuxMemoryBuilder::default();
    if s.host.memory > 0 {
        memory = memory.limit(s.host.memory);
    }
    if t.memory_reservation > 0 {
        memory = memory.reservation(t.memory_reservation);
    }
    if t.memory_swap != 0 && tuning::swap_accounting() {
        memory = memory.swap(t.memory_swap);
    }
    let cgroups = crate::system::Cgroups::host();
    if let Some(v) = t.memory_swappiness.filter(|v| *v >= 0 && cgroups.memory_swappiness) {
        memory = memory.swappiness(v as u64);
    }
    if t.oom_kill_disable && cgroups.oom_kill_disable {
        memory = memory.disable_oom_killer(true);
    }
    resources = resources.memory(memory.build().map_err(err)?);
    if let Some(p) = s.host.pids_limit.filter(|p| *p > 0) {
        resources = resources.pids(LinuxPidsBuilder::default().limit(p).build().map_err(err)?);
    }
    let mut cpu = LinuxCpuBuilder::default();
    if s.host.cpu_shares > 0 {
        cpu = cpu.shares(s.host.cpu_shares as u64);
    }
    if s.host.nano_cpus > 0 {
        cpu = cpu.period(100_000u64).quota(s.host.nano_cpus / 10_000);
    }
    if t.cpu_period > 0 {
        cpu = cpu.period(t.cpu_period as u64);
    }
    if t.cpu_quota != 0 {
        cpu = cpu.quota(t.cpu_quota);
    }
    if !t.cpuset_cpus.is_empty() {
        cpu = cpu.cpus(t.cpuset_cpus.clone());
    }
    if !t.cpuset_mems.is_empty() {
        cpu = cpu.mems(t.cpuset_mems.clone());
    }
    resources = resources.cpu(cpu.build().map_err(err)?);
    if let Some(block_io) = t.blkio.oci()? {
        resources = resources.block_io(block_io);
    }
    let (mut devices, mut device_rules): (Vec<_>, Vec<_>) =
        t.devices.iter().map(tuning::device).collect::<Result<Vec<_>, _>>()?.into_iter().unzip();
    for rule in &t.device_cgroup_rules {
        device_rules.push(tuning::device_cgroup_rule(rule)?);
    }
    if s.host.privileged {
        // Every host device, and the device cgroup open to all.
        for d in tuning::host_devices() {
            if devices.iter().any(|n: &LinuxDevice| n.path() == Path::new(&d.path_on_host)) {
                continue;
            }
            // A node that vanished since the walk is simply not there.
            if let Ok((node, _)) = tuning::device(&d) {
                devices.push(node);
            }
        }
        device_rules = vec![LinuxDeviceCgroupBuilder::default().allow(true).access("rwm").build().map_err(err)?];
    }
    if !device_rules.is_empty() {
        resources = resources.devices(device_rules);
    }

    let default_linux = defaults.linux().clone().unwrap_or_default();
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces.oci()?)
        .resources(resources.build().map_err(err)?)
        .cgroups_path(cgroup_path)
        .sysctl(t.sysctls.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<std::collections::HashMap<_, _>>())
        .devices(devices)
        .masked_paths(match (s.host.privileged, &t.masked_paths) {
            (true, _) => Vec::new(),
            (false, Some(paths)) => paths.clone(),
            (false, None) => default_linux.masked_paths().clone().unwrap_or_default(),
        })
        .readonly_paths(match (s.host.privileged, &t.readonly_paths) {
            (true, _) => Vec::new(),
            (false, Some(paths)) => paths.clone(),
            (false, None) => default_linux.readonly_paths().clone().unwrap_or_default(),
        })
        .build()
        .map_err(err)?;
    linux.set_seccomp(seccomp);

    let mut spec = defaults;
    spec.set_process(Some(process));
    spec.set_root(Some(RootBuilder::default().path(rootfs).readonly(s.host.read_only).build().map_err(err)?));
    // A hostname needs a UTS namespace of the container's own.
    spec.set_hostname((namespaces.uts == Ns::New).then(|| s.hostname.clone()));
    spec.set_mounts(Some(mounts));
    spec.set_linux(Some(linux));
    if !t.annotations.is_empty() {
        spec.set_annotations(Some(t.annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect()));
    }
    Ok(spec)
}

/// A group by name (the container's /etc/group) or number, as `--group-add` names it.
fn resolve_group(rootfs: &Path, group: &str) -> Result<u32, ContainerError> {
    let groups = std::fs::read_to_string(rootfs.join("etc/group")).unwrap_or_default();
    // runc's words for --group-add, capital and all.
    users::group(&groups, group).or_else(|| group.parse().ok()).ok_or_else(|| {
        ContainerError::InvalidParameter(format!("Unable to find group {group}: no matching entries in group file"))
    })
}

/// Resolves `user[:group]` (names or numbers) against the image's
/// /etc/passwd and /etc/group.
pub(super) fn resolve_user(rootfs: &Path, spec: &str) -> Result<(u32, u32, Vec<u32>), ContainerError> {
    if spec.is_empty() {
        return Ok((0, 0, Vec::new()));
    }
    let (user, group) = spec.split_once(':').map_or((spec, None), |(u, g)| (u, Some(g)));
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap_or_default();
    let groups = std::fs::read_to_string(rootfs.join("etc/group")).unwrap_or_default();
    let (uid, mut gid, name) = match (users::user(&passwd, user), user.parse::<u32>()) {
        (Some((uid, gid, name)), _) => (uid, gid, Some(name)),
        (None, Ok(uid)) => (uid, uid, None),
        (None, Err(_)) => return Err(ContainerError::InvalidParameter(users::no_user(user))),
    };
    if let Some(g) = group {
        gid = users::group(&groups, g)
            .or_else(|| g.parse().ok())
            .ok_or_else(|| ContainerError::InvalidParameter(users::no_group(g)))?;
    }
    let additional = name.map(|n| users::memberships(&groups, &n)).unwrap_or_default();
    Ok((uid, gid, additional))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_by_name_and_number() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(
            root.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
        )
        .unwrap();
        std::fs::write(root.path().join("etc/group"), "root:x:0:\nnogroup:x:65534:\nstaff:x:50:nobody\n").unwrap();
        assert_eq!(resolve_user(root.path(), "").unwrap(), (0, 0, vec![]));
        assert_eq!(resolve_user(root.path(), "nobody").unwrap(), (65534, 65534, vec![50]));
        assert_eq!(resolve_user(root.path(), "1000:staff").unwrap(), (1000, 50, vec![]));
        assert_eq!(resolve_user(root.path(), "123:456").unwrap(), (123, 456, vec![]));
        assert!(resolve_user(root.path(), "ghost").is_err());
    }
}
