//! Bridges between HTTP bodies and the blocking readers and writers of
//! archive code, which runs on the blocking thread pool.

use std::io::Write;

use axum::body::Body;
use bytes::Bytes;
use futures_util::TryStreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::io::{StreamReader, SyncIoBridge};

/// A request body as a blocking `Read`; use it inside `spawn_blocking`, and drop it there.
pub fn body_reader(body: Body) -> impl std::io::Read + Send + 'static {
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    Drained(SyncIoBridge::new(StreamReader::new(stream)))
}

/// Reads whatever the consumer left of the body when dropped. Tar readers stop at the end-of-archive
/// block, before the client's trailing padding; closing a connection with request bytes unread makes
/// the kernel reset it, and the client then loses the end of our response ("use of closed network
/// connection" in the docker CLI, intermittently).
struct Drained<R: std::io::Read>(R);

impl<R: std::io::Read> std::io::Read for Drained<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: std::io::Read> Drop for Drained<R> {
    fn drop(&mut self) {
        let _ = std::io::copy(&mut self.0, &mut std::io::sink());
    }
}

/// A blocking `Write` whose bytes become a streamed response body.
pub struct BodyWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl BodyWriter {
    pub fn new() -> (std::io::BufWriter<Self>, Body) {
        let (tx, rx) = mpsc::channel(8);
        (std::io::BufWriter::with_capacity(256 * 1024, Self { tx }), Body::from_stream(ReceiverStream::new(rx)))
    }
}

impl Write for BodyWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs blocking engine work (file and archive I/O) off the reactor.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::error::ApiError> + Send + 'static,
) -> Result<T, crate::error::ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| crate::error::ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}
