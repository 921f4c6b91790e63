//! Asset returns from candle files, as the risk commands read them: simple close-to-close
//! returns on the open times common to every file (an inner join; a return spans two
//! consecutive common rows), one column an asset named after its file's stem.

use crate::feeds::candles::{self, CandleError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use stratbox_quant::Matrix;

/// Why returns could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReturnsError {
    /// A file could not be read or parsed.
    #[error(transparent)]
    Candles(#[from] CandleError),
    /// A close that is not a positive number.
    #[error("{}: the close at open time {open_time} is {close}, not a positive price", .path.display())]
    BadClose {
        /// The file.
        path: PathBuf,
        /// The row's open time.
        open_time: i64,
        /// Its close.
        close: String,
    },
    /// Too few open times common to all files.
    #[error("the files share {0} open times: at least 2 are needed for one return")]
    TooFewCommonRows(usize),
    /// Two files with the same stem.
    #[error("two price files are both named {0:?}: each asset needs its own file name")]
    DuplicateName(String),
    /// The returns themselves.
    #[error(transparent)]
    Quant(#[from] stratbox_quant::QuantError),
}

/// Aligned returns: the assets' names and one row of returns a common bar.
#[derive(Clone, Debug)]
pub struct Returns {
    /// Each column's asset, by file stem.
    pub names: Vec<String>,
    /// The open time each row's return ends at.
    pub times: Vec<i64>,
    /// Simple returns, one row a bar.
    pub matrix: Matrix,
}

/// Reads each candle file and aligns their closes.
pub fn read(paths: &[PathBuf]) -> Result<Returns, ReturnsError> {
    let mut named = Vec::new();
    for path in paths {
        let mut series = BTreeMap::new();
        for c in candles::read_file(path)? {
            let close = c.close.to_f64();
            if !(close.is_finite() && close > 0.0) {
                return Err(ReturnsError::BadClose {
                    path: path.clone(),
                    open_time: c.open_time,
                    close: c.close.as_str().to_string(),
                });
            }
            series.insert(c.open_time, close);
        }
        named.push((stem(path), series));
    }
    align(named)
}

/// Aligns named close series (open time -> close): the API's form of the candle files.
pub fn from_series(series: Vec<(String, Vec<(i64, f64)>)>) -> Result<Returns, ReturnsError> {
    let mut named = Vec::new();
    for (name, points) in series {
        let mut closes = BTreeMap::new();
        for (open_time, close) in points {
            if !(close.is_finite() && close > 0.0) {
                return Err(ReturnsError::BadClose {
                    path: PathBuf::from(&name),
                    open_time,
                    close: close.to_string(),
                });
            }
            closes.insert(open_time, close);
        }
        named.push((name, closes));
    }
    align(named)
}

/// Returns on the open times every series has.
fn align(named: Vec<(String, BTreeMap<i64, f64>)>) -> Result<Returns, ReturnsError> {
    let mut names: Vec<String> = Vec::new();
    let mut closes: Vec<BTreeMap<i64, f64>> = Vec::new();
    for (name, series) in named {
        if names.contains(&name) {
            return Err(ReturnsError::DuplicateName(name));
        }
        names.push(name);
        closes.push(series);
    }
    let common: Vec<i64> = match closes.split_first() {
        Some((first, rest)) => first
            .keys()
            .copied()
            .filter(|t| rest.iter().all(|s| s.contains_key(t)))
            .collect(),
        None => Vec::new(),
    };
    if common.len() < 2 {
        return Err(ReturnsError::TooFewCommonRows(common.len()));
    }
    let mut data = Vec::with_capacity((common.len() - 1) * closes.len());
    for pair in common.windows(2) {
        for series in &closes {
            data.push(series[&pair[1]] / series[&pair[0]] - 1.0);
        }
    }
    Ok(Returns {
        names,
        times: common[1..].to_vec(),
        matrix: Matrix::new(common.len() - 1, closes.len(), data)?,
    })
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
