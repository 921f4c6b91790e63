//! Market regimes per symbol (`[signals.regimes]`), after each of its closed bars:
//!
//! - volatility: the realised volatility of the last `vol_window` log returns (sample standard
//!   deviation), ranked among its own last `vol_history` values: `low` in the bottom
//!   `low_quantile`, `high` above `high_quantile`, `normal` between, each left only once the
//!   rank is `hysteresis` back inside its line (no flapping on the lines); nothing is published
//!   until [`MIN_HISTORY`] values are held (a rank among a few means little);
//! - trend: `up` or `down` (by the sign of the log return over `slope_bars`) while the ADX is at
//!   least `trend_adx`, `range` while it is below `range_adx`; between the two the regime
//!   stays as it was (hysteresis; `range` at first);
//! - liquidity, where the feed keeps the symbol's book: the spread, the depth within
//!   `depth_bps` of the mid on both sides (quote notional), and the impact of taking
//!   `impact_quote` of the quote asset, the mean of buying and selling (basis points through
//!   the mid, as the pre-trade cost estimate walks the book).
//!
//! Each symbol keeps its current regimes and the history of their changes (the latest
//! [`CHANGES_KEPT`]). Read from the bars and the feature engine as of each bar only.

use super::Inputs;
use super::config::RegimeConfig;
use super::per_symbol::PerSymbol;
use super::rank_window::RankWindow;
use crate::execution::cost::estimate;
use crate::features::WindowInput;
use crate::market::MarketData;
use crate::model::{Amount, Bar, FeeRates, Fixed, Side, SymbolId, TimestampMs};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// Regime changes kept per symbol.
pub const CHANGES_KEPT: usize = 1_000;

/// Realised volatilities a symbol's history must hold (or all of `vol_history`, if fewer)
/// before its regimes are published.
pub const MIN_HISTORY: usize = 100;

/// How volatile a symbol is against its own history.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VolatilityRegime {
    /// In the bottom `low_quantile` of its history.
    Low,
    /// Between.
    Normal,
    /// Above `high_quantile`.
    High,
}

/// Whether a symbol trends.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrendRegime {
    /// Trending up.
    Up,
    /// Trending down.
    Down,
    /// Ranging.
    Range,
}

/// A symbol's regimes as of one bar.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct Regime {
    /// The symbol.
    #[schema(value_type = String)]
    pub symbol: Arc<str>,
    /// Close time of the bar they are as of.
    pub time_ms: TimestampMs,
    /// The volatility regime.
    pub volatility: VolatilityRegime,
    /// Realised volatility of the last `vol_window` log returns (per bar).
    pub realized_volatility: f64,
    /// Its rank among its history, 0..1.
    pub volatility_percentile: f64,
    /// The trend regime.
    pub trend: TrendRegime,
    /// The ADX it was read from.
    pub adx: Option<f64>,
    /// Log return over `slope_bars`.
    pub slope: f64,
    /// Spread in basis points of the mid, with a book.
    pub spread_bps: Option<f64>,
    /// Quote notional within `depth_bps` of the mid, both sides, with a book.
    pub depth_quote: Option<f64>,
    /// Impact of taking `impact_quote`, mean of both sides, in basis points, with a book deep
    /// enough.
    pub impact_bps: Option<f64>,
}

/// A change of a symbol's volatility or trend regime.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RegimeChange {
    /// Close time of the bar it changed at.
    pub time_ms: TimestampMs,
    /// The volatility regime from then.
    pub volatility: VolatilityRegime,
    /// The trend regime from then.
    pub trend: TrendRegime,
}

/// A symbol's regimes now and how they have changed, newest change last.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct RegimeHistory {
    /// The regimes as of the latest bar.
    pub current: Regime,
    /// Their changes, oldest first.
    pub changes: Vec<RegimeChange>,
}

struct State {
    /// Log closes, the last `max(slope_bars, vol_window) + 1`.
    logs: VecDeque<f64>,
    /// The running sum and sum of squares of the last `vol_window` log returns (the
    /// differences of consecutive `logs`).
    sums: (f64, f64),
    /// The last `vol_history` realised volatilities.
    history: RankWindow,
    trend: TrendRegime,
    current: Option<Regime>,
    changes: VecDeque<RegimeChange>,
}

/// The regime tracker.
pub struct Regimes {
    config: RegimeConfig,
    adx: WindowInput,
    symbols: PerSymbol<State>,
}

