//! Facts about the host the engine runs on, read from the kernel and /etc.

use std::path::Path;

/// Static facts about the machine, gathered once per request (cheap reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub hostname: String,
    pub kernel_version: String,
    /// `uname -m`, e.g. `x86_64`, as `docker info` prints it.
    pub machine: String,
    /// `PRETTY_NAME` from os-release, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub operating_system: String,
    /// `VERSION_ID` from os-release, e.g. `12`.
    pub os_version: String,
    pub ncpu: usize,
    /// Total memory in bytes.
    pub mem_total: u64,
}

impl Host {
    pub fn probe() -> Self {
        let uts = nix::sys::utsname::uname().ok();
        let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
            uts.as_ref().map(|u| f(u).to_string_lossy().into_owned()).unwrap_or_default()
        };
        let os_release = read_os_release();
        Self {
            hostname: field(|u| u.nodename()),
            kernel_version: field(|u| u.release()),
            machine: field(|u| u.machine()),
            operating_system: os_release_value(&os_release, "PRETTY_NAME").unwrap_or_else(|| "Linux".into()),
            os_version: os_release_value(&os_release, "VERSION_ID").unwrap_or_default(),
            ncpu: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            mem_total: std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| mem_total(&m)).unwrap_or(0),
        }
    }
}

/// The Go/OCI name of an architecture (`amd64`), as `/version` and image
/// platforms use it.
pub fn oci_arch(machine: &str) -> &str {
    match machine {
        "x86_64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "armv7l" | "armv6l" | "armhf" => "arm",
        "i386" | "i686" => "386",
        other => other,
    }
}

fn read_os_release() -> String {
    ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| std::fs::read_to_string(Path::new(p)).ok())
        .unwrap_or_default()
}

fn os_release_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix('=')?;
        Some(value.trim_matches(|c| c == '"' || c == '\'').to_string())
    })
}

fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_os_release_and_meminfo() {
        let osr = "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(os_release_value(osr, "PRETTY_NAME").unwrap(), "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(os_release_value(osr, "VERSION_ID").unwrap(), "12");
        assert_eq!(mem_total("MemTotal:       24567676 kB\nMemFree: 1 kB\n"), Some(24567676 * 1024));
    }

    #[test]
    fn probe_reads_this_machine() {
        let host = Host::probe();
        assert!(host.ncpu >= 1);
        assert!(host.mem_total > 0);
        assert!(!host.kernel_version.is_empty());
        assert_eq!(oci_arch("x86_64"), "amd64");
    }
}
