//! Named volumes with the `local` driver: a directory under the data root
//! (or, with `type`/`device`/`o` options, a filesystem mounted there on
//! first use), kept across containers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::events::{Event, EventBus, ObjectType};
use crate::filters::Filters;
use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("get {0}: no such volume")]
    NotFound(String),
    #[error("remove {name}: volume is in use - [{users}]")]
    InUse { name: String, users: String },
    #[error("{0}")]
    InvalidParameter(String),
    #[error("failed to {action} {path}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl Classify for VolumeError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::InUse { .. } => ErrorKind::Conflict,
            Self::InvalidParameter(_) => ErrorKind::InvalidParameter,
            Self::Io { .. } => ErrorKind::Internal,
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> VolumeError {
    let path = path.to_path_buf();
    move |source| VolumeError::Io { action, path, source }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub name: String,
    pub driver: String,
    pub created_at: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// Created for a container's unnamed volume; pruned by default.
    pub anonymous: bool,
    #[serde(skip)]
    pub mountpoint: PathBuf,
}

/// Lists the containers using a volume; set by the container service.
pub type UsersFn = Box<dyn Fn(&str) -> Vec<String> + Send + Sync>;

#[derive(Clone)]
pub struct VolumeService {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    volumes: Mutex<BTreeMap<String, Volume>>,
    events: Arc<EventBus>,
    users: std::sync::OnceLock<UsersFn>,
}

pub const LIST_FILTER_KEYS: &[&str] = &["dangling", "driver", "label", "name"];

impl VolumeService {
    pub fn open(data_root: &Path, events: Arc<EventBus>) -> Result<Self, VolumeError> {
        let root = data_root.join("volumes");
        std::fs::create_dir_all(&root).map_err(io_err("create", &root))?;
        let mut volumes = BTreeMap::new();
        for e in std::fs::read_dir(&root).map_err(io_err("list", &root))?.flatten() {
            let meta = e.path().join("volume.json");
            if let Ok(Ok(mut v)) = std::fs::read(&meta).map(|b| serde_json::from_slice::<Volume>(&b)) {
                v.mountpoint = e.path().join("_data");
                volumes.insert(v.name.clone(), v);
            }
        }
        Ok(Self { inner: Arc::new(Inner { root, volumes: Mutex::new(volumes), events, users: Default::default() }) })
    }

    pub fn set_users(&self, f: UsersFn) {
        let _ = self.inner.users.set(f);
    }

    fn users(&self, name: &str) -> Vec<String> {
        self.inner.users.get().map(|f| f(name)).unwrap_or_default()
    }

    fn volumes(&self) -> MutexGuard<'_, BTreeMap<String, Volume>> {
        self.inner.volumes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a volume, or returns the existing one of that name.
    pub fn create(
        &self,
        name: Option<&str>,
        driver: &str,
        options: BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
    ) -> Result<Volume, VolumeError> {
        let driver = if driver.is_empty() { "local" } else { driver };
        if driver != "local" {
            return Err(VolumeError::NotFound(format!("plugin \"{driver}\" not found")));
        }
        for k in options.keys() {
            if !matches!(k.as_str(), "type" | "device" | "o" | "size") {
                return Err(VolumeError::InvalidParameter(format!("invalid option key: {k:?}")));
            }
        }
        let anonymous = name.is_none_or(str::is_empty);
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => {
                if !crate::containers::names::valid(n) {
                    return Err(VolumeError::InvalidParameter(format!(
                        "\"{n}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
                    )));
                }
                n.to_string()
            }
            None => crate::containers::names::new_id(),
        };
        if let Some(v) = self.volumes().get(&name) {
            return Ok(v.clone());
        }
        let dir = self.inner.root.join(&name);
        let data = dir.join("_data");
        std::fs::create_dir_all(&data).map_err(io_err("create", &data))?;
        let v = Volume {
            name: name.clone(),
            driver: driver.into(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            labels,
            options,
            anonymous,
            mountpoint: data,
        };
        let meta = dir.join("volume.json");
        let bytes = serde_json::to_vec(&v).map_err(|e| io_err("encode", &meta)(std::io::Error::other(e)))?;
        std::fs::write(&meta, bytes).map_err(io_err("write", &meta))?;
        self.volumes().insert(name.clone(), v.clone());
        self.emit(&v, "create");
        Ok(v)
    }

    pub fn get(&self, name: &str) -> Result<Volume, VolumeError> {
        self.volumes().get(name).cloned().ok_or_else(|| VolumeError::NotFound(name.into()))
    }

    pub fn list(&self, filters: &Filters) -> Result<Vec<Volume>, VolumeError> {
        filters.validate(LIST_FILTER_KEYS).map_err(|e| VolumeError::InvalidParameter(e.to_string()))?;
        let dangling = filters.values("dangling").next().map(|v| v == "true" || v == "1");
        let vols: Vec<Volume> = self.volumes().values().cloned().collect();
        Ok(vols
            .into_iter()
            .filter(|v| {
                filters.values("name").all(|n| v.name.contains(n))
                    && filters.exact("driver", &v.driver)
                    && filters.labels("label", &v.labels)
                    && dangling.is_none_or(|d| d == self.users(&v.name).is_empty())
            })
            .collect())
    }

