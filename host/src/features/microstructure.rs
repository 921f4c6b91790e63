//! Market microstructure from public trades and the local L2 book.
//!
//! Book features (spread, microprice, imbalance, price impact) follow each book update; trade and
//! flow features (order-flow imbalance, signed volume, trade-sign imbalance, arrival intensity)
//! accumulate over the bar and are published when it closes, as are the rolling ones (VPIN,
//! Kyle's lambda). A symbol that has never seen a trade (or a book) has no value for them: a
//! backtest over candles alone reports them missing rather than zero.

use std::collections::VecDeque;

use crate::feeds::{BookTop, TradePrint};
use crate::model::Side;

/// Parameters of the microstructure features.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MicroConfig {
    /// Notional (quote currency) whose price impact `micro.impact_*_bps` measures.
    pub impact_notional: f64,
    /// Base volume per VPIN bucket.
    pub vpin_bucket_volume: f64,
    /// Buckets VPIN averages over.
    pub vpin_buckets: usize,
    /// Bars Kyle's lambda is regressed over.
    pub kyle_bars: usize,
}

impl Default for MicroConfig {
    fn default() -> Self {
        Self {
            impact_notional: 10_000.0,
            vpin_bucket_volume: 100.0,
            vpin_buckets: 50,
            kyle_bars: 50,
        }
    }
}

/// Book features, in the order [`BOOK_FEATURES`] names them.
pub const BOOK_FEATURES: [(&str, &str); 8] = [
    ("micro.spread", "best ask minus best bid"),
    ("micro.spread_bps", "spread over the mid, in basis points"),
    (
        "micro.microprice",
        "mid weighted by the opposite side's best quantity",
    ),
    (
        "micro.imbalance_1",
        "(bid qty - ask qty) / (bid qty + ask qty) at the best level",
    ),
    (
        "micro.imbalance_5",
        "book imbalance over the best 5 levels of each side",
    ),
    (
        "micro.imbalance_10",
        "book imbalance over the best 10 levels of each side",
    ),
    (
        "micro.impact_buy_bps",
        "cost of buying the impact notional by walking the asks, bps of mid",
    ),
    (
        "micro.impact_sell_bps",
        "cost of selling the impact notional into the bids, bps of mid",
    ),
];

/// Flow features published at each bar close, in this order.
pub const FLOW_FEATURES: [(&str, &str); 6] = [
    (
        "micro.ofi",
        "order-flow imbalance of best-level changes over the bar (Cont, Kukanov, Stoikov)",
    ),
    (
        "micro.signed_volume",
        "buyer-initiated minus seller-initiated volume over the bar",
    ),
    (
        "micro.trade_sign_imbalance",
        "(buys - sells) / trades over the bar",
    ),
    ("micro.intensity", "trades per second over the bar"),
    (
        "micro.vpin",
        "volume-synchronised probability of informed trading over the last buckets",
    ),
    (
        "micro.kyle_lambda",
        "slope of bar log return on signed volume over the last bars",
    ),
];

/// One symbol's microstructure state.
#[derive(Clone, Debug)]
pub struct Microstructure {
    config: MicroConfig,
    book: [f64; BOOK_FEATURES.len()],
    has_book: bool,
    has_trades: bool,
    best: Option<(f64, f64, f64, f64)>,
    ofi: f64,
    buy_volume: f64,
    sell_volume: f64,
    buys: u32,
    sells: u32,
    bucket_buy: f64,
    bucket_sell: f64,
    buckets: VecDeque<f64>,
    kyle: VecDeque<(f64, f64)>,
}

impl Microstructure {
    /// A fresh state.
    pub fn new(config: MicroConfig) -> Self {
        Self {
            config,
            book: [f64::NAN; BOOK_FEATURES.len()],
            has_book: false,
            has_trades: false,
            best: None,
            ofi: 0.0,
            buy_volume: 0.0,
            sell_volume: 0.0,
            buys: 0,
            sells: 0,
            bucket_buy: 0.0,
            bucket_sell: 0.0,
            buckets: VecDeque::new(),
            kyle: VecDeque::new(),
        }
    }

    /// The latest book features.
    pub fn book_values(&self) -> &[f64] {
        &self.book
    }

