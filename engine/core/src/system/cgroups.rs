//! Which cgroup hierarchy the host has and which resource controls it
//! supports, so `docker info` can say what limits will be honoured.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

impl CgroupVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
        }
    }
}

/// The resource controls a container can be given on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroups {
    pub version: CgroupVersion,
    pub memory_limit: bool,
    pub swap_limit: bool,
    pub cpu_cfs_period: bool,
    pub cpu_cfs_quota: bool,
    pub cpu_shares: bool,
    pub cpuset: bool,
    pub pids_limit: bool,
    pub oom_kill_disable: bool,
    pub memory_swappiness: bool,
    pub blkio_weight: bool,
    pub blkio_weight_device: bool,
    /// Bytes and operations per second, read and write, per device.
    pub blkio_throttle: bool,
}

impl Cgroups {
    pub fn probe() -> Self {
        Self::probe_at(Path::new("/sys/fs/cgroup"))
    }

    /// This host's, probed once: the hierarchy does not change under a running engine, and every
    /// container create and start asks.
    pub fn host() -> &'static Self {
        static HOST: std::sync::OnceLock<Cgroups> = std::sync::OnceLock::new();
        HOST.get_or_init(Self::probe)
    }

    /// Reads the hierarchy mounted at `root`. A hybrid host (v1 controllers
    /// plus an empty v2 mount) counts as v1, because that is where the
    /// controllers are.
    pub fn probe_at(root: &Path) -> Self {
        let is_v2 = nix::sys::statfs::statfs(root)
            .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
            .unwrap_or(false);
        if is_v2 {
            let controllers = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
            let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
            Self {
                version: CgroupVersion::V2,
                memory_limit: has("memory"),
                swap_limit: has("memory") && exists_any(root, "memory.swap.max"),
                cpu_cfs_period: has("cpu"),
                cpu_cfs_quota: has("cpu"),
                cpu_shares: has("cpu"),
                cpuset: has("cpuset"),
                pids_limit: has("pids"),
                oom_kill_disable: false,
                memory_swappiness: false,
                blkio_weight: has("io") && (exists_any(root, "io.weight") || exists_any(root, "io.bfq.weight")),
                blkio_weight_device: has("io") && (exists_any(root, "io.weight") || exists_any(root, "io.bfq.weight")),
                blkio_throttle: has("io") && exists_any(root, "io.max"),
            }
        } else {
            let ctl = |c: &str, file: &str| -> bool { root.join(c).join(file).exists() };
            Self {
                version: CgroupVersion::V1,
                memory_limit: ctl("memory", "memory.limit_in_bytes"),
                swap_limit: ctl("memory", "memory.memsw.limit_in_bytes"),
                cpu_cfs_period: ctl("cpu", "cpu.cfs_period_us"),
                cpu_cfs_quota: ctl("cpu", "cpu.cfs_quota_us"),
                cpu_shares: ctl("cpu", "cpu.shares"),
                cpuset: ctl("cpuset", "cpuset.cpus"),
                pids_limit: ctl("pids", "pids.max"),
                oom_kill_disable: ctl("memory", "memory.oom_control"),
                memory_swappiness: ctl("memory", "memory.swappiness"),
                blkio_weight: ctl("blkio", "blkio.weight") || ctl("blkio", "blkio.bfq.weight"),
                blkio_weight_device: ctl("blkio", "blkio.weight_device") || ctl("blkio", "blkio.bfq.weight_device"),
                blkio_throttle: ctl("blkio", "blkio.throttle.read_bps_device"),
            }
        }
    }

    /// What `docker info` should warn about, in dockerd's words.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let mut warn = |ok: bool, what: &str| {
            if !ok {
                w.push(format!("WARNING: No {what} support"));
            }
        };
        warn(self.memory_limit, "memory limit");
        warn(self.swap_limit, "swap limit");
        warn(self.cpu_cfs_quota, "cpu cfs quota");
        warn(self.cpu_cfs_period, "cpu cfs period");
        warn(self.cpu_shares, "cpu shares");
        warn(self.cpuset, "cpuset");
        w
    }
}

/// On v2 the root cgroup has no `memory.swap.max`; a child does when swap
/// accounting is on.
fn exists_any(root: &Path, file: &str) -> bool {
    std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .any(|p: PathBuf| p.join(file).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_layout_from_directories() {
        let dir = tempfile::tempdir().unwrap();
        for (c, f) in [("memory", "memory.limit_in_bytes"), ("cpu", "cpu.shares"), ("pids", "pids.max")] {
            std::fs::create_dir_all(dir.path().join(c)).unwrap();
            std::fs::write(dir.path().join(c).join(f), "").unwrap();
        }
        let cg = Cgroups::probe_at(dir.path());
        assert_eq!(cg.version, CgroupVersion::V1);
        assert!(cg.memory_limit && cg.cpu_shares && cg.pids_limit);
        assert!(!cg.swap_limit && !cg.cpuset);
        assert!(cg.warnings().contains(&"WARNING: No swap limit support".to_string()));
    }

    #[test]
    fn probes_this_host() {
        let cg = Cgroups::probe();
        assert!(matches!(cg.version, CgroupVersion::V1 | CgroupVersion::V2));
    }
}
