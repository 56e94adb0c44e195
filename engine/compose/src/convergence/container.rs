//! A service's definition turned into the Engine API's container create body.

use std::collections::BTreeMap;

use bollard::models::ContainerCreateBody;
use serde_json::{json, Map, Value};

use super::{hash, labels};
use crate::error::{ComposeError, Result};
use crate::project::model::{FileRef, Mount, Service};
use crate::project::units;
use crate::project::FileObject;
use crate::project::Project;

/// What one container of a service is: its number, name and kind.
pub struct Instance<'a> {
    pub service: &'a Service,
    pub number: u64,
    pub oneoff: bool,
    /// ID of the image the container is created from, recorded so a new image means recreation.
    pub image_id: String,
}

/// Containers of other services this one refers to (`network_mode: service:x`, `volumes_from`).
pub type Peers = BTreeMap<String, String>;

/// The image a service runs: its `image`, or the name Compose gives a built image.
pub fn image_name(project: &Project, service: &Service) -> String {
    service.image.clone().unwrap_or_else(|| format!("{}-{}", project.name, service.name))
}

/// `project-service-N`, or the service's `container_name`.
pub fn container_name(project: &Project, service: &Service, number: u64) -> String {
    service.container_name.clone().unwrap_or_else(|| format!("{}-{}-{number}", project.name, service.name))
}

/// The hash of a service as it stands in the project.
pub fn config_hash(project: &Project, service: &str) -> String {
    hash::service_hash(&project.doc["services"][service])
}

/// Networks a service joins, in the order Compose attaches them (by name: the first carries the route).
pub fn service_networks(service: &Service) -> Vec<String> {
    service.networks.keys().cloned().collect()
}

pub fn create_body(project: &Project, inst: &Instance, peers: &Peers) -> Result<ContainerCreateBody> {
    let s = inst.service;
    let invalid = |m: String| ComposeError::Failed(format!("service {:?}: {m}", s.name));
    let mut config = Map::new();
    config.insert("Image".into(), json!(image_name(project, s)));
    if let Some(cmd) = &s.command {
        config.insert("Cmd".into(), json!(cmd));
    }
    if let Some(ep) = &s.entrypoint {
        config.insert("Entrypoint".into(), json!(ep));
    }
    let env: Vec<String> = s.environment.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}"))).collect();
    config.insert("Env".into(), json!(env));
    config.insert("Labels".into(), json!(container_labels(project, inst)));
    for (key, value) in [
        ("Hostname", &s.hostname),
        ("Domainname", &s.domainname),
        ("User", &s.user),
        ("WorkingDir", &s.working_dir),
        ("StopSignal", &s.stop_signal),
        ("MacAddress", &s.mac_address),
    ] {
        if let Some(v) = value {
            config.insert(key.into(), json!(v));
        }
    }
    config.insert("Tty".into(), json!(s.tty));
    config.insert("OpenStdin".into(), json!(s.stdin_open));
    config.insert("AttachStdin".into(), json!(false));
    if let Some(grace) = &s.stop_grace_period {
        config.insert("StopTimeout".into(), json!(units::nanos(grace).map_err(invalid)? / 1_000_000_000));
    }
    if let Some(hc) = healthcheck(s).map_err(invalid)? {
        config.insert("Healthcheck".into(), hc);
    }
    let mut exposed = Map::new();
    for p in &s.ports {
        exposed.insert(format!("{}/{}", p.target, p.protocol.as_deref().unwrap_or("tcp")), json!({}));
    }
    for e in &s.expose {
        let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
        exposed.insert(format!("{port}/{proto}"), json!({}));
    }
    config.insert("ExposedPorts".into(), Value::Object(exposed));

    let host = host_config(project, s, peers).map_err(invalid)?;
    config.insert("HostConfig".into(), host);
    if s.network_mode.is_none() {
        let mut endpoints = Map::new();
        for key in service_networks(s) {
            let net = &project.networks[&key];
            let opts = s.networks.get(&key).cloned().flatten().unwrap_or_default();
            let mut aliases = vec![s.name.clone()];
            aliases.extend(opts.aliases.iter().cloned());
            let mut ep = json!({"Aliases": aliases});
            if opts.ipv4_address.is_some() || opts.ipv6_address.is_some() {
                ep["IPAMConfig"] = json!({"IPv4Address": opts.ipv4_address, "IPv6Address": opts.ipv6_address});
            }
            endpoints.insert(net.name.clone(), ep);
        }
        config.insert("NetworkingConfig".into(), json!({"EndpointsConfig": endpoints}));
    }
    serde_json::from_value(Value::Object(config)).map_err(|e| invalid(e.to_string()))
}