    /// Makes the volume's files available at its mountpoint: mounts the
    /// configured filesystem the first time a volume with options is used.
    pub fn prepare(&self, name: &str) -> Result<PathBuf, VolumeError> {
        let v = self.get(name)?;
        if let Some(kind) = v.options.get("type") {
            let target = v.mountpoint.display().to_string();
            let mounted = std::fs::read_to_string("/proc/self/mountinfo")
                .map(|m| m.lines().any(|l| l.split(' ').nth(4) == Some(target.as_str())))
                .unwrap_or(false);
            if !mounted {
                let device = v.options.get("device").map(String::as_str).unwrap_or(kind.as_str());
                let (flags, data) = mount_options(v.options.get("o").map(String::as_str).unwrap_or(""));
                nix::mount::mount(Some(device), &v.mountpoint, Some(kind.as_str()), flags, Some(data.as_str()))
                    .map_err(|e| {
                        VolumeError::InvalidParameter(format!("error while mounting volume '{}': {e}", v.name))
                    })?;
            }
        }
        self.emit(&v, "mount");
        Ok(v.mountpoint)
    }

    pub fn remove(&self, name: &str, force: bool) -> Result<(), VolumeError> {
        let v = match self.get(name) {
            Ok(v) => v,
            Err(_) if force => return Ok(()),
            Err(e) => return Err(e),
        };
        let users = self.users(name);
        if !users.is_empty() {
            return Err(VolumeError::InUse { name: name.into(), users: users.join(", ") });
        }
        if v.options.contains_key("type") {
            let _ = nix::mount::umount2(&v.mountpoint, nix::mount::MntFlags::MNT_DETACH);
        }
        let dir = self.inner.root.join(name);
        std::fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        self.volumes().remove(name);
        self.emit(&v, "destroy");
        Ok(())
    }

    /// Removes unused volumes: anonymous ones, or all with `all=true`.
    pub fn prune(&self, filters: &Filters) -> Result<(Vec<String>, u64), VolumeError> {
        filters.validate(&["all", "label", "label!"]).map_err(|e| VolumeError::InvalidParameter(e.to_string()))?;
        let all = filters.values("all").any(|v| v == "true" || v == "1");
        let mut removed = Vec::new();
        let mut space = 0;
        let vols: Vec<Volume> = self.volumes().values().cloned().collect();
        for v in vols {
            let excluded = filters.values("label!").any(|l| match l.split_once('=') {
                Some((k, val)) => v.labels.get(k).is_some_and(|x| x == val),
                None => v.labels.contains_key(l),
            });
            if (!all && !v.anonymous)
                || excluded
                || !filters.labels("label", &v.labels)
                || !self.users(&v.name).is_empty()
            {
                continue;
            }
            space += dir_size(&v.mountpoint);
            self.remove(&v.name, false)?;
            removed.push(v.name);
        }
        Ok((removed, space))
    }

    /// Bytes of files in a volume.
    pub fn size(&self, v: &Volume) -> u64 {
        dir_size(&v.mountpoint)
    }

    pub fn ref_count(&self, name: &str) -> usize {
        self.users(name).len()
    }

    fn emit(&self, v: &Volume, action: &str) {
        let attrs = BTreeMap::from([("driver".to_string(), v.driver.clone())]);
        self.inner.events.publish(Event::now(ObjectType::Volume, action, v.name.clone(), attrs));
    }
}

pub fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path).into_iter().flatten().flatten().map(|e| dir_size(&e.path())).sum()
}

/// `o=` as mount(8) reads it: flag words (`bind`, `ro`, `nosuid`…) become
/// mount flags, the rest is the filesystem's data (`size=1m,uid=1000`).
fn mount_options(o: &str) -> (nix::mount::MsFlags, String) {
    use nix::mount::MsFlags;
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for opt in o.split(',').filter(|s| !s.is_empty()) {
        flags |= match opt {
            "bind" => MsFlags::MS_BIND,
            "rbind" => MsFlags::MS_BIND | MsFlags::MS_REC,
            "ro" => MsFlags::MS_RDONLY,
            "nosuid" => MsFlags::MS_NOSUID,
            "nodev" => MsFlags::MS_NODEV,
            "noexec" => MsFlags::MS_NOEXEC,
            "sync" => MsFlags::MS_SYNCHRONOUS,
            "noatime" => MsFlags::MS_NOATIME,
            "nodiratime" => MsFlags::MS_NODIRATIME,
            "relatime" => MsFlags::MS_RELATIME,
            "strictatime" => MsFlags::MS_STRICTATIME,
            "rw" | "suid" | "dev" | "exec" | "async" | "defaults" => MsFlags::empty(),
            _ => {
                data.push(opt);
                MsFlags::empty()
            }
        };
    }
    (flags, data.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::mount::MsFlags;

    #[test]
    fn mount_option_words_and_data() {
        assert_eq!(mount_options("bind"), (MsFlags::MS_BIND, String::new()));
        assert_eq!(mount_options("size=1m,ro,uid=1000"), (MsFlags::MS_RDONLY, "size=1m,uid=1000".into()));
        assert_eq!(mount_options("rbind,rw"), (MsFlags::MS_BIND | MsFlags::MS_REC, String::new()));
    }
}
