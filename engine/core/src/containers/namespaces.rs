//! The namespaces a container gets of its own, shares with the host or joins from another
//! container: `--pid`, `--ipc`, `--uts` and `--cgroupns` (and `--userns=host`), next to
//! `--network`. Modes and messages are dockerd's.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceBuilder, LinuxNamespaceType};
use serde::{Deserialize, Serialize};

use super::record::{Container, Status};
use super::{ContainerError, ContainerService};

/// `HostConfig.PidMode`, `IpcMode`, `UTSMode` and `CgroupnsMode` as created (defaults filled in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modes {
    /// "" (its own), "host" or "container:NAME".
    pub pid: String,
    /// "private", "shareable", "none", "host" or "container:NAME".
    pub ipc: String,
    /// "" or "host".
    pub uts: String,
    /// "private" or "host".
    pub cgroupns: String,
}

/// dockerd's default IPC mode.
const DEFAULT_IPC: &str = "private";

impl Modes {
    /// Checks the modes as dockerd does at create, and fills in the defaults it shows in inspect:
    /// IPC "private", and the cgroup namespace the engine's cgroup version gets by default.
    pub fn checked(pid: &str, ipc: &str, uts: &str, cgroupns: &str, userns: &str) -> Result<Self, ContainerError> {
        let invalid = |what: &str, v: &str| Err(ContainerError::InvalidParameter(format!("invalid {what} mode: {v}")));
        if !(matches!(pid, "" | "host") || joined(pid).is_some()) {
            return invalid("PID", pid);
        }
        if !(matches!(ipc, "" | "private" | "shareable" | "none" | "host") || joined(ipc).is_some()) {
            return invalid("IPC", ipc);
        }
        if !matches!(uts, "" | "host") {
            return invalid("UTS", uts);
        }
        if !matches!(cgroupns, "" | "private" | "host") {
            return invalid("cgroup namespace", cgroupns);
        }
        if !matches!(userns, "" | "host") {
            return Err(ContainerError::InvalidParameter(format!(
                "invalid user namespace mode: {userns}: Berth does not remap users; only --userns=host is supported"
            )));
        }
        let cgroupns = match cgroupns {
            "" if cgroup_v2() => "private",
            "" => "host",
            mode => mode,
        };
        Ok(Self {
            pid: pid.into(),
            ipc: if ipc.is_empty() { DEFAULT_IPC.into() } else { ipc.into() },
            uts: uts.into(),
            cgroupns: cgroupns.into(),
        })
    }
}

/// "container:NAME" → NAME.
fn joined(mode: &str) -> Option<&str> {
    mode.strip_prefix("container:").filter(|n| !n.is_empty())
}

/// Whether the host's cgroups are the unified (v2) hierarchy, where dockerd gives each container
/// a cgroup namespace of its own by default.
fn cgroup_v2() -> bool {
    crate::system::Cgroups::host().version == crate::system::CgroupVersion::V2
}

/// One namespace at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ns {
    /// Its own.
    New,
    /// The host's.
    Host,
    /// Another container's, by its /proc path.
    Join(PathBuf),
}

/// What the container's /dev/shm is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shm {
    /// A tmpfs of its own (`--shm-size`).
    Own,
    /// None at all (`--ipc none`).
    Absent,
    /// The host's or the donor container's, bound in.
    Bind(PathBuf),
}

/// A shareable container's /dev/shm: a tmpfs on the host, in the container's directory, so the
/// containers that join its IPC namespace can bind the very same one.
pub(super) struct HostShm {
    pub path: PathBuf,
}

impl HostShm {
    pub fn of(container_data: &Path) -> Self {
        Self { path: container_data.join("shm") }
    }

    fn mount(&self, size: i64) -> Result<(), ContainerError> {
        if super::rootfs::is_mount_point(&self.path) {
            return Ok(());
        }
        let err = |e: &dyn std::fmt::Display| ContainerError::Internal(format!("failed to mount /dev/shm: {e}"));
        std::fs::create_dir_all(&self.path).map_err(|e| err(&e))?;
        let size = if size > 0 { size } else { super::tuning::DEFAULT_SHM_SIZE };
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        let data = format!("mode=1777,size={size}");
        mount(Some("shm"), &self.path, Some("tmpfs"), flags, Some(data.as_str())).map_err(|e| err(&e))
    }

    pub fn unmount(&self) -> Result<(), ContainerError> {
        if !super::rootfs::is_mount_point(&self.path) {
            return Ok(());
        }
        umount2(&self.path, MntFlags::MNT_DETACH)
            .map_err(|e| ContainerError::Internal(format!("failed to unmount {}: {e}", self.path.display())))
    }
}

/// Every namespace of one start, resolved.
#[derive(Debug, Clone)]
pub struct Plan {
    pub network: Ns,
    pub pid: Ns,
    pub ipc: Ns,
    pub shm: Shm,
    pub uts: Ns,
    pub cgroup_private: bool,
}

