//! Streaming indicators for guests that compute their own: one `update` per bar, O(1) or
//! O(period) memory, `None` until the window is full. In a guest the updates are inlined into
//! the caller: a WebAssembly call costs a stack and a CPU-deadline check plus register saves.
//! The host's feature engine offers the full, TA-Lib-exact set through
//! [`market::feature`](crate::market::feature).

use std::collections::VecDeque;

/// Simple moving average over the last `period` values.
#[derive(Clone, Debug)]
pub struct Sma {
    window: VecDeque<f64>,
    period: usize,
    sum: f64,
}

impl Sma {
    /// A new average; `period` is at least 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Sma {
            window: VecDeque::with_capacity(period),
            period,
            sum: 0.0,
        }
    }

    /// Adds a value; the average once `period` values have been seen.
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.window.push_back(value);
        self.sum += value;
        if self.window.len() > self.period {
            self.sum -= self.window.pop_front().unwrap_or(0.0);
        }
        self.value()
    }

    /// The current average, if the window is full.
    pub fn value(&self) -> Option<f64> {
        (self.window.len() == self.period).then(|| self.sum / self.period as f64)
    }
}

/// Exponential moving average with `alpha = 2 / (period + 1)`, seeded by the SMA of the first
/// `period` values (as TA-Lib does).
#[derive(Clone, Debug)]
pub struct Ema {
    seed: Sma,
    alpha: f64,
    value: Option<f64>,
}

impl Ema {
    /// A new average; `period` is at least 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Ema {
            seed: Sma::new(period),
            alpha: 2.0 / (period as f64 + 1.0),
            value: None,
        }
    }

    /// Adds a value; the average once `period` values have been seen.
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.value = match self.value {
            Some(prev) => Some(prev + self.alpha * (x - prev)),
            None => self.seed.update(x),
        };
        self.value
    }

    /// The current average.
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// Rolling population standard deviation over `period` values.
#[derive(Clone, Debug)]
pub struct RollingStd {
    window: VecDeque<f64>,
    period: usize,
}

impl RollingStd {
    /// A new rolling deviation; `period` is at least 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        RollingStd {
            window: VecDeque::with_capacity(period),
            period,
        }
    }

    /// Adds a value; `(mean, standard deviation)` once the window is full.
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn update(&mut self, value: f64) -> Option<(f64, f64)> {
        self.window.push_back(value);
        if self.window.len() > self.period {
            self.window.pop_front();
        }
        if self.window.len() < self.period {
            return None;
        }
        // Two passes over the window: exact enough for prices of any magnitude.
        let n = self.period as f64;
        let mean = ordered_sum(self.window.as_slices(), |x| x) / n;
        let var = ordered_sum(self.window.as_slices(), |x| (x - mean) * (x - mean)) / n;
        // Not `var.max(0.0)`: WebAssembly has no IEEE maxNum, so that is a call to `fmax`.
        Some((mean, if var > 0.0 { var.sqrt() } else { 0.0 }))
    }
}

/// The sum of `f` over both slices, in order (so exactly what a plain loop gives),
/// sixteen values per loop iteration and the rest unrolled: in a guest every loop iteration pays the
/// host's CPU-deadline check (and Cranelift keeps the running sum in memory across it), so
/// fewer iterations make the same sum cheaper.
fn ordered_sum(slices: (&[f64], &[f64]), f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = -0.0;
    for slice in [slices.0, slices.1] {
        let mut chunks = slice.chunks_exact(16);
        for c in &mut chunks {
            for &x in c {
                acc += f(x);
            }
        }
        // The last few without a loop: straight-line code needs no deadline check.
        let rest = chunks.remainder();
        for i in 0..15 {
            if i < rest.len() {
                acc += f(rest[i]);
            }
        }
    }
    acc
}

/// Bollinger bands: the mean of `period` closes and bands `width` deviations away.
#[derive(Clone, Debug)]
pub struct Bollinger {
    std: RollingStd,
    width: f64,
}

/// One reading of [`Bollinger`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bands {
    /// Mean plus `width` deviations.
    pub upper: f64,
    /// The rolling mean.
    pub middle: f64,
    /// Mean minus `width` deviations.
    pub lower: f64,
}

