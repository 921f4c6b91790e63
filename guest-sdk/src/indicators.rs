//! Streaming indicators for guests that compute their own: one `update` per bar, O(1) or
//! O(period) memory, `None` until the window is full. In a guest the updates are inlined into
//! the caller: a WebAssembly call costs a stack and a CPU-deadline check plus register saves.
//! The host's feature engine offers the full, TA-Lib-exact set through
//! [`market::feature`](crate::market::feature).

/// Simple moving average over the last `period` values, kept as a running sum.
#[derive(Clone, Debug)]
pub struct Sma {
    /// The last `period` values in a ring; `next` is where the next one goes.
    window: Vec<f64>,
    next: usize,
    /// How many values the ring holds, up to `period`.
    len: usize,
    sum: f64,
}

impl Sma {
    /// A new average; `period` is at least 1.
    pub fn new(period: usize) -> Self {
        Sma {
            window: vec![0.0; period.max(1)],
            next: 0,
            len: 0,
            sum: 0.0,
        }
    }

    /// Adds a value; the average once `period` values have been seen.
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        let (i, period) = (self.next, self.window.len());
        let oldest = std::mem::replace(&mut self.window[i], value);
        self.sum += value;
        if self.len == period {
            self.sum -= oldest;
        } else {
            self.len += 1;
        }
        self.next = if i + 1 == period { 0 } else { i + 1 };
        self.value()
    }

    /// The current average, if the window is full.
    pub fn value(&self) -> Option<f64> {
        let period = self.window.len();
        (self.len == period).then(|| self.sum / period as f64)
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
    window: MirroredWindow,
}

impl RollingStd {
    /// A new rolling deviation; `period` is at least 1.
    pub fn new(period: usize) -> Self {
        RollingStd {
            window: MirroredWindow::new(period.max(1)),
        }
    }

    /// Adds a value; `(mean, standard deviation)` once the window is full.
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn update(&mut self, value: f64) -> Option<(f64, f64)> {
        let window = self.window.push(value)?;
        // Two passes over the window: exact enough for prices of any magnitude.
        let n = window.len() as f64;
        let mean = ordered_sum(window, |x| x) / n;
        let var = ordered_sum(window, |x| (x - mean) * (x - mean)) / n;
        // Not `var.max(0.0)`: WebAssembly has no IEEE maxNum, so that is a call to `fmax`.
        Some((mean, if var > 0.0 { var.sqrt() } else { 0.0 }))
    }
}

/// The last `period` values, oldest first, always as one contiguous slice: each value is
/// stored twice, `period` apart, so the window never wraps.
#[derive(Clone, Debug)]
struct MirroredWindow {
    /// `2 * period` values.
    values: Vec<f64>,
    /// Where the next value goes, in `0..period`.
    next: usize,
    /// Whether `period` values have been seen.
    full: bool,
}

impl MirroredWindow {
    fn new(period: usize) -> Self {
        MirroredWindow {
            values: vec![0.0; 2 * period],
            next: 0,
            full: false,
        }
    }

    /// Adds a value; the full window once `period` values have been seen.
    #[cfg_attr(target_arch = "wasm32", inline)]
    fn push(&mut self, value: f64) -> Option<&[f64]> {
        let (i, period) = (self.next, self.values.len() / 2);
        self.values[i] = value;
        self.values[i + period] = value;
        self.next = i + 1;
        if self.next == period {
            self.next = 0;
            self.full = true;
        }
        self.full.then(|| &self.values[i + 1..i + 1 + period])
    }
}

