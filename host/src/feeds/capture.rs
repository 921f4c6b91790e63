//! Recorded Binance stream captures as market events: one message a line,
//! `<local receive time, ns> <json>`, plain or gzip, holding combined-stream messages
//! (`{"stream": "btcusdt@depth@100ms", "data": {...}}`, also `@bookTicker`, `@trade`,
//! `@aggTrade` and `@kline_<interval>`), raw stream messages (the same `data` on its own), and
//! REST depth snapshots (`{"lastUpdateId": ..., "bids": [...], "asks": [...]}`, for the file's
//! one symbol, or wrapped as `{"stream": "btcusdt@depthSnapshot", "data": {...}}` in captures
//! the host records itself), and in those also the polled sources' events ([`SOURCE_STREAM`]).
//!
//! Each symbol's book is rebuilt by Binance's documented procedure ([`BookSync`]): diffs are
//! buffered until a snapshot covers them, a gap in update ids drops the book until the next
//! snapshot. Once synced, each applied diff becomes a book update of its levels, a (re)sync one
//! of the whole book. A symbol with a depth stream takes its book from it alone, as the live
//! feed does: its book tickers are counted and dropped; a symbol without one takes its top of
//! book from its tickers. Event time is the local receive time (in ms): what a strategy
//! would have known when.

use super::sources::SourceEvent;
use super::trade_bars::TradeBars;
use super::{BookUpdate, BookUpdateKind, MarketEvent, TradePrint};
use crate::book::{BookSync, DepthDiff, Lags, SyncAction};
use crate::model::{Fixed, Side, SymbolId, TimestampMs};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("cannot read capture {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("capture {path}, line {line}: {detail}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        detail: String,
    },
}

/// What a capture held.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaptureStats {
    /// Lines read.
    pub lines: u64,
    /// Depth diffs read (applied or buffered).
    pub depth_diffs: u64,
    /// Depth snapshots read.
    pub snapshots: u64,
    /// Book tickers read.
    pub tickers: u64,
    /// Book tickers dropped because the symbol's book comes from its depth stream.
    pub tickers_dropped: u64,
    /// Dropped tickers whose update id the rebuilt book reached, and whose best levels it had
    /// then.
    pub tickers_agreeing: u64,
    /// Dropped tickers whose update id the rebuilt book reached without their best levels.
    pub tickers_disagreeing: u64,
    /// Trades (and aggregate trades) read.
    pub trades: u64,
    /// Closed klines read.
    pub klines: u64,
    /// Polled sources' events read ([`SOURCE_STREAM`]): values, headlines, posts and polls.
    pub sources: u64,
    /// Times a symbol's book was dropped on a gap in update ids.
    pub resyncs: u64,
    /// Diffs left unapplied because no snapshot covered them.
    pub unsynced_diffs: u64,
    /// Diffs after which a book was crossed (best bid at or above best ask).
    pub crossed: u64,
    /// Diffs repeating updates already applied, ignored.
    pub outdated_diffs: u64,
    /// Diffs late against their symbol's recent smallest lag ([`crate::book::LATE_MS`]).
    pub late_diffs: u64,
}

/// The stream name of a recording's polled-source events: `{"stream": SOURCE_STREAM, "data":
/// <SourceEvent as JSON>}`, stamped with the time the value became known.
pub const SOURCE_STREAM: &str = "stratbox@source";

/// One symbol's order book over a capture: what went wrong in its depth stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BookQuality {
    /// The symbol.
    pub symbol: String,
    /// Depth diffs read.
    pub diffs: u64,
    /// Gaps in update ids (the book rebuilt from the next snapshot).
    pub sequence_gaps: u64,
    /// Diffs after which the book was crossed.
    pub crossed: u64,
    /// Diffs repeating updates already applied.
    pub outdated: u64,
    /// Diffs received more than [`crate::book::LATE_MS`] later than the recent fastest.
    pub late: u64,
    /// The smallest lag of a diff (receive less event time, ms; the clocks' offset with it).
    pub min_lag_ms: Option<i64>,
    /// The largest.
    pub max_lag_ms: Option<i64>,
    /// Whether the book was in sync at the end.
    pub synced: bool,
}