fn container_labels(project: &Project, inst: &Instance) -> BTreeMap<String, String> {
    let s = inst.service;
    let mut l: BTreeMap<String, String> = s.labels.clone();
    let files: Vec<String> = project.config_files.iter().map(|f| f.to_string_lossy().into_owned()).collect();
    let depends: Vec<String> =
        s.depends_on.iter().map(|(name, d)| format!("{name}:{}:{}", d.condition, d.restart)).collect();
    for (k, v) in [
        (labels::PROJECT, project.name.clone()),
        (labels::SERVICE, s.name.clone()),
        (labels::NUMBER, inst.number.to_string()),
        (labels::ONEOFF, if inst.oneoff { "True" } else { "False" }.to_string()),
        (labels::WORKING_DIR, project.working_dir.to_string_lossy().into_owned()),
        (labels::CONFIG_FILES, files.join(",")),
        (labels::CONFIG_HASH, config_hash(project, &s.name)),
        (labels::VERSION, crate::VERSION.to_string()),
        (labels::IMAGE, inst.image_id.clone()),
        (labels::DEPENDS_ON, depends.join(",")),
    ] {
        l.insert(k.to_string(), v);
    }
    l
}

fn healthcheck(s: &Service) -> Result<Option<Value>, String> {
    let Some(hc) = &s.healthcheck else { return Ok(None) };
    if hc.disable {
        return Ok(Some(json!({"Test": ["NONE"]})));
    }
    let mut out = Map::new();
    if let Some(test) = &hc.test {
        out.insert("Test".into(), json!(test));
    }
    for (key, value) in [
        ("Interval", &hc.interval),
        ("Timeout", &hc.timeout),
        ("StartPeriod", &hc.start_period),
        ("StartInterval", &hc.start_interval),
    ] {
        if let Some(v) = value {
            out.insert(key.into(), json!(units::nanos(v)?));
        }
    }
    if let Some(r) = hc.retries {
        out.insert("Retries".into(), json!(r));
    }
    Ok(Some(Value::Object(out)))
}

