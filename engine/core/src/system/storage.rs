//! Facts about the filesystem under the data root that the overlay2 storage
//! driver depends on.

use std::path::Path;

/// Name of the filesystem type behind `path`, as dockerd reports it.
pub fn backing_filesystem(path: &Path) -> String {
    use nix::sys::statfs as fs;
    let Ok(stat) = fs::statfs(path) else { return "unknown".into() };
    let known = [
        (fs::EXT4_SUPER_MAGIC, "extfs"),
        (fs::XFS_SUPER_MAGIC, "xfs"),
        (fs::BTRFS_SUPER_MAGIC, "btrfs"),
        (fs::TMPFS_MAGIC, "tmpfs"),
        (fs::OVERLAYFS_SUPER_MAGIC, "overlayfs"),
        (fs::F2FS_SUPER_MAGIC, "f2fs"),
        (fs::FUSE_SUPER_MAGIC, "fuse"),
        (fs::NFS_SUPER_MAGIC, "nfs"),
    ];
    known.iter().find(|(magic, _)| *magic == stat.filesystem_type()).map_or("unknown", |(_, name)| name).into()
}

/// Whether directory entries under `path` carry their file type, which
/// overlayfs needs to find whiteouts.
pub fn supports_d_type(path: &Path) -> bool {
    let Ok(dir) = tempfile::Builder::new().prefix(".d_type-").tempdir_in(path) else { return false };
    if std::fs::write(dir.path().join("f"), b"").is_err() {
        return false;
    }
    // std fills file_type from d_type when the filesystem provides it and
    // falls back to lstat otherwise, so read the raw entries with nix instead.
    let Ok(mut raw) = nix::dir::Dir::open(dir.path(), nix::fcntl::OFlag::O_RDONLY, nix::sys::stat::Mode::empty())
    else {
        return false;
    };
    let typed = raw.iter().flatten().any(|e| e.file_name().to_bytes() == b"f" && e.file_type().is_some());
    typed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_a_temp_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert_ne!(backing_filesystem(dir.path()), "");
        assert!(supports_d_type(dir.path()));
    }
}
