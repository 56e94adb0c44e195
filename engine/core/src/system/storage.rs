//! Facts about the filesystem under the data root that the overlay2 storage
//! driver depends on.

use std::path::Path;

/// Name of the filesystem type behind `path`, as dockerd reports it.
pub fn backing_filesystem(path: &Path) -> String {
    let magic = match nix::sys::statfs::statfs(path) {
        Ok(s) => s.filesystem_type().0 as i64,
        Err(_) => return "unknown".into(),
    };
    match magic {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0xF2F5_2010 => "f2fs",
        _ => "unknown",
    }
    .into()
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
