//! The `filters` query parameter of list and event endpoints.
//!
//! Docker encodes filters as JSON, `{"key":{"value":true}}`, and older clients
//! send the legacy `{"key":["value"]}`; both are accepted.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Classify, ErrorKind};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    #[error("invalid filter: {0}")]
    Malformed(String),
    #[error("invalid filter '{0}'")]
    UnknownKey(String),
    #[error("invalid filter '{key}={value}'")]
    BadValue { key: String, value: String },
}

impl Classify for FilterError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidParameter
    }
}

/// Parsed filters: each key holds a set of accepted values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(BTreeMap<String, BTreeSet<String>>);

impl Filters {
    /// Parses the JSON of a `filters` query parameter; empty means no filter.
    pub fn parse(json: &str) -> Result<Self, FilterError> {
        if json.trim().is_empty() {
            return Ok(Self::default());
        }
        if let Ok(map) = serde_json::from_str::<BTreeMap<String, BTreeMap<String, bool>>>(json) {
            return Ok(Self(
                map.into_iter()
                    .map(|(k, vs)| (k, vs.into_iter().filter(|(_, on)| *on).map(|(v, _)| v).collect()))
                    .collect(),
            ));
        }
        serde_json::from_str::<BTreeMap<String, Vec<String>>>(json)
            .map(|map| Self(map.into_iter().map(|(k, vs)| (k, vs.into_iter().collect())).collect()))
            .map_err(|e| FilterError::Malformed(e.to_string()))
    }

    /// Refuses keys the endpoint does not know, as dockerd does.
    pub fn validate(&self, allowed: &[&str]) -> Result<(), FilterError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(FilterError::UnknownKey(k.clone())),
            None => Ok(()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.get(key).into_iter().flatten().map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// True when `key` is absent or one of its values satisfies `pred`
    /// (several values of one key are alternatives, as in Docker).
    pub fn any(&self, key: &str, pred: impl Fn(&str) -> bool) -> bool {
        self.0.get(key).is_none_or(|vs| vs.iter().any(|v| pred(v)))
    }

    /// True when `key` is absent or one of its values equals `value`.
    pub fn exact(&self, key: &str, value: &str) -> bool {
        self.0.get(key).is_none_or(|vs| vs.contains(value))
    }

    /// True when `key` is absent or one of its values is a prefix of `value`
    /// (names and ID prefixes both match).
    pub fn fuzzy(&self, key: &str, value: &str) -> bool {
        self.0.get(key).is_none_or(|vs| vs.iter().any(|v| !v.is_empty() && value.starts_with(v.as_str())))
    }

    /// True when every `key` value (`k` or `k=v`) is satisfied by `labels`.
    pub fn labels(&self, key: &str, labels: &BTreeMap<String, String>) -> bool {
        self.values(key).all(|want| match want.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(want),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_encodings() {
        let a = Filters::parse(r#"{"type":{"container":true},"label":{"a=b":true}}"#).unwrap();
        let b = Filters::parse(r#"{"type":["container"],"label":["a=b"]}"#).unwrap();
        assert_eq!(a, b);
        assert!(a.exact("type", "container"));
        assert!(!a.exact("type", "image"));
        assert!(a.exact("event", "anything"));
    }

    #[test]
    fn rejects_bad_json_and_unknown_keys() {
        assert!(matches!(Filters::parse("{"), Err(FilterError::Malformed(_))));
        let f = Filters::parse(r#"{"bogus":["x"]}"#).unwrap();
        assert_eq!(f.validate(&["type"]), Err(FilterError::UnknownKey("bogus".into())));
        assert_eq!(f.validate(&["type"]).unwrap_err().to_string(), "invalid filter 'bogus'");
    }

    #[test]
    fn label_and_fuzzy_matching() {
        let f = Filters::parse(r#"{"label":["a=b","c"],"container":["web"]}"#).unwrap();
        let mut labels = BTreeMap::from([("a".to_string(), "b".to_string())]);
        assert!(!f.labels("label", &labels));
        labels.insert("c".into(), "".into());
        assert!(f.labels("label", &labels));
        assert!(f.fuzzy("container", "web-1"));
        assert!(!f.fuzzy("container", "db"));
    }
}
