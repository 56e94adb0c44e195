//! A container's json-file log, rotated by size as dockerd rotates it: once
//! the live file has reached its size, it becomes `.1`, older files move
//! up one and the one past the limit goes; with a single file it starts
//! over. The engine reads the files back in [`files`] order.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub struct LogFile {
    path: PathBuf,
    file: File,
    size: u64,
    /// `None`: grow without bound.
    max_size: Option<u64>,
    max_files: u32,
}

impl LogFile {
    pub fn open(path: &Path, max_size: Option<u64>, max_files: u32) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Self { path: path.to_path_buf(), file, size, max_size, max_files: max_files.max(1) })
    }

    /// Appends one whole entry, rotating first when the file is full, so an
    /// entry is never split across files.
    pub fn write(&mut self, entry: &[u8]) -> io::Result<()> {
        if self.max_size.is_some_and(|max| self.size >= max) {
            self.rotate()?;
        }
        self.file.write_all(entry)?;
        self.size += entry.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        if self.max_files == 1 {
            self.file.set_len(0)?;
        } else {
            for n in (1..self.max_files - 1).rev() {
                match std::fs::rename(rotated(&self.path, n), rotated(&self.path, n + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            std::fs::rename(&self.path, rotated(&self.path, 1))?;
            self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        }
        self.size = 0;
        Ok(())
    }
}

/// The `n`th rotated file of `log`: `log.n`.
pub fn rotated(log: &Path, n: u32) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The files of a log kept in `max_files` files, oldest first.
pub fn files(log: &Path, max_files: u32) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = (1..max_files).rev().map(|n| rotated(log, n)).filter(|p| p.exists()).collect();
    out.push(log.to_path_buf());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_max_files() {
        let dir = std::env::temp_dir().join(format!("berth-logfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("c-json.log");
        let mut f = LogFile::open(&log, Some(4), 3).unwrap();
        for entry in ["aa\n", "bb\n", "cc\n", "dd\n", "ee\n", "ff\n"] {
            f.write(entry.as_bytes()).unwrap();
        }
        // 4 bytes fill a file after two entries.
        assert_eq!(files(&log, 3), vec![rotated(&log, 2), rotated(&log, 1), log.clone()]);
        assert_eq!(std::fs::read_to_string(rotated(&log, 2)).unwrap(), "aa\nbb\n");
        assert_eq!(std::fs::read_to_string(rotated(&log, 1)).unwrap(), "cc\ndd\n");
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "ee\nff\n");
        // The next rotation drops the oldest pair.
        f.write(b"gg\n").unwrap();
        assert_eq!(std::fs::read_to_string(rotated(&log, 2)).unwrap(), "cc\ndd\n");
        assert!(!rotated(&log, 3).exists());

        // One file: it starts over.
        let single = dir.join("one.log");
        let mut f = LogFile::open(&single, Some(4), 1).unwrap();
        for entry in ["aa\n", "bb\n", "cc\n"] {
            f.write(entry.as_bytes()).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&single).unwrap(), "cc\n");
        assert_eq!(files(&single, 1), vec![single.clone()]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
