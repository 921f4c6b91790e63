//! The triangular detector (`[[signals.triangle]]`): a cross rate out of line with its two
//! legs by more than the fees of trading all three. With `cross` = ETHBTC, `base` = ETHUSDT
//! and `quote` = BTCUSDT (the cross's base and quote assets, each against the same third), the
//! two loops from the third asset are:
//!
//! - buy BTC, buy ETH with it, sell ETH: `bid(ETHUSDT) / (ask(BTCUSDT) ask(ETHBTC))`;
//! - buy ETH, sell it for BTC, sell BTC: `bid(ETHBTC) bid(BTCUSDT) / ask(ETHUSDT)`;
//!
//! each times `(1 - taker_fee)^3`. A loop that returns more than `1 + min_edge` is a
//! mispricing: signals on all three legs in the loop's direction (first loop: long ETHBTC,
//! long BTCUSDT, short ETHUSDT; second: the opposite), once per crossing into the edge.
//!
//! Prices are the books' best bid and ask where the market has books (each no older than
//! `max_age_ms` at the bar's close), else the closes of the three legs' bars of the same close
//! time (bid = ask = close, a cruder test, with half the confidence). Strength: the net edge
//! over `full_edge` (capped at 1). Evaluated after each bar of any leg; the signal's time is
//! the bar's close or the newest book's time, whichever is later.

use super::config::TriangleConfig;
use super::leg_signals;
use crate::market::{MarketData, Top};
use crate::model::{Bar, Direction, Signal, SymbolId, SymbolTable};
use std::sync::Arc;

/// One triangle's state.
pub struct Triangle {
    config: TriangleConfig,
    source: Arc<str>,
    /// cross, base, quote ids, once [`Triangle::bind`] found all three.
    ids: Option<[SymbolId; 3]>,
    /// Whether a loop was beyond the edge at the previous evaluation.
    beyond: bool,
}

impl Triangle {
    /// The detector `config` describes.
    pub fn new(config: TriangleConfig) -> Self {
        let source = format!(
            "host:triangle:{}/{}/{}",
            config.cross, config.base, config.quote
        )
        .into();
        Triangle {
            config,
            source,
            ids: None,
            beyond: false,
        }
    }

    /// The net return of each loop (first, second) at `tops` of cross, base, quote.
    pub fn loops(tops: &[Top; 3], taker_fee: f64) -> (f64, f64) {
        let [cross, base, quote] = tops;
        let fees = (1.0 - taker_fee).powi(3);
        let first = base.bid.0 / (quote.ask.0 * cross.ask.0) * fees - 1.0;
        let second = cross.bid.0 * quote.bid.0 / base.ask.0 * fees - 1.0;
        (first, second)
    }

    /// Its three symbols' ids once `known` has them all (kept from then on), for routing its
    /// bars.
    pub fn bind(&mut self, known: &SymbolTable) -> Option<Vec<SymbolId>> {
        let c = &self.config;
        let ids = [known.id(&c.cross)?, known.id(&c.base)?, known.id(&c.quote)?];
        self.ids = Some(ids);
        Some(ids.to_vec())
    }

    /// Takes `bar` in; the triangle's signals when a loop crosses into the edge.
    pub fn on_bar(&mut self, bar: &Bar, market: &MarketData) -> Vec<Signal> {
        let c = &self.config;
        let Some(ids) = self.ids else {
            return Vec::new();
        };
        if !ids.contains(&bar.symbol) {
            return Vec::new();
        }
        let (Some(x), Some(b), Some(q)) =
            (market.top(ids[0]), market.top(ids[1]), market.top(ids[2]))
        else {
            return Vec::new();
        };
        let tops = [x, b, q];
        let priced = tops
            .iter()
            .all(|t| t.bid.0.is_finite() && t.ask.0.is_finite() && t.bid.0 > 0.0 && t.ask.0 > 0.0);
        let now = bar.close_time();
        let oldest = tops.iter().map(|t| t.time).min().unwrap_or(0);
        let newest = tops.iter().map(|t| t.time).max().unwrap_or(0);
        // A leg priced by its close (no book: no sizes) counts only once its bar of this close
        // time is in; a book counts while no older than max_age_ms. Until then nothing is
        // decided, and the last decision stands.
        let fresh = tops.iter().all(|t| {
            if t.ask.1 > 0.0 && t.bid.1 > 0.0 {
                now - t.time <= c.max_age_ms
            } else {
                t.time == now
            }
        });
        if !priced || !fresh || newest - oldest > c.max_age_ms {
            return Vec::new();
        }
        let (first, second) = Self::loops(&tops, c.taker_fee);
        let edge = first.max(second);
        let was_beyond = std::mem::replace(&mut self.beyond, edge > c.min_edge);
        if !self.beyond || was_beyond {
            return Vec::new();
        }
        // Books have sizes; a top made from a close has none.
        let from_books = tops.iter().all(|t| t.ask.1 > 0.0 && t.bid.1 > 0.0);
        let confidence = if from_books { 1.0 } else { 0.5 };
        let strength = if c.full_edge > 0.0 {
            (edge / c.full_edge).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let (on_cross, on_base, on_quote) = if first >= second {
            (Direction::Long, Direction::Short, Direction::Long)
        } else {
            (Direction::Short, Direction::Long, Direction::Short)
        };
        let horizon_ms = u64::from(c.horizon_bars) * u64::from(bar.interval_ms);
        leg_signals(
            [(ids[0], on_cross), (ids[1], on_base), (ids[2], on_quote)],
            now.max(newest),
            (strength, confidence),
            horizon_ms,
            &self.source,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(bid: f64, ask: f64) -> Top {
        Top {
            symbol: 0,
            time: 0,
            bid: (bid, 1.0),
            ask: (ask, 1.0),
        }
    }

    #[test]
    fn the_loops_net_of_three_taker_fees() {
        // ETHBTC 0.05, ETHUSDT 2000, BTCUSDT 40000: in line, both loops lose the fees.
        let fair = [top(0.05, 0.05), top(2000.0, 2000.0), top(40000.0, 40000.0)];
        let (a, b) = Triangle::loops(&fair, 0.001);
        let fees = 0.999f64.powi(3) - 1.0;
        assert!((a - fees).abs() < 1e-12 && (b - fees).abs() < 1e-12);
        // ETH 1 % dearer in USDT than through BTC: buy BTC, buy ETH, sell ETH wins 1 % less fees.
        let rich = [top(0.05, 0.05), top(2020.0, 2020.0), top(40000.0, 40000.0)];
        let (a, _) = Triangle::loops(&rich, 0.001);
        assert!((a - (1.01 * 0.999f64.powi(3) - 1.0)).abs() < 1e-12);
    }
}
