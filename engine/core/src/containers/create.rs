//! Creating a container: resolve the image, merge its defaults into the
//! request, pick a name, and write the record and directories.

use super::health::HealthConfig;
use super::logging::LogConfig;
use super::mounts::{self, MountKind, MountRequest, MountSpec};
use super::names;
use super::record::{self, Container, ContainerSpec, NetworkAttachment, State};
use super::rootfs::RwLayer;
use super::{io_err, ContainerError, ContainerService, Entry, Hub};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A create request: the name (if any), the spec, and the wire Config and
/// HostConfig kept for inspect.
pub struct CreateRequest {
    pub name: Option<String>,
    pub spec: ContainerSpec,
    pub config_json: serde_json::Value,
    pub host_config_json: serde_json::Value,
    /// `-v` entries (HostConfig.Binds).
    pub binds: Vec<String>,
    /// `--mount` entries (HostConfig.Mounts).
    pub mounts: Vec<MountRequest>,
    /// `--tmpfs` entries: target → options.
    pub tmpfs: std::collections::BTreeMap<String, String>,
    /// Paths that get an anonymous volume (Config.Volumes).
    pub volumes: Vec<String>,
    /// `--volumes-from CONTAINER[:ro|rw]` (HostConfig.VolumesFrom).
    pub volumes_from: Vec<String>,
    /// Config.Healthcheck, when the request sets one.
    pub healthcheck: Option<HealthConfig>,
}

impl ContainerService {
    /// Checks `--network` and the endpoint settings, keyed by whatever the
    /// client named the networks by, and returns the networks to join keyed
    /// by name. `network_mode` itself is normalised to a network's name.
    /// The mounts `--volumes-from` copies: the source's volumes and binds (not its tmpfs), shared
    /// rather than owned, read-only when `:ro` says so.
    fn volumes_from(&self, sources: &[String]) -> Result<Vec<MountSpec>, ContainerError> {
        let mut out = Vec::new();
        for entry in sources {
            let (name, mode) = match entry.rsplit_once(':') {
                Some((n, m @ ("ro" | "rw"))) => (n, Some(m == "ro")),
                Some((_, m)) => return Err(ContainerError::InvalidParameter(format!("invalid mode: {m}"))),
                None => (entry.as_str(), None),
            };
            let source = self.get(name)?;
            for m in source.mounts.iter().filter(|m| m.kind != MountKind::Tmpfs) {
                let mut m = m.clone();
                m.anonymous = false;
                if let Some(ro) = mode {
                    m.read_only = ro;
                }
                out.push(m);
            }
        }
        Ok(out)
    }

    fn resolve_networks(
        &self,
        mode: &mut String,
        requested: BTreeMap<String, NetworkAttachment>,
    ) -> Result<BTreeMap<String, NetworkAttachment>, ContainerError> {
        let find = |name: &str| {
            self.inner.network.get(name).map_err(|_| ContainerError::NetworkNotFound(name.into())).map(|n| n.name)
        };
        let primary = match mode.as_str() {
            "none" | "host" => {
                // Endpoint settings for the mode itself are what clients send.
                if requested.keys().any(|k| k != mode.as_str()) {
                    return Err(ContainerError::InvalidParameter(format!(
                        "container cannot be connected to multiple networks with one of the networks in {mode} mode"
                    )));
                }
                return Ok(BTreeMap::new());
            }
            m if m.starts_with("container:") => {
                self.get(&m["container:".len()..])?;
                return Ok(BTreeMap::new());
            }
            "" | "default" | "bridge" => "bridge".to_string(),
            other => find(other)?,
        };
        if !matches!(mode.as_str(), "" | "default") {
            mode.clone_from(&primary);
        }
        let mut networks = BTreeMap::new();
        for (key, att) in requested {
            let name = if matches!(key.as_str(), "default") { "bridge".to_string() } else { find(&key)? };
            if name == "bridge" && !att.aliases.is_empty() {
                return Err(ContainerError::InvalidParameter(
                    "network-scoped alias is supported only for containers in user defined networks".into(),
                ));
            }
            networks.insert(name, att);
        }
        networks.entry(primary).or_default();
        Ok(networks)
    }

