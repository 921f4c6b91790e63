//! The streaming machinery every pattern shares: the recent candles in a ring, and the running
//! "period totals" of candle ranges that TA-Lib keeps for each setting a pattern consults.
//!
//! TA-Lib sums a setting's range over the `period` candles before the candle it judges, starting
//! the sum at the first output and then, after each output, adding the range that enters and
//! subtracting the one that leaves. [`Candlestick`] keeps exactly those sums, in that order.
//! The stateful hikkake patterns run a few bars before their first output, and their sums start
//! there ([`Rule::EARLY`]).

use super::candle::Candle;
use super::settings::Setting;
use crate::bar::Bar;
use crate::indicator::Indicator;

/// A pattern's rule: which running totals it needs and how it judges the latest candles.
pub(crate) trait Rule: Send + Sync + 'static {
    /// The running totals, each a setting and how many bars before the current one its judged
    /// candle is; [`Bars::avg`] refers to them by position.
    const TOTALS: &'static [(Setting, usize)];
    /// Bars the pattern needs beyond the longest average period: the lookback is the longest
    /// period of [`Rule::TOTALS`] plus this.
    const SPAN: usize;

    /// Bars before the lookback from which TA-Lib already runs a stateful rule, without
    /// output, and keeps its totals running.
    const EARLY: usize = 0;

    /// TA-Lib's output for the current bar, once the lookback has passed.
    fn eval(&mut self, bars: &Bars<'_>) -> i32;

    /// Sees one of the [`Rule::EARLY`] bars just before the lookback.
    fn prime(&mut self, _bars: &Bars<'_>) {}
}

/// `value` when `hit`, else 0: TA-Lib's output for a pattern found or not.
#[inline]
pub(crate) fn flag(hit: bool, value: i32) -> i32 {
    if hit { value } else { 0 }
}

/// The lookback of a rule: its longest average period plus its span.
fn lookback_of<R: Rule>() -> usize {
    R::TOTALS.iter().map(|(s, _)| s.period).max().unwrap_or(0) + R::SPAN
}

/// The last candles seen, newest last.
#[derive(Clone, Debug)]
struct Ring {
    candles: Vec<Candle>,
    next: usize,
}

impl Ring {
    fn new(capacity: usize) -> Self {
        Self {
            candles: vec![Candle::default(); capacity.max(1)],
            next: 0,
        }
    }

    #[inline]
    fn push(&mut self, candle: Candle) {
        self.candles[self.next] = candle;
        self.next = (self.next + 1) % self.candles.len();
    }

    #[inline]
    fn ago(&self, ago: usize) -> &Candle {
        let cap = self.candles.len();
        &self.candles[(self.next + cap - 1 - ago) % cap]
    }
}

/// What a rule sees: the recent candles and the running totals of its settings.
pub(crate) struct Bars<'a> {
    ring: &'a Ring,
    totals: &'a [f64],
    specs: &'static [(Setting, usize)],
}

impl Bars<'_> {
    /// The candle `ago` bars before the current one (0 = current).
    #[inline]
    pub fn c(&self, ago: usize) -> &Candle {
        self.ring.ago(ago)
    }

    /// Total `slot`'s threshold for its candle (TA-Lib's `TA_CANDLEAVERAGE`).
    #[inline]
    pub fn avg(&self, slot: usize) -> f64 {
        let (setting, ago) = self.specs[slot];
        setting.average(self.totals[slot], self.c(ago))
    }
}

/// A candlestick pattern as a streaming [`Indicator`] with one output, 0 before the lookback
/// as in TA-Lib's integer outputs.
pub(crate) struct Candlestick<R: Rule> {
    rule: R,
    ring: Ring,
    totals: Vec<f64>,
    seen: usize,
    lookback: usize,
}

impl<R: Rule> Candlestick<R> {
    /// The indicator running `rule`.
    pub fn new(rule: R) -> Self {
        let lookback = lookback_of::<R>();
        let reach = R::TOTALS
            .iter()
            .map(|(s, ago)| s.period + ago)
            .max()
            .unwrap_or(0);
        Self {
            rule,
            ring: Ring::new(lookback.max(reach) + 1),
            totals: vec![0.0; R::TOTALS.len()],
            seen: 0,
            lookback,
        }
    }

    /// Boxed, as the registry builds it.
    pub fn boxed(rule: R) -> Box<dyn Indicator> {
        Box::new(Self::new(rule))
    }
}

impl<R: Rule> Indicator for Candlestick<R> {
    fn lookback(&self) -> usize {
        self.lookback
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let t = self.seen;
        self.seen += 1;
        let candle = Candle::from(bar);
        self.ring.push(candle);
        // The sums start at the first bar the rule runs on, each over the `period` candles just
        // before the candle it judges; after each bar they take in the next candle.
        let start = self.lookback - R::EARLY;
        if t < start {
            for (total, (setting, ago)) in self.totals.iter_mut().zip(R::TOTALS) {
                if t + ago + setting.period >= start && t + ago < start {
                    *total += setting.range_of(&candle);
                }
            }
            // TA-Lib's integer outputs hold 0, not NaN, before the lookback.
            out[0] = 0.0;
            return;
        }
        let bars = Bars {
            ring: &self.ring,
            totals: &self.totals,
            specs: R::TOTALS,
        };
        if t < self.lookback {
            self.rule.prime(&bars);
            out[0] = 0.0;
        } else {
            out[0] = f64::from(self.rule.eval(&bars));
        }
        for (total, (setting, ago)) in self.totals.iter_mut().zip(R::TOTALS) {
            if setting.period != 0 {
                *total += setting.range_of(self.ring.ago(*ago))
                    - setting.range_of(self.ring.ago(ago + setting.period));
            }
        }
    }
}
