//! Short syntax to long syntax, as Compose's canonical form writes it: lists of `KEY=VALUE` become maps,
//! port and volume strings become objects, relative paths become absolute, `env_file` is folded into
//! `environment`. Runs on each file before merging, so the merge rules see one shape per key.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::{dotenv, units, Environment, LoadError};

/// Normalizes every service of one file; `dir` is what relative paths are resolved against.
pub fn services(doc: &mut Value, dir: &Path, env: &Environment) -> Result<(), LoadError> {
    let Some(services) = doc.get_mut("services").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (name, service) in services.iter_mut() {
        if service.is_null() {
            *service = json!({});
        }
        let Some(s) = service.as_object_mut() else { continue };
        service_keys(s, dir, env).map_err(|message| LoadError::Invalid(format!("services.{name}: {message}")))?;
    }
    Ok(())
}

fn service_keys(s: &mut Map<String, Value>, dir: &Path, env: &Environment) -> Result<(), String> {
    for key in ["command", "entrypoint"] {
        if let Some(Value::String(line)) = s.get(key) {
            let words = shlex::split(line).ok_or_else(|| format!("{key}: unbalanced quotes in {line:?}"))?;
            s.insert(key.into(), json!(words));
        }
    }
    environment(s, dir, env)?;
    for key in ["labels", "sysctls", "annotations"] {
        if let Some(v) = s.get_mut(key) {
            *v = Value::Object(key_values(v, false));
        }
    }
    for key in ["dns", "dns_search", "tmpfs", "env_file", "profiles"] {
        if let Some(Value::String(one)) = s.get(key) {
            s.insert(key.into(), json!([one]));
        }
    }
    if let Some(v) = s.get_mut("extra_hosts") {
        *v = Value::Array(extra_hosts(v));
    }
    if let Some(Value::Array(items)) = s.get_mut("expose") {
        items.iter_mut().for_each(|v| *v = Value::String(scalar_string(v)));
    }
    if let Some(Value::Array(items)) = s.get("ports") {
        let long = items.iter().map(port).collect::<Result<Vec<_>, _>>()?;
        s.insert("ports".into(), Value::Array(long.into_iter().flatten().collect()));
    }
    if let Some(Value::Array(items)) = s.get("volumes") {
        let long = items.iter().map(|v| volume(v, dir)).collect::<Result<Vec<_>, _>>()?;
        s.insert("volumes".into(), Value::Array(long));
    }
    if let Some(v) = s.get_mut("depends_on") {
        *v = depends_on(v);
    }
    if let Some(Value::Array(names)) = s.get("networks") {
        let map = names.iter().map(|n| (scalar_string(n), Value::Null)).collect();
        s.insert("networks".into(), Value::Object(map));
    }
    if let Some(Value::Object(hc)) = s.get_mut("healthcheck") {
        if let Some(Value::String(cmd)) = hc.get("test") {
            let test = json!(["CMD-SHELL", cmd]);
            hc.insert("test".into(), test);
        }
    }
    for key in ["secrets", "configs"] {
        if let Some(Value::Array(items)) = s.get_mut(key) {
            for item in items.iter_mut() {
                if let Value::String(source) = item {
                    *item = json!({"source": source});
                }
                // Compose writes file modes as octal text.
                if let Some(mode) = item.get_mut("mode").filter(|m| m.is_number()) {
                    *mode = json!(format!("{:04o}", mode.as_u64().unwrap_or(0)));
                }
                // Secrets land in /run/secrets unless told otherwise.
                if let (true, Some(obj)) = (key == "secrets", item.as_object_mut()) {
                    if !obj.contains_key("target") {
                        let source = obj.get("source").map(scalar_string).unwrap_or_default();
                        obj.insert("target".into(), json!(format!("/run/secrets/{source}")));
                    }
                }
            }
        }
    }
    if let Some(build) = s.get_mut("build") {
        normalize_build(build, dir, env);
    }
    coerce(s)
}

