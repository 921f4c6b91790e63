//! The simulator's live side of one symbol: an L2 book that changes every few milliseconds with
//! Binance's update ids, trades at the touch, and candles released at a pace and announced as
//! kline events, all published on the exchange's event channel (served by [`super::socket`]).

use super::market::SimMarket;
pub use crate::feeds::trade_file::{RecordedTrade as SimTrade, read_trades};
use crate::model::Fixed;
use crate::rng::Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// The evolving book.
#[derive(Debug, Default)]
pub struct SimBook {
    /// The id of the last change.
    pub last_update_id: u64,
    /// Bids by price.
    pub bids: BTreeMap<Fixed, Fixed>,
    /// Asks by price.
    pub asks: BTreeMap<Fixed, Fixed>,
}

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
    pub json: Arc<str>,
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
    /// Starts the book around the market's last close and, with `bars_per_second`, releases
    /// candles at that pace (otherwise every candle is available at once); publishes on `events`
    /// and gives every book change and trade to `feed`.
    pub fn start(
        market: &SimMarket,
        events: broadcast::Sender<Published>,
        recorded: Vec<SimTrade>,
        seed: u64,
        (book_ms, bars_per_second): (u64, f64),
        feed: Option<super::trading::TradingFeed>,
    ) -> Arc<Live> {
        let candles = market.candles();
        let mid = candles.last().map_or(100.0, |c| c.close.to_f64());
        let tick = (mid * 1e-5).max(1e-8);
        let mut book = SimBook {
            last_update_id: 1_000_000,
            ..Default::default()
        };
        let mut rng = Rng(seed ^ 0xB00C);
        for i in 1..=200 {
            book.bids
                .insert(fx(mid - tick * i as f64), fx(0.01 + rng.uniform() * 2.0));
            book.asks
                .insert(fx(mid + tick * i as f64), fx(0.01 + rng.uniform() * 2.0));
        }
        if let Some(feed) = &feed {
            let side = |m: &BTreeMap<Fixed, Fixed>| m.iter().map(|(p, q)| (*p, *q)).collect();
            feed.book(
                super::now_ms(),
                crate::feeds::BookUpdateKind::Snapshot,
                side(&book.bids),
                side(&book.asks),
            );
        }
        let paced = bars_per_second > 0.0;
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
        });
        let weak = Arc::downgrade(&live);
        let symbol = market.symbol.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(book_ms.max(1)));
            while let Some(live) = weak.upgrade() {
                ticker.tick().await;
                live.change_book(&symbol, mid, tick, &mut rng);
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

    /// One depth diff: a few levels near the top change or vanish.
    fn change_book(&self, symbol: &str, mid: f64, tick: f64, rng: &mut Rng) {
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        let first = book.last_update_id + 1;
        let changes = 1 + (rng.uniform() * 4.0) as usize;
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        let (mut bid_levels, mut ask_levels) = (Vec::new(), Vec::new());
        for _ in 0..changes {
            let offset = 1.0 + (rng.uniform() * 30.0).floor();
            let qty = if rng.uniform() < 0.2 {
                Fixed::ZERO
            } else {
                fx(0.01 + rng.uniform() * 2.0)
            };
            if rng.uniform() < 0.5 {
                let p = fx(mid - tick * offset);
                if qty.raw() == 0 {
                    book.bids.remove(&p)
                } else {
                    book.bids.insert(p, qty)
                };
                bid_levels.push((p, qty));
                bids.push([format!("{:.8}", p.to_f64()), format!("{:.8}", qty.to_f64())]);
            } else {
                let p = fx(mid + tick * offset);
                if qty.raw() == 0 {
                    book.asks.remove(&p)
                } else {
                    book.asks.insert(p, qty)
                };
                ask_levels.push((p, qty));
                asks.push([format!("{:.8}", p.to_f64()), format!("{:.8}", qty.to_f64())]);
            }
            book.last_update_id += 1;
        }
        let now = super::now_ms();
        if let Some(feed) = &self.feed {
            feed.book(
                now,
                crate::feeds::BookUpdateKind::Diff,
                bid_levels,
                ask_levels,
            );
        }
        let json = serde_json::json!({
            "e": "depthUpdate", "E": now, "s": symbol,
            "U": first, "u": book.last_update_id, "b": bids, "a": asks
        });
        self.publish("depth", json.to_string().into());
        let (best_bid, best_ask) = (
            book.bids.last_key_value().map(|(p, q)| (*p, *q)),
            book.asks.first_key_value().map(|(p, q)| (*p, *q)),
        );
        drop(book);
        if let (Some(bid), Some(ask)) = (best_bid, best_ask) {
            let ticker = serde_json::json!({
                "u": first, "s": symbol,
                "b": format!("{:.8}", bid.0.to_f64()), "B": format!("{:.8}", bid.1.to_f64()),
                "a": format!("{:.8}", ask.0.to_f64()), "A": format!("{:.8}", ask.1.to_f64())
            });
            self.publish("bookTicker", ticker.to_string().into());
            let generate = if self.recorded.is_empty() {
                (rng.uniform() * 3.0) as usize
            } else {
                0
            };
            for _ in 0..generate {
                let buyer_is_maker = rng.uniform() < 0.5;
                let price = if buyer_is_maker { bid.0 } else { ask.0 };
                self.trade(
                    symbol,
                    price,
                    fx(0.001 + rng.uniform() * 0.5),
                    buyer_is_maker,
                );
            }
        }
    }

    /// Sends one event of this symbol to the exchange's subscribers.
    fn publish(&self, kind: &'static str, json: Arc<str>) {
        let _ = self.events.send(Published {
            symbol: self.symbol_lower.clone(),
            kind,
            json,
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
        // The generated trades print at the book's touch, so they match resting orders;
        // recorded ones belong to another market's prices and only feed the streams.
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
