//! Replay of a candle file as engine bars.

pub use super::candles::CandleError as ReplayError;
use super::candles::{infer_interval, read_file};
use crate::model::{Bar, SymbolId};
use std::path::Path;

/// Reads every candle of `path` as bars of `symbol`. The interval is the smallest gap between
/// consecutive open times unless `interval_ms` is given.
pub fn read_candles(
    path: &Path,
    symbol: SymbolId,
    interval_ms: Option<u32>,
) -> Result<Vec<Bar>, ReplayError> {
    let candles = read_file(path)?;
    let interval = interval_ms
        .or_else(|| infer_interval(&candles))
        .unwrap_or(60_000);
    Ok(candles.iter().map(|c| c.to_bar(symbol, interval)).collect())
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
    n.checked_mul(unit_ms).filter(|&ms| ms > 0)
}

/// A kline interval's name (`1m`, `4h`) from its length.
pub fn interval_name(ms: u32) -> String {
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_intervals() {
        assert_eq!(parse_interval("1m"), Some(60_000));
        assert_eq!(parse_interval("4h"), Some(14_400_000));
        assert_eq!(parse_interval("0m"), None);
        assert_eq!(parse_interval("m"), None);
        assert_eq!(parse_interval("5x"), None);
    }
}