/// Numbers that interpolation left as strings become numbers; sizes become byte counts, written
/// as strings as Compose writes them.
fn coerce(s: &mut Map<String, Value>) -> Result<(), String> {
    const INTEGERS: [&str; 11] = [
        "scale",
        "cpu_shares",
        "pids_limit",
        "oom_score_adj",
        "mem_swappiness",
        "cpu_count",
        "cpu_percent",
        "healthcheck.retries",
        "deploy.replicas",
        "deploy.restart_policy.max_attempts",
        "deploy.resources.limits.pids",
    ];
    const FLOATS: [&str; 3] = ["cpus", "deploy.resources.limits.cpus", "deploy.resources.reservations.cpus"];
    const DURATIONS: [&str; 5] = [
        "stop_grace_period",
        "healthcheck.interval",
        "healthcheck.timeout",
        "healthcheck.start_period",
        "healthcheck.start_interval",
    ];
    // Plain booleans Compose leaves out when false.
    const OMITTED_WHEN_FALSE: [&str; 5] = ["privileged", "read_only", "tty", "stdin_open", "oom_kill_disable"];
    const SIZES: [&str; 6] = [
        "mem_limit",
        "mem_reservation",
        "memswap_limit",
        "shm_size",
        "deploy.resources.limits.memory",
        "deploy.resources.reservations.memory",
    ];
    let mut root = Value::Object(std::mem::take(s));
    for path in INTEGERS {
        if let Some(v) = lookup(&mut root, path) {
            if let Value::String(text) = v {
                *v = json!(text.trim().parse::<i64>().map_err(|_| format!("{path}: {text:?} is not a number"))?);
            }
        }
    }
    for path in FLOATS {
        if let Some(v) = lookup(&mut root, path) {
            let text = scalar_string(v);
            *v = json!(text.trim().parse::<f64>().map_err(|_| format!("{path}: {text:?} is not a number"))?);
        }
    }
    for path in DURATIONS {
        if let Some(v) = lookup(&mut root, path) {
            let nanos = units::nanos(&scalar_string(v)).map_err(|e| format!("{path}: {e}"))?;
            *v = json!(units::go_duration(nanos));
        }
    }
    for key in OMITTED_WHEN_FALSE {
        if root.get(key).is_some_and(|v| !truthy(v)) {
            root.as_object_mut().expect("service is a mapping").remove(key);
        }
    }
    for path in SIZES {
        if let Some(v) = lookup(&mut root, path) {
            *v = json!(units::bytes(&scalar_string(v)).map_err(|e| format!("{path}: {e}"))?.to_string());
        }
    }
    if let Some(Value::Array(mounts)) = root.get_mut("volumes") {
        for size in mounts.iter_mut().filter_map(|m| m.pointer_mut("/tmpfs/size")) {
            *size =
                json!(units::bytes(&scalar_string(size)).map_err(|e| format!("volumes: tmpfs size: {e}"))?.to_string());
        }
    }
    if let Value::Object(map) = root {
        *s = map;
    }
    Ok(())
}

fn lookup<'a>(root: &'a mut Value, dotted: &str) -> Option<&'a mut Value> {
    dotted.split('.').try_fold(root, |v, key| v.get_mut(key)).filter(|v| !v.is_null())
}

