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
    /// Per interface of the container's own network namespace.
    pub networks: BTreeMap<String, NetDev>,
    /// Block I/O: bytes and operations per device and direction.
    pub blkio_bytes: Vec<BlkioEntry>,
    pub blkio_ios: Vec<BlkioEntry>,
}

/// One interface's counters, from /proc/PID/net/dev.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetDev {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlkioEntry {
    pub major: u64,
    pub minor: u64,
    /// As dockerd reports it: cgroup v1's words (`Read`, `Write`, `Sync`…),
    /// `read` and `write` on v2.
    pub op: String,
    pub value: u64,
}

/// /proc/PID/net/dev: counters of every interface but loopback.
fn net_dev(text: &str) -> BTreeMap<String, NetDev> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let v: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            let name = name.trim();
            (v.len() >= 12 && name != "lo").then(|| {
                let d = NetDev {
                    rx_bytes: v[0],
                    rx_packets: v[1],
                    rx_errors: v[2],
                    rx_dropped: v[3],
                    tx_bytes: v[8],
                    tx_packets: v[9],
                    tx_errors: v[10],
                    tx_dropped: v[11],
                };
                (name.to_string(), d)
            })
        })
        .collect()
}

/// cgroup v1's blkio files: `MAJ:MIN Op VALUE` lines (and a Total).
fn blkio_v1(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (major, minor) = w.next()?.split_once(':')?;
            let (op, value) = (w.next()?, w.next()?.parse().ok()?);
            Some(BlkioEntry { major: major.parse().ok()?, minor: minor.parse().ok()?, op: op.to_string(), value })
        })
        .collect()
}

/// cgroup v2's io.stat: `MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=..`, as
/// (bytes, operations) entries.
fn io_stat_v2(text: &str) -> (Vec<BlkioEntry>, Vec<BlkioEntry>) {
    let (mut bytes, mut ios) = (Vec::new(), Vec::new());
    for l in text.lines() {
        let mut w = l.split_whitespace();
        let Some((Ok(major), Ok(minor))) =
            w.next().and_then(|d| d.split_once(':')).map(|(a, b)| (a.parse(), b.parse()))
        else {
            continue;
        };
        for kv in w {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let Ok(value) = v.parse() else { continue };
            let entry = |op: &str| BlkioEntry { major, minor, op: op.into(), value };
            match k {
                "rbytes" => bytes.push(entry("read")),
                "wbytes" => bytes.push(entry("write")),
                "rios" => ios.push(entry("read")),
                "wios" => ios.push(entry("write")),
                _ => {}
            }
        }
    }
    (bytes, ios)
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
        let path = super::runtime::cgroup_path(&c);
        let rel = path.trim_start_matches('/');
        let root = PathBuf::from("/sys/fs/cgroup");
        match Cgroups::host().version {
            CgroupVersion::V1 => {
                let cpu = root.join("cpuacct").join(rel);
                s.cpu_total = read_u64(&cpu.join("cpuacct.usage"));
                s.cpu_percpu = std::fs::read_to_string(cpu.join("cpuacct.usage_percpu"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect();
                s.cpu_user = read_u64(&cpu.join("cpuacct.usage_user"));
                s.cpu_kernel = read_u64(&cpu.join("cpuacct.usage_sys"));
                let t = read_kv(&root.join("cpu").join(rel).join("cpu.stat"));
                let get = |k: &str| t.get(k).copied().unwrap_or(0);
                s.throttling = (get("nr_periods"), get("nr_throttled"), get("throttled_time"));
                let mem = root.join("memory").join(rel);
                s.memory_usage = read_u64(&mem.join("memory.usage_in_bytes"));
                s.memory_max_usage = read_u64(&mem.join("memory.max_usage_in_bytes"));
                s.memory_limit = read_u64(&mem.join("memory.limit_in_bytes"));
                s.memory_stats = read_kv(&mem.join("memory.stat"));
                let pids = root.join("pids").join(rel);
                s.pids_current = read_u64(&pids.join("pids.current"));
                s.pids_limit = read_u64(&pids.join("pids.max"));
                let blkio = root.join("blkio").join(rel);
                let read = |f: &str| std::fs::read_to_string(blkio.join(f)).unwrap_or_default();
                s.blkio_bytes = blkio_v1(&read("blkio.throttle.io_service_bytes_recursive"));
                s.blkio_ios = blkio_v1(&read("blkio.throttle.io_serviced_recursive"));
            }
            CgroupVersion::V2 => {
                let dir = root.join(rel);
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
                (s.blkio_bytes, s.blkio_ios) =
                    io_stat_v2(&std::fs::read_to_string(dir.join("io.stat")).unwrap_or_default());
            }
        }
        // The host's interfaces are not the container's to report.
        if c.spec.host.network_mode != "host" && c.state.pid > 0 {
            s.networks =
                net_dev(&std::fs::read_to_string(format!("/proc/{}/net/dev", c.state.pid)).unwrap_or_default());
        }
        // "max" (no limit) reads as 0: report the host's memory as dockerd does.
        if s.memory_limit == 0 || s.memory_limit > (1 << 62) {
            s.memory_limit = crate::system::Host::probe().mem_total;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_counters() {
        let dev =
            "Inter-|   Receive    |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes\n\
                   lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n\
                   eth0: 1500 12 1 2 0 0 0 0 900 7 3 4 0 0 0 0\n";
        let n = net_dev(dev);
        assert_eq!(n.len(), 1);
        let eth = n["eth0"];
        assert_eq!((eth.rx_bytes, eth.rx_dropped, eth.tx_bytes, eth.tx_dropped), (1500, 2, 900, 4));
        let v1 = blkio_v1("8:0 Read 4096\n8:0 Write 512\nTotal 4608\n");
        assert_eq!(
            v1,
            [
                BlkioEntry { major: 8, minor: 0, op: "Read".into(), value: 4096 },
                BlkioEntry { major: 8, minor: 0, op: "Write".into(), value: 512 },
            ]
        );
        let (bytes, ios) = io_stat_v2("259:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
        assert_eq!((bytes.len(), ios[1].value, bytes[1].op.as_str()), (2, 2, "write"));
    }
}
