//! The config hash of a service: what decides whether `up` recreates its containers.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Keys that change how a service is built, pulled, scaled or ordered, but not its containers.
const NOT_HASHED: [&str; 5] = ["build", "pull_policy", "scale", "depends_on", "profiles"];

/// sha256 of the service's canonical definition.
pub fn service_hash(service: &Value) -> String {
    let mut s = service.clone();
    if let Some(obj) = s.as_object_mut() {
        for key in NOT_HASHED {
            obj.remove(key);
        }
        if let Some(deploy) = obj.get_mut("deploy").and_then(Value::as_object_mut) {
            deploy.remove("replicas");
        }
    }
    // serde_json maps are sorted, so the text is canonical.
    format!("{:x}", Sha256::digest(s.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scale_and_build_do_not_change_the_hash() {
        let a = service_hash(&json!({"image": "x", "environment": {"A": "1"}, "deploy": {"replicas": 1}}));
        let b = service_hash(
            &json!({"image": "x", "environment": {"A": "1"}, "deploy": {"replicas": 3}, "build": {"context": "."}}),
        );
        let c = service_hash(&json!({"image": "x", "environment": {"A": "2"}}));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