/// `environment` as a map of strings (or null for unset), with `env_file` contents underneath it.
fn environment(s: &mut Map<String, Value>, dir: &Path, env: &Environment) -> Result<(), String> {
    let mut merged = Map::new();
    if let Some(files) = s.remove("env_file") {
        let files = match files {
            Value::String(one) => vec![json!({"path": one})],
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        for file in files {
            let (path, required) = match &file {
                Value::String(p) => (p.clone(), true),
                other => {
                    (other.get("path").map(scalar_string).unwrap_or_default(), other.get("required").is_none_or(truthy))
                }
            };
            let path = absolute(dir, &path);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => continue,
                Err(e) => return Err(format!("env file {} not found: {e}", path.display())),
            };
            let entries = dotenv::parse(&text, env).map_err(|e| format!("{}: {e}", path.display()))?;
            for (k, v) in entries {
                merged.insert(k, v.map_or(Value::Null, Value::String));
            }
        }
    }
    if let Some(v) = s.get("environment") {
        merged.extend(key_values(v, true));
    }
    for (k, v) in merged.iter_mut() {
        if v.is_null() {
            if let Some(found) = env.get(k) {
                *v = Value::String(found.to_string());
            }
        }
    }
    if !merged.is_empty() || s.contains_key("environment") {
        s.insert("environment".into(), Value::Object(merged));
    }
    Ok(())
}

/// A `KEY=VALUE` list or a map, as a map of strings; `KEY` alone is null when `bare_is_null`.
pub fn key_values(v: &Value, bare_is_null: bool) -> Map<String, Value> {
    match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), if v.is_null() { v.clone() } else { json!(scalar_string(v)) }))
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let item = scalar_string(item);
                match item.split_once('=') {
                    Some((k, v)) => (k.to_string(), json!(v)),
                    None if bare_is_null => (item, Value::Null),
                    None => (item, json!("")),
                }
            })
            .collect(),
        _ => Map::new(),
    }
}

fn extra_hosts(v: &Value) -> Vec<Value> {
    match v {
        Value::Object(map) => map.iter().map(|(h, ip)| json!(format!("{h}={}", scalar_string(ip)))).collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let item = scalar_string(item);
                if item.contains('=') {
                    json!(item)
                } else {
                    let (h, ip) = item.split_once(':').unwrap_or((&item, ""));
                    json!(format!("{h}={ip}"))
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A port entry in long syntax; a short entry with ranges gives one object per port.
pub(super) fn port(v: &Value) -> Result<Vec<Value>, String> {
    if let Value::Object(map) = v {
        let mut map = map.clone();
        map.entry("mode").or_insert(json!("ingress"));
        map.entry("protocol").or_insert(json!("tcp"));
        if let Some(t) = map.get("target").cloned() {
            map.insert("target".into(), json!(parse_port(&scalar_string(&t))?));
        }
        if let Some(p) = map.get("published").cloned() {
            map.insert("published".into(), json!(scalar_string(&p)));
        }
        return Ok(vec![Value::Object(map)]);
    }
    let spec = scalar_string(v);
    let (rest, protocol) = spec.rsplit_once('/').unwrap_or((&spec, "tcp"));
    // host_ip may be an IPv6 address in brackets; the container port is always last.
    let (host_part, target) = match rest.rsplit_once(':') {
        Some((h, t)) => (Some(h), t),
        None => (None, rest),
    };
    let (host_ip, published) = match host_part {
        None => (None, None),
        Some(h) => match h.rsplit_once(':') {
            Some((ip, p)) => (Some(ip.trim_matches(|c| c == '[' || c == ']')), Some(p)),
            None => (None, Some(h)),
        },
    };
    let targets = port_range(target)?;
    let published: Option<Vec<String>> = match published.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => {
            let range = port_range(p)?;
            match (range.len(), targets.len()) {
                (1, n) if n > 1 => Some(vec![p.to_string(); n]),
                (a, b) if a == b => Some(range.iter().map(u16::to_string).collect()),
                _ => return Err(format!("invalid port range {spec:?}")),
            }
        }
    };
    Ok(targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut m = Map::new();
            m.insert("mode".into(), json!("ingress"));
            if let Some(ip) = host_ip.filter(|ip| !ip.is_empty()) {
                m.insert("host_ip".into(), json!(ip));
            }
            m.insert("target".into(), json!(t));
            if let Some(p) = &published {
                m.insert("published".into(), json!(p[i]));
            }
            m.insert("protocol".into(), json!(protocol));
            Value::Object(m)
        })
        .collect())
}

