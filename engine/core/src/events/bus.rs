//! Publish/subscribe with a bounded history, so `docker events --since` can
//! replay what happened before the subscriber connected.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use super::{now_nanos, Event, EventFilter};

/// How many past events are kept for `since` queries (dockerd keeps 256).
const HISTORY: usize = 1024;
/// How far a live subscriber may fall behind before it misses events.
const LIVE_BUFFER: usize = 1024;

pub struct EventBus {
    history: Mutex<VecDeque<Event>>,
    live: broadcast::Sender<Event>,
}

/// What a subscriber asked for: a time window and a filter.
#[derive(Debug, Clone, Default)]
pub struct Subscription {
    /// Only events at or after this time (ns since the epoch); history is
    /// replayed only when this is set.
    pub since: Option<i64>,
    /// Stop at this time (ns since the epoch); without it the stream is endless.
    pub until: Option<i64>,
    pub filter: EventFilter,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        Self { history: Mutex::new(VecDeque::with_capacity(HISTORY)), live: broadcast::channel(LIVE_BUFFER).0 }
    }

    pub fn publish(&self, event: Event) {
        tracing::debug!(r#type = event.object.as_str(), action = %event.action, id = %event.actor_id, "event");
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(event.clone());
        // Sent under the lock so a concurrent subscriber sees each event once:
        // either in its history snapshot or live, never both or neither.
        let _ = self.live.send(event);
    }

    /// Number of live subscribers, reported by `GET /info`.
    pub fn listeners(&self) -> usize {
        self.live.receiver_count()
    }

    /// Past events in the window, then live ones until `until` (if any).
    pub fn subscribe(&self, sub: Subscription) -> BoxStream<'static, Event> {
        let now = now_nanos();
        let until = sub.until;
        let in_window =
            move |e: &Event| sub.since.is_none_or(|s| e.time_nano >= s) && until.is_none_or(|u| e.time_nano <= u);
        let (past, rx) = {
            let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
            let past: Vec<Event> = match sub.since {
                Some(_) => history.iter().filter(|e| in_window(e) && sub.filter.matches(e)).cloned().collect(),
                None => Vec::new(),
            };
            (past, self.live.subscribe())
        };
        let past = stream::iter(past);
        if until.is_some_and(|u| u <= now) {
            return past.boxed();
        }
        let filter = sub.filter;
        let live = BroadcastStream::new(rx).filter_map(move |item| {
            let keep = match item {
                Ok(e) if filter.matches(&e) => Some(e),
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "events subscriber fell behind; events dropped");
                    None
                }
            };
            std::future::ready(keep)
        });
        match until {
            Some(u) => {
                let wait = Duration::from_nanos(u.saturating_sub(now).max(0) as u64);
                past.chain(live.take_until(tokio::time::sleep(wait))).boxed()
            }
            None => past.chain(live).boxed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ObjectType;
    use crate::filters::Filters;
    use std::collections::BTreeMap;

    fn event(action: &str) -> Event {
        Event::now(ObjectType::Volume, action, "v1", BTreeMap::new())
    }

    #[tokio::test]
    async fn replays_history_then_stops_at_until() {
        let bus = EventBus::new();
        bus.publish(event("create"));
        bus.publish(event("destroy"));
        let sub = Subscription { since: Some(0), until: Some(now_nanos()), ..Default::default() };
        let got: Vec<_> = bus.subscribe(sub).map(|e| e.action).collect().await;
        assert_eq!(got, ["create", "destroy"]);
    }

    #[tokio::test]
    async fn live_events_are_filtered_and_window_closes() {
        let bus = EventBus::new();
        bus.publish(event("old"));
        let filter = EventFilter::new(Filters::parse(r#"{"event":["mount"]}"#).unwrap()).unwrap();
        let until = now_nanos() + 300_000_000;
        let stream = bus.subscribe(Subscription { since: None, until: Some(until), filter });
        assert_eq!(bus.listeners(), 1);
        bus.publish(event("create"));
        bus.publish(event("mount"));
        let got: Vec<_> = stream.map(|e| e.action).collect().await;
        assert_eq!(got, ["mount"]);
    }

    #[test]
    fn history_is_bounded() {
        let bus = EventBus::new();
        for i in 0..HISTORY + 5 {
            bus.publish(event(&i.to_string()));
        }
        let history = bus.history.lock().unwrap();
        assert_eq!(history.len(), HISTORY);
        assert_eq!(history.front().unwrap().action, "5");
    }
}
