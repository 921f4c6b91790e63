//! Cycle Indicators: the Hilbert-transform family, with its two overlays MAMA and HT_TRENDLINE.

use std::sync::OnceLock;

use crate::bar::Bar;
use crate::blocks::Stream;
use crate::blocks::hilbert::{Cycle, Hilbert, rad_to_deg};
use crate::blocks::mama::Mama;
use crate::blocks::window::Window;
use crate::indicator::{Indicator, Warmup};
use crate::registry::{Field, Function, Group, Param};

const CLOSE: &[Field] = &[Field::Close];
const REAL: &[&str] = &["real"];

/// Where TA-Lib starts the filters of the functions with a lookback of 32 (period, phasor).
const SHORT_FIRST: usize = 12;
const SHORT_LOOKBACK: usize = 32;
/// Where it starts them for those with a lookback of 63 (phase, sine, trendline, trend mode).
const LONG_FIRST: usize = 37;
const LONG_LOOKBACK: usize = 63;

/// Most bars the phase and trendline loops look back over.
const MAX_CYCLE: usize = 50;

pub(crate) static FUNCTIONS: &[Function] = &[
    Function {
        name: "HT_DCPERIOD",
        group: Group::CycleIndicators,
        description: "Hilbert transform dominant cycle period",
        inputs: CLOSE,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(Ht::new(SHORT_FIRST, SHORT_LOOKBACK, DcPeriod)),
    },
    Function {
        name: "HT_DCPHASE",
        group: Group::CycleIndicators,
        description: "Hilbert transform dominant cycle phase, in degrees",
        inputs: CLOSE,
        params: &[],
        outputs: REAL,
        build: |_| {
            Box::new(Ht::new(
                LONG_FIRST,
                LONG_LOOKBACK,
                DcPhaseOut(DcPhase::new()),
            ))
        },
    },
    Function {
        name: "HT_PHASOR",
        group: Group::CycleIndicators,
        description: "Hilbert transform phasor components: in-phase and quadrature",
        inputs: CLOSE,
        params: &[],
        outputs: &["inphase", "quadrature"],
        build: |_| Box::new(Ht::new(SHORT_FIRST, SHORT_LOOKBACK, Phasor)),
    },
    Function {
        name: "HT_SINE",
        group: Group::CycleIndicators,
        description: "Hilbert transform sine wave of the dominant cycle phase and its 45-degree lead",
        inputs: CLOSE,
        params: &[],
        outputs: &["sine", "leadsine"],
        build: |_| Box::new(Ht::new(LONG_FIRST, LONG_LOOKBACK, Sine(DcPhase::new()))),
    },
    Function {
        name: "HT_TRENDLINE",
        group: Group::OverlapStudies,
        description: "Hilbert transform instantaneous trendline",
        inputs: CLOSE,
        params: &[],
        outputs: REAL,
        build: |_| {
            Box::new(Ht::new(
                LONG_FIRST,
                LONG_LOOKBACK,
                TrendlineOut(Trendline::new()),
            ))
        },
    },
    Function {
        name: "HT_TRENDMODE",
        group: Group::CycleIndicators,
        description: "Hilbert transform trend (1) versus cycle (0) mode",
        inputs: CLOSE,
        params: &[],
        outputs: &["integer"],
        build: |_| Box::new(Ht::new(LONG_FIRST, LONG_LOOKBACK, TrendMode::new())),
    },
    Function {
        name: "MAMA",
        group: Group::OverlapStudies,
        description: "MESA adaptive moving average and its following average FAMA",
        inputs: CLOSE,
        params: &[
            Param::real("fastlimit", 0.5, 0.01, 0.99),
            Param::real("slowlimit", 0.05, 0.01, 0.99),
        ],
        outputs: &["mama", "fama"],
        build: |p| Box::new(MamaFama(Mama::new(p[0], p[1]))),
    },
];

/// What one HT function makes of each transformed bar.
trait Stage: Send + Sync {
    /// The output before the lookback: NaN, or 0 for an integer output as TA-Lib gives it.
    const IDLE: f64 = f64::NAN;
    /// Sees every bar's price, transformed or not.
    fn price(&mut self, _x: f64) {}
    /// Updates from one transformed bar; writes the outputs.
    fn update(&mut self, cycle: &Cycle, out: &mut [f64]);
}