fn host_config(project: &Project, s: &Service, peers: &Peers) -> Result<Value, String> {
    let mut h = Map::new();
    let (binds, mounts) = mounts(project, s)?;
    h.insert("Binds".into(), json!(binds));
    h.insert("Mounts".into(), json!(mounts));
    let tmpfs: Map<String, Value> = s
        .tmpfs
        .iter()
        .map(|t| {
            let (path, opts) = t.split_once(':').unwrap_or((t, ""));
            (path.to_string(), json!(opts))
        })
        .collect();
    if !tmpfs.is_empty() {
        h.insert("Tmpfs".into(), Value::Object(tmpfs));
    }
    let mut bindings: Map<String, Value> = Map::new();
    for p in &s.ports {
        let key = format!("{}/{}", p.target, p.protocol.as_deref().unwrap_or("tcp"));
        let binding = json!({"HostIp": p.host_ip.clone().unwrap_or_default(), "HostPort": p.published.clone().unwrap_or_default()});
        bindings.entry(key).or_insert(json!([])).as_array_mut().expect("array").push(binding);
    }
    h.insert("PortBindings".into(), Value::Object(bindings));
    h.insert("RestartPolicy".into(), restart_policy(s)?);
    h.insert("NetworkMode".into(), json!(network_mode(project, s, peers)?));

    let limits = s.deploy.as_ref().and_then(|d| d.resources.limits.clone()).unwrap_or_default();
    let reservations = s.deploy.as_ref().and_then(|d| d.resources.reservations.clone()).unwrap_or_default();
    if let Some(m) = s.mem_limit.as_ref().or(limits.memory.as_ref()) {
        h.insert("Memory".into(), json!(units::bytes(m)?));
    }
    if let Some(m) = s.mem_reservation.as_ref().or(reservations.memory.as_ref()) {
        h.insert("MemoryReservation".into(), json!(units::bytes(m)?));
    }
    if let Some(c) = s.cpus.as_ref().or(limits.cpus.as_ref()) {
        let cpus: f64 = c.parse().map_err(|_| format!("invalid cpus {c:?}"))?;
        h.insert("NanoCpus".into(), json!((cpus * 1e9) as i64));
    }
    if let Some(p) = s.pids_limit.or(limits.pids) {
        h.insert("PidsLimit".into(), json!(p));
    }
    if let Some(size) = &s.shm_size {
        h.insert("ShmSize".into(), json!(units::bytes(size)?));
    }
    for (key, value) in [
        ("CpuShares", s.cpu_shares.map(|v| json!(v))),
        ("CpusetCpus", s.cpuset.as_ref().map(|v| json!(v))),
        ("OomScoreAdj", s.oom_score_adj.map(|v| json!(v))),
        ("PidMode", s.pid.as_deref().map(|v| shared_with(v, peers, "processes")).transpose()?.map(|v| json!(v))),
        ("IpcMode", s.ipc.as_deref().map(|v| shared_with(v, peers, "IPC")).transpose()?.map(|v| json!(v))),
        ("UTSMode", s.uts.as_ref().map(|v| json!(v))),
        ("CgroupnsMode", s.cgroup.as_ref().map(|v| json!(v))),
        ("UsernsMode", s.userns_mode.as_ref().map(|v| json!(v))),
        ("CgroupParent", s.cgroup_parent.as_ref().map(|v| json!(v))),
        ("Runtime", s.runtime.as_ref().map(|v| json!(v))),
        ("Init", s.init.map(|v| json!(v))),
    ] {
        if let Some(v) = value {
            h.insert(key.into(), v);
        }
    }
    h.insert("Privileged".into(), json!(s.privileged));
    h.insert("ReadonlyRootfs".into(), json!(s.read_only));
    h.insert("CapAdd".into(), json!(s.cap_add));
    h.insert("CapDrop".into(), json!(s.cap_drop));
    h.insert("SecurityOpt".into(), json!(s.security_opt));
    h.insert("Dns".into(), json!(s.dns));
    h.insert("DnsSearch".into(), json!(s.dns_search));
    h.insert("DnsOptions".into(), json!(s.dns_opt));
    let hosts: Vec<String> = s.extra_hosts.iter().map(|e| e.replacen('=', ":", 1)).collect();
    h.insert("ExtraHosts".into(), json!(hosts));
    h.insert("Sysctls".into(), json!(s.sysctls));
    let groups: Vec<String> = s.group_add.iter().map(crate::project::scalar_string).collect();
    h.insert("GroupAdd".into(), json!(groups));
    let ulimits: Vec<Value> =
        s.ulimits.iter().map(|(name, u)| json!({"Name": name, "Soft": u.soft, "Hard": u.hard})).collect();
    h.insert("Ulimits".into(), json!(ulimits));
    if let Some(log) = &s.logging {
        let opts: BTreeMap<&String, &String> =
            log.options.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k, v))).collect();
        h.insert("LogConfig".into(), json!({"Type": log.driver.clone().unwrap_or_default(), "Config": opts}));
    }
    let volumes_from: Vec<String> = s
        .volumes_from
        .iter()
        .map(|v| match v.strip_prefix("container:") {
            Some(c) => c.to_string(),
            None => {
                let (svc, mode) = v.split_once(':').map_or((v.as_str(), None), |(a, b)| (a, Some(b)));
                let name = peers.get(svc).cloned().unwrap_or_else(|| svc.to_string());
                mode.map_or(name.clone(), |m| format!("{name}:{m}"))
            }
        })
        .collect();
    h.insert("VolumesFrom".into(), json!(volumes_from));
    let devices: Vec<Value> = s
        .devices
        .iter()
        .map(|d| match d {
            Value::String(spec) => {
                let mut parts = spec.splitn(3, ':');
                let host = parts.next().unwrap_or_default();
                let inside = parts.next().unwrap_or(host);
                json!({"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": parts.next().unwrap_or("rwm")})
            }
            long => json!({
                "PathOnHost": long.get("source"),
                "PathInContainer": long.get("target").or(long.get("source")),
                "CgroupPermissions": long.get("permissions").and_then(Value::as_str).unwrap_or("rwm"),
            }),
        })
        .collect();
    h.insert("Devices".into(), json!(devices));
    if !s.annotations.is_empty() {
        h.insert("Annotations".into(), json!(s.annotations));
    }
    Ok(Value::Object(h))
}

