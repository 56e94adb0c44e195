//! The archive API behind `docker cp`: stat, read and write paths inside a
//! container, running or stopped. Container paths are resolved the way the
//! container sees them — through its mounts, with symlinks read relative to
//! its root — so nothing outside the container is ever read or written.

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use super::mounts::MountKind;
use super::record::{Container, Status};
use super::rootfs::RwLayer;
use super::{ContainerError, ContainerService};

/// What `X-Docker-Container-Path-Stat` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    pub name: String,
    pub size: u64,
    /// Go's `os.FileMode` bits, which the CLI decodes.
    pub mode: u32,
    pub mtime: String,
    pub link_target: String,
}

const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_SYMLINK: u32 = 1 << 27;

/// How many symlinks a path may pass through, as Linux allows.
const MAX_LINKS: usize = 40;

/// A container's view of its files: the root and its mounts.
/// Owners of the files an archive writes into a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owners {
    /// As the archive says (the builder's COPY, which set them).
    FromArchive,
    /// The container's root: `docker cp` without `-a`.
    Root,
    /// The container's configured user: `docker cp -a` (`copyUIDGID`).
    ContainerUser,
}

struct View {
    root: PathBuf,
    /// (container path, host path), longest container path first.
    mounts: Vec<(PathBuf, PathBuf)>,
}

impl View {
    /// The host path behind a clean, absolute container path.
    fn host_path(&self, p: &Path) -> PathBuf {
        for (target, source) in &self.mounts {
            if let Ok(rest) = p.strip_prefix(target) {
                // Joining "" would add a trailing slash, which a file mount does not resolve with.
                return if rest.as_os_str().is_empty() { source.clone() } else { source.join(rest) };
            }
        }
        self.root.join(p.strip_prefix("/").unwrap_or(p))
    }

    /// Resolves a container path, following symlinks inside the container
    /// (all but the last component unless `follow_last`); `..` stops at `/`.
    fn resolve(&self, path: &str, follow_last: bool) -> Result<PathBuf, ContainerError> {
        let mut pending: Vec<std::ffi::OsString> = Path::new(path).components().rev().filter_map(component).collect();
        let mut cur = PathBuf::from("/");
        let mut links = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                cur.pop();
                continue;
            }
            let next = cur.join(&part);
            let is_last = pending.is_empty();
            let host = self.host_path(&next);
            match std::fs::symlink_metadata(&host) {
                Ok(m) if m.file_type().is_symlink() && (!is_last || follow_last) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(ContainerError::InvalidParameter(format!(
                            "too many levels of symbolic links: {path}"
                        )));
                    }
                    let target = std::fs::read_link(&host).map_err(super::io_err("read link", &host))?;
                    if target.is_absolute() {
                        cur = PathBuf::from("/");
                    }
                    pending.extend(target.components().rev().filter_map(component));
                }
                _ => cur = next,
            }
        }
        Ok(cur)
    }
}

fn component(c: Component<'_>) -> Option<std::ffi::OsString> {
    match c {
        Component::Normal(p) => Some(p.to_os_string()),
        Component::ParentDir => Some("..".into()),
        _ => None,
    }
}

fn not_found(path: &str, id: &str) -> ContainerError {
    ContainerError::NotFound(format!("Could not find the file {path} in container {id}"))
}

impl ContainerService {
    /// Runs `f` with the container's files available, mounting a stopped
    /// container's root for the duration.
    fn with_view<T>(
        &self,
        name: &str,
        f: impl FnOnce(&Container, &View) -> Result<T, ContainerError>,
    ) -> Result<T, ContainerError> {
        let c = self.get(name)?;
        let rw = RwLayer::at(&self.dirs(&c.id).data);
        let running = matches!(c.state.status, Status::Running | Status::Paused);
        if !running {
            let image = self.inner.images.inspect(c.image_id.as_str())?;
            rw.mount(&image.lower_dirs)?;
        }
        let view = self.view(&c, &rw.merged);
        let out = f(&c, &view);
        if !running && self.get(&c.id).is_ok_and(|c| !matches!(c.state.status, Status::Running | Status::Paused)) {
            let _ = rw.unmount();
        }
        out
    }

    /// The container's files as it sees them: `root` plus its mounts.
    fn view(&self, c: &Container, root: &Path) -> View {
        let mut mounts = Vec::new();
        for m in &c.mounts {
            let source = match m.kind {
                MountKind::Bind => PathBuf::from(&m.source),
                MountKind::Volume => match self.inner.volumes.get(&m.source) {
                    Ok(v) if m.subpath.is_empty() => v.mountpoint,
                    Ok(v) => match super::mounts::volume_subpath(&v.mountpoint, &m.subpath, &m.source) {
                        Ok(dir) => dir,
                        Err(_) => continue,
                    },
                    Err(_) => continue,
                },
                // A tmpfs lives only inside the running container.
                MountKind::Tmpfs => continue,
            };
            mounts.push((PathBuf::from(&m.target), source));
        }
        // The files the engine writes and binds over the image's, once the container has started.
        // After the user's mounts: the stable sort keeps a user's bind of the same path first.
        for (target, file) in self.dirs(&c.id).etc_files() {
            if file.is_file() {
                mounts.push((PathBuf::from(target), file));
            }
        }
        mounts.sort_by_key(|(t, _)| std::cmp::Reverse(t.as_os_str().len()));
        View { root: root.into(), mounts }
    }