impl Plan {
    /// The OCI namespaces: the mount namespace always, then each one that is new or joined.
    pub fn oci(&self) -> Result<Vec<LinuxNamespace>, ContainerError> {
        let err =
            |e: oci_spec::OciSpecError| ContainerError::Internal(format!("failed to build the runtime spec: {e}"));
        let mut out = vec![LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Mount).build().map_err(err)?];
        let cgroup = if self.cgroup_private { Ns::New } else { Ns::Host };
        for (typ, ns) in [
            (LinuxNamespaceType::Pid, &self.pid),
            (LinuxNamespaceType::Ipc, &self.ipc),
            (LinuxNamespaceType::Uts, &self.uts),
            (LinuxNamespaceType::Network, &self.network),
            (LinuxNamespaceType::Cgroup, &cgroup),
        ] {
            let b = LinuxNamespaceBuilder::default().typ(typ);
            match ns {
                Ns::New => out.push(b.build().map_err(err)?),
                Ns::Join(path) => out.push(b.path(path.clone()).build().map_err(err)?),
                Ns::Host => {}
            }
        }
        Ok(out)
    }
}

impl ContainerService {
    /// The namespaces of `c` for a start, mounting a shareable `/dev/shm` on the host on the way.
    /// Joining another container's namespace needs it running.
    pub(super) fn namespace_plan(&self, c: &Container) -> Result<Plan, ContainerError> {
        let host = &c.spec.host;
        let network = match host.network_mode.as_str() {
            "host" => Ns::Host,
            mode => match joined(mode) {
                Some(other) => Ns::Join(self.donor_ns(other, "network", "net")?),
                None => Ns::New,
            },
        };
        let m = &host.namespaces;
        let pid = match (m.pid.as_str(), joined(&m.pid)) {
            ("host", _) => Ns::Host,
            (_, Some(other)) => Ns::Join(self.donor_ns(other, "PID", "pid")?),
            _ => Ns::New,
        };
        let (ipc, shm) = match (m.ipc.as_str(), joined(&m.ipc)) {
            ("host", _) => (Ns::Host, Shm::Bind("/dev/shm".into())),
            (_, Some(other)) => {
                let ns = self.donor_ns(other, "IPC", "ipc")?;
                let donor = self.get(other)?;
                // Another mount namespace's /dev/shm cannot be bound; a shareable one lives on the host.
                if donor.spec.host.namespaces.ipc != "shareable" {
                    return Err(ContainerError::InvalidParameter(
                        "non-shareable IPC (hint: use IpcMode:shareable for the donor container)".into(),
                    ));
                }
                (Ns::Join(ns), Shm::Bind(HostShm::of(&self.dirs(&donor.id).data).path))
            }
            ("none", _) => (Ns::New, Shm::Absent),
            ("shareable", _) => {
                let shm = HostShm::of(&self.dirs(&c.id).data);
                shm.mount(host.tuning.shm_size)?;
                (Ns::New, Shm::Bind(shm.path))
            }
            _ => (Ns::New, Shm::Own),
        };
        // In the host's network namespace the host's name stays too.
        let uts = if m.uts == "host" || network == Ns::Host { Ns::Host } else { Ns::New };
        Ok(Plan { network, pid, ipc, shm, uts, cgroup_private: m.cgroupns == "private" })
    }

    /// `/proc/PID/ns/KIND` of the running container `name`.
    fn donor_ns(&self, name: &str, what: &str, kind: &str) -> Result<PathBuf, ContainerError> {
        let o = self.get(name)?;
        if !matches!(o.state.status, Status::Running | Status::Paused) {
            return Err(ContainerError::Conflict(format!("cannot join {what} of a non running container: {}", o.id)));
        }
        Ok(format!("/proc/{}/ns/{kind}", o.state.pid).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_checked_and_defaulted() {
        let m = Modes::checked("", "", "", "", "").unwrap();
        assert_eq!(m.ipc, "private");
        assert!(matches!(m.cgroupns.as_str(), "private" | "host"));
        assert!(Modes::checked("container:web", "container:web", "host", "private", "host").is_ok());
        let msg = |r: Result<Modes, ContainerError>| r.unwrap_err().to_string();
        assert_eq!(msg(Modes::checked("invalid", "", "", "", "")), "invalid PID mode: invalid");
        assert_eq!(msg(Modes::checked("container", "", "", "", "")), "invalid PID mode: container");
        assert_eq!(msg(Modes::checked("", "container:", "", "", "")), "invalid IPC mode: container:");
        assert_eq!(msg(Modes::checked("", "", "invalid", "", "")), "invalid UTS mode: invalid");
        assert!(msg(Modes::checked("", "", "", "", "remap")).contains("only --userns=host"));
    }

    #[test]
    fn the_plan_names_what_is_new_and_what_is_joined() {
        let plan = Plan {
            network: Ns::Host,
            pid: Ns::Join("/proc/7/ns/pid".into()),
            ipc: Ns::New,
            shm: Shm::Own,
            uts: Ns::Host,
            cgroup_private: true,
        };
        let oci = plan.oci().unwrap();
        let kinds: Vec<_> = oci.iter().map(|n| (n.typ(), n.path().clone())).collect();
        assert_eq!(
            kinds,
            [
                (LinuxNamespaceType::Mount, None),
                (LinuxNamespaceType::Pid, Some("/proc/7/ns/pid".into())),
                (LinuxNamespaceType::Ipc, None),
                (LinuxNamespaceType::Cgroup, None),
            ]
        );
    }
}