impl Bollinger {
    /// Bands over `period` values, `width` standard deviations wide.
    pub fn new(period: usize, width: f64) -> Self {
        Bollinger {
            std: RollingStd::new(period),
            width,
        }
    }

    /// Adds a close; the bands once the window is full.
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn update(&mut self, close: f64) -> Option<Bands> {
        let (mean, sd) = self.std.update(close)?;
        Some(Bands {
            upper: mean + self.width * sd,
            middle: mean,
            lower: mean - self.width * sd,
        })
    }
}

/// Donchian channel: the highest high and lowest low of the last `period` bars, with
/// monotonic queues so each update is amortised O(1).
#[derive(Clone, Debug)]
pub struct Donchian {
    period: usize,
    seen: u64,
    highs: VecDeque<(u64, f64)>,
    lows: VecDeque<(u64, f64)>,
}

impl Donchian {
    /// A channel over `period` bars; `period` is at least 1.
    pub fn new(period: usize) -> Self {
        Donchian {
            period: period.max(1),
            seen: 0,
            highs: VecDeque::new(),
            lows: VecDeque::new(),
        }
    }

    /// Adds a bar's high and low; `(upper, lower)` once `period` bars have been seen.
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn update(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        let i = self.seen;
        self.seen += 1;
        while self.highs.back().is_some_and(|&(_, h)| h <= high) {
            self.highs.pop_back();
        }
        self.highs.push_back((i, high));
        while self.lows.back().is_some_and(|&(_, l)| l >= low) {
            self.lows.pop_back();
        }
        self.lows.push_back((i, low));
        let oldest = (i + 1).saturating_sub(self.period as u64);
        while self.highs.front().is_some_and(|&(j, _)| j < oldest) {
            self.highs.pop_front();
        }
        while self.lows.front().is_some_and(|&(j, _)| j < oldest) {
            self.lows.pop_front();
        }
        (self.seen >= self.period as u64).then(|| (self.highs[0].1, self.lows[0].1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sma_and_ema_match_definitions() {
        let mut sma = Sma::new(3);
        let mut ema = Ema::new(3);
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let smas: Vec<_> = xs.iter().map(|&x| sma.update(x)).collect();
        assert_eq!(smas, vec![None, None, Some(2.0), Some(3.0), Some(4.0)]);
        let emas: Vec<_> = xs.iter().map(|&x| ema.update(x)).collect();
        assert_eq!(emas[2], Some(2.0));
        assert_eq!(emas[3], Some(2.0 + 0.5 * (4.0 - 2.0)));
        assert_eq!(emas[4], Some(3.0 + 0.5 * (5.0 - 3.0)));
    }

    #[test]
    fn donchian_tracks_window_extremes() {
        let mut d = Donchian::new(3);
        let bars = [(5.0, 1.0), (4.0, 2.0), (6.0, 3.0), (3.0, 2.5), (2.0, 1.5)];
        let out: Vec<_> = bars.iter().map(|&(h, l)| d.update(h, l)).collect();
        assert_eq!(
            out,
            vec![
                None,
                None,
                Some((6.0, 1.0)),
                Some((6.0, 2.0)),
                Some((6.0, 1.5))
            ]
        );
    }

    #[test]
    fn ordered_sums_equal_plain_loops_bit_for_bit() {
        let xs: Vec<f64> = (0..37).map(|i| 1.0 / (i as f64 + 0.3) + 1e8).collect();
        for split in [0, 5, 8, 19, 37] {
            let (a, b) = xs.split_at(split);
            let plain: f64 = xs.iter().sum();
            assert_eq!(ordered_sum((a, b), |x| x).to_bits(), plain.to_bits());
            let squares: f64 = xs.iter().map(|x| x * x).sum();
            assert_eq!(ordered_sum((a, b), |x| x * x).to_bits(), squares.to_bits());
        }
    }

    #[test]
    fn bollinger_is_symmetric() {
        let mut b = Bollinger::new(4, 2.0);
        let mut last = None;
        for x in [1.0, 2.0, 3.0, 4.0] {
            last = b.update(x);
        }
        let bands = last.unwrap();
        assert_eq!(bands.middle, 2.5);
        let sd = (1.25f64).sqrt();
        assert!((bands.upper - (2.5 + 2.0 * sd)).abs() < 1e-12);
        assert!((bands.lower - (2.5 - 2.0 * sd)).abs() < 1e-12);
    }
}
