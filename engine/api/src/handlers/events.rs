//! `GET /events`: a stream of JSON event objects, one per line.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use berth_core::events::{Event, EventFilter, ObjectType, Subscription};
use berth_core::filters::Filters;
use bytes::Bytes;
use futures_util::StreamExt;
use http::header::CONTENT_TYPE;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;
use crate::types::{EventActor, EventMessage};

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    since: Option<String>,
    until: Option<String>,
    filters: Option<String>,
}

pub async fn events(State(state): State<AppState>, Query(q): Query<EventsQuery>) -> Result<Response, ApiError> {
    let since = q.since.as_deref().map(|s| parse_timestamp("since", s)).transpose()?;
    let until = q.until.as_deref().map(|s| parse_timestamp("until", s)).transpose()?;
    if let (Some(s), Some(u)) = (since, until) {
        if s > u {
            return Err(ApiError::bad_request(format!(
                "`since` time ({}) cannot be after `until` time ({})",
                q.since.unwrap_or_default(),
                q.until.unwrap_or_default()
            )));
        }
    }
    let filter = EventFilter::new(Filters::parse(q.filters.as_deref().unwrap_or(""))?)?;
    let shutdown = state.clone();
    let lines = state
        .events
        .subscribe(Subscription { since, until, filter })
        .take_until(async move { shutdown.shutting_down().await })
        .map(|e| {
            let mut line = serde_json::to_vec(&to_wire(e)).unwrap_or_default();
            line.push(b'\n');
            Ok::<_, std::convert::Infallible>(Bytes::from(line))
        });
    Ok(([(CONTENT_TYPE, "application/json")], Body::from_stream(lines)).into_response())
}

/// Parses Docker's `seconds[.nanoseconds]` timestamps into nanoseconds.
pub(crate) fn parse_timestamp(name: &str, value: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::bad_request(format!("invalid value for {name}: {value:?} is not a Unix timestamp"));
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let nanos: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<9}").parse().map_err(|_| bad())? };
    secs.checked_mul(1_000_000_000).and_then(|s| s.checked_add(nanos)).ok_or_else(bad)
}

fn to_wire(e: Event) -> EventMessage {
    // dockerd still fills the pre-1.22 fields for containers and images.
    let (status, id, from) = match e.object {
        ObjectType::Container => {
            (e.action.clone(), e.actor_id.clone(), e.attributes.get("image").cloned().unwrap_or_default())
        }
        ObjectType::Image => (e.action.clone(), e.actor_id.clone(), String::new()),
        _ => Default::default(),
    };
    EventMessage {
        status,
        id,
        from,
        r#type: e.object.as_str().into(),
        action: e.action,
        actor: EventActor { id: e.actor_id, attributes: e.attributes },
        scope: "local".into(),
        time: e.time_nano.div_euclid(1_000_000_000),
        time_nano: e.time_nano,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("since", "12").unwrap(), 12_000_000_000);
        assert_eq!(parse_timestamp("since", "12.5").unwrap(), 12_500_000_000);
        assert_eq!(parse_timestamp("since", "1700000000.000000001").unwrap(), 1_700_000_000_000_000_001);
        assert!(parse_timestamp("since", "1m").is_err());
        assert!(parse_timestamp("since", "1.x").is_err());
    }
}
