//! Order latency of a simulated venue: how long a request takes to reach the venue (entry) and
//! how long the venue's answer takes to come back (response). Constant, or interpolated from a
//! recorded file as hftbacktest's `IntpOrderLatency` does: rows of `req_ts,exch_ts,resp_ts` in
//! nanoseconds (a request sent at `req_ts` reached the venue at `exch_ts`; its answer came back
//! at `resp_ts`), entry and response latency linearly interpolated at the request's time.

use crate::model::TimestampMs;
use std::path::Path;

/// One recorded round trip, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    request: i64,
    exchange: i64,
    response: i64,
}

/// Why a latency file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LatencyError {
    /// The file could not be read.
    #[error("cannot read latency file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("latency file {path}, line {line}: {detail}")]
    Row {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// The file has no rows.
    #[error("latency file {0} has no rows")]
    Empty(String),
}

/// Latency of orders to and from a simulated venue, in event-time milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LatencyModel {
    /// The same every time.
    Constant {
        /// Request to venue.
        entry_ms: i64,
        /// Venue to strategy.
        response_ms: i64,
    },
    /// Interpolated from recorded round trips, sorted by request time.
    Recorded(Vec<RowMs>),
}

/// A recorded round trip, with its latencies in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowMs {
    request_ns: i64,
    entry_ns: i64,
    response_ns: i64,
}

impl Default for LatencyModel {
    fn default() -> Self {
        LatencyModel::Constant {
            entry_ms: 0,
            response_ms: 0,
        }
    }
}

impl LatencyModel {
    /// Both ways `ms` milliseconds.
    pub fn constant(entry_ms: i64, response_ms: i64) -> Self {
        LatencyModel::Constant {
            entry_ms: entry_ms.max(0),
            response_ms: response_ms.max(0),
        }
    }

    /// Reads a recorded latency file: CSV `req_ts,exch_ts,resp_ts` in nanoseconds, with or
    /// without a header; further columns are ignored. Rows whose exchange time is not after the
    /// request (a venue outage marked by a zero time, as hftbacktest records them) are skipped.
    pub fn from_file(path: &Path) -> Result<Self, LatencyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LatencyError::Io {
            path: shown.clone(),
            source,
        })?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || (i == 0 && line.starts_with(|c: char| c.is_ascii_alphabetic())) {
                continue;
            }
            let bad = |detail: String| LatencyError::Row {
                path: shown.clone(),
                line: i + 1,
                detail,
            };
            let fields: Vec<i64> = line
                .split(',')
                .take(3)
                .map(|f| {
                    f.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .map(|x| x as i64)
                        .ok_or_else(|| bad(format!("{f:?} is not a number")))
                })
                .collect::<Result<_, _>>()?;
            let [request, exchange, response] = fields[..] else {
                return Err(bad("expected req_ts,exch_ts,resp_ts".into()));
            };
            if exchange <= request || response < exchange {
                continue;
            }
            rows.push(Row {
                request,
                exchange,
                response,
            });
        }
        if rows.is_empty() {
            return Err(LatencyError::Empty(shown));
        }
        rows.sort_by_key(|r| r.request);
        Ok(LatencyModel::Recorded(
            rows.into_iter()
                .map(|r| RowMs {
                    request_ns: r.request,
                    entry_ns: r.exchange - r.request,
                    response_ns: r.response - r.exchange,
                })
                .collect(),
        ))
    }

    /// (entry, response) latency of a request sent at `at`, in milliseconds.
    pub fn latencies(&self, at: TimestampMs) -> (i64, i64) {
        match self {
            LatencyModel::Constant {
                entry_ms,
                response_ms,
            } => (*entry_ms, *response_ms),
            LatencyModel::Recorded(rows) => {
                let t = at.saturating_mul(1_000_000);
                let i = rows.partition_point(|r| r.request_ns <= t);
                let (entry, response) = match (i.checked_sub(1).map(|j| rows[j]), rows.get(i)) {
                    (Some(a), Some(b)) if b.request_ns > a.request_ns => {
                        let w = (t - a.request_ns) as f64 / (b.request_ns - a.request_ns) as f64;
                        let lerp = |x: i64, y: i64| x as f64 + (y - x) as f64 * w;
                        (
                            lerp(a.entry_ns, b.entry_ns),
                            lerp(a.response_ns, b.response_ns),
                        )
                    }
                    (Some(a), _) => (a.entry_ns as f64, a.response_ns as f64),
                    (None, Some(b)) => (b.entry_ns as f64, b.response_ns as f64),
                    (None, None) => (0.0, 0.0),
                };
                let ms = |ns: f64| (ns / 1e6).round() as i64;
                (ms(entry), ms(response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_latency_is_interpolated_at_the_request_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latency.csv");
        std::fs::write(
            &path,
            "req_ts,exch_ts,resp_ts\n\
             1000000000,1002000000,1003000000\n\
             2000000000,2006000000,2009000000\n\
             1500000000,0,0\n",
        )
        .unwrap();
        let model = LatencyModel::from_file(&path).unwrap();
        // 2 ms / 1 ms at 1 s, 6 ms / 3 ms at 2 s: halfway is 4 ms / 2 ms.
        assert_eq!(model.latencies(1_000), (2, 1));
        assert_eq!(model.latencies(1_500), (4, 2));
        assert_eq!(model.latencies(2_000), (6, 3));
        assert_eq!(
            model.latencies(500),
            (2, 1),
            "before the first row: the first"
        );
        assert_eq!(model.latencies(9_000), (6, 3), "after the last: the last");
        std::fs::write(&path, "1,x,3\n").unwrap();
        let err = LatencyModel::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("\"x\""), "{err}");
        assert_eq!(LatencyModel::constant(5, -1).latencies(0), (5, 0));
    }
}
