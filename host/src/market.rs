//! The host's view of the market: symbols, the recent closed bars of each, and the latest
//! price. Guests read it through the WIT `market` interface; the engine writes it once per event.
//!
//! Until the feature engine lands, named features are computed here from the recent bars.

use crate::feeds::BookTop;
use crate::feeds::sources::{Headline, Observation, SourceEvent};
use crate::model::{Bar, Fixed, SymbolId, SymbolTable, TimestampMs};
use crate::risk::Marks;
use std::collections::HashMap;
use std::collections::VecDeque;

/// How many closed bars are kept per symbol.
pub const HISTORY: usize = 1_000;
/// How many headlines are kept.
pub const HEADLINES: usize = 200;

/// Symbols, recent bars and marks.
#[derive(Debug, Default, Clone)]
pub struct MarketData {
    /// Names and ids.
    pub symbols: SymbolTable,
    history: Vec<VecDeque<Bar>>,
    books: Vec<Option<BookTop>>,
    observations: HashMap<String, Observation>,
    headlines: VecDeque<Headline>,
    /// Latest close of each symbol.
    pub marks: Marks,
}

/// Market summary handed to signal optimizers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conditions {
    /// The symbol.
    pub symbol: SymbolId,
    /// Event time.
    pub time: TimestampMs,
    /// Standard deviation of the last 20 log returns.
    pub volatility: f64,
    /// Return over the last 20 bars.
    pub trend: f64,
    /// Last volume over the 20-bar average volume.
    pub volume_ratio: f64,
}

impl MarketData {
    /// Records a closed bar.
    pub fn push_bar(&mut self, bar: Bar) {
        let i = bar.symbol as usize;
        if self.history.len() <= i {
            self.history.resize_with(i + 1, VecDeque::new);
        }
        let h = &mut self.history[i];
        if h.len() == HISTORY {
            h.pop_front();
        }
        h.push_back(bar);
        if let Ok(close) = Fixed::from_f64(bar.close) {
            self.marks.set(bar.symbol, close);
        }
    }

    /// Records the latest best levels of a symbol's book.
    pub fn set_book(&mut self, book: BookTop) {
        let i = book.symbol as usize;
        if self.books.len() <= i {
            self.books.resize(i + 1, None);
        }
        self.books[i] = Some(book);
    }

