//! Progress lines on stderr, in Compose's plain progress format: ` Container p-web-1 Started `.

use std::io::Write;

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    quiet: bool,
}

impl Progress {
    pub fn new(mode: Option<&str>) -> Self {
        Progress { quiet: mode == Some("quiet") }
    }

    pub fn event(&self, kind: &str, name: &str, status: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), " {kind} {name} {status} ");
        }
    }
}
