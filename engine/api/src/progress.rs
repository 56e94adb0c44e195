//! Turns the engine's progress messages into the JSON stream the docker
//! CLI renders as per-layer progress bars.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use berth_core::images::progress::Progress;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::StreamExt;

use crate::types::{ErrorDetail, JsonMessage, ProgressDetail, PushResult};

/// Streams `rx` as newline-delimited JSON until the sender is dropped.
pub fn json_stream(rx: UnboundedReceiver<Progress>) -> Response {
    let lines = UnboundedReceiverStream::new(rx).map(|p| {
        let mut line = serde_json::to_vec(&to_message(p)).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(Bytes::from(line))
    });
    ([(CONTENT_TYPE, "application/json")], Body::from_stream(lines)).into_response()
}

/// A stream's failure, as `errorDetail` and the older `error`.
pub fn error_message(message: String) -> JsonMessage {
    JsonMessage {
        error_detail: Some(ErrorDetail { code: None, message: message.clone() }),
        error: Some(message),
        ..Default::default()
    }
}

pub fn to_message(p: Progress) -> JsonMessage {
    if let Some(message) = p.error {
        return error_message(message);
    }
    let (progress_detail, progress) = match (p.detail, &p.id) {
        (Some((current, total)), _) => (Some(ProgressDetail { current: Some(current), total }), bar(current, total)),
        // dockerd sends an empty detail on per-layer status lines.
        (None, Some(_)) => (Some(ProgressDetail::default()), String::new()),
        (None, None) => (None, String::new()),
    };
    let aux =
        p.pushed.and_then(|x| serde_json::to_value(PushResult { tag: x.tag, digest: x.digest, size: x.size }).ok());
    JsonMessage { status: p.status, progress_detail, progress, id: p.id, aux, ..Default::default() }
}

/// `[=====>      ]  1.05MB/2.1MB`, as dockerd draws it.
fn bar(current: u64, total: Option<u64>) -> String {
    const WIDTH: u64 = 50;
    match total.filter(|t| *t > 0) {
        Some(total) => {
            let filled = (WIDTH * current.min(total) / total) as usize;
            let arrow = if filled < WIDTH as usize { ">" } else { "" };
            let pad = (WIDTH as usize).saturating_sub(filled + arrow.len());
            format!("[{}{arrow}{}] {:>8}/{}", "=".repeat(filled), " ".repeat(pad), human(current), human(total))
        }
        None => format!("{:>8}", human(current)),
    }
}

/// Decimal sizes with four significant digits, as Docker prints them
/// (`999B`, `1.5kB`, `2.066MB`).
pub fn human(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let int_digits = (v.max(1.0).log10().floor() as usize) + 1;
    let decimals = 4usize.saturating_sub(int_digits);
    let mut s = format!("{v:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{}", units[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_sizes() {
        assert_eq!(human(999), "999B");
        assert_eq!(human(2_066_000), "2.066MB");
        assert_eq!(human(1_500), "1.5kB");
        assert_eq!(human(1_000), "1kB");
        let b = bar(25, Some(50));
        assert!(b.starts_with("[=========================>"), "{b}");
        assert!(b.ends_with("25B/50B"), "{b}");
        assert!(bar(50, Some(50)).starts_with(&format!("[{}]", "=".repeat(50))));
    }

    #[test]
    fn errors_carry_both_fields() {
        let m = to_message(Progress {
            id: None,
            status: String::new(),
            detail: None,
            error: Some("boom".into()),
            pushed: None,
        });
        let v = serde_json::to_value(m).unwrap();
        assert_eq!(v, serde_json::json!({"errorDetail": {"message": "boom"}, "error": "boom"}));
    }
}
