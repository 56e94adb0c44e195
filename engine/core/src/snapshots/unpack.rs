//! Unpacking one layer tar into a directory in overlayfs form.
//!
//! - OCI/AUFS whiteouts (`.wh.name`) become overlay whiteouts (0/0 char
//!   devices), opaque markers (`.wh..wh..opq`) become the
//!   `trusted.overlay.opaque` xattr.
//! - Ownership, modes, mtimes, xattrs and hardlinks are kept.
//! - Nothing may land outside the directory: `..` components, writes
//!   through symlinks and hardlinks to outside paths are refused.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::content::Digest;

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("entry {0:?} would escape the layer root")]
    Escape(PathBuf),
    #[error("entry {entry:?} would be written through the symlink {link:?}")]
    ThroughSymlink { entry: PathBuf, link: PathBuf },
    #[error("hardlink {entry:?} points to {target:?}, which is not in this layer")]
    BadHardlink { entry: PathBuf, target: PathBuf },
    #[error("invalid layer archive")]
    Archive(#[source] std::io::Error),
    #[error("failed to write {path:?}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Unpacks `blob` into `dest`; returns the bytes of file content and the
/// digest of the uncompressed tar (the layer's diff ID).
pub fn unpack_layer(blob: impl Read, dest: &Path) -> Result<(u64, Digest), UnpackError> {
    let mut hashing =
        Hashing { inner: crate::compression::decompress(blob).map_err(UnpackError::Archive)?, hasher: Sha256::new() };
    let mut size = 0u64;
    {
        let mut archive = tar::Archive::new(&mut hashing);
        archive.set_preserve_permissions(true);
        archive.set_preserve_ownerships(true);
        archive.set_preserve_mtime(true);
        archive.set_unpack_xattrs(true);
        archive.set_overwrite(true);
        for entry in archive.entries().map_err(UnpackError::Archive)? {
            let mut entry = entry.map_err(UnpackError::Archive)?;
            let path = entry.path().map_err(UnpackError::Archive)?.into_owned();
            let Some(rel) = clean(&path)? else { continue };
            check_parents(dest, &rel)?;
            let target = dest.join(&rel);
            let name = rel.file_name().unwrap_or_default();
            let parent = target.parent().unwrap_or(dest).to_path_buf();
            make_dirs(dest, &parent)?;
            if name == OsStr::new(".wh..wh..opq") {
                set_opaque(&parent)?;
                continue;
            }
            if let Some(hidden) = name.to_str().and_then(|n| n.strip_prefix(".wh.")) {
                if !hidden.starts_with(".wh.") {
                    whiteout(&parent.join(hidden))?;
                }
                continue;
            }
            let kind = entry.header().entry_type();
            if kind.is_hard_link() {
                let link = entry.link_name().map_err(UnpackError::Archive)?.unwrap_or_default().into_owned();
                hardlink(dest, &rel, &link)?;
                continue;
            }
            replace_non_dir(&target, kind.is_dir())?;
            if kind.is_file() {
                size += entry.header().size().unwrap_or(0);
            }
            entry.unpack(&target).map_err(|source| UnpackError::Write { path: rel.clone(), source })?;
        }
    }
    // The tar reader may stop before the archive's zero padding; the diff ID
    // covers every byte.
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(UnpackError::Archive)?;
    Ok((size, Digest::from_hasher(hashing.hasher)))
}

/// The entry's path relative to the layer root; `None` for the root itself.
fn clean(path: &Path) -> Result<Option<PathBuf>, UnpackError> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return Err(UnpackError::Escape(path.into())),
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Refuses a path whose existing parent components include a symlink.
fn check_parents(dest: &Path, rel: &Path) -> Result<(), UnpackError> {
    let mut cur = dest.to_path_buf();
    let parents: Vec<_> = rel.components().collect();
    for c in &parents[..parents.len().saturating_sub(1)] {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(UnpackError::ThroughSymlink {
                    entry: rel.into(),
                    link: cur.strip_prefix(dest).unwrap_or(&cur).into(),
                })
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

fn make_dirs(dest: &Path, dir: &Path) -> Result<(), UnpackError> {
    if dir != dest {
        std::fs::create_dir_all(dir).map_err(|source| UnpackError::Write { path: dir.into(), source })?;
    }
    Ok(())
}

/// Makes room for an entry: a later entry replaces an earlier one, and a
/// non-directory is never written through (a symlink is replaced, not followed).
fn replace_non_dir(target: &Path, entry_is_dir: bool) -> Result<(), UnpackError> {
    let Ok(meta) = std::fs::symlink_metadata(target) else { return Ok(()) };
    let result = if meta.is_dir() {
        if entry_is_dir {
            return Ok(());
        }
        std::fs::remove_dir_all(target)
    } else {
        std::fs::remove_file(target)
    };
    result.map_err(|source| UnpackError::Write { path: target.into(), source })
}

fn set_opaque(dir: &Path) -> Result<(), UnpackError> {
    xattr::set(dir, "trusted.overlay.opaque", b"y").map_err(|source| UnpackError::Write { path: dir.into(), source })
}

fn whiteout(path: &Path) -> Result<(), UnpackError> {
    replace_non_dir(path, false)?;
    if path.is_dir() {
        std::fs::remove_dir_all(path).map_err(|source| UnpackError::Write { path: path.into(), source })?;
    }
    nix::sys::stat::mknod(path, nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0)
        .map_err(|e| UnpackError::Write { path: path.into(), source: e.into() })
}

fn hardlink(dest: &Path, rel: &Path, link: &Path) -> Result<(), UnpackError> {
    let bad = || UnpackError::BadHardlink { entry: rel.into(), target: link.into() };
    let link_rel = clean(link).map_err(|_| bad())?.ok_or_else(bad)?;
    check_parents(dest, &link_rel).map_err(|_| bad())?;
    let source = dest.join(&link_rel);
    let meta = std::fs::symlink_metadata(&source).map_err(|_| bad())?;
    if meta.is_dir() {
        return Err(bad());
    }
    let target = dest.join(rel);
    replace_non_dir(&target, false)?;
    std::fs::hard_link(&source, &target).map_err(|source| UnpackError::Write { path: rel.into(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn layer(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn header(kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut h = header(tar::EntryType::Regular, data.len() as u64);
        b.append_data(&mut h, path, data).unwrap();
    }

    /// Writes a name verbatim (the tar crate refuses `..` when building).
    fn raw(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, link: Option<&str>) {
        let mut h = header(kind, 0);
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(l) = link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
    }

    #[test]
    fn whiteouts_become_overlay_form_and_diff_id_is_the_tar_digest() {
        let tar = layer(|b| {
            file(b, "a/keep", b"1");
            file(b, "a/.wh.gone", b"");
            file(b, "o/.wh..wh..opq", b"");
            raw(b, tar::EntryType::Link, "a/hard", Some("a/keep"));
        });
        let dir = tempfile::tempdir().unwrap();
        let (size, diff_id) = unpack_layer(&tar[..], dir.path()).unwrap();
        assert_eq!(size, 1);
        assert_eq!(diff_id, Digest::of(&tar));
        let wh = std::fs::symlink_metadata(dir.path().join("a/gone")).unwrap();
        assert_eq!((wh.mode() & libc_s_ifmt(), wh.rdev()), (0o020000, 0));
        let opq = xattr::get(dir.path().join("o"), "trusted.overlay.opaque").unwrap();
        assert_eq!(opq.as_deref(), Some(&b"y"[..]));
        let keep = std::fs::metadata(dir.path().join("a/keep")).unwrap();
        assert_eq!(keep.ino(), std::fs::metadata(dir.path().join("a/hard")).unwrap().ino());
    }

    fn libc_s_ifmt() -> u32 {
        0o170000
    }

    #[test]
    fn gzip_and_zstd_are_detected() {
        let tar = layer(|b| file(b, "f", b"x"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&tar[..], 1).unwrap();
        for blob in [gz, zst] {
            let dir = tempfile::tempdir().unwrap();
            let (_, diff_id) = unpack_layer(&blob[..], dir.path()).unwrap();
            assert_eq!(diff_id, Digest::of(&tar));
            assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"x");
        }
    }

    #[test]
    fn hostile_layers_write_nothing_outside() {
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        let cases: Vec<Vec<u8>> = vec![
            layer(|b| raw(b, tar::EntryType::Regular, "../escape", None)),
            layer(|b| {
                let mut h = header(tar::EntryType::Symlink, 0);
                b.append_link(&mut h, "link", outside.path()).unwrap();
                file(b, "link/victim", b"pwned");
            }),
            layer(|b| raw(b, tar::EntryType::Link, "hard", Some("../../etc/passwd"))),
        ];
        for (i, tar) in cases.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("root");
            std::fs::create_dir(&root).unwrap();
            assert!(unpack_layer(&tar[..], &root).is_err(), "case {i} was accepted");
            assert!(!victim.exists(), "case {i} wrote outside");
            assert!(!dir.path().join("escape").exists(), "case {i} wrote outside");
        }
    }

    #[test]
    fn a_symlink_replaced_by_a_file_is_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("t"), b"original").unwrap();
        let tar = layer(|b| {
            let mut h = header(tar::EntryType::Symlink, 0);
            b.append_link(&mut h, "s", outside.path().join("t")).unwrap();
            file(b, "s", b"new");
        });
        let dir = tempfile::tempdir().unwrap();
        unpack_layer(&tar[..], dir.path()).unwrap();
        assert_eq!(std::fs::read(outside.path().join("t")).unwrap(), b"original");
        assert_eq!(std::fs::read(dir.path().join("s")).unwrap(), b"new");
    }
}
