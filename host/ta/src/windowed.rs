//! Batch runs of functions whose output at a bar is a function of the `len` bars ending at it
//! alone, bit for bit, whatever came before (no sum carried from bar to bar): the extremes of
//! a window and what is made of them. Such a batch goes through `next` only while a window may
//! reach back before the series (its first `len - 1` bars), then through an array kernel over
//! the series' own columns, and rebuilds the streaming state from the last bars, so that the
//! next call (a batch or `next`) continues exactly as if every bar had gone through `next`.

use crate::bar::Series;
use crate::indicator::{Indicator, MAX_OUTPUTS, prepare};

/// A function whose outputs depend only on a window of bars, with an array kernel.
pub(crate) trait Windowed: Indicator + Sized {
    /// Bars a window spans.
    fn window(&self) -> usize;

    /// The state a fresh start gives.
    fn fresh(&self) -> Self;

    /// Pushes onto `out` the outputs of bars `from..` of `series` (each bar's window lies in
    /// it), or returns false, pushing nothing, when the series holds values the kernel could
    /// order differently from `next` (see [`window_extremes`]).
    fn kernel(&self, series: &Series, from: usize, out: &mut [Vec<f64>]) -> bool;
}

/// The batch of a [`Windowed`] function: the same numbers as `next` bar by bar.
pub(crate) fn batch<I: Windowed>(indicator: &mut I, series: &Series, out: &mut [Vec<f64>]) {
    let n = series.len();
    for column in out.iter_mut() {
        prepare(column, n);
    }
    let len = indicator.window();
    let head = (len - 1).min(n);
    let mut values = [f64::NAN; MAX_OUTPUTS];
    let w = out.len();
    let mut step = |indicator: &mut I, i: usize, out: &mut [Vec<f64>]| {
        indicator.next(&series.bar(i), &mut values[..w]);
        for (column, value) in out.iter_mut().zip(values) {
            column.push(value);
        }
    };
    for i in 0..head {
        step(indicator, i, out);
    }
    if head < n && indicator.kernel(series, head, out) {
        // Every output now depends on the last `len - 1` bars only: a fresh state fed them
        // continues as the old one would have.
        let mut fresh = indicator.fresh();
        let mut scratch = [f64::NAN; MAX_OUTPUTS];
        for i in n + 1 - len..n {
            fresh.next(&series.bar(i), &mut scratch[..w]);
        }
        *indicator = fresh;
    } else {
        for i in head..n {
            step(indicator, i, out);
        }
    }
}

/// Calls `each(i, highest a, lowest b)` for each bar `i` from `from` on (at least `len - 1`),
/// over the `len` values ending there; `a` and `b` may be the same column. Returns false,
/// calling nothing, when a value those windows read is NaN or a negative zero: the extreme of
/// values without them is one number whatever the order of comparison, but a NaN, or a zero
/// beside a zero of the other sign, makes it depend on the order `next` compares in. Also
/// false when one of the last `len - 1` values is a zero of either sign: the state a caller
/// rebuilds from them afterwards would compare a later zero of the other sign with it in
/// another order than the state `next` leaves (which keeps its extreme's position).
pub(crate) fn window_extremes(
    a: &[f64],
    b: &[f64],
    len: usize,
    from: usize,
    mut each: impl FnMut(usize, f64, f64),
) -> bool {
    window_extremes_in_blocks(a, b, len, from, |i, highs, lows| {
        for (k, (&high, &low)) in highs.iter().zip(lows).enumerate() {
            each(i + k, high, low);
        }
    })
}

/// Bars a block of [`window_extremes_in_blocks`] holds at most.
pub(crate) const MAX_BLOCK: usize = 8;

/// [`window_extremes`] a block of consecutive bars at a time: `block(i, highs, lows)` for bars
/// `i..i + highs.len()` (at most [`MAX_BLOCK`]), so that a caller can compute a block's outputs
/// side by side in lanes too.
pub(crate) fn window_extremes_in_blocks(
    a: &[f64],
    b: &[f64],
    len: usize,
    from: usize,
    mut block: impl FnMut(usize, &[f64], &[f64]),
) -> bool {
    let n = a.len().min(b.len());
    if from >= n {
        return true;
    }
    let (start, tail) = (from + 1 - len, n + 1 - len);
    // The check reads every value once: in AVX's registers it takes half the time.
    let fits = crate::indicator::with_avx(|| {
        ordered(&a[start..n])
            && ordered(&b[start..n])
            && nonzero(&a[tail..n])
            && nonzero(&b[tail..n])
    });
    if !fits {
        return false;
    }
    if len <= SCAN_UP_TO {
        // Short windows: every window scanned, bars side by side in lanes.
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, just checked.
            unsafe { scan_avx2(a, b, len, from, n, &mut block) };
            return true;
        }
        scan::<4>(a, b, len, from, n, &mut block);
        return true;
    }
    // Long ones as TA-Lib does: the extreme and where it is, rescanning only when it leaves.
    const NONE: usize = usize::MAX;
    let (mut high, mut high_at) = (0.0, NONE);
    let (mut low, mut low_at) = (0.0, NONE);
    for i in from..n {
        let first = i + 1 - len;
        if high_at == NONE || high_at < first {
            high = highest(&a[first..=i]);
            high_at = first + a[first..=i].iter().rposition(|v| *v == high).unwrap_or(0);
        } else if a[i] >= high {
            high = a[i];
            high_at = i;
        }
        if low_at == NONE || low_at < first {
            low = lowest(&b[first..=i]);
            low_at = first + b[first..=i].iter().rposition(|v| *v == low).unwrap_or(0);
        } else if b[i] <= low {
            low = b[i];
            low_at = i;
        }
        block(i, &[high], &[low]);
    }
    true
}