impl Regimes {
    /// The tracker `config` describes, its ADX resolved by `inputs`.
    pub fn new(config: RegimeConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Regimes {
            adx: inputs.resolve("regimes.adx", &config.adx)?,
            config,
            symbols: PerSymbol::default(),
        })
    }

    /// Takes `bar`, which `market` has just taken in, into its symbol's regimes.
    pub fn on_bar(&mut self, bar: &Bar, market: &MarketData) {
        let c = &self.config;
        if !(bar.close.is_finite() && bar.close > 0.0) {
            return;
        }
        let depth = c.slope_bars.max(c.vol_window) + 1;
        let s = self.symbols.get_or_insert_with(bar.symbol, || State {
            logs: VecDeque::with_capacity(depth + 1),
            sums: (0.0, 0.0),
            history: RankWindow::new(c.vol_history),
            trend: TrendRegime::Range,
            current: None,
            changes: VecDeque::new(),
        });
        let log = bar.close.ln();
        if let Some(&last) = s.logs.back() {
            let r = log - last;
            s.sums.0 += r;
            s.sums.1 += r * r;
            // The return leaving the window, the same difference that entered it.
            let n = s.logs.len();
            if n > c.vol_window {
                let old = s.logs[n - c.vol_window] - s.logs[n - c.vol_window - 1];
                s.sums.0 -= old;
                s.sums.1 -= old * old;
            }
        }
        s.logs.push_back(log);
        if s.logs.len() > depth {
            s.logs.pop_front();
        }
        let held = s.logs.len();
        if held <= c.vol_window || held <= c.slope_bars {
            return;
        }
        let n = c.vol_window as f64;
        let variance = ((s.sums.1 - s.sums.0 * s.sums.0 / n) / (n - 1.0)).max(0.0);
        let rv = variance.sqrt();
        let at_or_below = s.history.push(rv);
        // Ranked among too few, the first volatilities would all look extreme.
        if s.history.len() < c.vol_history.min(MIN_HISTORY) {
            return;
        }
        let percentile = at_or_below as f64 / s.history.len() as f64;
        // Entered past a quantile line, left only `hysteresis` back inside it.
        let previous = s.current.as_ref().map(|r| r.volatility);
        let volatility = if percentile <= c.low_quantile
            || (previous == Some(VolatilityRegime::Low)
                && percentile <= c.low_quantile + c.hysteresis)
        {
            VolatilityRegime::Low
        } else if percentile > c.high_quantile
            || (previous == Some(VolatilityRegime::High)
                && percentile > c.high_quantile - c.hysteresis)
        {
            VolatilityRegime::High
        } else {
            VolatilityRegime::Normal
        };
        let slope = log - s.logs[held - 1 - c.slope_bars];
        let adx = market.features.value_of(bar.symbol, self.adx);
        if let Some(adx) = adx {
            if adx >= c.trend_adx {
                s.trend = if slope >= 0.0 {
                    TrendRegime::Up
                } else {
                    TrendRegime::Down
                };
            } else if adx < c.range_adx {
                s.trend = TrendRegime::Range;
            }
        }
        let (spread_bps, depth_quote, impact_bps) = liquidity(market, bar.symbol, c);
        let changed = s
            .current
            .as_ref()
            .is_none_or(|r| r.volatility != volatility || r.trend != s.trend);
        if changed {
            if s.changes.len() == CHANGES_KEPT {
                s.changes.pop_front();
            }
            s.changes.push_back(RegimeChange {
                time_ms: bar.close_time(),
                volatility,
                trend: s.trend,
            });
        }
        // The name moves from the previous regimes (no reference count touched each bar).
        let symbol = match s.current.take() {
            Some(previous) => previous.symbol,
            None => market.symbols().label(bar.symbol),
        };
        s.current = Some(Regime {
            symbol,
            time_ms: bar.close_time(),
            volatility,
            realized_volatility: rv,
            volatility_percentile: percentile,
            trend: s.trend,
            adx,
            slope,
            spread_bps,
            depth_quote,
            impact_bps,
        });
    }

    /// Requests `symbol`'s state from memory ahead of its bar (see [`super::prefetch`]).
    pub fn prefetch(&self, symbol: SymbolId) {
        self.symbols.prefetch(symbol);
    }

    /// Requests what `symbol`'s state points to, its state itself requested before.
    pub fn prefetch_heap(&self, symbol: SymbolId) {
        if let Some(s) = self.symbols.get(symbol) {
            super::prefetch::deque_ends(&s.logs);
            s.history.prefetch();
        }
    }

    /// `symbol`'s regimes as of its latest bar.
    pub fn current(&self, symbol: SymbolId) -> Option<&Regime> {
        self.symbols.get(symbol)?.current.as_ref()
    }

    /// Every symbol's regimes with their changes, by symbol name.
    pub fn histories(&self) -> Vec<RegimeHistory> {
        let mut out: Vec<RegimeHistory> = self
            .symbols
            .values()
            .filter_map(|s| {
                Some(RegimeHistory {
                    current: s.current.clone()?,
                    changes: s.changes.iter().copied().collect(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.current.symbol.cmp(&b.current.symbol));
        out
    }
}

/// Spread, depth and impact of `symbol`'s book, where the market keeps one.
fn liquidity(
    market: &MarketData,
    symbol: SymbolId,
    c: &RegimeConfig,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let Some(book) = market.depth(symbol) else {
        return (None, None, None);
    };
    let (Some((bid, _)), Some((ask, _))) = (book.best_bid(), book.best_ask()) else {
        return (None, None, None);
    };
    let mid = (bid.to_f64() + ask.to_f64()) / 2.0;
    let spread = (ask.to_f64() - bid.to_f64()) / mid * 1e4;
    let within = |price: Fixed| ((price.to_f64() - mid).abs() / mid * 1e4) <= c.depth_bps;
    let depth: f64 = book
        .bids(usize::MAX)
        .take_while(|(p, _)| within(*p))
        .chain(book.asks(usize::MAX).take_while(|(p, _)| within(*p)))
        .map(|(p, q)| p.to_f64() * q.to_f64())
        .sum();
    let impact = Fixed::from_f64(c.impact_quote).ok().and_then(|amount| {
        let fees = FeeRates {
            maker: Fixed::ZERO,
            taker: Fixed::ZERO,
        };
        let step = Fixed::from_raw(1);
        let side = |side| {
            estimate(book, side, Amount::Quote(amount), fees, step)
                .filter(|e| e.unfilled <= c.impact_quote * 1e-6)
                .map(|e| e.impact_bps)
        };
        Some((side(Side::Buy)? + side(Side::Sell)?) / 2.0)
    });
    (Some(spread), Some(depth), impact)
}