fn parse_port(s: &str) -> Result<u16, String> {
    s.parse().map_err(|_| format!("invalid port {s:?}"))
}

fn port_range(s: &str) -> Result<Vec<u16>, String> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse_port(a)?, parse_port(b)?);
            if b < a {
                return Err(format!("invalid port range {s:?}"));
            }
            Ok((a..=b).collect())
        }
        None => Ok(vec![parse_port(s)?]),
    }
}

/// A volume entry in long syntax with absolute bind sources.
pub(super) fn volume(v: &Value, dir: &Path) -> Result<Value, String> {
    if let Value::Object(map) = v {
        let mut map = map.clone();
        if map.get("type").and_then(Value::as_str) == Some("bind") {
            if let Some(src) = map.get("source").map(scalar_string) {
                map.insert("source".into(), json!(absolute(dir, &src).to_string_lossy()));
            }
            // Creating a missing host path is the default; Compose does not write it out.
            if let Some(Value::Object(bind)) = map.get_mut("bind") {
                if bind.get("create_host_path").is_some_and(truthy) {
                    bind.remove("create_host_path");
                }
            }
        }
        return Ok(Value::Object(map));
    }
    let spec = scalar_string(v);
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [s, t] => (Some(*s), *t, None),
        [s, t, m] => (Some(*s), *t, Some(*m)),
        _ => return Err(format!("invalid volume specification {spec:?}")),
    };
    let mut m = Map::new();
    let is_path = |s: &str| s.starts_with('.') || s.starts_with('/') || s.starts_with('~');
    match source {
        Some(src) if is_path(src) => {
            m.insert("type".into(), json!("bind"));
            m.insert("source".into(), json!(absolute(dir, src).to_string_lossy()));
        }
        Some(src) => {
            m.insert("type".into(), json!("volume"));
            m.insert("source".into(), json!(src));
        }
        None => {
            m.insert("type".into(), json!("volume"));
        }
    }
    m.insert("target".into(), json!(target));
    let options: Vec<&str> = mode.map(|m| m.split(',').collect()).unwrap_or_default();
    if options.contains(&"ro") {
        m.insert("read_only".into(), json!(true));
    }
    let kind = m["type"].as_str().unwrap_or_default().to_string();
    let mut sub = Map::new();
    for o in options {
        match (kind.as_str(), o) {
            (_, "ro" | "rw" | "") => {}
            ("bind", "z" | "Z") => {
                sub.insert("selinux".into(), json!(o));
            }
            ("bind", p) if p.contains("shared") || p.contains("slave") || p.contains("private") => {
                sub.insert("propagation".into(), json!(p));
            }
            ("volume", "nocopy") => {
                sub.insert("nocopy".into(), json!(true));
            }
            _ => return Err(format!("invalid volume mode {o:?} in {spec:?}")),
        }
    }
    m.insert(kind, Value::Object(sub));
    Ok(Value::Object(m))
}

fn depends_on(v: &Value) -> Value {
    let mut out = Map::new();
    let entry = |spec: Option<&Value>| {
        let mut e = spec.and_then(Value::as_object).cloned().unwrap_or_default();
        e.entry("condition").or_insert(json!("service_started"));
        e.entry("required").or_insert(json!(true));
        Value::Object(e)
    };
    match v {
        Value::Array(names) => names.iter().for_each(|n| {
            out.insert(scalar_string(n), entry(None));
        }),
        Value::Object(map) => map.iter().for_each(|(n, spec)| {
            out.insert(n.clone(), entry(Some(spec)));
        }),
        _ => {}
    }
    Value::Object(out)
}

