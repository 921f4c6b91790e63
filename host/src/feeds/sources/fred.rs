//! FRED's CSV downloads: a header `DATE,<SERIES>` (or `observation_date,<SERIES>`), one row per
//! period, `.` for a missing value.

use super::Observation;
use crate::model::time::parse_utc_ms;

/// Parses a FRED CSV into observations, received at `known_at`; missing values are skipped.
pub fn parse_fred_csv(body: &str, known_at: i64) -> Result<Vec<Observation>, String> {
    let mut lines = body.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("fred: empty CSV")?;
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    if columns.len() != 2
        || !matches!(
            columns[0].to_ascii_lowercase().as_str(),
            "date" | "observation_date"
        )
    {
        return Err(format!(
            "fred: expected a header DATE,<SERIES>, found {header:?}"
        ));
    }
    let series = columns[1].to_string();
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let (date, value) = line
            .split_once(',')
            .ok_or_else(|| format!("fred: line {}: expected two columns", i + 2))?;
        let observed_at = parse_utc_ms(date.trim())
            .ok_or_else(|| format!("fred: line {}: date {date:?}", i + 2))?;
        let value = value.trim();
        if value == "." || value.is_empty() {
            continue;
        }
        let value: f64 = value
            .parse()
            .map_err(|_| format!("fred: line {}: value {value:?} is not a number", i + 2))?;
        out.push(Observation {
            source: "fred".into(),
            series: series.clone(),
            observed_at,
            known_at,
            value,
            label: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_headers_and_skips_missing_values() {
        let obs = parse_fred_csv(
            "DATE,CPIAUCSL\n2020-01-01,259.050\n2020-02-01,.\n2020-03-01,258.115\n",
            5,
        )
        .unwrap();
        assert_eq!(obs.len(), 2);
        assert_eq!(
            (obs[0].series.as_str(), obs[0].value, obs[0].observed_at),
            ("CPIAUCSL", 259.05, 1_577_836_800_000)
        );
        let obs = parse_fred_csv("observation_date,DGS10\n2024-01-02,3.95\n", 5).unwrap();
        assert_eq!(obs[0].series, "DGS10");
        assert!(
            parse_fred_csv("when,what\n", 0)
                .unwrap_err()
                .contains("header")
        );
        assert!(
            parse_fred_csv("DATE,X\n2020-01-01,abc\n", 0)
                .unwrap_err()
                .contains("line 2")
        );
    }
}
