//! ADD from a URL: the file is fetched into the build's scratch space, then
//! added like a context file — never unpacked, mode 0600 unless `--chmod`
//! says otherwise, its time from `Last-Modified`, as Docker's classic
//! builder does.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::BuildError;

/// A fetched file.
pub struct Download {
    pub path: PathBuf,
    /// Seconds since the epoch, from `Last-Modified`.
    pub mtime: u64,
    /// The name a directory destination gives it: the URL path's last part.
    pub name: Option<String>,
}

pub fn is_url(src: &str) -> bool {
    src.starts_with("http://") || src.starts_with("https://")
}

/// Streams `url` into `path`.
pub async fn fetch(http: &reqwest::Client, url: &str, path: &Path) -> Result<Download, BuildError> {
    let failed = |why: String| BuildError::Invalid(format!("failed to GET {url}: {why}"));
    let resp = http.get(url).send().await.map_err(|e| failed(crate::error::root_cause(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(BuildError::Invalid(format!("failed to GET {url} with status {status}")));
    }
    let mtime = resp
        .headers()
        .get(reqwest::header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        .map_or(0, |t| t.timestamp().max(0) as u64);
    let name = resp.url().path_segments().and_then(|mut s| s.next_back().map(String::from)).filter(|n| !n.is_empty());
    let mut file = tokio::fs::File::create(path).await.map_err(super::io("create", path))?;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| failed(crate::error::root_cause(&e)))?;
        file.write_all(&chunk).await.map_err(super::io("write", path))?;
    }
    file.flush().await.map_err(super::io("write", path))?;
    Ok(Download { path: path.to_path_buf(), mtime, name })
}
