//! The build context: the client's tar unpacked into a scratch directory,
//! `.dockerignore` applied, and the layer tars COPY and ADD send into a
//! step's container, hashed as they are written for the cache.

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use berth_dockerfile::DockerIgnore;
use sha2::{Digest as _, Sha256};

use super::{io, BuildError};
use crate::containers::users;

pub struct Context {
    dir: tempfile::TempDir,
    ignore: DockerIgnore,
}

impl Context {
    /// Unpacks a context tar (gzip and zstd too). The tar crate refuses
    /// entries that would land outside the directory.
    pub fn unpack(archive: impl Read, tmp: &Path) -> Result<Self, BuildError> {
        let dir = tempfile::Builder::new().prefix("ctx-").tempdir_in(tmp).map_err(io("create", tmp))?;
        let reader = crate::compression::decompress(archive).map_err(io("read", dir.path()))?;
        let mut tar = tar::Archive::new(reader);
        tar.set_preserve_permissions(true);
        tar.set_preserve_mtime(true);
        tar.unpack(dir.path())
            .map_err(|e| BuildError::Invalid(format!("failed to read the build context (expected a tar): {e}")))?;
        let ignore = match std::fs::read_to_string(dir.path().join(".dockerignore")) {
            Ok(text) => DockerIgnore::parse(&text).map_err(|e| BuildError::Invalid(format!(".dockerignore: {e}")))?,
            Err(_) => DockerIgnore::default(),
        };
        Ok(Self { dir, ignore })
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The Dockerfile's text (`Dockerfile` unless `path` names another).
    pub fn dockerfile(&self, path: &str) -> Result<String, BuildError> {
        let path = if path.is_empty() { "Dockerfile" } else { path };
        let missing = || BuildError::Invalid(format!("Cannot locate specified Dockerfile: {path}"));
        let rel = clean(path).ok_or_else(missing)?;
        std::fs::read_to_string(self.root().join(rel)).map_err(|_| missing())
    }

    fn excluded(&self, rel: &Path, is_dir: bool) -> bool {
        !self.ignore.is_empty() && self.ignore.is_excluded(&rel.to_string_lossy(), is_dir)
    }

    /// The context paths a COPY source names: a path, or a pattern with
    /// `*`, `?` or `[...]` in any component.
    pub fn select(&self, source: &str) -> Result<Vec<PathBuf>, BuildError> {
        let not_found = || {
            BuildError::Invalid(format!(
                "COPY failed: file not found in build context or excluded by .dockerignore: stat {source}: file does not exist"
            ))
        };
        let rel = clean(source).ok_or_else(not_found)?;
        let wildcard = source.contains(['*', '?', '[']);
        let found: Vec<PathBuf> = if wildcard {
            let pattern =
                DockerIgnore::parse(&rel.to_string_lossy()).map_err(|e| BuildError::Invalid(e.to_string()))?;
            let mut out = Vec::new();
            self.walk(Path::new(""), &mut |p, is_dir| {
                let hit = pattern.is_excluded(&p.to_string_lossy(), is_dir) && p.components().count() == depth(&rel);
                if hit {
                    out.push(p.to_path_buf());
                }
                !hit
            });
            out
        } else {
            let host = self.root().join(&rel);
            let meta = host.symlink_metadata().map_err(|_| not_found())?;
            if rel.as_os_str().is_empty() || !self.excluded(&rel, meta.is_dir()) {
                vec![rel]
            } else {
                vec![]
            }
        };
        if found.is_empty() {
            return Err(not_found());
        }
        Ok(found)
    }

    /// Visits context paths below `rel` (not excluded ones); `visit`
    /// returns whether to descend into a directory.
    fn walk(&self, rel: &Path, visit: &mut dyn FnMut(&Path, bool) -> bool) {
        let Ok(entries) = std::fs::read_dir(self.root().join(rel)) else { return };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = rel.join(e.file_name());
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if self.excluded(&p, is_dir) && !(is_dir && self.ignore.must_walk(&p.to_string_lossy())) {
                continue;
            }
            if visit(&p, is_dir) && is_dir {
                self.walk(&p, visit);
            }
        }
    }
}

fn depth(p: &Path) -> usize {
    p.components().count()
}

/// A context-relative path with `.` and `..` resolved, never above the
/// root; `None` for an absolute escape attempt that cannot be cleaned.
fn clean(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

/// Owner and mode COPY gives files: `--chown` and `--chmod`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ownership {
    pub uid: u32,
    pub gid: u32,
    pub mode: Option<u32>,
}