fn normalize_build(build: &mut Value, dir: &Path, env: &Environment) {
    if let Value::String(context) = build {
        *build = json!({"context": context});
    }
    let Some(b) = build.as_object_mut() else { return };
    let context = b.get("context").map(scalar_string).unwrap_or_else(|| ".".into());
    // Remote contexts (git, URLs) are left as written.
    if !context.contains("://") && !context.starts_with("git@") {
        b.insert("context".into(), json!(absolute(dir, &context).to_string_lossy()));
    }
    if !b.contains_key("dockerfile_inline") {
        b.entry("dockerfile").or_insert(json!("Dockerfile"));
    }
    if let Some(args) = b.get_mut("args") {
        let mut map = key_values(args, true);
        for (k, v) in map.iter_mut().filter(|(_, v)| v.is_null()) {
            if let Some(found) = env.get(k) {
                *v = json!(found);
            }
        }
        *args = Value::Object(map);
    }
    if let Some(labels) = b.get_mut("labels") {
        *labels = Value::Object(key_values(labels, false));
    }
}

/// `dir/path` with `~` expanded and `.`/`..` folded, without touching the filesystem.
pub fn absolute(dir: &Path, path: &str) -> std::path::PathBuf {
    let joined = match path.strip_prefix('~') {
        Some(rest) => {
            Path::new(&std::env::var("HOME").unwrap_or_else(|_| "/".into())).join(rest.trim_start_matches('/'))
        }
        None => dir.join(path),
    };
    let mut out = std::path::PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A scalar as the string Compose would read it (`8080`, `true`, `1.5`).
pub fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// YAML-ish booleans given as strings after interpolation count too.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "y" | "on" | "1"),
        Value::Number(n) => n.as_i64() != Some(0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_short_to_long() {
        let all = |s: Value| port(&s).unwrap();
        assert_eq!(
            all(json!("8080:80")),
            vec![json!({"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"})]
        );
        assert_eq!(all(json!(3000)), vec![json!({"mode": "ingress", "target": 3000, "protocol": "tcp"})]);
        let range = all(json!("127.0.0.1:9000-9001:90-91/udp"));
        assert_eq!(range.len(), 2);
        assert_eq!(
            range[1],
            json!({"mode": "ingress", "host_ip": "127.0.0.1", "target": 91, "published": "9001", "protocol": "udp"})
        );
        assert_eq!(all(json!("[::1]:80:8080"))[0]["host_ip"], "::1");
        assert!(port(&json!("80:x")).is_err());
    }

    #[test]
    fn volumes_short_to_long() {
        let dir = Path::new("/p");
        assert_eq!(
            volume(&json!("./x:/x:ro,z"), dir).unwrap(),
            json!({"type": "bind", "source": "/p/x", "target": "/x", "read_only": true, "bind": {"selinux": "z"}})
        );
        assert_eq!(
            volume(&json!("data:/d:nocopy"), dir).unwrap(),
            json!({"type": "volume", "source": "data", "target": "/d", "volume": {"nocopy": true}})
        );
        assert_eq!(volume(&json!("/tmp"), dir).unwrap(), json!({"type": "volume", "target": "/tmp", "volume": {}}));
        assert!(volume(&json!("a:b:c:d"), dir).is_err());
    }

    #[test]
    fn lists_become_maps() {
        assert_eq!(Value::Object(key_values(&json!(["A=1", "B"]), true)), json!({"A": "1", "B": null}));
        assert_eq!(Value::Object(key_values(&json!({"N": 1, "T": true}), false)), json!({"N": "1", "T": "true"}));
        assert_eq!(extra_hosts(&json!(["h:1.2.3.4", "v6=::1"])), vec![json!("h=1.2.3.4"), json!("v6=::1")]);
        assert_eq!(depends_on(&json!(["db"])), json!({"db": {"condition": "service_started", "required": true}}));
    }

    #[test]
    fn paths() {
        assert_eq!(absolute(Path::new("/a/b"), "../c/./d"), Path::new("/a/c/d"));
        assert_eq!(absolute(Path::new("/a"), "/abs"), Path::new("/abs"));
    }
}
