//! Candle files: the plain `open_time_ms,open,high,low,close,volume` CSV (with a header) and
//! Binance's public kline dumps (twelve columns, no header, open times in milliseconds or, since
//! 2025, microseconds), bare or zipped. Values stay exact decimal text, so an import followed by
//! an export gives back the same values.

use crate::model::{Bar, Decimal, SymbolId};
use std::io::{BufRead, Read};
use std::path::Path;

/// One candle with exact values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candle {
    /// Open time in milliseconds.
    pub open_time: i64,
    /// Opening price.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Closing price.
    pub close: Decimal,
    /// Base volume.
    pub volume: Decimal,
}

impl Candle {
    /// The candle as an engine bar of `symbol` and `interval_ms`.
    pub fn to_bar(&self, symbol: SymbolId, interval_ms: u32) -> Bar {
        Bar {
            symbol,
            interval_ms,
            open_time: self.open_time,
            open: self.open.to_f64(),
            high: self.high.to_f64(),
            low: self.low.to_f64(),
            close: self.close.to_f64(),
            volume: self.volume.to_f64(),
        }
    }
}

/// Why a candle file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CandleError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        message: String,
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

/// The header of the plain format.
pub const HEADER: &str = "open_time_ms,open,high,low,close,volume";

/// Reads a candle file; a `.zip` is read through its first CSV entry.
pub fn read_file(path: &Path) -> Result<Vec<Candle>, CandleError> {
    let candles = rows(path)?.collect::<Result<Vec<_>, _>>()?;
    if candles.is_empty() {
        return Err(CandleError::Empty(path.display().to_string()));
    }
    Ok(candles)
}

/// The candles of a file one by one, read as they are asked for (a plain file or pipe is never
/// held whole; a `.zip`'s CSV entry is inflated in memory first). Stops at the first bad row,
/// after its error.
pub fn rows(path: &Path) -> Result<Rows, CandleError> {
    open_rows(path, true)
}

/// Every candle of a file with its line number, each row's syntax checked but not its values
/// or its order (what [`crate::history::quality`] reports on, all at once, where
/// [`read_file`] stops at the first).
pub fn read_unchecked(path: &Path) -> Result<Vec<(usize, Candle)>, CandleError> {
    let mut rows = open_rows(path, false)?;
    let mut out = Vec::new();
    while let Some(candle) = rows.next() {
        out.push((rows.parser.line, candle?));
    }
    if out.is_empty() {
        return Err(CandleError::Empty(path.display().to_string()));
    }
    Ok(out)
}

fn open_rows(path: &Path, checked: bool) -> Result<Rows, CandleError> {
    let shown = path.display().to_string();
    let io = |message: String| CandleError::Io {
        path: shown.clone(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| io(e.to_string()))?;
    let mut buffered = std::io::BufReader::with_capacity(1 << 16, file);
    // Peeked, not consumed (a pipe cannot seek back).
    let zipped = buffered
        .fill_buf()
        .map_err(|e| io(e.to_string()))?
        .starts_with(b"PK\x03\x04");
    let reader: Box<dyn BufRead + Send> = if zipped {
        let mut bytes = Vec::new();
        buffered
            .read_to_end(&mut bytes)
            .map_err(|e| io(e.to_string()))?;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| io(format!("not a readable zip: {e}")))?;
        let index = (0..archive.len())
            .find(|&i| {
                archive
                    .name_for_index(i)
                    .and_then(Result::ok)
                    .is_some_and(|n| n.to_ascii_lowercase().ends_with(".csv"))
            })
            .ok_or_else(|| io("the zip holds no .csv file".into()))?;
        let mut entry = archive.by_index(index).map_err(|e| io(e.to_string()))?;
        let mut text = Vec::new();
        entry
            .read_to_end(&mut text)
            .map_err(|e| io(format!("zip entry {index}: {e}")))?;
        Box::new(std::io::Cursor::new(text))
    } else {
        Box::new(buffered)
    };
    Ok(Rows {
        reader,
        line: String::new(),
        parser: RowParser {
            checked,
            ..RowParser::new(&shown)
        },
        done: false,
    })
}

/// The candles of a file, row by row: [`rows`].
pub struct Rows {
    reader: Box<dyn BufRead + Send>,
    line: String,
    parser: RowParser,
    done: bool,
}