/// A capture's events, in file order, and what it held.
#[derive(Debug, Default)]
pub struct Capture {
    /// The market events.
    pub events: Vec<MarketEvent>,
    /// Counts.
    pub stats: CaptureStats,
    /// Each depth-streamed symbol's book quality, by symbol.
    pub books: Vec<BookQuality>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    stream: Option<&'a str>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(rename = "lastUpdateId", default)]
    last_update_id: Option<u64>,
    #[serde(borrow, default)]
    e: Option<&'a str>,
    #[serde(borrow, default)]
    s: Option<&'a str>,
}

#[derive(Deserialize)]
struct Snapshot<'a> {
    #[serde(rename = "lastUpdateId")]
    last_update_id: u64,
    #[serde(borrow)]
    bids: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    asks: Vec<[&'a str; 2]>,
}

#[derive(Deserialize)]
struct Depth<'a> {
    #[serde(rename = "E", default)]
    event_time: i64,
    #[serde(rename = "U")]
    first: u64,
    #[serde(rename = "u")]
    last: u64,
    #[serde(borrow, rename = "b")]
    bids: Vec<[&'a str; 2]>,
    #[serde(borrow, rename = "a")]
    asks: Vec<[&'a str; 2]>,
}

#[derive(Deserialize)]
struct Ticker<'a> {
    #[serde(rename = "u", default)]
    update_id: u64,
    #[serde(borrow, rename = "b")]
    bid: &'a str,
    #[serde(borrow, rename = "B")]
    bid_qty: &'a str,
    #[serde(borrow, rename = "a")]
    ask: &'a str,
    #[serde(borrow, rename = "A")]
    ask_qty: &'a str,
}

#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(rename = "t", default)]
    id: Option<u64>,
    #[serde(rename = "a", default)]
    agg_id: Option<u64>,
    #[serde(borrow, rename = "p")]
    price: &'a str,
    #[serde(borrow, rename = "q")]
    quantity: &'a str,
    #[serde(rename = "m")]
    buyer_is_maker: bool,
}

#[derive(Deserialize)]
struct Kline<'a> {
    #[serde(borrow)]
    k: KlineBody<'a>,
}

#[derive(Deserialize)]
struct KlineBody<'a> {
    #[serde(rename = "t")]
    open_time: i64,
    #[serde(rename = "T")]
    close_time: i64,
    #[serde(borrow, rename = "o")]
    open: &'a str,
    #[serde(borrow, rename = "h")]
    high: &'a str,
    #[serde(borrow, rename = "l")]
    low: &'a str,
    #[serde(borrow, rename = "c")]
    close: &'a str,
    #[serde(borrow, rename = "v")]
    volume: &'a str,
    #[serde(rename = "x")]
    closed: bool,
}

/// One symbol's state while reading.
#[derive(Default)]
struct SymbolState {
    book: BookSync,
    has_depth: bool,
    /// Depth diffs read, and their lags.
    diffs: u64,
    lags: Lags,
    /// Book tickers not yet matched to the book's update of the same id (they travel faster
    /// than the depth stream's batches).
    pending: std::collections::VecDeque<PendingTicker>,
}

/// A book ticker's update id, best bid and best ask.
type PendingTicker = (u64, (Fixed, Fixed), (Fixed, Fixed));

/// Most tickers kept waiting for their book update.
const PENDING_TICKERS: usize = 4096;

impl SymbolState {
    /// Compares the tickers of the book's current update id with its best levels: (agreeing,
    /// disagreeing); tickers of earlier ids can no longer be compared and are dropped.
    fn check_tickers(&mut self) -> (u64, u64) {
        let Some(book) = self.book.book() else {
            return (0, 0);
        };
        let (mut agree, mut disagree) = (0, 0);
        while let Some(&(u, bid, ask)) = self.pending.front() {
            if u > book.last_update_id {
                break;
            }
            self.pending.pop_front();
            if u == book.last_update_id {
                if book.best_bid() == Some(bid) && book.best_ask() == Some(ask) {
                    agree += 1;
                } else {
                    disagree += 1;
                }
            }
        }
        (agree, disagree)
    }
}

/// Reads captures into market events.
pub struct CaptureReader<'i> {
    intern: &'i mut dyn FnMut(&str) -> SymbolId,
    default_symbol: Option<String>,
    bars: Option<TradeBars>,
    symbols: HashMap<String, (SymbolId, SymbolState)>,
    capture: Capture,
}