/// A Hilbert transform followed by a [`Stage`], [`Stage::IDLE`] before the lookback.
struct Ht<S> {
    hilbert: Hilbert,
    warmup: Warmup,
    stage: S,
}

impl<S: Stage> Ht<S> {
    fn new(first: usize, lookback: usize, stage: S) -> Self {
        Self {
            hilbert: Hilbert::new(first),
            warmup: Warmup::new(lookback),
            stage,
        }
    }
}

impl<S: Stage> Indicator for Ht<S> {
    fn lookback(&self) -> usize {
        self.warmup.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let ready = self.warmup.tick();
        self.stage.price(bar.close);
        if let Some(cycle) = self.hilbert.next(bar.close) {
            self.stage.update(&cycle, out);
        }
        if !ready {
            out.fill(S::IDLE);
        }
    }
}

struct DcPeriod;

impl Stage for DcPeriod {
    fn update(&mut self, cycle: &Cycle, out: &mut [f64]) {
        out[0] = cycle.smooth_period;
    }
}

struct Phasor;

impl Stage for Phasor {
    fn update(&mut self, cycle: &Cycle, out: &mut [f64]) {
        out[0] = cycle.in_phase;
        out[1] = cycle.quadrature;
    }
}

/// The dominant cycle phase: a discrete Fourier sum of the smoothed prices over one period.
struct DcPhase {
    smoothed: [f64; MAX_CYCLE],
    slot: usize,
    phase: f64,
    rad_to_deg: f64,
    turn: f64,
    angles: &'static [(f64, f64)],
}

/// Sine and cosine of every angle the phase sum uses, `i * turn / n` for `n` from 1 to
/// [`MAX_CYCLE`] and `i < n` (from position `n * (n - 1) / 2`), computed once with the same
/// arithmetic as the sum would: the same bits, without two libm calls per term.
fn angles(turn: f64) -> &'static [(f64, f64)] {
    static TABLE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Vec::with_capacity(MAX_CYCLE * (MAX_CYCLE + 1) / 2);
        for n in 1..=MAX_CYCLE {
            for i in 0..n {
                let angle = i as f64 * turn / n as f64;
                table.push((angle.sin(), angle.cos()));
            }
        }
        table
    })
}

impl DcPhase {
    fn new() -> Self {
        let turn = 1f64.atan() * 8.0;
        Self {
            smoothed: [0.0; MAX_CYCLE],
            slot: 0,
            phase: 0.0,
            rad_to_deg: rad_to_deg(),
            turn,
            angles: angles(turn),
        }
    }

    /// The phase in degrees after one more transformed bar.
    fn update(&mut self, cycle: &Cycle) -> f64 {
        self.smoothed[self.slot] = cycle.smoothed;
        let n = (cycle.smooth_period + 0.5) as usize;
        let (mut real, mut imag) = (0.0, 0.0);
        let mut idx = self.slot;
        if (1..=MAX_CYCLE).contains(&n) {
            for &(sin, cos) in &self.angles[n * (n - 1) / 2..][..n] {
                let price = self.smoothed[idx];
                real += sin * price;
                imag += cos * price;
                idx = if idx == 0 { MAX_CYCLE - 1 } else { idx - 1 };
            }
        } else {
            for i in 0..n {
                let angle = i as f64 * self.turn / n as f64;
                let price = self.smoothed[idx];
                real += angle.sin() * price;
                imag += angle.cos() * price;
                idx = if idx == 0 { MAX_CYCLE - 1 } else { idx - 1 };
            }
        }
        if imag.abs() > 0.0 {
            self.phase = (real / imag).atan() * self.rad_to_deg;
        } else if imag.abs() <= 0.01 {
            if real < 0.0 {
                self.phase -= 90.0;
            } else if real > 0.0 {
                self.phase += 90.0;
            }
        }
        self.phase += 90.0;
        // Compensates the one-bar lag of the price smoother.
        self.phase += 360.0 / cycle.smooth_period;
        if imag < 0.0 {
            self.phase += 180.0;
        }
        if self.phase > 315.0 {
            self.phase -= 360.0;
        }
        self.slot = if self.slot == MAX_CYCLE - 1 {
            0
        } else {
            self.slot + 1
        };
        self.phase
    }

