//! The simulator's live side of one symbol: an L2 book that changes every few milliseconds with
//! Binance's update ids, trades at the touch, and candles released at a pace and announced as
//! kline events, the book moving to each released candle's close, all published on the
//! exchange's event channel (served by [`super::socket`]).

use super::market::SimMarket;
pub use crate::feeds::trade_file::{RecordedTrade as SimTrade, read_trades};
use crate::model::Fixed;
use crate::rng::Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::broadcast;

/// The evolving book: its levels sit on a grid of `tick`, within [`LEVELS`] ticks of its mid.
#[derive(Debug, Default)]
pub struct SimBook {
    /// The id of the last change.
    pub last_update_id: u64,
    /// Bids by price.
    pub bids: BTreeMap<Fixed, Fixed>,
    /// Asks by price.
    pub asks: BTreeMap<Fixed, Fixed>,
    /// The mid's place on the grid: the mid is `center * tick`.
    center: i64,
    /// The grid's step.
    tick: f64,
}

impl SimBook {
    /// The price `offset` ticks from the mid (negative: below it).
    fn price(&self, offset: i64) -> Fixed {
        fx((self.center + offset) as f64 * self.tick)
    }
}

/// Levels on each side of the book.
const LEVELS: i64 = 200;
/// The book's tick, as a fraction of its price.
const TICK: f64 = 1e-5;
/// The most ticks the book's mid moves in one change toward the last released close.
const MOVE_STEP: i64 = 20;

/// Trades kept for the REST endpoints.
const MAX_TRADES: usize = 100_000;

/// A message for subscribers of one symbol's stream kind.
#[derive(Clone, Debug)]
pub struct Published {
    /// The symbol, lower case as in stream names.
    pub symbol: Arc<str>,
    /// `depth`, `kline`, `trade`, `aggTrade` or `bookTicker`.
    pub kind: &'static str,
    /// The event's JSON (the `data` of a combined stream message).
    pub json: Arc<EventJson>,
}

/// An event's JSON, written when a subscriber first needs it: a depth diff no one follows
/// costs no formatting.
pub struct EventJson {
    text: OnceLock<Arc<str>>,
    make: Box<dyn Fn() -> String + Send + Sync>,
}

impl EventJson {
    /// JSON already written.
    fn ready(text: Arc<str>) -> Self {
        EventJson {
            text: OnceLock::from(text),
            make: Box::new(String::new),
        }
    }

    /// The JSON, written now if no one has asked before.
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| (self.make)().into())
    }
}

impl std::fmt::Display for EventJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl std::fmt::Debug for EventJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EventJson").field(&self.text.get()).finish()
    }
}

/// One symbol's live state, shared by the REST and WebSocket handlers.
pub struct Live {
    /// The book.
    pub book: Mutex<SimBook>,
    /// Candles released so far (all of them when not paced).
    pub released: AtomicUsize,
    trades: Mutex<std::collections::VecDeque<SimTrade>>,
    /// Recorded trades to replay, and how many have been published.
    recorded: Vec<SimTrade>,
    replayed: AtomicUsize,
    events: broadcast::Sender<Published>,
    symbol_lower: Arc<str>,
    /// Where the books and trades go to match the accounts' orders.
    feed: Option<super::trading::TradingFeed>,
    /// The close of the last released candle (f64 bits; 0 before any): where the book's mid
    /// goes.
    close: AtomicU64,
}

fn fx(x: f64) -> Fixed {
    Fixed::from_f64(x).unwrap_or(Fixed::ZERO)
}

fn levels(map: &BTreeMap<Fixed, Fixed>, rev: bool, n: usize) -> Vec<[String; 2]> {
    let row =
        |(p, q): (&Fixed, &Fixed)| [format!("{:.8}", p.to_f64()), format!("{:.8}", q.to_f64())];
    if rev {
        map.iter().rev().take(n).map(row).collect()
    } else {
        map.iter().take(n).map(row).collect()
    }
}