impl Ownership {
    /// `files` reads a file of the stage's filesystem, for names in
    /// `--chown` (`user`, `user:group`; a lone user names the group too, as
    /// in Docker's classic builder).
    pub fn parse(
        chown: Option<&str>,
        chmod: Option<&str>,
        files: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, BuildError> {
        let mut o = Self::default();
        if let Some(spec) = chown {
            let (u, g) = spec.split_once(':').unwrap_or((spec, spec));
            let unmapped = |why: String| {
                BuildError::Invalid(format!("unable to convert uid/gid chown string to host mapping: {why}"))
            };
            o.uid = match u.parse() {
                Ok(n) => n,
                Err(_) => users::user(&files("/etc/passwd").unwrap_or_default(), u)
                    .map(|(uid, _, _)| uid)
                    .ok_or_else(|| unmapped(format!("can't find uid for user {u}: no such user: {u}")))?,
            };
            o.gid = match g.parse() {
                Ok(n) => n,
                Err(_) => users::group(&files("/etc/group").unwrap_or_default(), g)
                    .ok_or_else(|| unmapped(format!("can't find gid for group {g}: no such group: {g}")))?,
            };
        }
        if let Some(m) = chmod {
            o.mode = Some(
                u32::from_str_radix(m, 8).map_err(|_| BuildError::Invalid(format!("invalid chmod parameter: {m}")))?,
            );
        }
        Ok(o)
    }
}

/// A layer's worth of files for COPY/ADD, named by where they go in the
/// container, with a hash of names, metadata and contents (not times, so
/// a touched but unchanged file keeps the cache).
pub struct SourceTar {
    tar: tar::Builder<std::io::BufWriter<std::fs::File>>,
    hash: Sha256,
    pub path: PathBuf,
    files: usize,
    dirs: usize,
}

impl SourceTar {
    pub fn create(path: PathBuf) -> Result<Self, BuildError> {
        let file = std::fs::File::create(&path).map_err(io("create", &path))?;
        let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
        tar.follow_symlinks(false);
        Ok(Self { tar, hash: Sha256::new(), path, files: 0, dirs: 0 })
    }

    /// `file:`, `dir:` or `multi:` and the hash, as Docker's history shows.
    pub fn finish(mut self) -> Result<String, BuildError> {
        let path = self.path.clone();
        self.tar.finish().map_err(io("write", &path))?;
        self.tar.get_mut().flush().map_err(io("write", &path))?;
        let kind = match (self.files, self.dirs) {
            (1, 0) => "file",
            (_, 1) if self.files == 0 => "dir",
            _ => "multi",
        };
        let hex: String = self.hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("{kind}:{hex}"))
    }

    /// One entry; `data` is the file's content for regular files.
    fn entry(
        &mut self,
        name: &Path,
        mut header: tar::Header,
        own: Ownership,
        data: impl Read,
    ) -> Result<(), BuildError> {
        let name = name.strip_prefix("/").unwrap_or(name);
        header.set_uid(own.uid.into());
        header.set_gid(own.gid.into());
        header.set_username("").ok();
        header.set_groupname("").ok();
        if let Some(mode) = own.mode {
            header.set_mode(mode);
        }
        let kind = header.entry_type();
        for part in [name.as_os_str().as_encoded_bytes(), &[kind.as_byte()]] {
            self.hash.update((part.len() as u64).to_be_bytes());
            self.hash.update(part);
        }
        self.hash.update(header.mode().unwrap_or(0).to_be_bytes());
        self.hash.update(own.uid.to_be_bytes());
        self.hash.update(own.gid.to_be_bytes());
        let err = |e: std::io::Error| BuildError::Invalid(format!("failed to copy {}: {e}", name.display()));
        match kind {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = header.link_name().map_err(err)?.unwrap_or_default().into_owned();
                self.hash.update(target.as_os_str().as_encoded_bytes());
                self.tar.append_link(&mut header, name, &target).map_err(err)
            }
            tar::EntryType::Regular => {
                let mut hashing = HashingReader { inner: data, hash: &mut self.hash };
                self.tar.append_data(&mut header, name, &mut hashing).map_err(err)
            }
            _ => self.tar.append_data(&mut header, name, std::io::empty()).map_err(err),
        }
    }

    /// A host file or directory (recursively, skipping what the context
    /// excludes) placed at `dest`.
    pub fn add_host(
        &mut self,
        ctx: &Context,
        rel: &Path,
        dest: &Path,
        own: Ownership,
        top: bool,
    ) -> Result<(), BuildError> {
        let host = ctx.root().join(rel);
        let meta = host.symlink_metadata().map_err(io("read", &host))?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata(&meta);
        header.set_mtime(meta.mtime().max(0) as u64);
        if meta.is_dir() {
            // A source directory's own entry is not copied, only its contents.
            if !top {
                self.entry(dest, header, own, std::io::empty())?;
            } else {
                self.dirs += 1;
            }
            let mut names: Vec<_> = std::fs::read_dir(&host).map_err(io("read", &host))?.flatten().collect();
            names.sort_by_key(|e| e.file_name());
            for e in names {
                let child = rel.join(e.file_name());
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                if ctx.excluded(&child, is_dir) && !(is_dir && ctx.ignore.must_walk(&child.to_string_lossy())) {
                    continue;
                }
                self.add_host(ctx, &child, &dest.join(e.file_name()), own, false)?;
            }
            return Ok(());
        }
        if top {
            self.files += 1;
        }
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&host).map_err(io("read", &host))?;
            header.set_link_name(&target).map_err(io("read", &host))?;
            return self.entry(dest, header, own, std::io::empty());
        }
        let file = std::fs::File::open(&host).map_err(io("open", &host))?;
        self.entry(dest, header, own, file)
    }

    /// Entries of another tar, renamed by `rename` (`None` skips one):
    /// ADD's local archives and COPY --from's files.
    pub fn add_archive(
        &mut self,
        archive: impl Read,
        own: Option<Ownership>,
        rename: &dyn Fn(&Path) -> Option<PathBuf>,
    ) -> Result<(), BuildError> {
        let bad = |e: std::io::Error| BuildError::Invalid(format!("failed to read archive: {e}"));
        let mut tar = tar::Archive::new(crate::compression::decompress(archive).map_err(bad)?);
        for entry in tar.entries().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let name = entry.path().map_err(bad)?.into_owned();
            let Some(dest) = rename(&name) else { continue };
            let header = entry.header().clone();
            // An archive keeps its owners unless --chown says otherwise.
            let own = own.unwrap_or(Ownership {
                uid: header.uid().unwrap_or(0) as u32,
                gid: header.gid().unwrap_or(0) as u32,
                mode: None,
            });
            if header.entry_type().is_file() {
                self.files += 1;
            }
            self.entry(&dest, header, own, entry)?;
        }
        Ok(())
    }

    /// A file with the given content (a heredoc COPY source).
    pub fn add_bytes(&mut self, dest: &Path, content: &[u8], own: Ownership) -> Result<(), BuildError> {
        self.add_file(dest, content, content.len() as u64, (0o644, 0), own)
    }

    /// A file read from `data`, `size` bytes, with (`mode`, `mtime`).
    pub fn add_file(
        &mut self,
        dest: &Path,
        data: impl Read,
        size: u64,
        (mode, mtime): (u32, u64),
        own: Ownership,
    ) -> Result<(), BuildError> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(mode);
        header.set_mtime(mtime);
        self.files += 1;
        self.entry(dest, header, own, data)
    }
}

