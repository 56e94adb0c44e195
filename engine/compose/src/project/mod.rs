//! Loading a Compose project: find the files, read the environment, parse, interpolate, validate
//! against the schema, normalize, merge, apply `extends`/`include`/profiles, check references.

mod dotenv;
mod files;
mod graph;
mod interpolate;
mod merge;
pub mod model;
mod normalize;
mod schema;
pub mod units;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

pub use graph::{dependency_order, DependencyError};
use interpolate::Variables;
pub use model::{FileObject, Network, Service, Volume};
pub use normalize::{absolute, scalar_string};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no configuration file provided: not found")]
    NoConfig,
    #[error("{}: {}", .0.display(), .1)]
    Read(PathBuf, std::io::Error),
    #[error("{}: {}", .0.display(), .1)]
    Yaml(PathBuf, String),
    #[error("validating {}: {}", .0.display(), .1)]
    Schema(PathBuf, String),
    #[error(transparent)]
    Interpolate(#[from] interpolate::PathError),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{0:?} is not a valid project name: it must contain only characters from [a-z0-9_-] and start with [a-z0-9]"
    )]
    ProjectName(String),
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// What the command line and environment say about which project to load.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub project_directory: Option<PathBuf>,
    pub env_files: Vec<PathBuf>,
    pub profiles: Vec<String>,
    /// Services named on the command line: enabled whatever their profiles.
    pub services: Vec<String>,
}

/// Variables for interpolation: the process environment over the project's `.env`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    warned: std::cell::RefCell<BTreeSet<String>>,
}

impl Environment {
    fn load(dir: &Path, env_files: &[PathBuf]) -> Result<Self, LoadError> {
        let process: BTreeMap<String, String> = std::env::vars().collect();
        let mut me = Environment { vars: process.clone(), ..Default::default() };
        let default_file = dir.join(".env");
        let files: Vec<PathBuf> = if env_files.is_empty() {
            vec![default_file].into_iter().filter(|p| p.is_file()).collect()
        } else {
            env_files
                .iter()
                .map(|f| absolute(&std::env::current_dir().unwrap_or_default(), &f.to_string_lossy()))
                .collect()
        };
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| LoadError::Read(file.clone(), e))?;
            let entries = dotenv::parse(&text, &me).map_err(|e| LoadError::Yaml(file.clone(), e.to_string()))?;
            for (k, v) in entries {
                if let (false, Some(v)) = (process.contains_key(&k), v) {
                    me.vars.insert(k, v);
                }
            }
        }
        Ok(me)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    fn list(&self, name: &str, separator: char) -> Vec<String> {
        self.get(name)
            .map(|v| v.split(separator).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    }
}

impl Variables for Environment {
    fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn unset(&self, name: &str) {
        if self.warned.borrow_mut().insert(name.to_string()) {
            tracing::warn!("The \"{name}\" variable is not set. Defaulting to a blank string.");
        }
    }
}

/// A loaded project.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub working_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
    pub env: Environment,
    /// The canonical document of the enabled services, as `config` prints it.
    pub doc: Value,
    pub services: BTreeMap<String, Service>,
    /// Services turned off by profiles: not orphans, not started.
    pub disabled: BTreeSet<String>,
    pub networks: BTreeMap<String, Network>,
    pub volumes: BTreeMap<String, Volume>,
    pub secrets: BTreeMap<String, FileObject>,
    pub configs: BTreeMap<String, FileObject>,
    /// Every profile any service names, enabled or not.
    pub all_profiles: BTreeSet<String>,
}

pub fn load(opts: &LoadOptions) -> Result<Project, LoadError> {
    let cwd = std::env::current_dir().map_err(|e| LoadError::Read(".".into(), e))?;
    let base = opts.project_directory.as_ref().map(|d| absolute(&cwd, &d.to_string_lossy())).unwrap_or(cwd.clone());
    let mut env = Environment::load(&base, &opts.env_files)?;
    let config_files: Vec<PathBuf> = if !opts.files.is_empty() {
        opts.files
            .iter()
            .map(|f| if f == Path::new("-") { f.clone() } else { absolute(&cwd, &f.to_string_lossy()) })
            .collect()
    } else if env.get("COMPOSE_FILE").is_some() {
        let sep = env.get("COMPOSE_PATH_SEPARATOR").and_then(|s| s.chars().next()).unwrap_or(':');
        env.list("COMPOSE_FILE", sep).iter().map(|f| absolute(&base, f)).collect()
    } else {
        files::discover(&base)?
    };
    let working_dir = match (&opts.project_directory, config_files.first()) {
        (Some(_), _) => base.clone(),
        (None, Some(first)) if first != Path::new("-") => first.parent().map(Path::to_path_buf).unwrap_or(base.clone()),
        _ => base.clone(),
    };
    if working_dir != base && opts.env_files.is_empty() {
        env = Environment::load(&working_dir, &[])?;
    }

    let mut doc = Value::Object(Map::new());
    for file in &config_files {
        let mut one = read_file(file, &working_dir, &env)?;
        resolve_extends(&mut one, file, &working_dir, &env)?;
        merge::merge(&mut doc, one);
    }
    include(&mut doc, &working_dir)?;
    if let Some(obj) = doc.as_object_mut() {
        if obj.remove("version").is_some() {
            tracing::warn!("the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion");
        }
    }

    let name = project_name(opts, &env, &doc, &working_dir)?;
    finish(doc, name, working_dir, config_files, env, opts)
}

