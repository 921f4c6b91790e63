//! The streaming interface every function implements.

use crate::bar::{Bar, Series};

/// One configured TA-Lib function, fed one bar at a time.
///
/// Before [`Indicator::lookback`] bars have been seen (TA-Lib's lookback: the index of the first
/// valid output) every real output is NaN and every integer output (candlestick patterns,
/// HT_TRENDMODE, FRACTAL's flags, SUPERTREND's trend) is 0, as TA-Lib's Python package gives
/// them; from then on each call yields TA-Lib's value for that bar.
pub trait Indicator: Send + Sync {
    /// Index of the first bar with a valid output, as TA-Lib's `*_Lookback` gives it.
    fn lookback(&self) -> usize;

    /// Consumes the next bar and writes one value per output into `out`.
    fn next(&mut self, bar: &Bar, out: &mut [f64]);

    /// Runs over a whole series from this state: `out[k][i]` is output `k` at bar `i`, the same
    /// numbers as calling [`Indicator::next`] bar by bar. Each implementation gets its own
    /// monomorphised loop, so the per-bar call is static even through `dyn Indicator`.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        for column in out.iter_mut() {
            prepare(column, series.len());
        }
        match out {
            [a] => run_fastest(self, series, [a]),
            [a, b] => run_fastest(self, series, [a, b]),
            [a, b, c] => run_fastest(self, series, [a, b, c]),
            [a, b, c, d] => run_fastest(self, series, [a, b, c, d]),
            [] => run_fastest(self, series, []),
            _ => panic!("at most {MAX_OUTPUTS} outputs"),
        }
    }
}

/// Empties `column` and gives it room for `n` values. On Linux a large buffer is backed by
/// transparent huge pages where the system allows them on request (as numpy does for its
/// arrays): a fresh 8 MB column otherwise costs 2,048 page faults, more time than most
/// functions' arithmetic.
pub(crate) fn prepare(column: &mut Vec<f64>, n: usize) {
    column.clear();
    column.reserve_exact(n);
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let start = column.as_mut_ptr() as usize;
        let end = start + column.capacity() * size_of::<f64>();
        let (first, last) = (start.next_multiple_of(HUGE_PAGE), end & !(HUGE_PAGE - 1));
        if last > first {
            // SAFETY: the range lies inside this vector's own allocation, and MADV_HUGEPAGE is
            // only a hint about how to back it: it changes no byte and no mapping's validity.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
}

/// Runs `work` (inlined) compiled for the CPU's fused multiply-add instruction when it has
/// one: the array paths' loops that step with `f64::mul_add`, a call into libm otherwise (both
/// give the same correctly rounded result).
#[inline(always)]
pub(crate) fn with_fma<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has FMA, just checked.
        return unsafe { fma_enabled(work) };
    }
    work()
}

/// Calls `work` from code built with FMA, so that it inlines with FMA too.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn fma_enabled<R>(work: impl FnOnce() -> R) -> R {
    work()
}

/// Runs `work` (inlined) compiled for AVX when the CPU has it: four doubles a register, so
/// that loops of independent per-bar arithmetic (divisions above all) vectorise twice as wide
/// as baseline x86-64's SSE2 allows; each lane does the same IEEE operations, so the results
/// are the same bits.
#[inline(always)]
pub(crate) fn with_avx<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, just checked.
        return unsafe { avx_enabled(work) };
    }
    work()
}

/// Calls `work` from code built with AVX, so that it inlines with AVX too.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn avx_enabled<R>(work: impl FnOnce() -> R) -> R {
    work()
}

/// [`run`], compiled for the CPU's fused multiply-add instruction when it has one. Without a
/// target feature `f64::mul_add` is a call into libm that also spills every live register, and
/// the blocks' EMAs and T3 chain them; both give the same correctly rounded result.
#[inline(always)]
pub(crate) fn run_fastest<I: Indicator + ?Sized, const W: usize>(
    indicator: &mut I,
    series: &Series,
    columns: [&mut Vec<f64>; W],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has FMA, just checked.
        return unsafe { run_fma(indicator, series, columns) };
    }
    run(indicator, series, columns)
}

/// [`run`] with FMA enabled, so that the inlined `next` uses the instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn run_fma<I: Indicator + ?Sized, const W: usize>(
    indicator: &mut I,
    series: &Series,
    columns: [&mut Vec<f64>; W],
) {
    run(indicator, series, columns)
}

/// The default batch loop for `W` outputs, each column empty with room for `series.len()`
/// values, pushed once each (no prefill pass over fresh memory): slicing every input to the same
/// length up front lets the compiler drop bounds checks and the loads of the fields `next` does
/// not read.
#[inline(always)]
fn run<I: Indicator + ?Sized, const W: usize>(
    indicator: &mut I,
    series: &Series,
    mut columns: [&mut Vec<f64>; W],
) {
    let n = series.len();
    let (open, high, low) = (&series.open[..n], &series.high[..n], &series.low[..n]);
    let (close, volume) = (&series.close[..n], &series.volume[..n]);
    let mut values = [f64::NAN; W];
    for i in 0..n {
        let bar = Bar {
            open: open[i],
            high: high[i],
            low: low[i],
            close: close[i],
            volume: volume[i],
        };
        indicator.next(&bar, &mut values);
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
    }
}

/// Where each stage of a chain gives its first output in a batch of `n` bars after `seen`
/// before it: stage `s` of a chain of `lookbacks` gives one from the bar whose index since the
/// start is the sum of the lookbacks up to and including its own (as local indices, at most
/// `n`).
pub(crate) fn stage_starts<const S: usize>(
    lookbacks: [usize; S],
    seen: usize,
    n: usize,
) -> [usize; S] {
    let mut total = 0;
    lookbacks.map(|lookback| {
        total += lookback;
        total.saturating_sub(seen).min(n)
    })
}

/// The most outputs any function has (HA: open, high, low, close).
pub const MAX_OUTPUTS: usize = 4;

/// Counts bars towards a lookback: `ready()` is true from the bar at index `lookback` onwards.
#[derive(Clone, Debug)]
pub struct Warmup {
    seen: usize,
    lookback: usize,
}

impl Warmup {
    /// A counter for an indicator whose first valid output is at index `lookback`.
    pub fn new(lookback: usize) -> Self {
        Self { seen: 0, lookback }
    }

    /// Counts one more bar and tells whether its output is valid.
    #[inline]
    pub fn tick(&mut self) -> bool {
        self.seen += 1;
        self.seen > self.lookback
    }

    /// The lookback this counter was made with.
    pub fn lookback(&self) -> usize {
        self.lookback
    }
}
