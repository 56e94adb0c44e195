//! Durations written as Go's `time.ParseDuration` accepts them (`30s`, `1m30s`, `1.5h`),
//! because HEALTHCHECK flags use that syntax and Docker reports Go's error messages.

const MAX: u128 = 1 << 63;

/// Parses a Go duration into nanoseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration \"{text}\"");
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_len);
        rest = after;
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot.find(|c: char| !c.is_ascii_digit()).unwrap_or(after_dot.len());
            (frac_part, rest) = after_dot.split_at(frac_len);
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        let (unit, after) = rest.split_at(unit_len);
        rest = after;
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration \"{text}\""));
        }
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("time: unknown unit \"{unit}\" in duration \"{text}\"")),
        };
        let whole: u128 = if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| invalid())? };
        if whole > MAX {
            return Err(invalid());
        }
        // Digits beyond 18 are below a nanosecond for every unit; dropping them keeps
        // the arithmetic within u128.
        let frac_digits = &frac_part[..frac_part.len().min(18)];
        let fraction = if frac_digits.is_empty() {
            0
        } else {
            let numerator: u128 = frac_digits.parse().map_err(|_| invalid())?;
            numerator * scale / 10u128.pow(frac_digits.len() as u32)
        };
        total += whole * scale + fraction;
        if total > MAX {
            return Err(invalid());
        }
    }
    if negative {
        Ok((-(total as i128)) as i64)
    } else if total >= MAX {
        Err(invalid())
    } else {
        Ok(total as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn valid_durations() {
        assert_eq!(parse_duration("30s"), Ok(30 * S));
        assert_eq!(parse_duration("1m30s"), Ok(90 * S));
        assert_eq!(parse_duration("500ms"), Ok(S / 2));
        assert_eq!(parse_duration("1.5h"), Ok(5400 * S));
        assert_eq!(parse_duration(".5s"), Ok(S / 2));
        assert_eq!(parse_duration("1.s"), Ok(S));
        assert_eq!(parse_duration("2h45m0.5s"), Ok((2 * 3600 + 45 * 60) * S + S / 2));
        assert_eq!(parse_duration("10us"), Ok(10_000));
        assert_eq!(parse_duration("10µs"), Ok(10_000));
        assert_eq!(parse_duration("7ns"), Ok(7));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-0"), Ok(0));
        assert_eq!(parse_duration("+5s"), Ok(5 * S));
        assert_eq!(parse_duration("-1.5s"), Ok(-3 * S / 2));
        assert_eq!(parse_duration("0.000000001s"), Ok(1));
        assert_eq!(parse_duration("1.0000000000000000000001s"), Ok(S));
    }

    #[test]
    fn invalid_durations() {
        assert_eq!(parse_duration(""), Err("time: invalid duration \"\"".into()));
        assert_eq!(parse_duration("1"), Err("time: missing unit in duration \"1\"".into()));
        assert_eq!(parse_duration("5x"), Err("time: unknown unit \"x\" in duration \"5x\"".into()));
        assert_eq!(parse_duration("s"), Err("time: invalid duration \"s\"".into()));
        assert_eq!(parse_duration("."), Err("time: invalid duration \".\"".into()));
        assert_eq!(parse_duration("1s "), Err("time: unknown unit \"s \" in duration \"1s \"".into()));
        assert!(parse_duration("9999999999999999999h").is_err());
        assert!(parse_duration("3000000h").is_err());
    }
}