struct HashingReader<'a, R> {
    inner: R,
    hash: &'a mut Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Whether a file is an archive ADD unpacks (tar, possibly compressed).
pub fn is_archive(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else { return false };
    let Ok(mut reader) = crate::compression::decompress(file) else { return false };
    let mut block = [0u8; 512];
    reader.read_exact(&mut block).is_ok() && &block[257..262] == b"ustar"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(files: &[(&str, &str)]) -> (tempfile::TempDir, Context) {
        let tmp = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        for (name, body) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, body.as_bytes()).unwrap();
        }
        let bytes = b.into_inner().unwrap();
        let ctx = Context::unpack(&bytes[..], tmp.path()).unwrap();
        (tmp, ctx)
    }

    #[test]
    fn selection_honours_dockerignore_and_patterns() {
        let (_t, ctx) = context(&[
            (".dockerignore", "*.log\n!keep.log\nsecret\n"),
            ("Dockerfile", "FROM scratch\n"),
            ("a.txt", "a"),
            ("b.txt", "b"),
            ("x.log", "x"),
            ("keep.log", "k"),
            ("secret/key", "k"),
            ("src/main.rs", "fn main() {}"),
        ]);
        assert_eq!(ctx.dockerfile("").unwrap(), "FROM scratch\n");
        assert!(ctx.dockerfile("../etc/passwd").is_err());
        assert_eq!(ctx.select("*.txt").unwrap(), [PathBuf::from("a.txt"), PathBuf::from("b.txt")]);
        assert_eq!(ctx.select("*.log").unwrap(), [PathBuf::from("keep.log")]);
        assert!(ctx.select("x.log").is_err());
        assert!(ctx.select("secret/key").is_err());
        assert_eq!(ctx.select("./src/../src").unwrap(), [PathBuf::from("src")]);
    }

    #[test]
    fn hashes_ignore_times_but_see_contents() {
        let hash_of = |body: &str, mtime: u64| {
            let (t, ctx) = context(&[("f", body)]);
            let f = ctx.root().join("f");
            let times =
                std::fs::FileTimes::new().set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime));
            std::fs::File::options().write(true).open(&f).unwrap().set_times(times).unwrap();
            let mut s = SourceTar::create(t.path().join("out.tar")).unwrap();
            s.add_host(&ctx, Path::new("f"), Path::new("/app/f"), Ownership::default(), true).unwrap();
            s.finish().unwrap()
        };
        assert_eq!(hash_of("one", 1), hash_of("one", 2));
        assert_ne!(hash_of("one", 1), hash_of("two", 1));
        assert!(hash_of("one", 1).starts_with("file:"));
    }
}
