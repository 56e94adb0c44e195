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

/// A duration as Go prints it (`1m0s`, `1.5s`, `500ms`), the form Compose writes back out.
pub fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    if n < 1_000_000_000 {
        let (unit, scale) = match n {
            n if n < 1_000 => ("ns", 1),
            n if n < 1_000_000 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{sign}{}{unit}", decimal(n, scale));
    }
    let (h, rest) = (n / 3_600_000_000_000, n % 3_600_000_000_000);
    let (m, s) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let secs = format!("{}s", decimal(s, 1_000_000_000));
    match (h, m) {
        (0, 0) => format!("{sign}{secs}"),
        (0, m) => format!("{sign}{m}m{secs}"),
        (h, m) => format!("{sign}{h}h{m}m{secs}"),
    }
}

/// `value / scale` with the fraction's trailing zeros dropped.
fn decimal(value: u64, scale: u64) -> String {
    let (whole, frac) = (value / scale, value % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let s = 1_000_000_000;
        assert_eq!(go_duration(60 * s), "1m0s");
        assert_eq!(go_duration(90 * s), "1m30s");
        assert_eq!(go_duration(3600 * s), "1h0m0s");
        assert_eq!(go_duration(s + s / 2), "1.5s");
        assert_eq!(go_duration(s / 2), "500ms");
        assert_eq!(go_duration(0), "0s");
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes("1024").unwrap(), 1024);
        assert_eq!(bytes("512m").unwrap(), 512 << 20);
        assert_eq!(bytes("1.5G").unwrap(), 3 << 29);
        assert_eq!(bytes("64MB").unwrap(), 64 << 20);
        assert!(bytes("lots").is_err());
    }
}
