//! Merging normalized Compose documents (`-f a.yaml -f b.yaml`, overrides, `extends`) by the
//! specification's rules: mappings merge key by key, most sequences append without duplicates,
//! a few keys replace, and mounts, ports, secrets and configs merge by what they target.

use serde_json::Value;

/// Keys under a service whose value the later file replaces as a whole.
const REPLACED: [&str; 3] = ["command", "entrypoint", "test"];

/// Merges `over` into `base` (the later file wins).
pub fn merge(base: &mut Value, over: Value) {
    merge_at(base, over, &mut Vec::new());
}

fn merge_at(base: &mut Value, over: Value, path: &mut Vec<String>) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (key, value) in o {
                path.push(key.clone());
                match b.get_mut(&key) {
                    Some(existing) if !REPLACED.contains(&key.as_str()) => merge_at(existing, value, path),
                    _ => {
                        b.insert(key, value);
                    }
                }
                path.pop();
            }
        }
        (Value::Array(b), Value::Array(o)) => {
            let key = path.last().map(String::as_str).unwrap_or_default();
            let in_service = path.len() == 3 && path[0] == "services";
            match key {
                "volumes" if in_service => merge_by(b, o, "target"),
                "secrets" | "configs" if in_service => merge_by(b, o, "source"),
                _ => merge_by_identity(b, o),
            }
        }
        (base, over) => *base = over,
    }
}

/// Entries with the same `field` are replaced in place, others appended.
fn merge_by(base: &mut Vec<Value>, over: Vec<Value>, field: &str) {
    for item in over {
        match base.iter_mut().find(|b| b.get(field).is_some() && b.get(field) == item.get(field)) {
            Some(slot) => *slot = item,
            None => base.push(item),
        }
    }
}

fn merge_by_identity(base: &mut Vec<Value>, over: Vec<Value>) {
    for item in over {
        if !base.contains(&item) {
            base.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn override_rules() {
        let mut base = json!({"services": {"web": {
            "image": "a", "command": ["x", "y"], "environment": {"A": "1", "B": "2"},
            "volumes": [{"type": "volume", "source": "d", "target": "/d"}],
            "dns": ["1.1.1.1"], "healthcheck": {"test": ["CMD", "a"], "interval": "1s"}
        }}});
        merge(
            &mut base,
            json!({"services": {"web": {
                "image": "b", "command": ["z"], "environment": {"B": "3"},
                "volumes": [{"type": "bind", "source": "/h", "target": "/d"}, {"type": "volume", "target": "/e"}],
                "dns": ["1.1.1.1", "8.8.8.8"], "healthcheck": {"test": ["CMD", "b"]}
            }, "db": {"image": "c"}}}),
        );
        let web = &base["services"]["web"];
        assert_eq!(web["image"], "b");
        assert_eq!(web["command"], json!(["z"]));
        assert_eq!(web["environment"], json!({"A": "1", "B": "3"}));
        assert_eq!(
            web["volumes"],
            json!([{"type": "bind", "source": "/h", "target": "/d"}, {"type": "volume", "target": "/e"}])
        );
        assert_eq!(web["dns"], json!(["1.1.1.1", "8.8.8.8"]));
        assert_eq!(web["healthcheck"], json!({"test": ["CMD", "b"], "interval": "1s"}));
        assert_eq!(base["services"]["db"]["image"], "c");
    }
}
