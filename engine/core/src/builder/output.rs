//! What a build tells the client: output lines, pull progress, the built
//! image's ID, and the error that ended it.

use tokio::sync::mpsc;

use crate::images::progress::{Progress, ProgressSink};

#[derive(Debug)]
pub enum BuildEvent {
    /// Text for the terminal (`{"stream": ...}`).
    Stream(String),
    /// Pulling a base image.
    Progress(Progress),
    /// The image built (`{"aux": {"ID": ...}}`).
    Built(String),
    /// The build failed; `code` is a failed RUN's exit code.
    Error { message: String, code: Option<i32> },
}

/// Where build events go; a client that hung up is not an error.
#[derive(Debug, Clone)]
pub struct BuildOutput {
    tx: mpsc::UnboundedSender<BuildEvent>,
    quiet: bool,
}

impl BuildOutput {
    pub fn channel(quiet: bool) -> (Self, mpsc::UnboundedReceiver<BuildEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx, quiet }, rx)
    }

    /// Build output, unless the client asked for quiet.
    pub fn stream(&self, text: impl Into<String>) {
        if !self.quiet {
            let _ = self.tx.send(BuildEvent::Stream(text.into()));
        }
    }

    /// Said only in quiet mode (the final ID, all `-q` prints).
    pub fn always_if_quiet(&self, text: impl Into<String>) {
        if self.quiet {
            let _ = self.tx.send(BuildEvent::Stream(text.into()));
        }
    }

    pub fn built(&self, id: &str) {
        let _ = self.tx.send(BuildEvent::Built(id.into()));
    }

    pub fn error(&self, message: String, code: Option<i32>) {
        let _ = self.tx.send(BuildEvent::Error { message, code });
    }

    /// A progress sink whose messages join the build's stream.
    pub fn progress(&self) -> ProgressSink {
        let (sink, mut rx) = ProgressSink::channel();
        let (tx, quiet) = (self.tx.clone(), self.quiet);
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                if !quiet {
                    let _ = tx.send(BuildEvent::Progress(p));
                }
            }
        });
        sink
    }
}
