//! A container's mounts: `-v`/`--mount`/`--tmpfs` requests resolved into
//! bind, volume and tmpfs mounts, anonymous volumes for image `VOLUME`s,
//! and the copy of image content into a fresh volume.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use nix::errno::Errno;

use super::ContainerError;
use crate::volumes::VolumeService;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Bind,
    Volume,
    Tmpfs,
}

impl MountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Volume => "volume",
            Self::Tmpfs => "tmpfs",
        }
    }
}

/// One resolved mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    pub kind: MountKind,
    /// Host path (bind) or volume name (volume); empty for tmpfs.
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub propagation: String,
    /// Do not copy the image's files into an empty volume.
    pub nocopy: bool,
    /// mount(8) options for tmpfs (`size=...`, `mode=...`).
    pub tmpfs_options: Vec<String>,
    /// A volume created for this container alone (removed with `rm -v`).
    pub anonymous: bool,
    /// `volume-subpath`: the directory of the volume mounted instead of its root.
    #[serde(default)]
    pub subpath: String,
}

impl MountSpec {
    /// An unnamed volume at `target` (`-v /path`, image `VOLUME`).
    pub fn anonymous_volume(target: &str) -> Result<Self, ContainerError> {
        check_target(target)?;
        Ok(Self {
            kind: MountKind::Volume,
            source: String::new(),
            target: target.into(),
            read_only: false,
            propagation: String::new(),
            nocopy: false,
            tmpfs_options: Vec::new(),
            anonymous: true,
            subpath: String::new(),
        })
    }
}

/// A `--mount` request, independent of the wire format.
#[derive(Debug, Clone, Default)]
pub struct MountRequest {
    pub kind: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub propagation: String,
    pub nocopy: bool,
    pub subpath: String,
    pub tmpfs_size: i64,
    pub tmpfs_mode: u32,
}

fn bad(msg: impl Into<String>) -> ContainerError {
    ContainerError::InvalidParameter(msg.into())
}

fn check_target(target: &str) -> Result<(), ContainerError> {
    if !target.starts_with('/') {
        return Err(bad(format!("invalid mount config: mount path must be absolute: {target}")));
    }
    if target == "/" {
        return Err(bad("invalid specification: destination can't be '/'"));
    }
    Ok(())
}

/// Parses one `-v` / `Binds` entry: `SRC:DST[:OPTS]`, where SRC is a host
/// path (bind) or a volume name.
pub fn parse_bind(spec: &str) -> Result<MountSpec, ContainerError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, opts) = match parts.as_slice() {
        [s, t] => (*s, *t, ""),
        [s, t, o] => (*s, *t, *o),
        _ => return Err(bad(format!("invalid volume specification: '{spec}'"))),
    };
    check_target(target)?;
    let kind = if source.starts_with('/') { MountKind::Bind } else { MountKind::Volume };
    let mut m = MountSpec {
        kind,
        source: source.into(),
        target: target.into(),
        read_only: false,
        propagation: if kind == MountKind::Bind { "rprivate".into() } else { String::new() },
        nocopy: false,
        tmpfs_options: Vec::new(),
        anonymous: false,
        subpath: String::new(),
    };
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => m.read_only = true,
            "rw" => m.read_only = false,
            // SELinux relabelling has no meaning without SELinux.
            "z" | "Z" => {}
            "nocopy" => m.nocopy = true,
            p @ ("private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave") => m.propagation = p.into(),
            other => return Err(bad(format!("invalid mode: {other}"))),
        }
    }
    Ok(m)
}