    /// Sine and 45-degree lead sine of `phase` degrees.
    fn sines(&self, phase: f64) -> (f64, f64) {
        let to_rad = 1.0 / self.rad_to_deg;
        ((phase * to_rad).sin(), ((phase + 45.0) * to_rad).sin())
    }
}

struct DcPhaseOut(DcPhase);

impl Stage for DcPhaseOut {
    fn update(&mut self, cycle: &Cycle, out: &mut [f64]) {
        out[0] = self.0.update(cycle);
    }
}

struct Sine(DcPhase);

impl Stage for Sine {
    fn update(&mut self, cycle: &Cycle, out: &mut [f64]) {
        let phase = self.0.update(cycle);
        (out[0], out[1]) = self.0.sines(phase);
    }
}

/// The instantaneous trendline: the mean raw price over the dominant cycle period, then a
/// 4-bar weighted average of those means.
struct Trendline {
    prices: Window,
    means: [f64; 3],
}

impl Trendline {
    fn new() -> Self {
        Self {
            prices: Window::new(MAX_CYCLE),
            means: [0.0; 3],
        }
    }

    /// The trendline after one more transformed bar.
    fn update(&mut self, cycle: &Cycle) -> f64 {
        let n = ((cycle.smooth_period + 0.5) as usize).min(self.prices.len());
        let mut mean = 0.0;
        for i in 0..n {
            mean += self.prices.back(i);
        }
        if n > 0 {
            mean /= n as f64;
        }
        let [m1, m2, m3] = self.means;
        let line = (4.0 * mean + 3.0 * m1 + 2.0 * m2 + m3) / 10.0;
        self.means = [mean, m1, m2];
        line
    }
}

struct TrendlineOut(Trendline);

impl Stage for TrendlineOut {
    fn price(&mut self, x: f64) {
        self.0.prices.push(x);
    }

    fn update(&mut self, cycle: &Cycle, out: &mut [f64]) {
        out[0] = self.0.update(cycle);
    }
}

/// Trend (1) unless the sine lines crossed within half a cycle, the phase advances at the cycle's
/// pace, and price stays within 1.5% of the trendline.
struct TrendMode {
    phase: DcPhase,
    trendline: Trendline,
    prev_phase: f64,
    sine: f64,
    lead_sine: f64,
    days_in_trend: i64,
}

impl TrendMode {
    fn new() -> Self {
        Self {
            phase: DcPhase::new(),
            trendline: Trendline::new(),
            prev_phase: 0.0,
            sine: 0.0,
            lead_sine: 0.0,
            days_in_trend: 0,
        }
    }
}

impl Stage for TrendMode {
    const IDLE: f64 = 0.0;

    fn price(&mut self, x: f64) {
        self.trendline.prices.push(x);
    }

    fn update(&mut self, cycle: &Cycle, out: &mut [f64]) {
        let phase = self.phase.update(cycle);
        let (prev_sine, prev_lead) = (self.sine, self.lead_sine);
        (self.sine, self.lead_sine) = self.phase.sines(phase);
        let line = self.trendline.update(cycle);
        let period = cycle.smooth_period;
        let mut trend = true;
        if (self.sine > self.lead_sine && prev_sine <= prev_lead)
            || (self.sine < self.lead_sine && prev_sine >= prev_lead)
        {
            self.days_in_trend = 0;
            trend = false;
        }
        self.days_in_trend += 1;
        if (self.days_in_trend as f64) < 0.5 * period {
            trend = false;
        }
        let advance = phase - self.prev_phase;
        self.prev_phase = phase;
        if period != 0.0 && advance > 0.67 * 360.0 / period && advance < 1.5 * 360.0 / period {
            trend = false;
        }
        if line != 0.0 && ((cycle.smoothed - line) / line).abs() >= 0.015 {
            trend = true;
        }
        out[0] = if trend { 1.0 } else { 0.0 };
    }
}

/// MAMA and FAMA from the [`Mama`] block.
struct MamaFama(Mama);

impl Indicator for MamaFama {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.0.next(bar.close).unwrap_or(f64::NAN);
        out[1] = self.0.fama();
    }
}