fn fixed(text: &str) -> Result<Fixed, String> {
    text.parse::<Fixed>().map_err(|e| e.to_string())
}

fn levels(raw: &[[&str; 2]]) -> Result<Vec<(Fixed, Fixed)>, String> {
    raw.iter()
        .map(|[p, q]| Ok((fixed(p)?, fixed(q)?)))
        .collect()
}

impl<'i> CaptureReader<'i> {
    /// A reader naming symbols through `intern`; bare snapshots belong to `default_symbol`, or
    /// to the one symbol the capture's streams name; with `bar_interval_ms` trades also make
    /// bars of that interval.
    pub fn new(
        intern: &'i mut dyn FnMut(&str) -> SymbolId,
        default_symbol: Option<&str>,
        bar_interval_ms: Option<u32>,
    ) -> Self {
        CaptureReader {
            intern,
            default_symbol: default_symbol.map(str::to_ascii_uppercase),
            bars: bar_interval_ms.map(TradeBars::new),
            symbols: HashMap::new(),
            capture: Capture::default(),
        }
    }

    /// Reads one capture file (gzip or plain) and adds its events.
    pub fn read_file(&mut self, path: &Path) -> Result<(), CaptureError> {
        let shown = path.display().to_string();
        let io = |source| CaptureError::Io {
            path: shown.clone(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let mut magic = [0u8; 2];
        let n = file.read(&mut magic).map_err(io)?;
        let file = std::fs::File::open(path).map_err(io)?;
        let reader: Box<dyn BufRead> = if n == 2 && magic == [0x1f, 0x8b] {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
        } else {
            Box::new(BufReader::new(file))
        };
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(io)?;
            if line.trim().is_empty() {
                continue;
            }
            self.line(&line).map_err(|detail| CaptureError::Line {
                path: shown.clone(),
                line: i + 1,
                detail,
            })?;
        }
        Ok(())
    }

    /// The events read, and what the captures held.
    pub fn finish(mut self) -> Capture {
        self.capture.stats.unsynced_diffs = self
            .symbols
            .values()
            .filter(|(_, s)| s.book.book().is_none())
            .count() as u64;
        let mut books: Vec<BookQuality> = self
            .symbols
            .iter()
            .filter(|(_, (_, s))| s.has_depth)
            .map(|(name, (_, s))| BookQuality {
                symbol: name.clone(),
                diffs: s.diffs,
                sequence_gaps: s.book.resyncs,
                crossed: s.book.crossed,
                outdated: s.book.outdated,
                late: s.lags.late,
                min_lag_ms: s.lags.min,
                max_lag_ms: s.lags.max,
                synced: s.book.book().is_some(),
            })
            .collect();
        books.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        self.capture.books = books;
        self.capture
    }

    fn symbol(&mut self, name: &str) -> (SymbolId, &mut SymbolState) {
        let upper = name.to_ascii_uppercase();
        if !self.symbols.contains_key(&upper) {
            let id = (self.intern)(&upper);
            self.symbols
                .insert(upper.clone(), (id, SymbolState::default()));
        }
        let (id, state) = self.symbols.get_mut(&upper).expect("inserted");
        (*id, state)
    }

    fn push(&mut self, event: MarketEvent) {
        if let Some(bars) = &mut self.bars {
            let mut closed = Vec::new();
            bars.advance(event.time(), &mut closed);
            self.capture
                .events
                .extend(closed.into_iter().map(MarketEvent::Bar));
            if let MarketEvent::Trade(t) = &event {
                bars.trade(t.symbol, t.time, t.price, t.quantity);
            }
        }
        self.capture.events.push(event);
    }

    /// Reads one line.
    pub fn line(&mut self, line: &str) -> Result<(), String> {
        self.capture.stats.lines += 1;
        let (stamp, json) = line
            .split_once(' ')
            .ok_or("expected `<receive time ns> <json>`")?;
        let ns: i64 = stamp
            .trim()
            .parse()
            .map_err(|_| format!("{stamp:?} is not a receive time in nanoseconds"))?;
        let time = ns.div_euclid(1_000_000);
        let msg: Line<'_> = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        if let Some(stream) = msg.stream {
            let data = msg
                .data
                .ok_or("a combined-stream message without data")?
                .get();
            if stream == SOURCE_STREAM {
                let event: SourceEvent =
                    serde_json::from_str(data).map_err(|e| format!("{SOURCE_STREAM}: {e}"))?;
                self.capture.stats.sources += 1;
                self.push(MarketEvent::Source(event));
                return Ok(());
            }
            let (symbol, kind) = stream
                .split_once('@')
                .ok_or_else(|| format!("stream {stream:?} names no symbol"))?;
            return self.message(symbol, kind, data, time);
        }
        if msg.last_update_id.is_some() {
            let symbol = self
                .default_symbol
                .clone()
                .or_else(|| {
                    (self.symbols.len() == 1).then(|| self.symbols.keys().next().cloned())?
                })
                .ok_or("a depth snapshot, but the capture names no one symbol it could be for")?;
            return self.snapshot(&symbol, json, time);
        }
        // A raw stream message: the event type says what it is (book tickers have none).
        let symbol = msg
            .s
            .ok_or("a message that names no stream and no symbol")?;
        let kind = match msg.e {
            Some("depthUpdate") => "depth",
            Some("trade") => "trade",
            Some("aggTrade") => "aggTrade",
            Some("kline") => "kline",
            None => "bookTicker",
            Some(other) => return Err(format!("unknown event type {other:?}")),
        };
        self.message(symbol, kind, json, time)
    }

