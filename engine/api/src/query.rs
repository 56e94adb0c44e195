//! Query-string conventions of the Docker API.

use std::collections::HashMap;

/// Raw query parameters; handlers read what they need.
pub type Params = HashMap<String, String>;

/// Every value of a repeated parameter (`names=a&names=b`).
pub fn all_values(raw: Option<&str>, key: &str) -> Vec<String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}

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
        assert_eq!(all_values(Some("names=a%2Fb&x=1&names=c"), "names"), ["a/b", "c"]);
    }
}