/// Resolves a `--mount` request.
pub fn from_request(r: &MountRequest) -> Result<MountSpec, ContainerError> {
    check_target(&r.target)?;
    let kind = match r.kind.as_str() {
        "bind" => MountKind::Bind,
        "volume" | "" => MountKind::Volume,
        "tmpfs" => MountKind::Tmpfs,
        other => return Err(bad(format!("invalid mount config: mount type unknown: {other:?}"))),
    };
    match kind {
        MountKind::Bind if !Path::new(&r.source).exists() => {
            return Err(bad(format!(
                "invalid mount config for type \"bind\": bind source path does not exist: {}",
                r.source
            )))
        }
        MountKind::Tmpfs if !r.source.is_empty() => {
            return Err(bad("invalid mount config for type \"tmpfs\": source must not be specified"))
        }
        _ => {}
    }
    let mut tmpfs_options = Vec::new();
    if kind == MountKind::Tmpfs {
        if r.tmpfs_size > 0 {
            tmpfs_options.push(format!("size={}", r.tmpfs_size));
        }
        if r.tmpfs_mode > 0 {
            tmpfs_options.push(format!("mode={:o}", r.tmpfs_mode));
        }
    }
    Ok(MountSpec {
        kind,
        source: r.source.clone(),
        target: r.target.clone(),
        read_only: r.read_only,
        propagation: if kind == MountKind::Bind && r.propagation.is_empty() {
            "rprivate".into()
        } else {
            r.propagation.clone()
        },
        nocopy: r.nocopy,
        tmpfs_options,
        anonymous: false,
        subpath: check_subpath(kind, &r.subpath)?,
    })
}

/// `volume-subpath`: a relative path that stays within the volume.
fn check_subpath(kind: MountKind, subpath: &str) -> Result<String, ContainerError> {
    if subpath.is_empty() {
        return Ok(String::new());
    }
    if kind != MountKind::Volume {
        return Err(bad("invalid mount config: volume-subpath is only for volume mounts"));
    }
    let p = Path::new(subpath);
    if p.is_absolute() || p.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
        return Err(bad(format!("invalid mount config: subpath must be a relative path within the volume: {subpath}")));
    }
    Ok(subpath.into())
}

/// Opens the directory `subpath` names in the volume at `dir` (O_PATH),
/// refusing symlinks on the way and any way out of the volume.
fn open_volume_subpath(dir: &Path, subpath: &str, volume: &str) -> Result<OwnedFd, ContainerError> {
    use nix::fcntl::{open, openat2, OFlag, OpenHow, ResolveFlag};
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let root = open(dir, flags, nix::sys::stat::Mode::empty())
        .map_err(|e| ContainerError::Internal(format!("failed to open volume {volume}: {e}")))?;
    let how = OpenHow::new().flags(flags).resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
    openat2(&root, subpath, how).map_err(|e| match e {
        Errno::ELOOP | Errno::EXDEV => {
            bad(format!("volume-subpath {subpath} of volume {volume} goes through a symlink"))
        }
        Errno::ENOENT => bad(format!("volume-subpath {subpath} does not exist in volume {volume}")),
        Errno::ENOTDIR => bad(format!("volume-subpath {subpath} of volume {volume} is not a directory")),
        e => ContainerError::Internal(format!("failed to open volume-subpath {subpath} of volume {volume}: {e}")),
    })
}

/// A volume subpath bind-mounted at a staging path in the engine's own
/// mount namespace, where the runtime mounts it from: the mount is made
/// through the descriptor [`open_volume_subpath`] checked, so it is that very
/// directory whatever a container sharing the volume does to the path
/// meanwhile. Unmounted when dropped, once the container has its own mount.
pub struct StagedSubpath(PathBuf);