    fn message(
        &mut self,
        symbol: &str,
        kind: &str,
        data: &str,
        time: TimestampMs,
    ) -> Result<(), String> {
        let parse_err = |e: serde_json::Error| format!("{symbol}@{kind}: {e}");
        if kind.starts_with("depthSnapshot") {
            return self.snapshot(symbol, data, time);
        }
        if kind.starts_with("depth") {
            let d: Depth<'_> = serde_json::from_str(data).map_err(parse_err)?;
            self.capture.stats.depth_diffs += 1;
            let diff = DepthDiff {
                event_time: d.event_time,
                first_update_id: d.first,
                final_update_id: d.last,
                bids: levels(&d.bids)?,
                asks: levels(&d.asks)?,
            };
            let (bids, asks) = (diff.bids.clone(), diff.asks.clone());
            let (id, state) = self.symbol(symbol);
            state.has_depth = true;
            state.diffs += 1;
            let late = state.lags.observe(time - d.event_time, d.event_time);
            let before = (state.book.resyncs, state.book.crossed, state.book.outdated);
            let action = state.book.on_diff(diff);
            let (resyncs, crossed, outdated) = (
                state.book.resyncs - before.0,
                state.book.crossed - before.1,
                state.book.outdated - before.2,
            );
            let (agree, disagree) = state.check_tickers();
            let stats = &mut self.capture.stats;
            stats.resyncs += resyncs;
            stats.crossed += crossed;
            stats.outdated_diffs += outdated;
            stats.late_diffs += u64::from(late);
            stats.tickers_agreeing += agree;
            stats.tickers_disagreeing += disagree;
            if action == SyncAction::Updated {
                self.push(MarketEvent::Book(BookUpdate {
                    symbol: id,
                    time,
                    kind: BookUpdateKind::Diff,
                    bids,
                    asks,
                }));
            }
            return Ok(());
        }
        match kind {
            "bookTicker" => {
                let t: Ticker<'_> = serde_json::from_str(data).map_err(parse_err)?;
                self.capture.stats.tickers += 1;
                let (bid, ask) = (
                    (fixed(t.bid)?, fixed(t.bid_qty)?),
                    (fixed(t.ask)?, fixed(t.ask_qty)?),
                );
                let (id, state) = self.symbol(symbol);
                if state.has_depth {
                    // The book comes from the depth stream; where the ticker describes an
                    // update the book reaches, it checks the rebuilt book then.
                    if state.pending.len() == PENDING_TICKERS {
                        state.pending.pop_front();
                    }
                    state.pending.push_back((t.update_id, bid, ask));
                    let (agree, disagree) = state.check_tickers();
                    let stats = &mut self.capture.stats;
                    stats.tickers_dropped += 1;
                    stats.tickers_agreeing += agree;
                    stats.tickers_disagreeing += disagree;
                    return Ok(());
                }
                let update = BookUpdate {
                    symbol: id,
                    time,
                    kind: BookUpdateKind::Top,
                    bids: vec![bid],
                    asks: vec![ask],
                };
                self.push(MarketEvent::Book(update));
            }
            "trade" | "aggTrade" => {
                let t: Trade<'_> = serde_json::from_str(data).map_err(parse_err)?;
                self.capture.stats.trades += 1;
                let (id, _) = self.symbol(symbol);
                let trade = TradePrint {
                    symbol: id,
                    time,
                    trade_id: t
                        .id
                        .or(t.agg_id)
                        .ok_or_else(|| format!("{symbol}@{kind}: no trade id"))?,
                    price: fixed(t.price)?.to_f64(),
                    quantity: fixed(t.quantity)?.to_f64(),
                    aggressor: if t.buyer_is_maker {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                };
                self.push(MarketEvent::Trade(trade));
            }
            k if k.starts_with("kline") => {
                let Kline { k } = serde_json::from_str(data).map_err(parse_err)?;
                if !k.closed {
                    return Ok(());
                }
                self.capture.stats.klines += 1;
                let (id, _) = self.symbol(symbol);
                let number = |s: &str| -> Result<f64, String> {
                    s.parse::<f64>()
                        .map_err(|e| format!("{symbol}@{kind}: {s:?}: {e}"))
                };
                let bar = crate::model::Bar {
                    symbol: id,
                    interval_ms: u32::try_from(k.close_time + 1 - k.open_time)
                        .map_err(|_| format!("{symbol}@{kind}: bad open and close times"))?,
                    open_time: k.open_time,
                    open: number(k.open)?,
                    high: number(k.high)?,
                    low: number(k.low)?,
                    close: number(k.close)?,
                    volume: number(k.volume)?,
                };
                self.push(MarketEvent::Bar(bar));
            }
            other => return Err(format!("unknown stream kind {other:?} of {symbol}")),
        }
        Ok(())
    }

    fn snapshot(&mut self, symbol: &str, json: &str, time: TimestampMs) -> Result<(), String> {
        let s: Snapshot<'_> =
            serde_json::from_str(json).map_err(|e| format!("{symbol} depth snapshot: {e}"))?;
        self.capture.stats.snapshots += 1;
        let (bids, asks) = (levels(&s.bids)?, levels(&s.asks)?);
        let (id, state) = self.symbol(symbol);
        state.has_depth = true;
        if state.book.on_snapshot(s.last_update_id, &bids, &asks) != SyncAction::Updated {
            return Ok(());
        }
        let book = state.book.book().expect("synced");
        let update = BookUpdate {
            symbol: id,
            time,
            kind: BookUpdateKind::Snapshot,
            bids: book.bids(usize::MAX).collect(),
            asks: book.asks(usize::MAX).collect(),
        };
        self.push(MarketEvent::Book(update));
        Ok(())
    }
}

/// Reads capture files in order, naming symbols through `intern` (see [`CaptureReader::new`]).
pub fn read(
    paths: &[&Path],
    intern: &mut dyn FnMut(&str) -> SymbolId,
    default_symbol: Option<&str>,
    bar_interval_ms: Option<u32>,
) -> Result<Capture, CaptureError> {
    let mut reader = CaptureReader::new(intern, default_symbol, bar_interval_ms);
    for path in paths {
        reader.read_file(path)?;
    }
    Ok(reader.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader_of(lines: &[&str]) -> Result<Capture, String> {
        let mut names: Vec<String> = Vec::new();
        let mut intern = |n: &str| match names.iter().position(|x| x == n) {
            Some(i) => i as SymbolId,
            None => {
                names.push(n.to_string());
                names.len() as SymbolId - 1
            }
        };
        let mut r = CaptureReader::new(&mut intern, None, None);
        for l in lines {
            r.line(l)?;
        }
        Ok(r.finish())
    }

    #[test]
    fn books_sync_by_snapshot_and_diffs_and_tickers_give_way_to_depth() {
        let c = reader_of(&[
            r#"1000000 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":12,"b":[["99.0","1"]],"a":[]}}"#,
            r#"2000000 {"stream":"btcusdt@bookTicker","data":{"u":12,"s":"BTCUSDT","b":"99.0","B":"1","a":"101.0","A":"2"}}"#,
            r#"3000000 {"lastUpdateId":11,"bids":[["98.0","5"]],"asks":[["101.0","2"]]}"#,
            r#"4000000 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":2,"s":"BTCUSDT","U":13,"u":13,"b":[],"a":[["101.0","0"]]}}"#,
            r#"5000000 {"stream":"btcusdt@trade","data":{"e":"trade","E":3,"s":"BTCUSDT","t":7,"p":"100.5","q":"0.25","T":3,"m":true}}"#,
        ])
        .unwrap();
        assert_eq!(c.events.len(), 3, "{:?}", c.events);
        let MarketEvent::Book(snapshot) = &c.events[0] else {
            panic!("{:?}", c.events[0])
        };
        // The snapshot at 11 with the buffered diff 10..12 applied over it.
        assert_eq!(snapshot.kind, BookUpdateKind::Snapshot);
        assert_eq!(snapshot.time, 3);
        assert_eq!(snapshot.bids.len(), 2);
        let MarketEvent::Book(diff) = &c.events[1] else {
            panic!()
        };
        assert_eq!(
            (diff.kind, diff.time, diff.asks.len()),
            (BookUpdateKind::Diff, 4, 1)
        );
        let MarketEvent::Trade(t) = &c.events[2] else {
            panic!()
        };
        assert_eq!((t.trade_id, t.price, t.aggressor), (7, 100.5, Side::Sell));
        assert_eq!(c.stats.tickers_dropped, 1);
        assert_eq!(c.stats.snapshots, 1);
    }

    #[test]
    fn without_depth_tickers_are_the_book_and_bad_lines_are_named() {
        let c = reader_of(&[r#"1000000 {"u":1,"s":"ETHUSDT","b":"10","B":"1","a":"11","A":"2"}"#])
            .unwrap();
        let MarketEvent::Book(top) = &c.events[0] else {
            panic!()
        };
        assert_eq!(top.kind, BookUpdateKind::Top);
        assert!(reader_of(&["x {}"]).unwrap_err().contains("receive time"));
        assert!(reader_of(&["1 {"]).unwrap_err().contains("not JSON"));
        let err = reader_of(&[r#"1 {"lastUpdateId":1,"bids":[],"asks":[]}"#]).unwrap_err();
        assert!(err.contains("names no one symbol"), "{err}");
        let err =
            reader_of(&[r#"1 {"stream":"x@depth","data":{"U":1,"u":1,"b":[["1","x"]],"a":[]}}"#])
                .unwrap_err();
        assert!(err.contains("\"x\""), "{err}");
    }

    #[test]
    fn each_books_faults_are_counted_sequence_gaps_crossed_outdated_and_late() {
        let depth = |recv_ms: i64, e: i64, u0: u64, u1: u64, bid: &str| {
            format!(
                r#"{} {{"stream":"ethusdt@depth@100ms","data":{{"e":"depthUpdate","E":{e},"s":"ETHUSDT","U":{u0},"u":{u1},"b":[["{bid}","1"]],"a":[]}}}}"#,
                recv_ms * 1_000_000
            )
        };
        let snapshot = |recv_ms: i64, id: u64| {
            format!(
                r#"{} {{"lastUpdateId":{id},"bids":[["99.0","5"]],"asks":[["101.0","2"]]}}"#,
                recv_ms * 1_000_000
            )
        };
        let lines = [
            depth(1_000, 990, 10, 12, "99.5"),
            snapshot(1_010, 11),
            // Applied; then repeated (outdated).
            depth(1_100, 1_090, 13, 13, "99.6"),
            depth(1_200, 1_190, 13, 13, "99.6"),
            // A bid at the ask: crossed. Received 1.5 s after its event: late.
            depth(2_800, 1_300, 14, 14, "101.0"),
            // Ids jump: a sequence gap, the book waits for the next snapshot.
            depth(2_900, 2_890, 20, 21, "99.7"),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let c = reader_of(&lines).unwrap();
        assert_eq!(
            c.books,
            vec![BookQuality {
                symbol: "ETHUSDT".into(),
                diffs: 5,
                sequence_gaps: 1,
                crossed: 1,
                outdated: 1,
                late: 1,
                min_lag_ms: Some(10),
                max_lag_ms: Some(1_500),
                synced: false,
            }]
        );
        let s = &c.stats;
        assert_eq!(
            (s.resyncs, s.crossed, s.outdated_diffs, s.late_diffs),
            (1, 1, 1, 1)
        );
    }
}
