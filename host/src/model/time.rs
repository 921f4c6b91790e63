//! UTC calendar dates to and from Unix milliseconds, for command-line ranges and reports, and
//! the wall clock for bookkeeping (never for trading decisions, which run on event time).

/// Milliseconds since the Unix epoch by the wall clock (0 if it reads before 1970).
pub fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS` (UTC, `Z` optional) or a
/// plain integer of milliseconds.
pub fn parse_utc_ms(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches('Z');
    if let Ok(ms) = t.parse::<i64>() {
        return Some(ms);
    }
    let (date, time) = t.split_once(['T', ' ']).unwrap_or((t, "00:00:00"));
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min) = (hms.next()??, hms.next()??);
    let s = hms.next().flatten().unwrap_or(0);
    if !(0..24).contains(&h) || !(0..60).contains(&min) || !(0..60).contains(&s) {
        return None;
    }
    Some(((days_from_civil(y, m, day) * 24 + h) * 60 + min) * 60_000 + s * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_times() {
        assert_eq!(parse_utc_ms("1970-01-01"), Some(0));
        assert_eq!(parse_utc_ms("2017-11-04T23:42"), Some(1_509_838_920_000));
        assert_eq!(
            parse_utc_ms("2024-02-29T12:00:01Z"),
            Some(1_709_208_001_000)
        );
        assert_eq!(parse_utc_ms("1509836520000"), Some(1_509_836_520_000));
        assert_eq!(parse_utc_ms("2024-13-01"), None);
        assert_eq!(parse_utc_ms("yesterday"), None);
    }
}