/// The sum of `f` over `values`, in order (so exactly what a plain loop gives): sixty-four
/// values per loop iteration, then the rest in loop-free blocks of 32, 16, 8, 4, 2 and 1.
///
/// Shaped for Cranelift. Every loop iteration pays the host's CPU-deadline check, whose slow
/// path is a call, so a sum live across a loop is kept in memory and reloaded each iteration:
/// long iterations and loop-free blocks keep it in a register for most additions. Within a
/// block Cranelift places pure additions after all of the block's loads, so a long block would
/// load, spill and reload its values: [`sum_settled`] ends every eight with [`settle`].
fn ordered_sum(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = -0.0;
    let mut sink = 0.0;
    let mut chunks = values.chunks_exact(64);
    for chunk in &mut chunks {
        acc = sum_settled::<8>(acc, chunk, &f, &mut sink);
    }
    let mut rest = chunks.remainder();
    if rest.len() >= 32 {
        acc = sum_settled::<4>(acc, rest, &f, &mut sink);
        rest = &rest[32..];
    }
    if rest.len() >= 16 {
        acc = sum_settled::<2>(acc, rest, &f, &mut sink);
        rest = &rest[16..];
    }
    if rest.len() >= 8 {
        acc = sum_first::<8>(acc, rest, &f);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        acc = sum_first::<4>(acc, rest, &f);
        rest = &rest[4..];
    }
    if rest.len() >= 2 {
        acc = sum_first::<2>(acc, rest, &f);
        rest = &rest[2..];
    }
    if rest.len() == 1 {
        acc = sum_first::<1>(acc, rest, &f);
    }
    acc
}

/// `acc` plus `f` of the first `BLOCKS` x 8 values, in order, each eight [`settle`]d.
#[inline(always)]
fn sum_settled<const BLOCKS: usize>(
    mut acc: f64,
    values: &[f64],
    f: &impl Fn(f64) -> f64,
    sink: &mut f64,
) -> f64 {
    for block in values[..BLOCKS * 8].chunks_exact(8) {
        acc = sum_first::<8>(acc, block, f);
        settle(acc, sink);
    }
    acc
}

/// Stores the running sum where nothing reads it. The store is volatile, so it stays, and it is
/// a side effect, so Cranelift computes the sum before the loads that follow; natively it is one
/// store per eight values.
#[inline(always)]
fn settle(acc: f64, sink: &mut f64) {
    // SAFETY: `sink` is a valid, aligned and exclusive reference.
    unsafe { std::ptr::write_volatile(sink, acc) }
}

/// `acc` plus `f` of the first `N` values, in order, unrolled.
#[inline(always)]
fn sum_first<const N: usize>(mut acc: f64, values: &[f64], f: &impl Fn(f64) -> f64) -> f64 {
    let values: &[f64; N] = values[..N].try_into().expect("N values");
    for &x in values {
        acc += f(x);
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

/// Donchian channel: the highest high and lowest low of the last `period` bars.
#[derive(Clone, Debug)]
pub struct Donchian {
    highs: WindowMax,
    /// The lows negated: the lowest low is minus the highest of these.
    lows: WindowMax,
}

impl Donchian {
    /// A channel over `period` bars; `period` is at least 1.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Donchian {
            highs: WindowMax::new(period),
            lows: WindowMax::new(period),
        }
    }

    /// Adds a bar's high and low; `(upper, lower)` once `period` bars have been seen.
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn update(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        let upper = self.highs.push(high);
        let lower = self.lows.push(-low);
        Some((upper?, -lower?))
    }
}

/// The largest of the last `period` values (NaNs are never the largest), in amortised O(1)
/// with no loop on the common path (van Herk / Gil-Werman): the stream is cut into blocks of
/// `period` values; a full window is the tail of the previous block, whose suffix maxima are
/// computed once when it ends, and the head of the current one, whose running maximum is kept.
#[derive(Clone, Debug)]
struct WindowMax {
    /// The current block's values so far, at their offsets in the block.
    block: Vec<f64>,
    /// `previous[j]`: the largest of the previous block from offset `j` on; `previous[period]`
    /// is minus infinity (the window is then exactly the current block).
    previous: Vec<f64>,
    /// The largest value of the current block so far.
    running: f64,
    /// Offset of the next value in its block, in `0..period`.
    offset: usize,
    /// Whether a whole window has been seen.
    full: bool,
}

impl WindowMax {
    fn new(period: usize) -> Self {
        WindowMax {
            block: vec![f64::NEG_INFINITY; period],
            previous: vec![f64::NEG_INFINITY; period + 1],
            running: f64::NEG_INFINITY,
            offset: 0,
            full: false,
        }
    }

