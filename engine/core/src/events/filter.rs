//! Which events a subscriber wants, with dockerd's matching rules: values of
//! one key are alternatives, different keys must all match.

use super::{Event, ObjectType};
use crate::filters::{FilterError, Filters};

/// Filter keys `GET /events` accepts.
pub const EVENT_FILTER_KEYS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

/// Actions that carry a suffix (`exec_start: sh -c ...`) and match by prefix.
const SUFFIXED_ACTIONS: &[&str] = &["health_status", "exec_create", "exec_start"];

#[derive(Debug, Clone, Default)]
pub struct EventFilter(Filters);

impl EventFilter {
    pub fn new(filters: Filters) -> Result<Self, FilterError> {
        filters.validate(EVENT_FILTER_KEYS)?;
        Ok(Self(filters))
    }

    pub fn matches(&self, ev: &Event) -> bool {
        let f = &self.0;
        self.matches_action(ev)
            && f.exact("type", ev.object.as_str())
            && f.exact("scope", "local")
            && self.matches_name(ev, "daemon", ObjectType::Daemon)
            && self.matches_name(ev, "container", ObjectType::Container)
            && self.matches_name(ev, "plugin", ObjectType::Plugin)
            && self.matches_name(ev, "volume", ObjectType::Volume)
            && self.matches_name(ev, "network", ObjectType::Network)
            && self.matches_image(ev)
            && ["config", "secret", "service", "node"].iter().all(|k| !f.contains(k))
            && f.labels("label", &ev.attributes)
    }

    fn matches_action(&self, ev: &Event) -> bool {
        let f = &self.0;
        if f.values("event").any(|v| SUFFIXED_ACTIONS.contains(&v)) {
            f.fuzzy("event", &ev.action)
        } else {
            f.exact("event", &ev.action)
        }
    }

    /// An object filter matches events of that type by ID or name prefix.
    fn matches_name(&self, ev: &Event, key: &str, object: ObjectType) -> bool {
        if !self.0.contains(key) {
            return true;
        }
        ev.object == object
            && (self.0.fuzzy(key, &ev.actor_id) || ev.attributes.get("name").is_some_and(|n| self.0.fuzzy(key, n)))
    }

    /// `image=` also matches containers started from that image.
    fn matches_image(&self, ev: &Event) -> bool {
        let f = &self.0;
        if !f.contains("image") {
            return true;
        }
        let candidates = match ev.object {
            ObjectType::Image => [Some(&ev.actor_id), ev.attributes.get("name")],
            ObjectType::Container => [ev.attributes.get("image"), None],
            _ => return false,
        };
        candidates
            .into_iter()
            .flatten()
            .any(|v| f.values("image").any(|want| v == want || strip_latest(v) == strip_latest(want)))
    }
}

fn strip_latest(reference: &str) -> &str {
    reference.strip_suffix(":latest").unwrap_or(reference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ev(object: ObjectType, action: &str, id: &str, attrs: &[(&str, &str)]) -> Event {
        let attributes: BTreeMap<_, _> = attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Event::now(object, action, id, attributes)
    }

    fn filter(json: &str) -> EventFilter {
        EventFilter::new(Filters::parse(json).unwrap()).unwrap()
    }

    #[test]
    fn type_event_and_name() {
        let c = ev(ObjectType::Container, "start", "abc123", &[("name", "web"), ("image", "busybox")]);
        let v = ev(ObjectType::Volume, "create", "data", &[("driver", "local")]);
        assert!(filter(r#"{"type":["container"]}"#).matches(&c));
        assert!(!filter(r#"{"type":["container"]}"#).matches(&v));
        assert!(filter(r#"{"container":["web"]}"#).matches(&c));
        assert!(filter(r#"{"container":["abc"]}"#).matches(&c));
        assert!(!filter(r#"{"container":["web"]}"#).matches(&v));
        assert!(filter(r#"{"event":["start","stop"]}"#).matches(&c));
        assert!(!filter(r#"{"event":["stop"]}"#).matches(&c));
        assert!(filter(r#"{"image":["busybox:latest"]}"#).matches(&c));
    }

    #[test]
    fn suffixed_actions_match_by_prefix() {
        let e = ev(ObjectType::Container, "exec_start: sh -c true", "abc", &[]);
        assert!(filter(r#"{"event":["exec_start"]}"#).matches(&e));
    }

    #[test]
    fn unknown_key_is_refused() {
        let err = EventFilter::new(Filters::parse(r#"{"colour":["red"]}"#).unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "invalid filter 'colour'");
    }
}