/// A project known only by name (`-p NAME` without files): enough to find its containers.
pub fn empty(name: &str) -> Result<Project, LoadError> {
    let opts = LoadOptions { project_name: Some(name.to_string()), ..Default::default() };
    let dir = std::env::current_dir().unwrap_or_default();
    let env = Environment::default();
    let name = project_name(&opts, &env, &Value::Null, &dir)?;
    finish(json!({}), name, dir, Vec::new(), env, &opts)
}

/// A `-v` argument of `run`, read as the short volume syntax of a service.
pub fn volume_arg(spec: &str, dir: &Path) -> Result<model::Mount, String> {
    let long = normalize::volume(&Value::String(spec.to_string()), dir)?;
    serde_json::from_value(long).map_err(|e| e.to_string())
}

/// A `-p` argument of `run`, read as the short port syntax of a service.
pub fn port_arg(spec: &str) -> Result<Vec<model::Port>, String> {
    normalize::port(&Value::String(spec.to_string()))?
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
        .collect()
}

/// Parse, interpolate, validate and normalize one file.
fn read_file(file: &Path, working_dir: &Path, env: &Environment) -> Result<Value, LoadError> {
    let mut doc = files::read(file)?;
    interpolate::interpolate_tree(&mut doc, env)?;
    schema::validate(&doc).map_err(|m| LoadError::Schema(file.to_path_buf(), m))?;
    normalize::services(&mut doc, working_dir, env)?;
    Ok(doc)
}

/// Replaces each service that `extends` another by the base merged with the service's own keys.
fn resolve_extends(doc: &mut Value, file: &Path, working_dir: &Path, env: &Environment) -> Result<(), LoadError> {
    let names: Vec<String> =
        doc.get("services").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
    for name in names {
        let resolved = resolved_service(doc, &name, file, working_dir, env, &mut Vec::new())?;
        doc["services"][&name] = resolved;
    }
    Ok(())
}

/// One service with its `extends` chain applied; `seen` holds the chain so far, to catch cycles.
fn resolved_service(
    doc: &Value,
    name: &str,
    file: &Path,
    working_dir: &Path,
    env: &Environment,
    seen: &mut Vec<String>,
) -> Result<Value, LoadError> {
    let service = doc["services"][name].clone();
    let Some(ext) = service.get("extends") else { return Ok(service) };
    let (base_name, base_file) = match ext {
        Value::String(s) => (s.clone(), None),
        other => (normalize::scalar_string(&other["service"]), other.get("file").map(normalize::scalar_string)),
    };
    let base_path = match &base_file {
        Some(f) => absolute(file.parent().unwrap_or(working_dir), f),
        None => file.to_path_buf(),
    };
    let key = format!("{}:{base_name}", base_path.display());
    if seen.contains(&key) {
        seen.push(key);
        return Err(LoadError::Invalid(format!("circular reference with extends: {}", seen.join(" -> "))));
    }
    let other;
    let base_doc = match &base_file {
        Some(_) => {
            other = read_file(&base_path, base_path.parent().unwrap_or(working_dir), env)?;
            &other
        }
        None => doc,
    };
    if base_doc["services"].get(&base_name).is_none() {
        return Err(LoadError::Invalid(format!(
            "cannot extend service {name:?} in {}: service {base_name:?} not found",
            file.display()
        )));
    }
    seen.push(key);
    let mut base = resolved_service(base_doc, &base_name, &base_path, working_dir, env, seen)?;
    seen.pop();
    if let Some(b) = base.as_object_mut() {
        b.remove("depends_on");
    }
    let mut own = service;
    if let Some(o) = own.as_object_mut() {
        o.remove("extends");
    }
    merge::merge(&mut base, own);
    Ok(base)
}