impl StagedSubpath {
    pub fn new(dir: &Path, subpath: &str, volume: &str, at: PathBuf) -> Result<Self, ContainerError> {
        let fd = open_volume_subpath(dir, subpath, volume)?;
        std::fs::create_dir_all(&at).map_err(super::io_err("create", &at))?;
        let source = format!("/proc/self/fd/{}", fd.as_raw_fd());
        nix::mount::mount(Some(source.as_str()), &at, None::<&str>, nix::mount::MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| ContainerError::Internal(format!("failed to stage volume-subpath {subpath}: {e}")))?;
        Ok(Self(at))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for StagedSubpath {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The path of [`open_volume_subpath`]'s directory as it is now (for the
/// archive API, which resolves paths within the container itself).
pub fn volume_subpath(dir: &Path, subpath: &str, volume: &str) -> Result<PathBuf, ContainerError> {
    let fd = open_volume_subpath(dir, subpath, volume)?;
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(|e| ContainerError::Internal(format!("failed to resolve volume-subpath {subpath}: {e}")))
}

/// `--tmpfs /path[:opts]`.
pub fn tmpfs(target: &str, opts: &str) -> Result<MountSpec, ContainerError> {
    check_target(target)?;
    Ok(MountSpec {
        kind: MountKind::Tmpfs,
        source: String::new(),
        target: target.into(),
        read_only: false,
        propagation: String::new(),
        nocopy: false,
        tmpfs_options: opts.split(',').filter(|o| !o.is_empty()).map(str::to_owned).collect(),
        anonymous: false,
        subpath: String::new(),
    })
}

/// Creates what the mounts need: named volumes that do not exist yet,
/// anonymous volumes, and host directories for `-v` binds.
pub fn provision(mounts: &mut [MountSpec], volumes: &VolumeService) -> Result<(), ContainerError> {
    let mut seen = std::collections::HashSet::new();
    for m in mounts.iter_mut() {
        if !seen.insert(m.target.clone()) {
            return Err(bad(format!("Duplicate mount point: {}", m.target)));
        }
        match m.kind {
            MountKind::Volume => {
                let name = (!m.source.is_empty()).then_some(m.source.as_str());
                m.anonymous = name.is_none();
                let v = volumes
                    .create(name, "local", Default::default(), Default::default())
                    .map_err(|e| bad(e.to_string()))?;
                m.source = v.name;
            }
            MountKind::Bind if !Path::new(&m.source).exists() => {
                std::fs::create_dir_all(&m.source)
                    .map_err(|e| bad(format!("error while creating mount source path '{}': {e}", m.source)))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Copies the image's files at `target` into an empty volume, as Docker
/// does on a volume's first use. Symlinks are copied as links, never
/// followed, so nothing outside the container's root is read.
pub fn copy_up(rootfs: &Path, target: &str, volume_dir: &Path) -> std::io::Result<()> {
    let src = rootfs.join(target.trim_start_matches('/'));
    let Ok(meta) = std::fs::symlink_metadata(&src) else { return Ok(()) };
    if !meta.is_dir() || std::fs::read_dir(volume_dir)?.next().is_some() {
        return Ok(());
    }
    copy_tree(&src, volume_dir)?;
    // The volume's root takes the image directory's owner and mode.
    std::fs::set_permissions(volume_dir, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let _ = nix::unistd::chown(volume_dir, Some(meta.uid().into()), Some(meta.gid().into()));
    Ok(())
}

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let meta = std::fs::symlink_metadata(&from)?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else if ft.is_dir() {
            std::fs::create_dir(&to)?;
            copy_tree(&from, &to)?;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        } else if ft.is_file() {
            std::fs::copy(&from, &to)?;
        } else {
            continue;
        }
        let _ = std::os::unix::fs::lchown(&to, Some(meta.uid()), Some(meta.gid()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_syntax() {
        let m = parse_bind("/host:/ctr:ro").unwrap();
        assert_eq!(
            (m.kind, m.source.as_str(), m.target.as_str(), m.read_only),
            (MountKind::Bind, "/host", "/ctr", true)
        );
        let v = parse_bind("data:/var/lib/data:nocopy").unwrap();
        assert_eq!((v.kind, v.nocopy), (MountKind::Volume, true));
        assert!(parse_bind("/a:relative").is_err());
        assert!(parse_bind("/a:/b:bogus").is_err());
        assert!(parse_bind("justone").is_err());
        let missing = MountRequest {
            kind: "bind".into(),
            source: "/no/such/dir".into(),
            target: "/x".into(),
            ..Default::default()
        };
        assert!(from_request(&missing).unwrap_err().to_string().contains("bind source path does not exist"));
    }

    #[test]
    fn copy_up_copies_once_without_following_links() {
        let root = tempfile::tempdir().unwrap();
        let vol = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("data/sub")).unwrap();
        std::fs::write(root.path().join("data/sub/f"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("data/link")).unwrap();
        copy_up(root.path(), "/data", vol.path()).unwrap();
        assert_eq!(std::fs::read(vol.path().join("sub/f")).unwrap(), b"x");
        assert!(std::fs::symlink_metadata(vol.path().join("link")).unwrap().file_type().is_symlink());
        std::fs::write(root.path().join("data/new"), b"y").unwrap();
        copy_up(root.path(), "/data", vol.path()).unwrap();
        assert!(!vol.path().join("new").exists(), "copied into a non-empty volume");
    }
}
