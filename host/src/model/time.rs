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

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a time in ms since the epoch, or `YYYY-MM-DD HH:MM` without
/// `seconds` (Howard Hinnant's civil_from_days).
pub fn format_utc(ms: i64, seconds: bool) -> String {
    let (days, rest) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60);
    if seconds {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}")
    }
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
        for ms in [0, 1_509_838_920_000, 1_709_208_001_000, -86_400_000] {
            let text = format_utc(ms, true);
            assert_eq!(parse_utc_ms(&text), Some(ms), "{text}");
        }
        assert_eq!(format_utc(1_709_208_001_000, true), "2024-02-29 12:00:01");
        assert_eq!(format_utc(1_709_208_001_000, false), "2024-02-29 12:00");
    }
}