/// Calls `block(i, highs of a, lows of b)` for bars `from..n`, each over the `len` values
/// ending there, `L` bars side by side: the `j`-th values of `L` windows lie next to one
/// another, so each step compares a whole register of them. The windows hold no NaN and no
/// negative zero (see [`window_extremes`]).
#[inline(always)]
fn scan<const L: usize>(
    a: &[f64],
    b: &[f64],
    len: usize,
    from: usize,
    n: usize,
    block: &mut impl FnMut(usize, &[f64], &[f64]),
) {
    let mut i = from;
    while i + L <= n {
        // The values the block's windows span, and each step's `L` of them as windows of the
        // span: their lengths are known, so the loop carries no bounds check.
        let first = i + 1 - len;
        let (span_a, span_b) = (&a[first..i + L], &b[first..i + L]);
        let mut high: [f64; L] = span_a[..L].try_into().expect("a lane per bar");
        let mut low: [f64; L] = span_b[..L].try_into().expect("a lane per bar");
        for (ha, lb) in span_a.windows(L).zip(span_b.windows(L)).skip(1) {
            for k in 0..L {
                high[k] = if ha[k] > high[k] { ha[k] } else { high[k] };
                low[k] = if lb[k] < low[k] { lb[k] } else { low[k] };
            }
        }
        block(i, &high, &low);
        i += L;
    }
    for i in i..n {
        let first = i + 1 - len;
        block(i, &[highest(&a[first..=i])], &[lowest(&b[first..=i])]);
    }
}

/// [`scan`] with AVX2's wider registers: eight bars at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2(
    a: &[f64],
    b: &[f64],
    len: usize,
    from: usize,
    n: usize,
    block: &mut impl FnMut(usize, &[f64], &[f64]),
) {
    scan::<MAX_BLOCK>(a, b, len, from, n, block)
}

/// Windows up to this long are scanned whole at each bar.
const SCAN_UP_TO: usize = 48;

/// Whether every comparison among the values agrees with their bits: no NaN, and no negative
/// zero (so that equal values are the same number, and an extreme is one number whatever the
/// order of comparison; prices and oscillators give zeros of one sign), in lanes.
#[inline(always)]
pub(crate) fn ordered(x: &[f64]) -> bool {
    const NEGATIVE_ZERO: u64 = 1 << 63;
    x.chunks(256).all(|chunk| {
        chunk.iter().fold(true, |ok, v| {
            ok & !v.is_nan() & (v.to_bits() != NEGATIVE_ZERO)
        })
    })
}

/// Whether no value is a zero of either sign or NaN (`!(|v| > 0)` catches all three), in
/// lanes.
#[inline(always)]
fn nonzero(x: &[f64]) -> bool {
    x.iter().fold(true, |ok, v| ok & (v.abs() > 0.0))
}

/// The highest of `w` (not empty, without NaN), four lanes at a time.
#[inline(always)]
fn highest(w: &[f64]) -> f64 {
    lanes(w, |x, m| if x > m { x } else { m })
}

/// The lowest of `w` (not empty, without NaN), four lanes at a time.
#[inline(always)]
fn lowest(w: &[f64]) -> f64 {
    lanes(w, |x, m| if x < m { x } else { m })
}

/// `w` reduced by `pick` (associative on values without NaN) in four independent lanes.
#[inline(always)]
fn lanes(w: &[f64], pick: impl Fn(f64, f64) -> f64) -> f64 {
    let mut m = [w[0]; 4];
    let chunks = w.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            m[k] = pick(c[k], m[k]);
        }
    }
    let mut best = pick(pick(m[0], m[1]), pick(m[2], m[3]));
    for &x in rest {
        best = pick(x, best);
    }
    best
}
