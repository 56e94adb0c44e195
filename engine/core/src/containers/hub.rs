//! A container's live streams inside the engine: output fanned out to
//! every attached client, input gathered from them for the shim, and exit
//! notifications for waiters. It exists from creation, so clients can
//! attach before the container starts.

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, watch, Mutex};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin(Bytes),
    CloseStdin,
    Resize { rows: u16, cols: u16 },
}

/// How many times the container has exited, the last code, and whether it
/// is gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExitState {
    pub count: u64,
    pub code: i32,
    pub removed: bool,
}

pub struct Hub {
    output: broadcast::Sender<(u8, Bytes)>,
    input_tx: mpsc::UnboundedSender<Input>,
    pub(super) input_rx: Mutex<mpsc::UnboundedReceiver<Input>>,
    exits: watch::Sender<ExitState>,
    /// Held by a start from launch until the record says running, and by the exit handler: a
    /// process that ends at once must not have its exit recorded before its start.
    pub(super) lifecycle: Mutex<()>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        let (input_tx, input_rx) = mpsc::unbounded_channel();
        Self {
            output: broadcast::channel(1024).0,
            input_tx,
            input_rx: Mutex::new(input_rx),
            exits: watch::channel(ExitState::default()).0,
            lifecycle: Mutex::new(()),
        }
    }

    /// Output frames: (1 = stdout, 2 = stderr, payload).
    pub fn subscribe(&self) -> broadcast::Receiver<(u8, Bytes)> {
        self.output.subscribe()
    }

    pub(super) fn publish(&self, kind: u8, data: Bytes) {
        let _ = self.output.send((kind, data));
    }

    pub fn send(&self, input: Input) {
        let _ = self.input_tx.send(input);
    }

    pub fn exits(&self) -> watch::Receiver<ExitState> {
        self.exits.subscribe()
    }

    pub(super) fn record_exit(&self, code: i32) {
        self.exits.send_modify(|s| {
            s.count += 1;
            s.code = code;
        });
    }

    pub(super) fn mark_removed(&self) {
        self.exits.send_modify(|s| s.removed = true);
    }
}
