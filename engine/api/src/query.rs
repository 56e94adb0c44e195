//! Query-string conventions of the Docker API.

use std::collections::HashMap;

/// Raw query parameters; handlers read what they need.
pub type Params = HashMap<String, String>;

/// Docker's boolean parameters: absent, empty, `0`, `no`, `false` and
/// `none` are false; anything else is true.
pub fn flag(params: &Params, key: &str) -> bool {
    params.get(key).is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "" | "0" | "no" | "false" | "none"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_booleans() {
        let p: Params = [("a", "1"), ("b", "false"), ("c", "True"), ("d", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(flag(&p, "a") && !flag(&p, "b") && flag(&p, "c") && !flag(&p, "d") && !flag(&p, "e"));
    }
}