    /// Records a value or headline from a non-market source. A series keeps its value for the
    /// latest period; headlines keep the last [`HEADLINES`].
    pub fn record(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Observation(o) => {
                let key = format!("{}.{}", o.source, o.series);
                if self
                    .observations
                    .get(&key)
                    .is_none_or(|old| old.observed_at <= o.observed_at)
                {
                    self.observations.insert(key, o);
                }
            }
            SourceEvent::Headline(h) => {
                if self.headlines.len() == HEADLINES {
                    self.headlines.pop_front();
                }
                self.headlines.push_back(h);
            }
        }
    }

    /// The latest value of a source's series, by `source.series` name.
    pub fn observation(&self, name: &str) -> Option<&Observation> {
        self.observations.get(name)
    }

    /// The most recent headlines, oldest first.
    pub fn headlines(&self) -> impl Iterator<Item = &Headline> {
        self.headlines.iter()
    }

    /// The latest book of `symbol`, if a live feed keeps one.
    pub fn book(&self, symbol: SymbolId) -> Option<&BookTop> {
        self.books.get(symbol as usize)?.as_ref()
    }

    /// The most recent `count` bars of `symbol`, oldest first.
    pub fn recent_bars(&self, symbol: SymbolId, count: usize) -> impl Iterator<Item = &Bar> {
        let h = self.history.get(symbol as usize);
        let len = h.map_or(0, VecDeque::len);
        h.into_iter()
            .flat_map(|h| h.iter())
            .skip(len.saturating_sub(count))
    }

    /// The last bar of `symbol`.
    pub fn last_bar(&self, symbol: SymbolId) -> Option<&Bar> {
        self.history.get(symbol as usize)?.back()
    }

    /// A named feature of `symbol`: `Ok(None)` while history is too short.
    pub fn feature(&self, symbol: SymbolId, name: &str) -> Result<Option<f64>, String> {
        if name.contains('.') {
            // A source's series, e.g. `fear_greed.value` or `fred.DGS10`: the same for every symbol.
            return Ok(self.observation(name).map(|o| o.value));
        }
        let unknown = || {
            format!(
                "unknown feature {name:?}; accepted: open, high, low, close, volume, return_N, sma_N, \
                 volatility_N, highest_N, lowest_N, volume_sma_N (N from 1 to {HISTORY}), and \
                 <source>.<series> for polled sources (fear_greed.value, fred.<SERIES>)"
            )
        };
        let (base, n) = match name.rsplit_once('_') {
            Some((base, n)) => {
                let n: usize = n.parse().map_err(|_| unknown())?;
                if n == 0 || n > HISTORY - 1 {
                    return Err(unknown());
                }
                (base, n)
            }
            None => (name, 0),
        };
        let Some(history) = self.history.get(symbol as usize).filter(|h| !h.is_empty()) else {
            return if matches!(
                base,
                "open"
                    | "high"
                    | "low"
                    | "close"
                    | "volume"
                    | "return"
                    | "sma"
                    | "volatility"
                    | "highest"
                    | "lowest"
                    | "volume_sma"
            ) {
                Ok(None)
            } else {
                Err(unknown())
            };
        };
        let last = history.back().copied().expect("non-empty");
        let window = |k: usize| (history.len() >= k).then(|| history.range(history.len() - k..));
        let value = match (base, n) {
            ("open", 0) => Some(last.open),
            ("high", 0) => Some(last.high),
            ("low", 0) => Some(last.low),
            ("close", 0) => Some(last.close),
            ("volume", 0) => Some(last.volume),
            ("return", n) => window(n + 1).map(|mut w| {
                let first = w.next().expect("window").close;
                if first == 0.0 {
                    0.0
                } else {
                    last.close / first - 1.0
                }
            }),
            ("sma", n) => window(n).map(|w| w.map(|b| b.close).sum::<f64>() / n as f64),
            ("volume_sma", n) => window(n).map(|w| w.map(|b| b.volume).sum::<f64>() / n as f64),
            ("highest", n) => window(n).map(|w| w.map(|b| b.high).fold(f64::MIN, f64::max)),
            ("lowest", n) => window(n).map(|w| w.map(|b| b.low).fold(f64::MAX, f64::min)),
            ("volatility", n) => window(n + 1).map(|w| {
                let closes: Vec<f64> = w.map(|b| b.close).collect();
                let rets: Vec<f64> = closes
                    .windows(2)
                    .map(|p| {
                        if p[0] > 0.0 && p[1] > 0.0 {
                            (p[1] / p[0]).ln()
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let mean = rets.iter().sum::<f64>() / n as f64;
                (rets.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / n as f64).sqrt()
            }),
            _ => return Err(unknown()),
        };
        Ok(value)
    }

    /// The conditions of `symbol` at its last bar, if it has one.
    pub fn conditions(&self, symbol: SymbolId) -> Option<Conditions> {
        let last = self.last_bar(symbol)?;
        let f = |name: &str| self.feature(symbol, name).ok().flatten();
        let volume_ratio = f("volume_sma_20")
            .filter(|&v| v > 0.0)
            .map_or(1.0, |avg| last.volume / avg);
        Some(Conditions {
            symbol,
            time: last.close_time(),
            volatility: f("volatility_20").unwrap_or(0.0),
            trend: f("return_20").unwrap_or(0.0),
            volume_ratio,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(closes: &[f64]) -> MarketData {
        let mut m = MarketData::default();
        let s = m.symbols.intern("BTCUSDT");
        for (i, &c) in closes.iter().enumerate() {
            m.push_bar(Bar {
                symbol: s,
                interval_ms: 60_000,
                open_time: i as i64 * 60_000,
                open: c,
                high: c + 1.0,
                low: c - 1.0,
                close: c,
                volume: 10.0 + i as f64,
            });
        }
        m
    }

    #[test]
    fn features_follow_their_definitions() {
        let m = data(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.feature(0, "sma_2"), Ok(Some(3.5)));
        assert_eq!(m.feature(0, "sma_5"), Ok(None));
        assert_eq!(m.feature(0, "return_3"), Ok(Some(3.0)));
        assert_eq!(m.feature(0, "highest_3"), Ok(Some(5.0)));
        assert_eq!(m.feature(0, "close"), Ok(Some(4.0)));
        assert!(m.feature(0, "rsi_14").unwrap_err().contains("accepted"));
        assert!(m.feature(0, "sma_0").is_err());
        assert_eq!(
            m.recent_bars(0, 2).map(|b| b.close).collect::<Vec<_>>(),
            vec![3.0, 4.0]
        );
        assert_eq!(m.feature(7, "sma_2"), Ok(None));
    }

    #[test]
    fn source_values_are_features_and_the_latest_period_wins() {
        let mut m = MarketData::default();
        let obs = |observed_at: i64, value: f64| {
            SourceEvent::Observation(Observation {
                source: "fear_greed".into(),
                series: "value".into(),
                observed_at,
                known_at: 10,
                value,
                label: None,
            })
        };
        assert_eq!(m.feature(0, "fear_greed.value"), Ok(None));
        m.record(obs(2_000, 40.0));
        m.record(obs(1_000, 90.0)); // an older period arriving late does not replace it
        assert_eq!(m.feature(0, "fear_greed.value"), Ok(Some(40.0)));
        m.record(obs(3_000, 55.0));
        assert_eq!(m.feature(7, "fear_greed.value"), Ok(Some(55.0)));
        assert!(
            m.feature(0, "nonsense")
                .unwrap_err()
                .contains("fred.<SERIES>")
        );
    }
}