    /// Adds a value; the largest of the last `period` once that many have been seen.
    #[cfg_attr(target_arch = "wasm32", inline)]
    fn push(&mut self, value: f64) -> Option<f64> {
        let period = self.block.len();
        let offset = self.offset;
        if offset == 0 {
            self.start_block();
        }
        self.block[offset] = value;
        self.running = larger(self.running, value);
        let max = larger(self.previous[offset + 1], self.running);
        self.offset = offset + 1;
        if self.offset == period {
            self.offset = 0;
            self.full = true;
        }
        self.full.then_some(max)
    }

    /// Turns the block just ended into suffix maxima and starts an empty one.
    fn start_block(&mut self) {
        let mut max = f64::NEG_INFINITY;
        let period = self.block.len();
        for (suffix, &value) in self.previous[..period].iter_mut().zip(&self.block).rev() {
            max = larger(max, value);
            *suffix = max;
        }
        self.running = f64::NEG_INFINITY;
    }
}

/// The larger of two values; `a` when `b` is not larger (so a NaN `b` is ignored).
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
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

    /// Deterministic prices with repeats, so windows hold ties.
    fn prices(n: usize) -> Vec<f64> {
        let mut x = 12_345u64;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                100.0 + ((x >> 40) % 50) as f64 * 0.25
            })
            .collect()
    }

    #[test]
    fn sma_equals_a_running_sum_over_a_queue_bit_for_bit() {
        let xs = prices(300);
        for period in [1, 2, 5, 16, 50] {
            let mut sma = Sma::new(period);
            let (mut queue, mut sum) = (std::collections::VecDeque::new(), 0.0);
            for (t, &x) in xs.iter().enumerate() {
                queue.push_back(x);
                sum += x;
                if queue.len() > period {
                    sum -= queue.pop_front().unwrap();
                }
                let want = (queue.len() == period).then(|| sum / period as f64);
                assert_eq!(
                    sma.update(x).map(f64::to_bits),
                    want.map(f64::to_bits),
                    "period {period}, value {t}"
                );
            }
        }
    }

    #[test]
    fn donchian_equals_brute_force_window_extremes() {
        let highs = prices(700);
        let lows: Vec<f64> = highs.iter().map(|h| h - 3.0).rev().collect();
        for period in [1, 2, 3, 7, 16, 55, 100] {
            let mut d = Donchian::new(period);
            for t in 0..highs.len() {
                let got = d.update(highs[t], lows[t]);
                let want = (t + 1 >= period).then(|| {
                    let w = t + 1 - period..t + 1;
                    let hi = highs[w.clone()].iter().copied().fold(f64::MIN, f64::max);
                    let lo = lows[w].iter().copied().fold(f64::MAX, f64::min);
                    (hi, lo)
                });
                assert_eq!(got, want, "period {period}, bar {t}");
            }
        }
    }

    #[test]
    fn rolling_std_equals_two_plain_passes_bit_for_bit() {
        let xs = prices(400);
        for period in [1, 4, 10, 16, 17, 50, 100] {
            let mut std = RollingStd::new(period);
            for t in 0..xs.len() {
                let got = std.update(xs[t]);
                let want = (t + 1 >= period).then(|| {
                    let w = &xs[t + 1 - period..t + 1];
                    let n = period as f64;
                    let mean = w.iter().sum::<f64>() / n;
                    let var = w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                    (mean, var.sqrt())
                });
                let bits = |v: Option<(f64, f64)>| v.map(|(m, s)| (m.to_bits(), s.to_bits()));
                assert_eq!(bits(got), bits(want), "period {period}, value {t}");
            }
        }
    }

    #[test]
    fn ordered_sums_equal_plain_loops_bit_for_bit() {
        let xs: Vec<f64> = (0..37).map(|i| 1.0 / (i as f64 + 0.3) + 1e8).collect();
        for n in [0, 5, 8, 16, 19, 37] {
            let xs = &xs[..n];
            let plain: f64 = xs.iter().sum();
            assert_eq!(ordered_sum(xs, |x| x).to_bits(), plain.to_bits());
            let squares: f64 = xs.iter().map(|x| x * x).sum();
            assert_eq!(ordered_sum(xs, |x| x * x).to_bits(), squares.to_bits());
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