    /// Takes a book update.
    pub fn on_book(&mut self, book: &BookTop) {
        let (Some(&(bid, bid_qty)), Some(&(ask, ask_qty))) = (book.bids.first(), book.asks.first())
        else {
            self.book = [f64::NAN; BOOK_FEATURES.len()];
            return;
        };
        self.has_book = true;
        if let Some((pb, pbq, pa, paq)) = self.best {
            // Cont-Kukanov-Stoikov: demand added at the bid minus supply added at the ask.
            let e_bid = if bid >= pb { bid_qty } else { 0.0 } - if bid <= pb { pbq } else { 0.0 };
            let e_ask = if ask <= pa { ask_qty } else { 0.0 } - if ask >= pa { paq } else { 0.0 };
            self.ofi += e_bid - e_ask;
        }
        self.best = Some((bid, bid_qty, ask, ask_qty));
        let mid = (bid + ask) / 2.0;
        let depth =
            |levels: &[(f64, f64)], n: usize| levels.iter().take(n).map(|l| l.1).sum::<f64>();
        let imbalance = |n: usize| {
            let (b, a) = (depth(&book.bids, n), depth(&book.asks, n));
            if b + a > 0.0 {
                (b - a) / (b + a)
            } else {
                f64::NAN
            }
        };
        let notional = self.config.impact_notional;
        self.book = [
            ask - bid,
            if mid > 0.0 {
                (ask - bid) / mid * 1e4
            } else {
                f64::NAN
            },
            if bid_qty + ask_qty > 0.0 {
                (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty)
            } else {
                mid
            },
            imbalance(1),
            imbalance(5),
            imbalance(10),
            impact_bps(&book.asks, notional, mid),
            -impact_bps(&book.bids, notional, mid),
        ];
    }

    /// Takes a public trade.
    pub fn on_trade(&mut self, trade: &TradePrint) {
        self.has_trades = true;
        let q = trade.quantity;
        match trade.aggressor {
            Side::Buy => {
                self.buy_volume += q;
                self.buys += 1;
                self.bucket_buy += q;
            }
            Side::Sell => {
                self.sell_volume += q;
                self.sells += 1;
                self.bucket_sell += q;
            }
        }
        let size = self.config.vpin_bucket_volume;
        // A trade larger than what is left of a bucket fills it and spills into the next ones.
        while size > 0.0 && self.bucket_buy + self.bucket_sell >= size {
            let total = self.bucket_buy + self.bucket_sell;
            let buy_share = self.bucket_buy / total;
            let (b, s) = (size * buy_share, size * (1.0 - buy_share));
            self.buckets.push_back((b - s).abs());
            if self.buckets.len() > self.config.vpin_buckets {
                self.buckets.pop_front();
            }
            self.bucket_buy -= b;
            self.bucket_sell -= s;
        }
    }

    /// Closes a bar of `interval_ms` with log return `log_return`: writes the flow features into
    /// `out` (in [`FLOW_FEATURES`] order) and starts the next bar.
    pub fn close_bar(&mut self, interval_ms: u32, log_return: f64, out: &mut [f64]) {
        let trades = self.buys + self.sells;
        let signed = self.buy_volume - self.sell_volume;
        if self.has_trades && log_return.is_finite() {
            self.kyle.push_back((signed, log_return));
            if self.kyle.len() > self.config.kyle_bars {
                self.kyle.pop_front();
            }
        }
        out[0] = if self.has_book { self.ofi } else { f64::NAN };
        if self.has_trades {
            out[1] = signed;
            out[2] = if trades > 0 {
                (f64::from(self.buys) - f64::from(self.sells)) / f64::from(trades)
            } else {
                0.0
            };
            out[3] = f64::from(trades) / (f64::from(interval_ms) / 1000.0);
            out[4] = if self.buckets.len() == self.config.vpin_buckets {
                self.buckets.iter().sum::<f64>()
                    / (self.buckets.len() as f64 * self.config.vpin_bucket_volume)
            } else {
                f64::NAN
            };
            out[5] = if self.kyle.len() == self.config.kyle_bars {
                slope(&self.kyle)
            } else {
                f64::NAN
            };
        } else {
            out[1..6].fill(f64::NAN);
        }
        self.ofi = 0.0;
        self.buy_volume = 0.0;
        self.sell_volume = 0.0;
        self.buys = 0;
        self.sells = 0;
    }
}

