//! Replay of candles from CSV: the plain `open_time_ms,open,high,low,close,volume` format (with
//! a header) and Binance's public kline dumps (twelve columns, no header, open times in
//! milliseconds or microseconds).

use crate::model::{Bar, SymbolId};
use std::path::Path;

/// Why a candle file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("{path}, line {line}: {message}")]
    Row {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file has no candles.
    #[error("{0}: no candles")]
    Empty(String),
}

/// Reads every candle of `path` for `symbol`. The interval is the smallest gap between
/// consecutive open times unless `interval_ms` is given.
pub fn read_candles(
    path: &Path,
    symbol: SymbolId,
    interval_ms: Option<u32>,
) -> Result<Vec<Bar>, ReplayError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ReplayError::Io {
        path: shown.clone(),
        source,
    })?;
    parse_candles(&text, &shown, symbol, interval_ms)
}

/// Parses candle CSV text; `origin` names it in errors.
pub fn parse_candles(
    text: &str,
    origin: &str,
    symbol: SymbolId,
    interval_ms: Option<u32>,
) -> Result<Vec<Bar>, ReplayError> {
    let mut rows: Vec<(i64, [f64; 5])> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let err = |message: String| ReplayError::Row {
            path: origin.to_string(),
            line: line_no,
            message,
        };
        if index == 0 && fields[0].parse::<f64>().is_err() {
            continue; // header
        }
        if fields.len() != 6 && fields.len() != 12 {
            return Err(err(format!(
                "expected 6 columns (open_time_ms,open,high,low,close,volume) or Binance's 12, found {}",
                fields.len()
            )));
        }
        let mut open_time: i64 = fields[0]
            .parse()
            .map_err(|_| err(format!("open time {:?} is not an integer", fields[0])))?;
        if open_time > 100_000_000_000_000 {
            open_time /= 1000; // Binance dumps since 2025 use microseconds
        }
        let mut values = [0.0; 5];
        for (i, name) in ["open", "high", "low", "close", "volume"]
            .iter()
            .enumerate()
        {
            let v: f64 = fields[i + 1]
                .parse()
                .map_err(|_| err(format!("{name} {:?} is not a number", fields[i + 1])))?;
            if !v.is_finite() || v < 0.0 {
                return Err(err(format!("{name} {v} must be finite and not negative")));
            }
            values[i] = v;
        }
        let [open, high, low, close, _] = values;
        if high < low || high < open.max(close) || low > open.min(close) {
            return Err(err(format!(
                "inconsistent candle: open {open} high {high} low {low} close {close}"
            )));
        }
        if let Some(&(prev, _)) = rows.last() {
            if open_time <= prev {
                return Err(err(format!(
                    "open time {open_time} is not after the previous {prev}"
                )));
            }
        }
        rows.push((open_time, values));
    }
    if rows.is_empty() {
        return Err(ReplayError::Empty(origin.to_string()));
    }
    let interval = interval_ms.unwrap_or_else(|| {
        rows.windows(2)
            .map(|w| (w[1].0 - w[0].0) as u32)
            .min()
            .unwrap_or(60_000)
    });
    Ok(rows
        .into_iter()
        .map(|(open_time, [open, high, low, close, volume])| Bar {
            symbol,
            interval_ms: interval,
            open_time,
            open,
            high,
            low,
            close,
            volume,
        })
        .collect())
}

/// Parses an interval such as `1m`, `5m`, `1h`, `1d` into milliseconds.
pub fn parse_interval(text: &str) -> Option<u32> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = number.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_binance_formats() {
        let plain =
            "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n60000,1.5,2,1,1.2,3\n";
        let bars = parse_candles(plain, "t", 0, None).unwrap();
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[1].interval_ms, 60_000);
        assert_eq!(bars[1].close_time(), 120_000);
        let binance = "1700000000000000,1,2,0.5,1.5,10,0,0,0,0,0,0\n1700000300000000,1.5,2,1,1.2,3,0,0,0,0,0,0\n";
        let bars = parse_candles(binance, "t", 0, None).unwrap();
        assert_eq!(bars[0].open_time, 1_700_000_000_000);
        assert_eq!(bars[0].interval_ms, 300_000);
    }

    #[test]
    fn names_the_bad_line() {
        let text = "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n60000,x,2,1,1.2,3\n";
        let err = parse_candles(text, "f.csv", 0, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("f.csv, line 3") && err.contains("open"),
            "{err}"
        );
        let err = parse_candles("0,1,0.5,2,1,1\n", "f.csv", 0, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("inconsistent"), "{err}");
    }

    #[test]
    fn parses_intervals() {
        assert_eq!(parse_interval("1m"), Some(60_000));
        assert_eq!(parse_interval("4h"), Some(14_400_000));
        assert_eq!(parse_interval("m"), None);
        assert_eq!(parse_interval("5x"), None);
    }
}
