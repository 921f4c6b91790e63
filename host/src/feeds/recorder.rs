//! Records the market events an engine handles as a Binance stream capture, in the format
//! [`super::capture`] reads: one `<time ns> <json>` line per event, in the order the engine
//! handled them, stamped with their event time. Replaying the file gives a backtest the very
//! events, times and order paper trading saw, so both fill alike.
//!
//! Books are written as a snapshot (`<symbol>@depthSnapshot`) whenever the feed sends a whole
//! book, then diffs numbered on from it; tickers as `@bookTicker`, trades as `@trade`, bars as
//! closed `@kline_<interval>`; the polled sources' values, headlines, posts and polls as
//! [`super::capture::SOURCE_STREAM`] lines stamped with the time they became known, so a
//! backtest of the recording sees sentiment and social features as the live run did
//! (recordings made before polls were recorded read their social features as unknown). Lines
//! are written on a thread of their own (gzip when the path
//! ends in `.gz`), so the engine never waits for the disk.

use super::replay::interval_name;
use super::{BookUpdateKind, MarketEvent};
use crate::model::{Fixed, SymbolId, SymbolTable};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

/// Writes a capture of what an engine handles.
pub struct CaptureWriter {
    tx: Option<Sender<String>>,
    writer: Option<JoinHandle<std::io::Result<()>>>,
    /// The update id each symbol's book is at, for numbering its diffs.
    update_ids: HashMap<SymbolId, u64>,
}

fn levels(levels: &[(Fixed, Fixed)]) -> String {
    let items: Vec<String> = levels
        .iter()
        .map(|(p, q)| format!("[\"{p}\",\"{q}\"]"))
        .collect();
    format!("[{}]", items.join(","))
}