/// Cost in basis points of the mid of taking `notional` from `levels` (best first): the
/// volume-weighted fill price against the mid; NaN when the book is too thin.
pub fn impact_bps(levels: &[(f64, f64)], notional: f64, mid: f64) -> f64 {
    if mid.is_nan() || notional.is_nan() || mid <= 0.0 || notional <= 0.0 {
        return f64::NAN;
    }
    let (mut left, mut quantity) = (notional, 0.0);
    for &(price, qty) in levels {
        let take = (price * qty).min(left);
        quantity += take / price;
        left -= take;
        if left <= 0.0 {
            let vwap = notional / quantity;
            return (vwap - mid) / mid * 1e4;
        }
    }
    f64::NAN
}

/// Least-squares slope of y on x.
fn slope(points: &VecDeque<(f64, f64)>) -> f64 {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, y) in points {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
    }
    if sxx > 0.0 { sxy / sxx } else { f64::NAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(bids: &[(f64, f64)], asks: &[(f64, f64)]) -> BookTop {
        BookTop {
            symbol: 0,
            time: 0,
            bids: bids.to_vec(),
            asks: asks.to_vec(),
        }
    }

    fn trade(price: f64, quantity: f64, aggressor: Side) -> TradePrint {
        TradePrint {
            symbol: 0,
            time: 0,
            trade_id: 0,
            price,
            quantity,
            aggressor,
        }
    }

    #[test]
    fn book_features_follow_their_definitions() {
        let mut m = Microstructure::new(MicroConfig {
            impact_notional: 150.0,
            ..Default::default()
        });
        m.on_book(&book(
            &[(99.0, 3.0), (98.0, 1.0)],
            &[(101.0, 1.0), (102.0, 5.0)],
        ));
        let v = m.book_values();
        assert_eq!(v[0], 2.0);
        assert_eq!(v[1], 200.0);
        assert_eq!(v[2], (99.0 * 1.0 + 101.0 * 3.0) / 4.0);
        assert_eq!(v[3], 0.5);
        assert_eq!(v[4], (4.0 - 6.0) / 10.0);
        // Buying 150: 101 at 101, 49 at 102 -> quantity 1 + 49/102.
        let vwap = 150.0 / (1.0 + 49.0 / 102.0);
        assert!((v[6] - (vwap - 100.0) / 100.0 * 1e4).abs() < 1e-9);
        assert!(v[7] > 0.0, "selling costs too: {}", v[7]);
        assert!(
            impact_bps(&[(101.0, 0.1)], 150.0, 100.0).is_nan(),
            "thin book has no impact value"
        );
    }

    #[test]
    fn flow_features_accumulate_per_bar_and_vpin_fills_buckets() {
        let config = MicroConfig {
            vpin_bucket_volume: 10.0,
            vpin_buckets: 2,
            kyle_bars: 2,
            ..Default::default()
        };
        let mut m = Microstructure::new(config);
        let mut out = [0.0; FLOW_FEATURES.len()];
        m.close_bar(60_000, 0.0, &mut out);
        assert!(out[1].is_nan(), "no trade ever seen: missing, not zero");
        m.on_trade(&trade(100.0, 15.0, Side::Buy));
        m.on_trade(&trade(100.0, 5.0, Side::Sell));
        m.on_trade(&trade(100.0, 1.0, Side::Buy));
        m.close_bar(60_000, 0.01, &mut out);
        assert_eq!(out[1], 11.0);
        assert_eq!(out[2], 1.0 / 3.0);
        assert_eq!(out[3], 3.0 / 60.0);
        // Buckets: the first 10 all buys (|10-0|), the second 5 buys + 5 sells (0).
        assert_eq!(out[4], (10.0 + 0.0) / 20.0);
        assert!(out[5].is_nan(), "one bar is not enough for lambda");
        m.on_trade(&trade(100.0, 2.0, Side::Sell));
        m.close_bar(60_000, -0.02, &mut out);
        assert_eq!(out[1], -2.0);
        assert!((out[5] - (0.01 - -0.02) / (11.0 - -2.0)).abs() < 1e-15);
    }

    #[test]
    fn order_flow_imbalance_sees_queue_changes_at_the_best_levels() {
        let mut m = Microstructure::new(MicroConfig::default());
        m.on_book(&book(&[(99.0, 3.0)], &[(101.0, 2.0)]));
        m.on_book(&book(&[(99.0, 5.0)], &[(101.0, 1.0)])); // bid +2, ask -1 -> +3
        m.on_book(&book(&[(100.0, 1.0)], &[(101.0, 1.0)])); // bid improves: +1
        let mut out = [0.0; FLOW_FEATURES.len()];
        m.close_bar(60_000, 0.0, &mut out);
        assert_eq!(out[0], 4.0);
    }
}
