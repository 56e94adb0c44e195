//! The inverse of unpacking: an overlay upper directory (a container's
//! changes) as a layer tar. Overlay whiteouts (0/0 character devices)
//! become `.wh.name` entries and opaque directories get `.wh..wh..opq`,
//! so any engine can apply the layer.

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// Writes the changes under `upper` as an uncompressed layer tar, in a
/// stable (sorted) order.
pub fn pack_layer(upper: &Path, out: impl Write) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    add_dir(&mut tar, upper, Path::new(""))?;
    tar.into_inner()?.flush()
}

fn add_dir(tar: &mut tar::Builder<impl Write>, dir: &Path, rel: &Path) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = rel.join(e.file_name());
        let meta = path.symlink_metadata()?;
        if meta.file_type().is_char_device() && meta.rdev() == 0 {
            let mut wh = std::ffi::OsString::from(".wh.");
            wh.push(e.file_name());
            empty_file(tar, &rel.join(wh), &meta)?;
            continue;
        }
        tar.append_path_with_name(&path, &name)?;
        if meta.is_dir() {
            if xattr::get(&path, "trusted.overlay.opaque")?.as_deref() == Some(b"y") {
                empty_file(tar, &name.join(".wh..wh..opq"), &meta)?;
            }
            add_dir(tar, &path, &name)?;
        }
    }
    Ok(())
}

fn empty_file(tar: &mut tar::Builder<impl Write>, name: &Path, meta: &std::fs::Metadata) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(0);
    h.set_mode(0o644);
    h.set_mtime(meta.mtime().max(0) as u64);
    tar.append_data(&mut h, name, std::io::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteouts_and_opaque_dirs_round_trip() {
        let upper = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(upper.path().join("etc/o")).unwrap();
        std::fs::write(upper.path().join("etc/new"), b"hi").unwrap();
        nix::sys::stat::mknod(
            &upper.path().join("etc/gone"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0),
            0,
        )
        .unwrap();
        xattr::set(upper.path().join("etc/o"), "trusted.overlay.opaque", b"y").unwrap();
        let mut buf = Vec::new();
        pack_layer(upper.path(), &mut buf).unwrap();
        let mut names = Vec::new();
        for e in tar::Archive::new(&buf[..]).entries().unwrap() {
            names.push(e.unwrap().path().unwrap().display().to_string());
        }
        assert_eq!(names, ["etc", "etc/.wh.gone", "etc/new", "etc/o", "etc/o/.wh..wh..opq"]);
        // And back: unpacking restores the overlay form.
        let back = tempfile::tempdir().unwrap();
        super::super::unpack::unpack_layer(&buf[..], back.path()).unwrap();
        let wh = back.path().join("etc/gone").symlink_metadata().unwrap();
        assert!(wh.file_type().is_char_device());
        assert_eq!(std::fs::read(back.path().join("etc/new")).unwrap(), b"hi");
    }
}