impl Iterator for Rows {
    type Item = Result<Candle, CandleError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.line.clear();
            let read = match self.reader.read_line(&mut self.line) {
                Ok(read) => read,
                Err(e) => {
                    self.done = true;
                    let path = self.parser.origin.clone();
                    return Some(Err(if e.kind() == std::io::ErrorKind::InvalidData {
                        CandleError::Row {
                            path,
                            line: self.parser.line + 1,
                            message: "not UTF-8 text".into(),
                        }
                    } else {
                        CandleError::Io {
                            path,
                            message: e.to_string(),
                        }
                    }));
                }
            };
            if read == 0 {
                self.done = true;
                break;
            }
            match self.parser.row(&self.line) {
                Ok(Some(candle)) => return Some(Ok(candle)),
                Ok(None) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// Parses candle CSV text; `origin` names it in errors. Rows must be in increasing open time.
pub fn parse_csv(text: &str, origin: &str) -> Result<Vec<Candle>, CandleError> {
    let mut parser = RowParser::new(origin);
    let mut candles: Vec<Candle> = Vec::new();
    for line in text.lines() {
        if let Some(candle) = parser.row(line)? {
            candles.push(candle);
        }
    }
    if candles.is_empty() {
        return Err(CandleError::Empty(origin.to_string()));
    }
    Ok(candles)
}

/// Parses a candle file's lines in order, checking each against the one before.
struct RowParser {
    origin: String,
    /// Lines seen.
    line: usize,
    /// The previous candle's open time.
    previous: Option<i64>,
    /// Whether values and order are checked, not only syntax.
    checked: bool,
}

impl RowParser {
    fn new(origin: &str) -> Self {
        RowParser {
            origin: origin.to_string(),
            line: 0,
            previous: None,
            checked: true,
        }
    }

    /// The candle of the next line, none for a blank line or the header.
    fn row(&mut self, line: &str) -> Result<Option<Candle>, CandleError> {
        self.line += 1;
        let line_no = self.line;
        let line = line.trim();
        if line.is_empty() {
            return Ok(None);
        }
        let err = |message: String| CandleError::Row {
            path: self.origin.clone(),
            line: line_no,
            message,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if line_no == 1 && fields[0].parse::<i64>().is_err() {
            return Ok(None); // header
        }
        if fields.len() != 6 && fields.len() != 12 {
            return Err(err(format!(
                "expected 6 columns ({HEADER}) or Binance's 12, found {}",
                fields.len()
            )));
        }
        let mut open_time: i64 = fields[0]
            .parse()
            .map_err(|_| err(format!("open time {:?} is not an integer", fields[0])))?;
        if open_time > 100_000_000_000_000 {
            open_time /= 1000; // microseconds
        }
        if open_time < 0 {
            return Err(err(format!("open time {open_time} is negative")));
        }
        let mut values: Vec<Decimal> = Vec::with_capacity(5);
        for (i, name) in ["open", "high", "low", "close", "volume"]
            .iter()
            .enumerate()
        {
            let d: Decimal = fields[i + 1].parse().map_err(|_| {
                err(format!(
                    "{name} {:?} is not a decimal number",
                    fields[i + 1]
                ))
            })?;
            if self.checked && d.as_str().starts_with('-') {
                return Err(err(format!("{name} {d} is negative")));
            }
            values.push(d);
        }
        let [open, high, low, close, volume]: [Decimal; 5] =
            values.try_into().expect("five values");
        let (o, h, l, c) = (open.to_f64(), high.to_f64(), low.to_f64(), close.to_f64());
        if self.checked && (h < l || h < o.max(c) || l > o.min(c)) {
            return Err(err(format!(
                "inconsistent candle: open {open} high {high} low {low} close {close}"
            )));
        }
        if self.checked
            && let Some(previous) = self.previous
            && open_time <= previous
        {
            return Err(err(format!(
                "open time {open_time} is not after the previous {previous}"
            )));
        }
        self.previous = Some(open_time);
        Ok(Some(Candle {
            open_time,
            open,
            high,
            low,
            close,
            volume,
        }))
    }
}

/// Writes candles in the plain format, header first.
pub fn write_csv(candles: &[Candle], out: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for c in candles {
        writeln!(
            out,
            "{},{},{},{},{},{}",
            c.open_time, c.open, c.high, c.low, c.close, c.volume
        )?;
    }
    Ok(())
}

/// The smallest gap between consecutive open times, the usual way to infer the interval.
pub fn infer_interval(candles: &[Candle]) -> Option<u32> {
    candles
        .windows(2)
        .map(|w| w[1].open_time - w[0].open_time)
        .min()
        .and_then(|d| u32::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_binance_formats_exactly() {
        let plain =
            "open_time_ms,open,high,low,close,volume\n0,1.50,2,0.5,1.5,10\n60000,1.5,2,1,1.2,3\n";
        let candles = parse_csv(plain, "t").unwrap();
        assert_eq!(candles[0].open.as_str(), "1.5");
        assert_eq!(infer_interval(&candles), Some(60_000));
        let binance = "1700000000000000,1,2,0.5,1.5,10,0,0,0,0,0,0\n1700000300000000,1.5,2,1,1.2,3,0,0,0,0,0,0\n";
        let candles = parse_csv(binance, "t").unwrap();
        assert_eq!(candles[0].open_time, 1_700_000_000_000);
        let mut out = Vec::new();
        write_csv(&candles, &mut out).unwrap();
        assert_eq!(
            parse_csv(std::str::from_utf8(&out).unwrap(), "again").unwrap(),
            candles
        );
    }

    #[test]
    fn names_the_bad_line() {
        let text = "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n60000,x,2,1,1.2,3\n";
        let err = parse_csv(text, "f.csv").unwrap_err().to_string();
        assert!(
            err.contains("f.csv, line 3") && err.contains("open"),
            "{err}"
        );
        let err = parse_csv("0,1,0.5,2,1,1\n", "f.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("inconsistent"), "{err}");
        let err = parse_csv("0,1,2,0.5,1,1\n0,1,2,0.5,1,1\n", "f.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not after"), "{err}");
    }
}