    pub fn create(&self, req: CreateRequest) -> Result<Container, ContainerError> {
        let mut spec = req.spec;
        if spec.image.is_empty() {
            return Err(ContainerError::InvalidParameter(
                "config cannot be empty in order to create a container".into(),
            ));
        }
        if spec.host.auto_remove && !matches!(spec.host.restart_policy.as_str(), "" | "no") {
            return Err(ContainerError::InvalidParameter(
                "conflicting options: cannot specify both --restart and --rm".into(),
            ));
        }
        check_restart_policy(&spec.host.restart_policy)?;
        // An endpoint's links are names resolved later, as dockerd allows.
        self.check_links(spec.host.links.iter())?;
        let cfg = self.inner.config.get();
        let default = LogConfig { driver: cfg.log_driver.clone(), options: cfg.log_opts.clone() };
        let asked = std::mem::take(&mut spec.host.log);
        spec.host.log =
            LogConfig::resolve(&asked.driver, asked.options, &default).map_err(ContainerError::InvalidParameter)?;
        if spec.host.runtime.is_empty() {
            spec.host.runtime = cfg.default_runtime.clone();
        }
        if !cfg.runtimes.contains_key(&spec.host.runtime) {
            return Err(ContainerError::InvalidParameter(format!("Unknown runtime specified {}", spec.host.runtime)));
        }
        spec.networks = self.resolve_networks(&mut spec.host.network_mode, std::mem::take(&mut spec.networks))?;
        super::caps::resolve(&spec.host.cap_add, &spec.host.cap_drop, spec.host.privileged)?;
        super::tuning::validate(&spec.host.tuning, spec.host.memory, &spec.host.network_mode)?;
        for h in &spec.host.extra_hosts {
            let ip = h.split_once(':').or_else(|| h.split_once('=')).map(|(_, ip)| ip);
            if !ip.is_some_and(|ip| ip == "host-gateway" || ip.parse::<std::net::IpAddr>().is_ok()) {
                return Err(ContainerError::InvalidParameter(format!("invalid IP address in add-host: {h:?}")));
            }
        }
        let image = self.inner.images.inspect(&spec.image)?;
        let ic = &image.config.config;

        // Docker's rules: a user entrypoint drops the image's Cmd.
        let (entrypoint, cmd) = match (&spec.entrypoint, &spec.cmd) {
            (Some(e), c) => (e.clone(), c.clone().unwrap_or_default()),
            (None, Some(c)) => (ic.entrypoint.clone().unwrap_or_default(), c.clone()),
            (None, None) => (ic.entrypoint.clone().unwrap_or_default(), ic.cmd.clone().unwrap_or_default()),
        };
        let mut argv: Vec<String> = entrypoint.iter().chain(cmd.iter()).cloned().collect();
        if argv.is_empty() {
            return Err(ContainerError::InvalidParameter("No command specified".into()));
        }
        let path = argv.remove(0);
        let mut env = ic.env.clone().unwrap_or_default();
        for e in &spec.env {
            let key = e.split('=').next().unwrap_or(e);
            env.retain(|x| x.split('=').next() != Some(key));
            env.push(e.clone());
        }
        spec.env = env;
        spec.entrypoint = (!entrypoint.is_empty()).then_some(entrypoint);
        spec.cmd = (!cmd.is_empty()).then_some(cmd);
        if spec.working_dir.is_empty() {
            spec.working_dir = ic.working_dir.clone();
        }
        if spec.user.is_empty() {
            spec.user = ic.user.clone();
        }
        if spec.stop_signal.is_none() && !ic.stop_signal.is_empty() {
            spec.stop_signal = Some(ic.stop_signal.clone());
        }
        let mut exposed: Vec<String> = ic.exposed_ports.clone().unwrap_or_default().into_keys().collect();
        exposed.extend(std::mem::take(&mut spec.exposed_ports));
        exposed.sort();
        exposed.dedup();
        spec.exposed_ports = exposed;
        let mut labels = image.config.labels();
        labels.extend(std::mem::take(&mut spec.labels));
        spec.labels = labels;

        let mut mount_specs: Vec<MountSpec> = Vec::new();
        for b in &req.binds {
            mount_specs.push(mounts::parse_bind(b)?);
        }
        for m in &req.mounts {
            mount_specs.push(mounts::from_request(m)?);
        }
        for (target, opts) in &req.tmpfs {
            mount_specs.push(mounts::tmpfs(target, opts)?);
        }
        // Another container's volumes and binds, where the request mounts nothing itself.
        for m in self.volumes_from(&req.volumes_from)? {
            if !mount_specs.iter().any(|o| o.target == m.target) {
                mount_specs.push(m);
            }
        }
        // Unnamed volumes: the request's and the image's, unless mounted over.
        let image_volumes = ic.volumes.clone().unwrap_or_default().into_keys();
        for target in req.volumes.iter().cloned().chain(image_volumes) {
            if !mount_specs.iter().any(|m| m.target == target) {
                mount_specs.push(MountSpec::anonymous_volume(&target)?);
            }
        }
        mounts::provision(&mut mount_specs, &self.inner.volumes)?;
        let image_check = ic.healthcheck.clone().and_then(|v| serde_json::from_value::<HealthConfig>(v).ok());
        let health_config = req.healthcheck.or(image_check).filter(|h| h.test.first().is_some_and(|t| t != "NONE"));

        let id = names::new_id();
        if spec.hostname.is_empty() {
            spec.hostname = id[..12].to_string();
        }
        let name = self.pick_name(req.name.as_deref())?;

        let mut host_config_json = req.host_config_json;
        // Inspect shows the logging in force, defaults filled in, as dockerd does.
        host_config_json["LogConfig"] =
            serde_json::json!({"Type": spec.host.log.driver, "Config": spec.host.log.options});
        host_config_json["Runtime"] = spec.host.runtime.clone().into();
        let mut config_json = req.config_json;
        if let Some(obj) = config_json.as_object_mut() {
            obj.insert("Image".into(), spec.image.clone().into());
            obj.insert("Hostname".into(), spec.hostname.clone().into());
            obj.insert("Env".into(), serde_json::json!(spec.env));
            obj.insert("Cmd".into(), serde_json::json!(spec.cmd));
            obj.insert("Entrypoint".into(), serde_json::json!(spec.entrypoint));
            obj.insert("WorkingDir".into(), spec.working_dir.clone().into());
            obj.insert("User".into(), spec.user.clone().into());
            obj.insert("Labels".into(), serde_json::json!(spec.labels));
        }
        let c = Container {
            id: id.clone(),
            name,
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            image_id: image.record.id.clone(),
            spec,
            path,
            args: argv,
            config_json,
            host_config_json,
            state: State::default(),
            restart_count: 0,
            manually_stopped: false,
            mounts: mount_specs,
            health_config,
            endpoints: Vec::new(),
        };
        let dirs = self.dirs(&id);
        RwLayer::at(&dirs.data).create().map_err(io_err("create", &dirs.data))?;
        let path = dirs.data.join("config.v2.json");
        record::save(&path, &c).map_err(io_err("write", &path))?;
        {
            let mut entries = self.entries();
            // The name was free when picked; check again under the lock.
            if let Some(other) = entries.values().find(|e| e.record.name == c.name) {
                let _ = std::fs::remove_dir_all(&dirs.data);
                return Err(name_conflict(&c.name, &other.record.id));
            }
            entries.insert(id.clone(), Entry { record: c.clone(), hub: Arc::new(Hub::new()) });
        }
        self.emit(&c, "create", &[]);
        Ok(c)
    }

    fn pick_name(&self, requested: Option<&str>) -> Result<String, ContainerError> {
        let taken = |n: &str| self.entries().values().find(|e| e.record.name == n).map(|e| e.record.id.clone());
        match requested.map(|n| n.strip_prefix('/').unwrap_or(n)).filter(|n| !n.is_empty()) {
            Some(n) => {
                if !names::valid(n) {
                    return Err(ContainerError::InvalidParameter(format!(
                        "Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                    )));
                }
                match taken(n) {
                    Some(id) => Err(name_conflict(n, &id)),
                    None => Ok(n.to_string()),
                }
            }
            None => (0..)
                .map(names::random)
                .find(|n| taken(n).is_none())
                .ok_or_else(|| ContainerError::Internal("no free container name".into())),
        }
    }
}

fn name_conflict(name: &str, id: &str) -> ContainerError {
    ContainerError::Conflict(format!(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    ))
}

/// The restart policies Docker knows (create and update share the rule).
pub(super) fn check_restart_policy(name: &str) -> Result<(), ContainerError> {
    if matches!(name, "" | "no" | "always" | "unless-stopped" | "on-failure") {
        Ok(())
    } else {
        Err(ContainerError::InvalidParameter(format!("invalid restart policy '{name}'")))
    }
}