fn restart_policy(s: &Service) -> Result<Value, String> {
    if let Some(r) = &s.restart {
        let (name, count) = r.split_once(':').unwrap_or((r, "0"));
        let count: i64 = count.parse().map_err(|_| format!("invalid restart policy {r:?}"))?;
        return Ok(json!({"Name": name, "MaximumRetryCount": count}));
    }
    let Some(policy) = s.deploy.as_ref().and_then(|d| d.restart_policy.as_ref()) else {
        return Ok(json!({"Name": "no"}));
    };
    let name = match policy.condition.as_deref() {
        Some("none") => "no",
        Some("on-failure") => "on-failure",
        _ => "always",
    };
    Ok(json!({"Name": name, "MaximumRetryCount": policy.max_attempts.unwrap_or(0)}))
}

/// `service:NAME` → `container:` its first container: a namespace shared with another service.
fn shared_with(mode: &str, peers: &Peers, what: &str) -> Result<String, String> {
    match mode.strip_prefix("service:") {
        Some(svc) => peers
            .get(svc)
            .map(|c| format!("container:{c}"))
            .ok_or_else(|| format!("service {svc:?} has no container to share {what} with")),
        None => Ok(mode.to_string()),
    }
}

fn network_mode(project: &Project, s: &Service, peers: &Peers) -> Result<String, String> {
    match s.network_mode.as_deref() {
        Some(mode) => shared_with(mode, peers, "a network"),
        None => {
            Ok(service_networks(s).first().map(|k| project.networks[k].name.clone()).unwrap_or_else(|| "none".into()))
        }
    }
}

/// Short-syntax binds go in `Binds` so the engine creates a missing host path, as `-v` does;
/// everything else is a `Mounts` entry.
fn mounts(project: &Project, s: &Service) -> Result<(Vec<String>, Vec<Value>), String> {
    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    for m in &s.volumes {
        match m.kind.as_str() {
            "bind" if m.bind.as_ref().and_then(|b| b.create_host_path) != Some(false) => {
                binds.push(bind_spec(m)?);
            }
            "bind" => mounts.push(json!({
                "Type": "bind", "Source": m.source, "Target": m.target, "ReadOnly": m.read_only,
                "BindOptions": {"Propagation": m.bind.as_ref().and_then(|b| b.propagation.clone())},
            })),
            "volume" => {
                let source = match &m.source {
                    Some(key) => project.volumes.get(key).map(|v| v.name.clone()).unwrap_or_else(|| key.clone()),
                    None => String::new(),
                };
                let opts = m.volume.clone().unwrap_or_default();
                let mut v = json!({"Type": "volume", "Source": source, "Target": m.target, "ReadOnly": m.read_only,
                    "VolumeOptions": {"NoCopy": opts.nocopy}});
                if let Some(sub) = opts.subpath {
                    v["VolumeOptions"]["Subpath"] = json!(sub);
                }
                mounts.push(v);
            }
            "tmpfs" => {
                let opts = m.tmpfs.clone().unwrap_or_default();
                let size = opts.size.as_deref().map(units::bytes).transpose()?;
                mounts.push(json!({"Type": "tmpfs", "Target": m.target, "ReadOnly": m.read_only,
                    "TmpfsOptions": {"SizeBytes": size, "Mode": opts.mode}}));
            }
            other => return Err(format!("volume type {other:?} is not supported")),
        }
    }
    for (kind, r, object) in file_objects(project, s) {
        if let Some(file) = &object.file {
            binds.push(format!("{file}:{}:ro", file_target(kind, r)));
        } else if object.external {
            return Err(format!("{kind} {:?}: external {kind}s need a swarm, which Berth does not run", r.source));
        }
    }
    Ok((binds, mounts))
}

/// The service's secrets and configs with their definitions.
fn file_objects<'a>(project: &'a Project, s: &'a Service) -> Vec<(&'static str, &'a FileRef, &'a FileObject)> {
    let secrets = s.secrets.iter().map(|r| ("secret", r, &project.secrets[&r.source]));
    let configs = s.configs.iter().map(|r| ("config", r, &project.configs[&r.source]));
    secrets.chain(configs).collect()
}

