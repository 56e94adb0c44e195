//! Validation against the Compose Specification's JSON Schema (the compose-spec project's own file,
//! embedded at build time).

use std::sync::OnceLock;

use serde_json::Value;

static SCHEMA: &str = include_str!("../../schema/compose-spec.json");

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("embedded compose-spec.json is JSON");
        jsonschema::draft7::new(&schema).expect("embedded compose-spec.json is a valid draft-07 schema")
    })
}

/// The first schema violation in `doc`, as `services.web.ports: <what is wrong>`.
pub fn validate(doc: &Value) -> Result<(), String> {
    let Some(error) = validator().iter_errors(doc).next() else {
        return Ok(());
    };
    let pointer = error.instance_path().as_str().to_string();
    let path: Vec<String> = pointer.split('/').skip(1).map(|p| p.replace("~1", "/").replace("~0", "~")).collect();
    let path = if path.is_empty() { "(root)".to_string() } else { path.join(".") };
    Err(format!("{path}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_valid_and_names_the_bad_key() {
        assert!(validate(&json!({"services": {"web": {"image": "busybox", "ports": ["80:80"]}}})).is_ok());
        let err = validate(&json!({"services": {"web": {"image": "busybox", "foo": 1}}})).unwrap_err();
        assert!(err.starts_with("services.web: "), "{err}");
        assert!(err.contains("foo"), "{err}");
        let err = validate(&json!({"services": {"web": {"ports": {"a": 1}}}})).unwrap_err();
        assert!(err.starts_with("services.web.ports: "), "{err}");
    }
}