/// Brings in the resources of each `include`d project; a name defined twice is an error.
fn include(doc: &mut Value, working_dir: &Path) -> Result<(), LoadError> {
    let Some(Value::Array(entries)) = doc.as_object_mut().and_then(|d| d.remove("include")) else {
        return Ok(());
    };
    for entry in entries {
        let paths: Vec<String> = match &entry {
            Value::String(p) => vec![p.clone()],
            other => match other.get("path") {
                Some(Value::Array(ps)) => ps.iter().map(normalize::scalar_string).collect(),
                Some(p) => vec![normalize::scalar_string(p)],
                None => Vec::new(),
            },
        };
        let mut included = Value::Object(Map::new());
        for p in &paths {
            let path = absolute(working_dir, p);
            let dir = entry.get("project_directory").map(|d| absolute(working_dir, &normalize::scalar_string(d)));
            let dir = dir.unwrap_or_else(|| path.parent().unwrap_or(working_dir).to_path_buf());
            let inc_env = Environment::load(&dir, &[])?;
            let mut one = read_file(&path, &dir, &inc_env)?;
            resolve_extends(&mut one, &path, &dir, &inc_env)?;
            include(&mut one, &dir)?;
            merge::merge(&mut included, one);
        }
        for section in ["services", "networks", "volumes", "secrets", "configs"] {
            let Some(Value::Object(items)) = included.get(section).cloned() else { continue };
            let target = doc.as_object_mut().expect("document is a mapping").entry(section).or_insert(json!({}));
            for (k, v) in items {
                if target.get(&k).is_some() {
                    return Err(LoadError::Invalid(format!("{section}.{k} conflicts with imported resource")));
                }
                target[&k] = v;
            }
        }
    }
    Ok(())
}

fn project_name(opts: &LoadOptions, env: &Environment, doc: &Value, working_dir: &Path) -> Result<String, LoadError> {
    let explicit = opts
        .project_name
        .clone()
        .or_else(|| env.get("COMPOSE_PROJECT_NAME").map(String::from))
        .or_else(|| doc.get("name").map(normalize::scalar_string))
        .filter(|n| !n.is_empty());
    if let Some(name) = explicit {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        return if valid { Ok(name) } else { Err(LoadError::ProjectName(name)) };
    }
    let base = working_dir.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let name: String =
        base.chars().filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-').collect();
    let name = name.trim_start_matches(['_', '-']).to_string();
    if name.is_empty() {
        return Err(LoadError::ProjectName(base));
    }
    Ok(name)
}

fn finish(
    mut doc: Value,
    name: String,
    working_dir: PathBuf,
    config_files: Vec<PathBuf>,
    env: Environment,
    opts: &LoadOptions,
) -> Result<Project, LoadError> {
    let root = doc.as_object_mut().ok_or_else(|| LoadError::Invalid("Top-level object must be a mapping".into()))?;
    root.insert("name".into(), json!(name));
    let mut profiles: BTreeSet<String> = opts.profiles.iter().cloned().collect();
    profiles.extend(env.list("COMPOSE_PROFILES", ','));

    let all: Map<String, Value> = root.get("services").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut enabled = Map::new();
    let mut disabled = BTreeSet::new();
    let mut all_profiles = BTreeSet::new();
    for (svc, mut def) in all {
        let svc_profiles: Vec<String> = def
            .get("profiles")
            .and_then(Value::as_array)
            .map(|p| p.iter().map(normalize::scalar_string).collect())
            .unwrap_or_default();
        all_profiles.extend(svc_profiles.iter().cloned());
        let on = svc_profiles.is_empty()
            || profiles.contains("*")
            || svc_profiles.iter().any(|p| profiles.contains(p))
            || opts.services.contains(&svc);
        if !on {
            disabled.insert(svc);
            continue;
        }
        let obj = def.as_object_mut().expect("services are normalized to mappings");
        if obj.get("network_mode").is_none()
            && obj.get("networks").is_none_or(|n| n.as_object().is_some_and(Map::is_empty))
        {
            obj.insert("networks".into(), json!({"default": null}));
        }
        enabled.insert(svc, def);
    }
    root.insert("services".into(), Value::Object(enabled.clone()));

    // The default network exists as soon as a service uses it.
    let uses_default = enabled.values().any(|s| s.get("networks").is_some_and(|n| n.get("default").is_some()));
    let networks = root.entry("networks").or_insert(json!({}));
    if uses_default && networks.get("default").is_none() {
        networks["default"] = json!({});
    }
    // Like Compose, keep only the resources an enabled service uses.
    let used = used_resources(&enabled);
    for section in ["networks", "volumes", "secrets", "configs"] {
        let Some(Value::Object(items)) = root.get_mut(section) else { continue };
        items.retain(|k, _| used.contains(&(section, k.clone())));
        for (key, item) in items.iter_mut() {
            if item.is_null() {
                *item = json!({});
            }
            let external = item.get("external").is_some_and(normalize::truthy);
            if let Some(obj) = item.as_object_mut() {
                if !obj.contains_key("name") {
                    let n = if external { key.clone() } else { format!("{name}_{key}") };
                    obj.insert("name".into(), json!(n));
                }
                for path_key in ["file"] {
                    if let Some(p) = obj.get(path_key).map(normalize::scalar_string) {
                        obj.insert(path_key.into(), json!(absolute(&working_dir, &p).to_string_lossy()));
                    }
                }
            }
        }
        if items.is_empty() {
            root.remove(section);
        }
    }

    let section = |key: &str| root.get(key).cloned().unwrap_or(json!({}));
    let networks: BTreeMap<String, Network> = parse("networks", section("networks"))?;
    let volumes: BTreeMap<String, Volume> = parse("volumes", section("volumes"))?;
    let secrets: BTreeMap<String, FileObject> = parse("secrets", section("secrets"))?;
    let configs: BTreeMap<String, FileObject> = parse("configs", section("configs"))?;
    let mut services = BTreeMap::new();
    for (svc, def) in &enabled {
        let mut s: Service = parse(&format!("services.{svc}"), def.clone())?;
        s.name = svc.clone();
        services.insert(svc.clone(), s);
    }
    let project = Project {
        name,
        working_dir,
        config_files,
        env,
        doc,
        services,
        disabled,
        networks,
        volumes,
        secrets,
        configs,
        all_profiles,
    };
    check_references(&project)?;
    dependency_order(&project.services)?;
    Ok(project)
}

