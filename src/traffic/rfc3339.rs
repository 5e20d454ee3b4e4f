//! A small strict RFC 3339 timestamp parser and formatter (no calendar dependency).
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (RFC 3339 section 5.6 `date-time`; `T`
//! and `Z` may be lower case). Rejected: a space instead of `T`, a missing offset, leap second
//! `:60`, out-of-range fields (`2023-02-29`).

/// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" algorithm: shift the
/// year to start in March so the leap day is last, then count 400-year eras).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (i64::from(m) + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(s: &[u8], at: usize, n: usize, what: &str) -> Result<u32, String> {
    let part = s.get(at..at + n).ok_or_else(|| format!("too short: missing {what}"))?;
    if !part.iter().all(u8::is_ascii_digit) {
        return Err(format!("{what} must be {n} digits"));
    }
    Ok(part.iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')))
}

fn expect(s: &[u8], at: usize, c: u8, what: &str) -> Result<(), String> {
    match s.get(at) {
        Some(&b) if b == c => Ok(()),
        Some(&b) => Err(format!("expected '{}' {what}, found '{}'", c as char, b as char)),
        None => Err(format!("too short: expected '{}' {what}", c as char)),
    }
}

/// Parses an RFC 3339 `date-time` into Unix epoch seconds (with fraction). The error says which
/// part is wrong; callers add the file and line.
pub fn parse_rfc3339(text: &str) -> Result<f64, String> {
    parse_timestamp(text, false)
}

/// A date and time as Grafana's CSV export and many tools write it: `2024-05-13 09:00:00` (or
/// with `T`, fractional seconds allowed), read as UTC when it carries no zone; a `Z` or offset is
/// honoured as in RFC 3339. Unix seconds.
pub fn parse_datetime(text: &str) -> Result<f64, String> {
    parse_timestamp(text, true)
}

/// RFC 3339 (`lenient == false`), or [`parse_datetime`]'s form (`lenient`: a space may separate
/// date and time, and a missing zone means UTC).
fn parse_timestamp(text: &str, lenient: bool) -> Result<f64, String> {
    let s = text.as_bytes();
    let year = digits(s, 0, 4, "year")?;
    expect(s, 4, b'-', "after the year")?;
    let month = digits(s, 5, 2, "month")?;
    expect(s, 7, b'-', "after the month")?;
    let day = digits(s, 8, 2, "day")?;
    match s.get(10) {
        Some(b'T' | b't') => {}
        Some(b' ') if lenient => {}
        Some(b' ') => return Err("expected 'T' between date and time, found a space".into()),
        Some(&b) => return Err(format!("expected 'T' between date and time, found '{}'", b as char)),
        None => return Err("missing time of day (expected e.g. 2024-01-31T12:00:00Z)".into()),
    }
    let hour = digits(s, 11, 2, "hour")?;
    expect(s, 13, b':', "after the hour")?;
    let minute = digits(s, 14, 2, "minute")?;
    expect(s, 16, b':', "after the minute")?;
    let second = digits(s, 17, 2, "second")?;
    let mut pos = 19;
    let mut frac = 0.0;
    if s.get(pos) == Some(&b'.') {
        let start = pos + 1;
        pos = start;
        while pos < s.len() && s[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos == start {
            return Err("expected digits after '.' in the seconds".into());
        }
        // `text[start..pos]` is ASCII digits: parses as a fraction.
        frac = format!("0.{}", &text[start..pos])
            .parse::<f64>()
            .map_err(|e| e.to_string())?;
    }
    let offset_secs: i64 = match s.get(pos) {
        Some(b'Z' | b'z') => {
            pos += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(s, pos + 1, 2, "offset hours")?;
            expect(s, pos + 3, b':', "in the offset")?;
            let om = digits(s, pos + 4, 2, "offset minutes")?;
            if oh > 23 || om > 59 {
                return Err(format!("offset {oh:02}:{om:02} out of range"));
            }
            pos += 6;
            let v = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -v } else { v }
        }
        Some(&b) => return Err(format!("expected 'Z' or an offset like +02:00, found '{}'", b as char)),
        None if lenient => 0,
        None => return Err("missing time zone: end with 'Z' or an offset like +02:00".into()),
    };
    if pos != s.len() {
        return Err(format!("unexpected text {:?} after the time zone", &text[pos..]));
    }
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} out of range 01-12"));
    }
    let dim = days_in_month(i64::from(year), month);
    if day < 1 || day > dim {
        return Err(format!("day {day} out of range for {year:04}-{month:02} (1-{dim})"));
    }
    if hour > 23 || minute > 59 {
        return Err(format!("time {hour:02}:{minute:02} out of range"));
    }
    if second > 59 {
        return Err(format!(
            "second {second} out of range 00-59 (leap seconds are not supported)"
        ));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Ok(secs as f64 + frac)
}

/// Formats Unix seconds as RFC 3339 UTC, whole seconds (`1995-07-13T13:49:00Z`), for messages.
pub fn format_rfc3339(unix: f64) -> String {
    let secs = unix.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grafana_datetimes_are_utc_unless_zoned() {
        assert_eq!(parse_datetime("1995-07-13 13:49:00"), Ok(805_643_340.0));
        assert_eq!(parse_datetime("1995-07-13T13:49:00"), Ok(805_643_340.0));
        assert_eq!(parse_datetime("1995-07-13 09:49:00-04:00"), Ok(805_643_340.0));
        assert_eq!(parse_datetime("1995-07-13 13:49:00.250"), Ok(805_643_340.25));
        assert!(parse_datetime("1995-07-13").is_err());
        assert!(parse_datetime("1995-07-13 25:00:00").is_err());
        // RFC 3339 stays strict: a zone is required.
        assert!(parse_rfc3339("1995-07-13 13:49:00").is_err());
        assert!(parse_rfc3339("1995-07-13T13:49:00").is_err());
    }

    #[test]
    fn known_instants() {
        // 1995-07-13T13:49:00Z: 9324 days after the epoch (25 years incl. 6 leap days = 9131,
        // + 193 days to 13 July) → 9324 × 86400 + 13×3600 + 49×60 = 805_643_340.
        assert_eq!(parse_rfc3339("1995-07-13T13:49:00Z"), Ok(805_643_340.0));
        assert_eq!(parse_rfc3339("1995-07-13T09:49:00-04:00"), Ok(805_643_340.0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.5z"), Ok(0.5));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00+00:00"), Ok(1_709_164_800.0));
        assert_eq!(format_rfc3339(805_643_340.0), "1995-07-13T13:49:00Z");
        assert_eq!(format_rfc3339(1_709_164_800.0), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn strictness() {
        for (bad, why) in [
            ("2023-02-29T00:00:00Z", "day 29 out of range"),
            ("2024-01-31 12:00:00Z", "found a space"),
            ("2024-01-31T12:00:00", "missing time zone"),
            ("2024-13-01T00:00:00Z", "month 13"),
            ("2024-01-01T24:00:00Z", "out of range"),
            ("2024-01-01T23:59:60Z", "leap seconds"),
            ("2024-01-01T00:00:00.Z", "digits after '.'"),
            ("2024-1-01T00:00:00Z", "month must be 2 digits"),
            ("2024-01-01T00:00:00Zjunk", "unexpected text"),
            ("2024-01-01", "missing time of day"),
        ] {
            let e = parse_rfc3339(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
