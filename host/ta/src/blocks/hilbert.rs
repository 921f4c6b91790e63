//! John Ehlers' Hilbert-transform cycle measurement, step by step as TA-Lib computes it.
//!
//! Price is smoothed by a 4-bar weighted average; from the bar given to [`Hilbert::new`] on, the
//! smoothed price goes through four Hilbert filters (detrender, Q1, jI, jQ), each kept twice,
//! once for even-indexed bars and once for odd ones, as TA-Lib keeps them. The in-phase and
//! quadrature components give the dominant cycle period, smoothed with 0.2/0.8 and 0.33/0.67.
//! Everything starts from the first bar (TA-Lib's default unstable period 0), so outputs depend
//! on the whole history, exactly as TA-Lib's do.
//!
//! The reference TA-Lib build runs its FMA-compiled variant on x86-64 CPUs that have FMA, where
//! the compiler fused some multiply-adds (the 0.2/0.8, 0.33/0.67 and 0.075 blends, one product
//! of `Re`). Those are written with `mul_add` here, the others are not: near-constant prices make
//! these filters cancel to rounding noise, and only the same roundings give TA-Lib's numbers.

const A: f64 = 0.0962;
const B: f64 = 0.5769;

/// Degrees per radian as TA-Lib computes it (`45 / atan(1)`).
pub fn rad_to_deg() -> f64 {
    45.0 / 1f64.atan()
}

/// TA-Lib's price smoother: a 4-bar weighted moving average kept by running sums.
#[derive(Clone, Debug, Default)]
struct PriceSmoother {
    seen: usize,
    sub: f64,
    sum: f64,
    trailing: f64,
    recent: [f64; 3],
}

impl PriceSmoother {
    /// The smoothed price, from the fourth value on.
    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let k = self.seen;
        self.seen += 1;
        if k < 3 {
            if k == 0 {
                self.sub = x;
                self.sum = x;
            } else {
                self.sub += x;
                self.sum += x * (k + 1) as f64;
            }
            self.recent[k] = x;
            return None;
        }
        self.sub += x;
        self.sub -= self.trailing;
        self.sum += x * 4.0;
        // The value three bars back leaves the sum on the next bar.
        self.trailing = std::mem::replace(&mut self.recent[k % 3], x);
        let smoothed = self.sum * 0.1;
        self.sum -= self.sub;
        Some(smoothed)
    }
}

/// One Hilbert filter for one bar parity: three past weighted inputs and the previous term.
#[derive(Clone, Debug, Default)]
struct Filter {
    weighted: [f64; 3],
    prev: f64,
    prev_input: f64,
}

impl Filter {
    #[inline]
    fn apply(&mut self, input: f64, slot: usize, adjust: f64) -> f64 {
        let weighted = A * input;
        let mut out = 0.0 - self.weighted[slot];
        self.weighted[slot] = weighted;
        out += weighted;
        out -= self.prev;
        self.prev = B * self.prev_input;
        out += self.prev;
        self.prev_input = input;
        out * adjust
    }
}

/// What the transform gives for one bar.
#[derive(Clone, Copy, Debug)]
pub struct Cycle {
    /// The 4-bar weighted average of price.
    pub smoothed: f64,
    /// In-phase component I1: the detrended price three bars back.
    pub in_phase: f64,
    /// Quadrature component Q1.
    pub quadrature: f64,
    /// Dominant cycle period after this bar (0.2/0.8 smoothing).
    pub period: f64,
    /// That period smoothed again with 0.33/0.67 (TA-Lib's `smoothPeriod`).
    pub smooth_period: f64,
}

/// The shared Hilbert-transform state machine of HT_* and MAMA.
#[derive(Clone, Debug)]
pub struct Hilbert {
    smoother: PriceSmoother,
    first: usize,
    bar: usize,
    slot: usize,
    rad_to_deg: f64,
    // Index 0 for even bars, 1 for odd bars.
    detrender: [Filter; 2],
    q1: [Filter; 2],
    ji: [Filter; 2],
    jq: [Filter; 2],
    i1_prev2: [f64; 2],
    i1_prev3: [f64; 2],
    prev_q2: f64,
    prev_i2: f64,
    re: f64,
    im: f64,
    period: f64,
    smooth_period: f64,
}

impl Hilbert {
    /// A transform whose filters start at bar index `first` (TA-Lib: 12 for a lookback of 32, 37
    /// for 63); earlier bars only feed the price smoother.
    pub fn new(first: usize) -> Self {
        Self {
            smoother: PriceSmoother::default(),
            first,
            bar: 0,
            slot: 0,
            rad_to_deg: rad_to_deg(),
            detrender: Default::default(),
            q1: Default::default(),
            ji: Default::default(),
            jq: Default::default(),
            i1_prev2: [0.0; 2],
            i1_prev3: [0.0; 2],
            prev_q2: 0.0,
            prev_i2: 0.0,
            re: 0.0,
            im: 0.0,
            period: 0.0,
            smooth_period: 0.0,
        }
    }

    /// Consumes the next price; `None` before the first transformed bar.
    #[inline]
    pub fn next(&mut self, x: f64) -> Option<Cycle> {
        let bar = self.bar;
        self.bar += 1;
        let smoothed = self.smoother.next(x)?;
        if bar < self.first {
            return None;
        }
        let adjust = 0.075f64.mul_add(self.period, 0.54);
        let p = bar % 2;
        let slot = self.slot;
        let detrender = self.detrender[p].apply(smoothed, slot, adjust);
        let q1 = self.q1[p].apply(detrender, slot, adjust);
        let i1 = self.i1_prev3[p];
        let ji = self.ji[p].apply(i1, slot, adjust);
        let jq = self.jq[p].apply(q1, slot, adjust);
        if p == 0 {
            self.slot = if slot == 2 { 0 } else { slot + 1 };
        }
        let q2 = 0.2f64.mul_add(q1 + ji, 0.8 * self.prev_q2);
        let i2 = 0.2f64.mul_add(i1 - jq, 0.8 * self.prev_i2);
        // The other parity's I1 is this detrender, three of its bars later.
        let o = 1 - p;
        self.i1_prev3[o] = self.i1_prev2[o];
        self.i1_prev2[o] = detrender;

        let re = i2.mul_add(self.prev_i2, q2 * self.prev_q2);
        self.re = 0.8f64.mul_add(self.re, 0.2 * re);
        let im = i2 * self.prev_q2 - q2 * self.prev_i2;
        self.im = 0.8f64.mul_add(self.im, 0.2 * im);
        self.prev_q2 = q2;
        self.prev_i2 = i2;
        let last = self.period;
        let mut period = last;
        if self.im != 0.0 && self.re != 0.0 {
            period = 360.0 / ((self.im / self.re).atan() * self.rad_to_deg);
        }
        if period > 1.5 * last {
            period = 1.5 * last;
        }
        if period < 0.67 * last {
            period = 0.67 * last;
        }
        self.period = 0.2f64.mul_add(period.clamp(6.0, 50.0), 0.8 * last);
        self.smooth_period = 0.67f64.mul_add(self.smooth_period, 0.33 * self.period);
        Some(Cycle {
            smoothed,
            in_phase: i1,
            quadrature: q1,
            period: self.period,
            smooth_period: self.smooth_period,
        })
    }
}