/// `(section, key)` of every network, volume, secret and config the services refer to.
fn used_resources(services: &Map<String, Value>) -> BTreeSet<(&'static str, String)> {
    let mut used = BTreeSet::new();
    for s in services.values() {
        if s.get("network_mode").is_none() {
            for k in s.get("networks").and_then(Value::as_object).into_iter().flat_map(|m| m.keys()) {
                used.insert(("networks", k.clone()));
            }
        }
        for m in s.get("volumes").and_then(Value::as_array).into_iter().flatten() {
            if let (Some("volume"), Some(src)) = (m.get("type").and_then(Value::as_str), m.get("source")) {
                used.insert(("volumes", normalize::scalar_string(src)));
            }
        }
        for section in ["secrets", "configs"] {
            for r in s.get(section).and_then(Value::as_array).into_iter().flatten() {
                used.insert((section, r.get("source").map(normalize::scalar_string).unwrap_or_default()));
            }
        }
    }
    used
}

fn parse<T: serde::de::DeserializeOwned>(key: &str, v: Value) -> Result<T, LoadError> {
    serde_json::from_value(v).map_err(|e| LoadError::Invalid(format!("{key}: {e}")))
}

fn check_references(p: &Project) -> Result<(), LoadError> {
    let invalid = |m: String| Err(LoadError::Invalid(format!("{m}: invalid compose project")));
    for (name, s) in &p.services {
        for (dep, d) in &s.depends_on {
            if !p.services.contains_key(dep) && (d.required || !p.disabled.contains(dep)) {
                return invalid(format!("service {name:?} depends on undefined service {dep:?}"));
            }
        }
        for net in s.networks.keys() {
            if !p.networks.contains_key(net) {
                return invalid(format!("service {name:?} refers to undefined network {net}"));
            }
        }
        for m in &s.volumes {
            if let ("volume", Some(src)) = (m.kind.as_str(), &m.source) {
                if !p.volumes.contains_key(src) {
                    return invalid(format!("service {name:?} refers to undefined volume {src}"));
                }
            }
        }
        for (kind, refs, defined) in [("secret", &s.secrets, &p.secrets), ("config", &s.configs, &p.configs)] {
            if let Some(r) = refs.iter().find(|r| !defined.contains_key(&r.source)) {
                return invalid(format!("service {name:?} refers to undefined {kind} {}", r.source));
            }
        }
        for key in s.other.keys().filter(|k| !model::is_ignored_quietly(k)) {
            tracing::warn!("service {name:?}: `{key}` is not supported by Berth Compose yet and is ignored");
        }
    }
    Ok(())
}