    /// Creates a directory inside the container (its working directory,
    /// as Docker does), never following a link out of it.
    pub(super) fn make_dir_in(&self, c: &Container, root: &Path, path: &str) -> Result<(), ContainerError> {
        let view = self.view(c, root);
        let host = view.host_path(&view.resolve(path, true)?);
        std::fs::create_dir_all(&host).map_err(super::io_err("create", &host))
    }

    pub fn stat_path(&self, name: &str, path: &str) -> Result<PathStat, ContainerError> {
        self.with_view(name, |c, view| {
            let p = view.resolve(path, false)?;
            stat(&view.host_path(&p), &p).ok_or_else(|| not_found(path, &c.id))
        })
    }

    /// Writes a tar of `path` (named by its last component) to `out`.
    pub fn read_path(&self, name: &str, path: &str, out: impl Write) -> Result<(), ContainerError> {
        self.with_view(name, |c, view| {
            // "dir/." copies the directory's contents, as docker cp defines.
            let follow = path.ends_with("/.") || path.ends_with('/');
            let p = view.resolve(path, follow)?;
            let host = view.host_path(&p);
            let meta = std::fs::symlink_metadata(&host).map_err(|_| not_found(path, &c.id))?;
            let name = p.file_name().map_or_else(|| ".".into(), |n| n.to_os_string());
            let mut tar = tar::Builder::new(out);
            tar.follow_symlinks(false);
            let err = |e: std::io::Error| ContainerError::Internal(format!("failed to archive {path}: {e}"));
            if meta.is_dir() {
                tar.append_dir_all(&name, &host).map_err(err)?;
            } else {
                tar.append_path_with_name(&host, &name).map_err(err)?;
            }
            tar.into_inner().and_then(|mut w| w.flush()).map_err(err)
        })
    }

    /// Extracts a tar into the directory `path` inside the container.
    pub fn write_path(
        &self,
        name: &str,
        path: &str,
        archive: impl Read,
        no_overwrite_dir_non_dir: bool,
        owners: Owners,
    ) -> Result<(), ContainerError> {
        self.with_view(name, |c, view| {
            // Who owns what is written, as dockerd decides it.
            let chown_to = match owners {
                Owners::FromArchive => None,
                Owners::Root => Some((0, 0)),
                Owners::ContainerUser => {
                    let (uid, gid, _) = super::spec::resolve_user(&view.root, &c.spec.user)?;
                    Some((uid, gid))
                }
            };
            let p = view.resolve(path, true)?;
            let host = view.host_path(&p);
            let meta = std::fs::metadata(&host).map_err(|_| not_found(path, &c.id))?;
            if !meta.is_dir() {
                return Err(ContainerError::InvalidParameter(format!("extraction point is not a directory: {path}")));
            }
            let mut tar =
                tar::Archive::new(crate::compression::decompress(archive).map_err(super::io_err("read", &host))?);
            tar.set_preserve_permissions(true);
            tar.set_preserve_ownerships(chown_to.is_none());
            tar.set_overwrite(true);
            for entry in tar.entries().map_err(|e| ContainerError::InvalidParameter(format!("invalid tar: {e}")))? {
                let mut entry = entry.map_err(|e| ContainerError::InvalidParameter(format!("invalid tar: {e}")))?;
                if no_overwrite_dir_non_dir {
                    let rel = entry.path().map(|p| p.into_owned()).unwrap_or_default();
                    if let Ok(existing) = std::fs::symlink_metadata(host.join(&rel)) {
                        if existing.is_dir() != entry.header().entry_type().is_dir() {
                            return Err(ContainerError::InvalidParameter(format!(
                                "cannot overwrite {} with a {}",
                                if existing.is_dir() { "directory" } else { "non-directory" },
                                if existing.is_dir() { "non-directory" } else { "directory" }
                            )));
                        }
                    }
                }
                // unpack_in refuses `..` and anything whose parent resolves
                // outside `host` (a symlink planted in the container).
                let inside = entry
                    .unpack_in(&host)
                    .map_err(|e| ContainerError::InvalidParameter(format!("failed to extract into {path}: {e}")))?;
                if !inside {
                    return Err(ContainerError::InvalidParameter(format!("refusing to extract outside {path}")));
                }
                if let Some((uid, gid)) = chown_to {
                    let rel = entry.path().map(|p| p.into_owned()).unwrap_or_default();
                    std::os::unix::fs::lchown(host.join(&rel), Some(uid), Some(gid))
                        .map_err(super::io_err("chown", &host.join(&rel)))?;
                }
            }
            Ok(())
        })
    }
}