impl Live {
    /// Starts the book around the market's last close (paced: its first open) and, with
    /// `bars_per_second`, releases candles at that pace, the book following their closes
    /// (otherwise every candle is available at once); changes the book every `book_ms`;
    /// publishes on `events` and gives every book change and trade to `feed`.
    pub fn start(
        market: &SimMarket,
        events: broadcast::Sender<Published>,
        recorded: Vec<SimTrade>,
        seed: u64,
        (book_ms, bars_per_second): (u64, f64),
        feed: Option<super::trading::TradingFeed>,
    ) -> Arc<Live> {
        let candles = market.candles();
        let paced = bars_per_second > 0.0;
        // Paced, the market starts where its first candle opens; otherwise at its last close.
        let mid = if paced {
            candles.first().map(|c| c.open.to_f64())
        } else {
            None
        }
        .or_else(|| candles.last().map(|c| c.close.to_f64()))
        .unwrap_or(100.0);
        let tick = (mid * TICK).max(1e-8);
        let mut book = SimBook {
            last_update_id: 1_000_000,
            center: (mid / tick).round() as i64,
            tick,
            ..Default::default()
        };
        let mut rng = Rng(seed ^ 0xB00C);
        for i in 1..=LEVELS {
            let (bid, ask) = (book.price(-i), book.price(i));
            book.bids.insert(bid, fx(0.01 + rng.uniform() * 2.0));
            book.asks.insert(ask, fx(0.01 + rng.uniform() * 2.0));
        }
        if let Some(feed) = &feed {
            let side = |m: &BTreeMap<Fixed, Fixed>| m.iter().map(|(p, q)| (*p, *q)).collect();
            feed.book(
                super::now_ms(),
                crate::feeds::BookUpdateKind::Snapshot,
                side(&book.bids),
                side(&book.asks),
            );
            // Unpaced, the recorded trades are all history: the last is the last price that
            // stops are checked against (when they are of the candles' market).
            if let (false, true, Some(t)) = (paced, market.is_recorded(), recorded.last()) {
                feed.trade(super::now_ms(), t.id, t.price, t.quantity, t.buyer_is_maker);
            }
        }
        let live = Arc::new(Live {
            book: Mutex::new(book),
            released: AtomicUsize::new(if paced { 0 } else { candles.len() }),
            // Without pacing every recorded trade is history from the start.
            trades: Mutex::new(if paced {
                Default::default()
            } else {
                recorded
                    .iter()
                    .rev()
                    .take(MAX_TRADES)
                    .rev()
                    .copied()
                    .collect()
            }),
            replayed: AtomicUsize::new(if paced { 0 } else { recorded.len() }),
            recorded,
            events,
            symbol_lower: market.symbol.to_ascii_lowercase().into(),
            feed,
            close: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&live);
        let symbol = market.symbol.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(book_ms.max(1)));
            while let Some(live) = weak.upgrade() {
                ticker.tick().await;
                live.change_book(&symbol, &mut rng);
            }
        });
        if paced {
            let weak = Arc::downgrade(&live);
            let market = market.clone();
            tokio::spawn(async move {
                let mut ticker =
                    tokio::time::interval(Duration::from_secs_f64(1.0 / bars_per_second));
                for i in 0..market.candles().len() {
                    ticker.tick().await;
                    let Some(live) = weak.upgrade() else { return };
                    live.release(&market, i);
                }
            });
        }
        live
    }

    /// One book change: the mid steps toward the last released close (its own diff), then a
    /// few levels near the touch change or vanish; then a few trades at the touch (unless
    /// recorded trades are replayed), all before any other change.
    fn change_book(&self, symbol: &str, rng: &mut Rng) {
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        self.follow_close(symbol, &mut book, rng);
        let changes = 1 + (rng.uniform() * 4.0) as usize;
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for _ in 0..changes {
            let offset = 1 + (rng.uniform() * 30.0) as i64;
            let qty = if rng.uniform() < 0.2 {
                Fixed::ZERO
            } else {
                fx(0.01 + rng.uniform() * 2.0)
            };
            if rng.uniform() < 0.5 {
                bids.push((book.price(-offset), qty));
            } else {
                asks.push((book.price(offset), qty));
            }
        }
        let Some((bid, ask)) = self.apply(symbol, &mut book, changes as u64, bids, asks) else {
            return;
        };
        let generate = if self.recorded.is_empty() {
            (rng.uniform() * 3.0) as usize
        } else {
            0
        };
        for _ in 0..generate {
            let buyer_is_maker = rng.uniform() < 0.5;
            let price = if buyer_is_maker { bid } else { ask };
            self.trade(
                symbol,
                price,
                fx(0.001 + rng.uniform() * 0.5),
                buyer_is_maker,
            );
        }
    }

    /// Steps the book's mid toward the last released close, at most [`MOVE_STEP`] ticks: the
    /// levels it crosses or leaves out of reach go, the grid's levels it brings within reach
    /// get a quantity; one depth diff. A close that has drifted far from the grid's price
    /// (its tick no longer near [`TICK`] of it) rebuilds the book on a new grid at once.
    fn follow_close(&self, symbol: &str, book: &mut SimBook, rng: &mut Rng) {
        let close = f64::from_bits(self.close.load(Ordering::SeqCst));
        if !(close.is_finite() && close > 0.0) {
            return;
        }
        let tick = (close * TICK).max(1e-8);
        let regrid = !(0.5..=2.0).contains(&(book.tick / tick));
        let (reach, step) = if regrid {
            book.tick = tick;
            book.center = (close / tick).round() as i64;
            (1..=LEVELS, LEVELS)
        } else {
            let step =
                ((close / book.tick).round() as i64 - book.center).clamp(-MOVE_STEP, MOVE_STEP);
            if step == 0 {
                return;
            }
            book.center += step;
            (1..=step.abs(), step)
        };
        // What is out of reach goes: everything, on a new grid.
        let (bid_keep, ask_keep) = if regrid {
            {
                let none = Fixed::from_raw(i64::MAX);
                (none..=none, none..=none)
            }
        } else {
            (
                book.price(-LEVELS)..=book.price(-1),
                book.price(1)..=book.price(LEVELS),
            )
        };
        let gone = |side: &BTreeMap<Fixed, Fixed>, keep: &std::ops::RangeInclusive<Fixed>| {
            side.range(..*keep.start())
                .chain(side.range((
                    std::ops::Bound::Excluded(*keep.end()),
                    std::ops::Bound::Unbounded,
                )))
                .map(|(&p, _)| (p, Fixed::ZERO))
                .collect::<Vec<_>>()
        };
        let (mut bids, mut asks) = (gone(&book.bids, &bid_keep), gone(&book.asks, &ask_keep));
        // Levels brought within reach: next to the mid on the side it left, at the far end of
        // the side it moved into (everywhere, on a new grid).
        let mut fill = |side: &BTreeMap<Fixed, Fixed>, out: &mut Vec<(Fixed, Fixed)>, p: Fixed| {
            if regrid || !side.contains_key(&p) {
                out.push((p, fx(0.01 + rng.uniform() * 2.0)));
            }
        };
        for i in reach {
            let (near, far) = if regrid { (i, i) } else { (i, LEVELS + 1 - i) };
            if step > 0 {
                fill(&book.bids, &mut bids, book.price(-near));
                fill(&book.asks, &mut asks, book.price(far));
            } else {
                fill(&book.asks, &mut asks, book.price(near));
                fill(&book.bids, &mut bids, book.price(-far));
            }
        }
        self.apply(symbol, book, 1, bids, asks);
    }

    /// Applies level changes (a zero quantity removes the level) as `updates` update ids and
    /// publishes them: the depth diff to subscribers and the matching core, then the book
    /// ticker. Returns the touch after them.
    fn apply(
        &self,
        symbol: &str,
        book: &mut SimBook,
        updates: u64,
        bids: Vec<(Fixed, Fixed)>,
        asks: Vec<(Fixed, Fixed)>,
    ) -> Option<(Fixed, Fixed)> {
        let first = book.last_update_id + 1;
        book.last_update_id += updates;
        for (side, levels) in [(&mut book.bids, &bids), (&mut book.asks, &asks)] {
            for &(p, q) in levels {
                if q.raw() == 0 {
                    side.remove(&p);
                } else {
                    side.insert(p, q);
                }
            }
        }
        let now = super::now_ms();
        if let Some(feed) = &self.feed {
            feed.book(
                now,
                crate::feeds::BookUpdateKind::Diff,
                bids.clone(),
                asks.clone(),
            );
        }
        let (symbol_name, last): (Arc<str>, u64) = (symbol.into(), book.last_update_id);
        self.publish_lazy("depth", move || {
            let text = |levels: &[(Fixed, Fixed)]| -> Vec<[String; 2]> {
                levels
                    .iter()
                    .map(|(p, q)| [format!("{:.8}", p.to_f64()), format!("{:.8}", q.to_f64())])
                    .collect()
            };
            serde_json::json!({
                "e": "depthUpdate", "E": now, "s": &*symbol_name,
                "U": first, "u": last, "b": text(&bids), "a": text(&asks)
            })
            .to_string()
        });
        let bid = book.bids.last_key_value().map(|(p, q)| (*p, *q))?;
        let ask = book.asks.first_key_value().map(|(p, q)| (*p, *q))?;
        let ticker = serde_json::json!({
            "u": book.last_update_id, "s": symbol,
            "b": format!("{:.8}", bid.0.to_f64()), "B": format!("{:.8}", bid.1.to_f64()),
            "a": format!("{:.8}", ask.0.to_f64()), "A": format!("{:.8}", ask.1.to_f64())
        });
        self.publish("bookTicker", ticker.to_string().into());
        Some((bid.0, ask.0))
    }

    /// Sends one event of this symbol to the exchange's subscribers.
    fn publish(&self, kind: &'static str, json: Arc<str>) {
        let _ = self.events.send(Published {
            symbol: self.symbol_lower.clone(),
            kind,
            json: Arc::new(EventJson::ready(json)),
        });
    }

    /// Sends one event whose JSON `make` writes when a subscriber first needs it.
    fn publish_lazy(&self, kind: &'static str, make: impl Fn() -> String + Send + Sync + 'static) {
        let _ = self.events.send(Published {
            symbol: self.symbol_lower.clone(),
            kind,
            json: Arc::new(EventJson {
                text: OnceLock::new(),
                make: Box::new(make),
            }),
        });
    }

    /// Makes one trade at the touch, now: matched against resting orders, then published.
    fn trade(&self, symbol: &str, price: Fixed, quantity: Fixed, buyer_is_maker: bool) {
        let id = self
            .trades
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .back()
            .map_or(1, |t| t.id + 1);
        let t = SimTrade {
            id,
            price,
            quantity,
            time: super::now_ms(),
            buyer_is_maker,
        };
        if let Some(feed) = &self.feed {
            feed.trade(t.time, t.id, t.price, t.quantity, t.buyer_is_maker);
        }
        self.publish_trade(symbol, t);
    }

    /// Records and publishes one trade (as `trade` and as a single-trade `aggTrade`).
    fn publish_trade(&self, symbol: &str, t: SimTrade) {
        let mut trades = self.trades.lock().unwrap_or_else(|p| p.into_inner());
        if trades.len() == MAX_TRADES {
            trades.pop_front();
        }
        trades.push_back(t);
        drop(trades);
        let (p, q) = (
            format!("{:.8}", t.price.to_f64()),
            format!("{:.8}", t.quantity.to_f64()),
        );
        let now = super::now_ms();
        let trade = serde_json::json!({"e": "trade", "E": now, "s": symbol, "t": t.id, "p": p, "q": q, "T": t.time, "m": t.buyer_is_maker, "M": true});
        let agg = serde_json::json!({"e": "aggTrade", "E": now, "s": symbol, "a": t.id, "p": p, "q": q, "f": t.id, "l": t.id, "T": t.time, "m": t.buyer_is_maker, "M": true});
        self.publish("trade", trade.to_string().into());
        self.publish("aggTrade", agg.to_string().into());
    }

    /// `GET /api/v3/trades` (most recent `limit`) or `/api/v3/aggTrades` (from `from_id`, or the
    /// most recent) as JSON.
    pub fn trades_json(&self, aggregated: bool, from_id: Option<u64>, limit: usize) -> String {
        let trades = self.trades.lock().unwrap_or_else(|p| p.into_inner());
        let chosen: Vec<&SimTrade> = match from_id {
            Some(from) => trades.iter().filter(|t| t.id >= from).take(limit).collect(),
            None => trades
                .iter()
                .skip(trades.len().saturating_sub(limit))
                .collect(),
        };
        let rows: Vec<serde_json::Value> = chosen
            .into_iter()
            .map(|t| {
                let (p, q) = (format!("{:.8}", t.price.to_f64()), format!("{:.8}", t.quantity.to_f64()));
                if aggregated {
                    serde_json::json!({"a": t.id, "p": p, "q": q, "f": t.id, "l": t.id, "T": t.time, "m": t.buyer_is_maker, "M": true})
                } else {
                    let quote = format!("{:.8}", t.price.to_f64() * t.quantity.to_f64());
                    serde_json::json!({"id": t.id, "price": p, "qty": q, "quoteQty": quote, "time": t.time, "isBuyerMaker": t.buyer_is_maker, "isBestMatch": true})
                }
            })
            .collect();
        serde_json::Value::Array(rows).to_string()
    }

    /// Releases candle `i`: an unfinished kline update, the recorded trades of its window,
    /// then the closed kline.
    fn release(&self, market: &SimMarket, i: usize) {
        let c = &market.candles()[i];
        let close = c.open_time + market.interval_ms();
        let start = self.replayed.load(Ordering::SeqCst);
        let end = start
            + self
                .recorded
                .get(start..)
                .map_or(0, |rest| rest.iter().take_while(|t| t.time < close).count());
        for &t in &self.recorded[start..end] {
            // As they are released, recorded trades are the market's trades for the accounts'
            // orders too (the book follows the same candles' closes): they pass resting
            // orders, trigger stops and set the last price. Beside a generated market they
            // are another market's prices and only feed the streams.
            if let Some(feed) = self.feed.as_ref().filter(|_| market.is_recorded()) {
                let now = super::now_ms();
                feed.trade(now, t.id, t.price, t.quantity, t.buyer_is_maker);
            }
            self.publish_trade(&market.symbol, t);
        }
        self.replayed.store(end, Ordering::SeqCst);
        for closed in [false, true] {
            let json = serde_json::json!({
                "e": "kline", "E": super::now_ms(), "s": market.symbol,
                "k": {
                    "t": c.open_time, "T": c.open_time + market.interval_ms() - 1, "s": market.symbol, "i": market.interval,
                    "f": 0, "L": 0,
                    "o": c.open.as_str(), "c": if closed { c.close.as_str() } else { c.open.as_str() },
                    "h": c.high.as_str(), "l": c.low.as_str(), "v": c.volume.as_str(),
                    "n": 0, "x": closed, "q": "0", "V": "0", "Q": "0", "B": "0"
                }
            });
            if closed {
                self.released.store(i + 1, Ordering::SeqCst);
            }
            self.publish("kline", json.to_string().into());
        }
        self.close
            .store(c.close.to_f64().to_bits(), Ordering::SeqCst);
    }

    /// The depth snapshot JSON of the current book.
    pub fn snapshot_json(&self, limit: usize) -> String {
        let book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        serde_json::json!({
            "lastUpdateId": book.last_update_id,
            "bids": levels(&book.bids, true, limit),
            "asks": levels(&book.asks, false, limit),
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book_of(live: &Live) -> (BTreeMap<Fixed, Fixed>, BTreeMap<Fixed, Fixed>) {
        let book = live.book.lock().unwrap();
        (book.bids.clone(), book.asks.clone())
    }

    /// Applies a `depthUpdate`'s levels to a side.
    fn apply(side: &mut BTreeMap<Fixed, Fixed>, levels: &serde_json::Value) {
        for level in levels.as_array().unwrap() {
            let (p, q): (Fixed, Fixed) = (
                level[0].as_str().unwrap().parse().unwrap(),
                level[1].as_str().unwrap().parse().unwrap(),
            );
            if q.raw() == 0 {
                side.remove(&p);
            } else {
                side.insert(p, q);
            }
        }
    }

    #[tokio::test]
    async fn the_book_walks_to_each_released_close_in_diffs_that_subscribers_can_apply() {
        let market = SimMarket::generated("BTCUSDT", "1m", 60_000, 1_700_000_000_000, 50, 3);
        let (events, mut heard) = broadcast::channel(1 << 16);
        // Paced slowly, its tasks idle (this runtime runs them only when the test waits): the
        // test releases candles and changes the book itself.
        let live = Live::start(&market, events, Vec::new(), 1, (3_600_000, 1e-6), None);
        let mut rng = Rng(7);
        let (mut bids, mut asks) = book_of(&live);
        let mut last_id = live.book.lock().unwrap().last_update_id;
        let first = market.candles()[0].open.to_f64();
        let (bid, ask) = (
            bids.last_key_value().unwrap().0,
            asks.first_key_value().unwrap().0,
        );
        assert!(bid.to_f64() < first && first < ask.to_f64());
        let mut far = 0;
        for i in 0..market.candles().len() {
            live.release(&market, i);
            let close = market.candles()[i].close.to_f64();
            let (tick, center) = {
                let book = live.book.lock().unwrap();
                (book.tick, book.center)
            };
            let steps = ((close / tick).round() as i64 - center).abs();
            far = far.max(steps);
            for _ in 0..(steps + MOVE_STEP - 1) / MOVE_STEP {
                live.change_book("BTCUSDT", &mut rng);
            }
            // What a subscriber hears, in update-id order without a gap, rebuilds the book.
            while let Ok(p) = heard.try_recv() {
                if p.kind == "depth" {
                    let diff: serde_json::Value = serde_json::from_str(p.json.text()).unwrap();
                    assert_eq!(diff["U"].as_u64(), Some(last_id + 1), "{diff}");
                    last_id = diff["u"].as_u64().unwrap();
                    apply(&mut bids, &diff["b"]);
                    apply(&mut asks, &diff["a"]);
                }
            }
            let book = live.book.lock().unwrap();
            assert_eq!((&bids, &asks), (&book.bids, &book.asks));
            // The mid is the close's tick; every level within reach on its own side.
            assert_eq!(book.center, (close / tick).round() as i64, "candle {i}");
            let (low, high) = (book.price(-LEVELS), book.price(LEVELS));
            let mid = book.price(0);
            assert!(bids.keys().all(|p| *p >= low && *p < mid), "candle {i}");
            assert!(asks.keys().all(|p| *p > mid && *p <= high), "candle {i}");
            assert!(bids.len() > 150 && asks.len() > 150, "candle {i}");
        }
        // The candles moved the book further than one step at a time.
        assert!(far > MOVE_STEP, "{far}");
        // A close at a third of the price: a new grid, at once, in one diff.
        let third = first / 3.0;
        live.close.store(third.to_bits(), Ordering::SeqCst);
        live.change_book("BTCUSDT", &mut rng);
        while let Ok(p) = heard.try_recv() {
            if p.kind == "depth" {
                let diff: serde_json::Value = serde_json::from_str(p.json.text()).unwrap();
                apply(&mut bids, &diff["b"]);
                apply(&mut asks, &diff["a"]);
            }
        }
        let book = live.book.lock().unwrap();
        assert_eq!((&bids, &asks), (&book.bids, &book.asks));
        assert!((book.tick / (third * TICK) - 1.0).abs() < 1e-12);
        let (bid, ask) = (
            bids.last_key_value().unwrap().0,
            asks.first_key_value().unwrap().0,
        );
        assert!(
            bid.to_f64() < third
                && third < ask.to_f64()
                && ask.to_f64() - bid.to_f64() < 70.0 * book.tick
        );
        assert!(bids.len() > 150 && asks.len() > 150);
    }
}
