//! Sizes and durations as Compose files write them (`512m`, `1.5g`, `1m30s`).

/// Bytes from `1024`, `512k`, `512mb`, `1.5g` (binary multiples, as the docker CLI reads them).
pub fn bytes(text: &str) -> Result<i64, String> {
    let t = text.trim().to_ascii_lowercase();
    let digits = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: f64 = number.parse().map_err(|_| format!("invalid size: {text:?}"))?;
    let multiple: f64 = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("invalid size: {text:?}")),
    };
    Ok((number * multiple) as i64)
}

/// Nanoseconds from a Go duration.
pub fn nanos(text: &str) -> Result<i64, String> {
    berth_dockerfile::parse_duration(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(bytes("1024").unwrap(), 1024);
        assert_eq!(bytes("512m").unwrap(), 512 << 20);
        assert_eq!(bytes("1.5G").unwrap(), 3 << 29);
        assert_eq!(bytes("64MB").unwrap(), 64 << 20);
        assert!(bytes("lots").is_err());
    }
}