fn stat(host: &Path, container_path: &Path) -> Option<PathStat> {
    let m = std::fs::symlink_metadata(host).ok()?;
    let mut mode = m.mode() & 0o777;
    let mut link_target = String::new();
    if m.is_dir() {
        mode |= GO_MODE_DIR;
    } else if m.file_type().is_symlink() {
        mode |= GO_MODE_SYMLINK;
        link_target = std::fs::read_link(host).ok()?.display().to_string();
    }
    let mtime = chrono::DateTime::from_timestamp(m.mtime(), m.mtime_nsec() as u32)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    Some(PathStat {
        name: container_path.file_name().map_or_else(|| "/".into(), |n| n.to_string_lossy().into_owned()),
        size: m.len(),
        mode,
        mtime,
        link_target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::create_dir_all(r.join("data")).unwrap();
        std::os::unix::fs::symlink("/etc", r.join("evil")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", r.join("data/up")).unwrap();
        let view = View { root: r.into(), mounts: vec![] };
        assert_eq!(view.resolve("/evil/passwd", false).unwrap(), PathBuf::from("/etc/passwd"));
        assert_eq!(view.host_path(&view.resolve("/evil", true).unwrap()), r.join("etc"));
        assert_eq!(view.resolve("/data/up", true).unwrap(), PathBuf::from("/etc"));
        assert_eq!(view.resolve("/evil", false).unwrap(), PathBuf::from("/evil"));
        let mounted = View { root: r.into(), mounts: vec![(PathBuf::from("/vol"), PathBuf::from("/srv/v"))] };
        assert_eq!(mounted.host_path(Path::new("/vol/a")), PathBuf::from("/srv/v/a"));
    }
}

/// One `docker diff` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    /// 0 modified, 1 added, 2 deleted (Docker's numbering).
    pub kind: u8,
}

impl ContainerService {
    /// `docker export`: the container's root filesystem (without its
    /// mounts) as a tar.
    pub fn export(&self, name: &str, out: impl Write) -> Result<(), ContainerError> {
        self.with_view(name, |_, view| {
            let mut tar = tar::Builder::new(out);
            tar.follow_symlinks(false);
            let err = |e: std::io::Error| ContainerError::Internal(format!("failed to export: {e}"));
            tar.append_dir_all(".", &view.root).map_err(err)?;
            tar.into_inner().and_then(|mut w| w.flush()).map_err(err)
        })
    }

    /// `docker diff`: what the container changed relative to its image,
    /// read from its writable layer.
    pub fn changes(&self, name: &str) -> Result<Vec<Change>, ContainerError> {
        let c = self.get(name)?;
        let upper = RwLayer::at(&self.dirs(&c.id).data).upper;
        let lowers = self.inner.images.inspect(c.image_id.as_str())?.lower_dirs;
        let mut out = Vec::new();
        walk_changes(&upper, Path::new("/"), &lowers, &mut out);
        // The engine's own files (mount points the runtime makes) are not the
        // container's changes; dockerd keeps them in a layer of its own.
        const ENGINE_FILES: &[&str] = &[
            "/etc/hosts",
            "/etc/hostname",
            "/etc/resolv.conf",
            "/etc/mtab",
            "/sbin/docker-init",
            "/dev",
            "/proc",
            "/sys",
        ];
        let engine_file =
            |p: &str| ENGINE_FILES.iter().any(|f| p == *f || (p.starts_with(f) && p[f.len()..].starts_with('/')));
        out.retain(|ch| !engine_file(&ch.path));
        let touched = |dir: &str| out.iter().any(|ch| ch.path.starts_with(&format!("{dir}/")));
        let (etc, sbin) = (touched("/etc"), touched("/sbin"));
        out.retain(|ch| (ch.path != "/etc" || etc) && (ch.path != "/sbin" || sbin));
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

fn walk_changes(dir: &Path, rel: &Path, lowers: &[PathBuf], out: &mut Vec<Change>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = rel.join(e.file_name());
        let Ok(meta) = e.path().symlink_metadata() else { continue };
        let in_lower =
            lowers.iter().any(|l| l.join(path.strip_prefix("/").unwrap_or(&path)).symlink_metadata().is_ok());
        let kind = if is_whiteout(&meta) {
            2
        } else if in_lower {
            0
        } else {
            1
        };
        out.push(Change { path: path.display().to_string(), kind });
        if meta.is_dir() {
            walk_changes(&e.path(), &path, lowers, out);
        }
    }
}

/// An overlay whiteout: a 0/0 character device.
fn is_whiteout(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_char_device() && meta.rdev() == 0
}
