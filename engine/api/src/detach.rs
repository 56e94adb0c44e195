//! Detach keys (`detachKeys`, default ctrl-p ctrl-q): typed on an attached
//! terminal, they end the attachment and leave the container running. The
//! keys are held back while they might be the sequence, and passed on as
//! typed when they turn out not to be.

use crate::error::ApiError;

const DEFAULT: [u8; 2] = [0x10, 0x11];

/// How the stdin side tells the output side that the keys were typed: the
/// future completes then, and never when stdin just ends (so it can sit in
/// a `select!` loop for good).
pub fn signal() -> (tokio::sync::oneshot::Sender<()>, impl std::future::Future<Output = ()>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let detached = async move {
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    (tx, detached)
}

/// What a client typed: bytes to pass on, then whether it detached.
pub enum Typed {
    Bytes(Vec<u8>),
    Detach,
}

/// A client's input with the detach sequence taken out (when `escape` is
/// set, on terminals).
pub struct Input<R> {
    rd: R,
    escape: Option<Escape>,
    buf: Vec<u8>,
    detached: bool,
}

impl<R: tokio::io::AsyncRead + Unpin> Input<R> {
    pub fn new(rd: R, escape: Option<Escape>) -> Self {
        Self { rd, escape, buf: vec![0u8; 32 * 1024], detached: false }
    }

    /// The next input, `None` at the end of it (or after a detach). Bytes
    /// typed before the sequence come first, then `Detach`.
    pub async fn next(&mut self) -> Option<Typed> {
        use tokio::io::AsyncReadExt;
        if self.detached {
            return Some(Typed::Detach);
        }
        let n = match self.rd.read(&mut self.buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        };
        let (typed, detach) = match self.escape.as_mut() {
            Some(e) => e.feed(&self.buf[..n]),
            None => (self.buf[..n].to_vec(), false),
        };
        self.detached = detach;
        match (typed.is_empty(), detach) {
            (true, true) => Some(Typed::Detach),
            _ => Some(Typed::Bytes(typed)),
        }
    }
}

/// Watches a terminal's input for the detach sequence.
pub struct Escape {
    keys: Vec<u8>,
    matched: usize,
}

impl Escape {
    /// From the `detachKeys` parameter (`ctrl-p,ctrl-q`, `a,b`, …); empty is
    /// the default sequence.
    pub fn parse(spec: &str) -> Result<Self, ApiError> {
        if spec.is_empty() {
            return Ok(Self { keys: DEFAULT.to_vec(), matched: 0 });
        }
        let invalid = || ApiError::bad_request(format!("Invalid detach keys ({spec}) provided"));
        let keys = spec
            .split(',')
            .map(|key| match key.strip_prefix("ctrl-") {
                Some(c) if c.len() == 1 => match c.as_bytes()[0] {
                    b @ b'a'..=b'z' => Ok(b - b'a' + 1),
                    b'@' => Ok(0),
                    b @ b'['..=b'_' => Ok(b - b'[' + 27),
                    _ => Err(invalid()),
                },
                None if key.len() == 1 => Ok(key.as_bytes()[0]),
                _ => Err(invalid()),
            })
            .collect::<Result<Vec<u8>, _>>()?;
        Ok(Self { keys, matched: 0 })
    }

    /// Feeds typed bytes: what to pass on now, and whether the sequence
    /// was completed (the bytes after it are dropped with the attachment).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return (out, true);
                }
                continue;
            }
            // Not the sequence after all: what was held back goes through.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    return (out, true);
                }
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_sequences() {
        let mut e = Escape::parse("").unwrap();
        assert_eq!(e.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(e.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(e.feed(b"\x10\x10\x11rest"), (b"\x10".to_vec(), true));
        let mut e = Escape::parse("ctrl-a,x").unwrap();
        assert_eq!(e.feed(b"\x01"), (vec![], false));
        assert_eq!(e.feed(b"x"), (vec![], true));
        assert_eq!(Escape::parse("ctrl-[").unwrap().keys, [27]);
        assert_eq!(Escape::parse("ctrl-_").unwrap().keys, [31]);
        assert!(Escape::parse("ctrl-").is_err() && Escape::parse("ab").is_err() && Escape::parse("ctrl-1").is_err());
    }
}