impl CaptureWriter {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::create(path)?;
        let gzip = path.extension().is_some_and(|e| e == "gz");
        let (tx, rx) = channel::<String>();
        let writer = std::thread::Builder::new()
            .name("capture-writer".into())
            .spawn(move || -> std::io::Result<()> {
                let mut out: Box<dyn Write> = if gzip {
                    Box::new(flate2::write::GzEncoder::new(
                        std::io::BufWriter::new(file),
                        flate2::Compression::fast(),
                    ))
                } else {
                    Box::new(std::io::BufWriter::new(file))
                };
                for line in rx {
                    out.write_all(line.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                out.flush()
            })?;
        Ok(CaptureWriter {
            tx: Some(tx),
            writer: Some(writer),
            update_ids: HashMap::new(),
        })
    }

    /// Writes `event`; symbols are named by `symbols`. Predictions are left out (a backtest
    /// makes its own).
    pub fn record(&mut self, event: &MarketEvent, symbols: &SymbolTable) {
        let Some(line) = self.line(event, symbols) else {
            return;
        };
        if let Some(tx) = &self.tx
            && tx.send(line).is_err()
        {
            tracing::error!("the capture writer has stopped: the recording is incomplete");
            self.tx = None;
        }
    }

    fn line(&mut self, event: &MarketEvent, symbols: &SymbolTable) -> Option<String> {
        let ns = event.time().saturating_mul(1_000_000);
        let (name, data, stream) = match event {
            MarketEvent::Bar(b) => {
                let name = symbols.name(b.symbol)?;
                let data = format!(
                    r#"{{"e":"kline","E":{},"s":"{name}","k":{{"t":{},"T":{},"i":"{}","o":"{}","h":"{}","l":"{}","c":"{}","v":"{}","x":true}}}}"#,
                    b.close_time(),
                    b.open_time,
                    b.close_time() - 1,
                    interval_name(b.interval_ms),
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume
                );
                (
                    name,
                    data,
                    format!("kline_{}", interval_name(b.interval_ms)),
                )
            }
            MarketEvent::Trade(t) => {
                let name = symbols.name(t.symbol)?;
                let fixed = |x: f64| Fixed::from_f64(x).unwrap_or(Fixed::ZERO);
                let data = format!(
                    r#"{{"e":"trade","E":{},"s":"{name}","t":{},"p":"{}","q":"{}","T":{},"m":{}}}"#,
                    t.time,
                    t.trade_id,
                    fixed(t.price),
                    fixed(t.quantity),
                    t.time,
                    t.aggressor == crate::model::Side::Sell
                );
                (name, data, "trade".to_string())
            }
            MarketEvent::Book(u) => {
                let name = symbols.name(u.symbol)?;
                let id = self.update_ids.entry(u.symbol).or_insert(0);
                *id += 1;
                match u.kind {
                    BookUpdateKind::Snapshot => {
                        let data = format!(
                            r#"{{"lastUpdateId":{id},"bids":{},"asks":{}}}"#,
                            levels(&u.bids),
                            levels(&u.asks)
                        );
                        (name, data, "depthSnapshot".to_string())
                    }
                    BookUpdateKind::Diff => {
                        let data = format!(
                            r#"{{"e":"depthUpdate","E":{},"s":"{name}","U":{id},"u":{id},"b":{},"a":{}}}"#,
                            u.time,
                            levels(&u.bids),
                            levels(&u.asks)
                        );
                        (name, data, "depth@100ms".to_string())
                    }
                    BookUpdateKind::Top => {
                        let (bid, ask) = (u.bids.first()?, u.asks.first()?);
                        let data = format!(
                            r#"{{"u":{id},"s":"{name}","b":"{}","B":"{}","a":"{}","A":"{}"}}"#,
                            bid.0, bid.1, ask.0, ask.1
                        );
                        (name, data, "bookTicker".to_string())
                    }
                }
            }
            MarketEvent::Source(source) => {
                let data = serde_json::to_string(source).ok()?;
                return Some(format!(
                    r#"{ns} {{"stream":"{}","data":{data}}}"#,
                    super::capture::SOURCE_STREAM
                ));
            }
            MarketEvent::Prediction(_) => return None,
        };
        Some(format!(
            r#"{ns} {{"stream":"{}@{stream}","data":{data}}}"#,
            name.to_ascii_lowercase()
        ))
    }

    /// Writes what is queued and closes the file.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.tx = None;
        match self.writer.take() {
            Some(writer) => writer
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the capture writer panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::capture;
    use crate::feeds::sources::{Headline, Observation, Poll, Post, SourceEvent};
    use crate::feeds::{BookUpdate, TradePrint};
    use crate::model::{Bar, Side};

    #[test]
    fn a_recording_reads_back_as_the_same_events() {
        let dir = tempfile::tempdir().unwrap();
        let mut symbols = SymbolTable::default();
        let btc = symbols.intern("BTCUSDT");
        let eth = symbols.intern("ETHUSDT");
        let fx = |s: &str| s.parse::<Fixed>().unwrap();
        let events = vec![
            MarketEvent::Book(BookUpdate {
                symbol: btc,
                time: 1_000,
                kind: BookUpdateKind::Snapshot,
                bids: vec![(fx("99.5"), fx("1.25"))],
                asks: vec![(fx("100.5"), fx("2"))],
            }),
            MarketEvent::Book(BookUpdate {
                symbol: btc,
                time: 1_100,
                kind: BookUpdateKind::Diff,
                bids: vec![(fx("99.5"), fx("0"))],
                asks: vec![(fx("100"), fx("0.5"))],
            }),
            MarketEvent::Book(BookUpdate {
                symbol: eth,
                time: 1_150,
                kind: BookUpdateKind::Top,
                bids: vec![(fx("9"), fx("3"))],
                asks: vec![(fx("10"), fx("4"))],
            }),
            MarketEvent::Trade(TradePrint {
                symbol: btc,
                time: 1_200,
                trade_id: 42,
                price: 100.25,
                quantity: 0.125,
                aggressor: Side::Sell,
            }),
            MarketEvent::Bar(Bar {
                symbol: eth,
                interval_ms: 60_000,
                open_time: 0,
                open: 9.5,
                high: 10.1,
                low: 9.0,
                close: 0.1 + 0.2,
                volume: 123.456,
            }),
            MarketEvent::Source(SourceEvent::Observation(Observation {
                source: "fred".into(),
                series: "DGS10".into(),
                observed_at: 0,
                known_at: 1_300,
                value: 0.1 + 0.7,
                label: None,
            })),
            MarketEvent::Source(SourceEvent::Headline(Headline {
                source: "wire".into(),
                id: "n1".into(),
                title: "Rates \"cut\"\n".into(),
                published_at: Some(1_000),
                known_at: 1_310,
            })),
            MarketEvent::Source(SourceEvent::Post(Post {
                source: "reddit".into(),
                id: "t3_a".into(),
                author: "alice".into(),
                text: "ETH to the moon 🚀".into(),
                engagement: 1.0 / 3.0,
                created_at: None,
                known_at: 1_320,
            })),
            MarketEvent::Source(SourceEvent::Polled(Poll {
                source: "reddit".into(),
                known_at: 1_321,
            })),
        ];
        for file in ["capture.gz", "capture.txt"] {
            let path = dir.path().join(file);
            let mut w = CaptureWriter::create(&path).unwrap();
            for e in &events {
                w.record(e, &symbols);
            }
            w.finish().unwrap();
            let mut again = SymbolTable::default();
            let mut intern = |n: &str| again.intern(n);
            let read = capture::read(&[&path], &mut intern, None, None).unwrap();
            assert_eq!(read.events, events, "{file}");
        }
        assert_eq!(interval_name(14_400_000), "4h");
    }
}
