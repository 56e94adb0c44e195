//! Progress of long image operations, as the docker CLI renders it: one
//! line per layer (`id`), a status, and byte counts while transferring.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The layer's short ID or the tag; `None` for whole-operation lines.
    pub id: Option<String>,
    pub status: String,
    /// Bytes done and, when known, the total.
    pub detail: Option<(u64, Option<u64>)>,
    /// Set on the last message when the operation failed.
    pub error: Option<String>,
    /// What a push produced, for clients that read it (`aux` on the wire).
    pub pushed: Option<Pushed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub tag: String,
    pub digest: String,
    pub size: u64,
}

/// Where progress goes; a closed receiver (client gone) is not an error.
#[derive(Debug, Clone)]
pub struct ProgressSink(mpsc::UnboundedSender<Progress>);

impl ProgressSink {
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<Progress>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    pub fn status(&self, id: Option<&str>, status: impl Into<String>) {
        let _ = self.0.send(Progress {
            id: id.map(str::to_owned),
            status: status.into(),
            detail: None,
            error: None,
            pushed: None,
        });
    }

    pub fn bytes(&self, id: &str, status: &str, current: u64, total: Option<u64>) {
        let progress = Progress {
            id: Some(id.into()),
            status: status.into(),
            detail: Some((current, total)),
            error: None,
            pushed: None,
        };
        let _ = self.0.send(progress);
    }

    pub fn error(&self, message: impl Into<String>) {
        let _ = self.0.send(Progress {
            id: None,
            status: String::new(),
            detail: None,
            error: Some(message.into()),
            pushed: None,
        });
    }

    /// The closing line of a pushed tag, then its `aux` record (clients
    /// hand aux messages to a callback instead of printing them).
    pub fn pushed(&self, pushed: Pushed) {
        self.status(None, format!("{}: digest: {} size: {}", pushed.tag, pushed.digest, pushed.size));
        let _ =
            self.0.send(Progress { id: None, status: String::new(), detail: None, error: None, pushed: Some(pushed) });
    }
}

/// Limits byte-progress updates to a few per second per layer.
pub struct Throttle {
    last: Option<Instant>,
}

impl Throttle {
    pub fn new() -> Self {
        Self { last: None }
    }

    pub fn ready(&mut self) -> bool {
        let now = Instant::now();
        if self.last.is_some_and(|l| now.duration_since(l) < Duration::from_millis(100)) {
            return false;
        }
        self.last = Some(now);
        true
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new()
    }
}