/// Where a secret or config appears in the container.
fn file_target(kind: &str, r: &FileRef) -> String {
    match (&r.target, kind) {
        (Some(t), _) if t.starts_with('/') => t.clone(),
        (Some(t), "secret") => format!("/run/secrets/{t}"),
        (None, "secret") => format!("/run/secrets/{}", r.source),
        (Some(t), _) => format!("/{t}"),
        (None, _) => format!("/{}", r.source),
    }
}

/// Secrets and configs whose value comes from `environment` or `content`, as a tar to unpack at the
/// container's root before it starts (Compose copies them in the same way).
pub fn inline_files(project: &Project, s: &Service) -> Result<Option<Vec<u8>>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut any = false;
    let mut dirs = std::collections::BTreeSet::new();
    for (kind, r, object) in file_objects(project, s) {
        let value = match (&object.content, &object.environment) {
            (Some(content), _) => content.clone(),
            (None, Some(var)) => project.env.get(var).map(String::from).ok_or_else(|| {
                ComposeError::Failed(format!("{kind} {:?}: environment variable {var} is not set", r.source))
            })?,
            (None, None) => continue,
        };
        let target = file_target(kind, r);
        let path = target.trim_start_matches('/');
        let io = |e: std::io::Error| ComposeError::Failed(format!("{kind} {:?}: {e}", r.source));
        let mut parents: Vec<&std::path::Path> =
            std::path::Path::new(path).ancestors().skip(1).filter(|d| !d.as_os_str().is_empty()).collect();
        parents.reverse();
        for dir in parents {
            if dirs.insert(dir.to_path_buf()) {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_uid(0);
                h.set_gid(0);
                h.set_size(0);
                builder.append_data(&mut h, dir, std::io::empty()).map_err(io)?;
            }
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(value.len() as u64);
        h.set_mode(r.mode.unwrap_or(0o444) as u32);
        h.set_uid(r.uid.as_deref().and_then(|u| u.parse().ok()).unwrap_or(0));
        h.set_gid(r.gid.as_deref().and_then(|g| g.parse().ok()).unwrap_or(0));
        builder.append_data(&mut h, path, value.as_bytes()).map_err(io)?;
        any = true;
    }
    let tar = builder.into_inner().map_err(|e| ComposeError::Failed(e.to_string()))?;
    Ok(any.then_some(tar))
}

fn bind_spec(m: &Mount) -> Result<String, String> {
    let source = m.source.clone().ok_or_else(|| format!("bind mount {} has no source", m.target))?;
    let mut opts = Vec::new();
    if m.read_only {
        opts.push("ro".to_string());
    }
    if let Some(b) = &m.bind {
        opts.extend(b.selinux.clone());
        opts.extend(b.propagation.clone());
    }
    Ok(if opts.is_empty() {
        format!("{source}:{}", m.target)
    } else {
        format!("{source}:{}:{}", m.target, opts.join(","))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{load, LoadOptions};

    #[test]
    fn inline_secrets_and_configs_become_a_tar() {
        let dir = tempfile::tempdir().unwrap();
        let compose = "services:\n  app:\n    image: x\n    secrets: [s]\n    configs: [{source: c, target: /etc/app/c.ini, mode: 0400}]\n\
                       secrets:\n  s:\n    environment: BERTH_INLINE_TEST_SECRET\nconfigs:\n  c:\n    content: mode=dev\n";
        std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
        std::env::set_var("BERTH_INLINE_TEST_SECRET", "hush");
        let project = load(&LoadOptions { project_directory: Some(dir.path().into()), ..Default::default() }).unwrap();
        let tar = inline_files(&project, &project.services["app"]).unwrap().expect("a tar");
        let mut archive = tar::Archive::new(&tar[..]);
        let entries: Vec<(String, u32)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().to_string_lossy().into_owned(), e.header().mode().unwrap())
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("run".into(), 0o755),
                ("run/secrets".into(), 0o755),
                ("run/secrets/s".into(), 0o444),
                ("etc".into(), 0o755),
                ("etc/app".into(), 0o755),
                ("etc/app/c.ini".into(), 0o400)
            ]
        );
    }
}
