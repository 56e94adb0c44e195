//! A container's root filesystem: an overlay of its image's layers with
//! the container's own upper directory on top.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::ContainerError;

/// The container's writable layer and mount point under its directory.
pub struct RwLayer {
    pub upper: PathBuf,
    pub work: PathBuf,
    pub merged: PathBuf,
}

impl RwLayer {
    pub fn at(container_dir: &Path) -> Self {
        let rw = container_dir.join("rw");
        Self { upper: rw.join("upper"), work: rw.join("work"), merged: rw.join("merged") }
    }

    pub fn create(&self) -> std::io::Result<()> {
        for d in [&self.upper, &self.work, &self.merged] {
            std::fs::create_dir_all(d)?;
        }
        Ok(())
    }

    /// Mounts the overlay; `lowers` are the image layers, topmost first.
    pub fn mount(&self, lowers: &[PathBuf]) -> Result<(), ContainerError> {
        if self.is_mounted() {
            return Ok(());
        }
        // An image without layers (`FROM scratch`) still needs a lower dir.
        let empty = self.merged.with_file_name("empty");
        let lowers = if lowers.is_empty() {
            std::fs::create_dir_all(&empty)
                .map_err(|e| ContainerError::Internal(format!("failed to create {}: {e}", empty.display())))?;
            std::slice::from_ref(&empty)
        } else {
            lowers
        };
        let lower = lowers.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":");
        let data = format!("lowerdir={lower},upperdir={},workdir={}", self.upper.display(), self.work.display());
        mount(Some("overlay"), &self.merged, Some("overlay"), MsFlags::empty(), Some(data.as_str()))
            .map_err(|e| ContainerError::Internal(format!("failed to mount the container's root filesystem: {e}")))
    }

    pub fn unmount(&self) -> Result<(), ContainerError> {
        if !self.is_mounted() {
            return Ok(());
        }
        umount2(&self.merged, MntFlags::MNT_DETACH)
            .map_err(|e| ContainerError::Internal(format!("failed to unmount {}: {e}", self.merged.display())))
    }

    fn is_mounted(&self) -> bool {
        is_mount_point(&self.merged)
    }
}

/// Whether something is mounted at `path` in the engine's mount namespace.
pub(super) fn is_mount_point(path: &Path) -> bool {
    let target = path.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|m| m.lines().any(|l| l.split(' ').nth(4) == Some(target.as_str())))
        .unwrap_or(false)
}
