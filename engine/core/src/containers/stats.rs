//! Resource usage of a running container, read from its cgroup (v1 or
//! v2): the figures `docker stats` computes CPU and memory use from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::record::Status;
use super::{ContainerError, ContainerService};
use crate::system::{CgroupVersion, Cgroups};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSample {
    /// When it was read (RFC 3339).
    pub read: String,
    pub cpu_total: u64,
    pub cpu_percpu: Vec<u64>,
    pub cpu_user: u64,
    pub cpu_kernel: u64,
    /// Host CPU time (ns) since boot, the denominator of CPU percentages.
    pub system_cpu: u64,
    pub online_cpus: u32,
    pub memory_usage: u64,
    pub memory_max_usage: u64,
    pub memory_limit: u64,
    pub memory_stats: BTreeMap<String, u64>,
    pub pids_current: u64,
    pub pids_limit: u64,
    /// CFS quota periods, how many were throttled, and for how long (ns).
    pub throttling: (u64, u64, u64),
}

fn read_u64(path: &Path) -> u64 {
    std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

fn read_kv(path: &Path) -> BTreeMap<String, u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// Host CPU time in nanoseconds from /proc/stat's first line.
fn system_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|v| v.parse::<u64>().ok()).sum();
    // USER_HZ is 100 on every Linux Berth runs on.
    ticks * 10_000_000
}

impl ContainerService {
    pub fn stats(&self, name: &str) -> Result<StatsSample, ContainerError> {
        let c = self.get(name)?;
        let online_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let mut s = StatsSample {
            read: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            online_cpus,
            system_cpu: system_cpu_ns(),
            ..Default::default()
        };
        if !matches!(c.state.status, Status::Running | Status::Paused) {
            return Ok(s);
        }
        let rel = format!("berth/{}", c.id);
        let root = PathBuf::from("/sys/fs/cgroup");
        match Cgroups::probe().version {
            CgroupVersion::V1 => {
                let cpu = root.join("cpuacct").join(&rel);
                s.cpu_total = read_u64(&cpu.join("cpuacct.usage"));
                s.cpu_percpu = std::fs::read_to_string(cpu.join("cpuacct.usage_percpu"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect();
                s.cpu_user = read_u64(&cpu.join("cpuacct.usage_user"));
                s.cpu_kernel = read_u64(&cpu.join("cpuacct.usage_sys"));
                let t = read_kv(&root.join("cpu").join(&rel).join("cpu.stat"));
                let get = |k: &str| t.get(k).copied().unwrap_or(0);
                s.throttling = (get("nr_periods"), get("nr_throttled"), get("throttled_time"));
                let mem = root.join("memory").join(&rel);
                s.memory_usage = read_u64(&mem.join("memory.usage_in_bytes"));
                s.memory_max_usage = read_u64(&mem.join("memory.max_usage_in_bytes"));
                s.memory_limit = read_u64(&mem.join("memory.limit_in_bytes"));
                s.memory_stats = read_kv(&mem.join("memory.stat"));
                let pids = root.join("pids").join(&rel);
                s.pids_current = read_u64(&pids.join("pids.current"));
                s.pids_limit = read_u64(&pids.join("pids.max"));
            }
            CgroupVersion::V2 => {
                let dir = root.join(&rel);
                let cpu = read_kv(&dir.join("cpu.stat"));
                s.cpu_total = cpu.get("usage_usec").copied().unwrap_or(0) * 1000;
                s.cpu_user = cpu.get("user_usec").copied().unwrap_or(0) * 1000;
                s.cpu_kernel = cpu.get("system_usec").copied().unwrap_or(0) * 1000;
                let get = |k: &str| cpu.get(k).copied().unwrap_or(0);
                s.throttling = (get("nr_periods"), get("nr_throttled"), get("throttled_usec") * 1000);
                s.memory_usage = read_u64(&dir.join("memory.current"));
                s.memory_max_usage = read_u64(&dir.join("memory.peak"));
                s.memory_limit = read_u64(&dir.join("memory.max"));
                s.memory_stats = read_kv(&dir.join("memory.stat"));
                s.pids_current = read_u64(&dir.join("pids.current"));
                s.pids_limit = read_u64(&dir.join("pids.max"));
            }
        }
        // "max" (no limit) reads as 0: report the host's memory as dockerd does.
        if s.memory_limit == 0 || s.memory_limit > (1 << 62) {
            s.memory_limit = crate::system::Host::probe().mem_total;
        }
        Ok(s)
    }
}
