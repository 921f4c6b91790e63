//! The highest or lowest of the last values, tracked as TA-Lib tracks it.

use super::window::Window;

/// The extreme of the last `len` values and how many values ago it came, kept as TA-Lib keeps
/// it: a new value at least as extreme takes over; when the extreme leaves the window the whole
/// window is rescanned from its oldest value. Ties found by a rescan keep the oldest value
/// unless `rescan_keeps_latest` (AROON's rule), which only matters for the age. `HIGHEST`
/// picks the highest value, else the lowest (a constant, so the comparisons cost no branch).
#[derive(Clone, Debug)]
pub struct RollingExtreme<const HIGHEST: bool> {
    rescan_keeps_latest: bool,
    window: Window,
    /// Index of the value the next push will receive.
    today: usize,
    best: f64,
    best_index: Option<usize>,
}

/// The highest of the last values.
pub type Highest = RollingExtreme<true>;
/// The lowest of the last values.
pub type Lowest = RollingExtreme<false>;

impl<const HIGHEST: bool> RollingExtreme<HIGHEST> {
    /// The extreme of the last `len` values (at least 1).
    pub fn new(len: usize, rescan_keeps_latest: bool) -> Self {
        Self {
            rescan_keeps_latest,
            window: Window::new(len),
            today: 0,
            best: 0.0,
            best_index: None,
        }
    }

    /// Number of values consumed before the first output.
    pub fn lookback(&self) -> usize {
        self.window.capacity() - 1
    }

    #[inline(always)]
    fn beats(x: f64, best: f64) -> bool {
        if HIGHEST { x > best } else { x < best }
    }

    /// Whether `x` beats or ties `best` (`x > best || x == best` in one comparison: both are
    /// false for a NaN).
    #[inline(always)]
    fn reaches(x: f64, best: f64) -> bool {
        if HIGHEST { x >= best } else { x <= best }
    }

    /// Continues a rescan over `values`, the first of which sits at position `first` of the
    /// window (oldest first).
    #[inline(always)]
    fn rescan(&self, values: &[f64], first: usize, best: &mut f64, at: &mut usize) {
        #[inline(always)]
        fn scan(
            values: &[f64],
            first: usize,
            best: &mut f64,
            at: &mut usize,
            takes: impl Fn(f64, f64) -> bool,
        ) {
            for (i, &v) in values.iter().enumerate() {
                if takes(v, *best) {
                    *best = v;
                    *at = first + i;
                }
            }
        }
        if self.rescan_keeps_latest {
            scan(values, first, best, at, Self::reaches);
        } else {
            scan(values, first, best, at, Self::beats);
        }
    }

    /// Consumes one value; once the window is full, `(extreme, age)` where `age` counts values
    /// back from the newest (0 = the value just pushed).
    #[inline(always)]
    pub fn next(&mut self, x: f64) -> Option<(f64, usize)> {
        let today = self.today;
        self.today += 1;
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let trailing = today + 1 - self.window.capacity();
        if self.best_index.is_none_or(|b| b < trailing) {
            let (older, newer) = self.window.as_slices();
            let mut best = older[0];
            let mut at = 0;
            self.rescan(&older[1..], 1, &mut best, &mut at);
            self.rescan(newer, older.len(), &mut best, &mut at);
            self.best = best;
            self.best_index = Some(trailing + at);
        } else if Self::reaches(x, self.best) {
            self.best = x;
            self.best_index = Some(today);
        }
        Some((self.best, today - self.best_index.unwrap_or(today)))
    }
}

impl<const HIGHEST: bool> RollingExtreme<HIGHEST> {
    /// Consumes `xs` in order, calling `each(i, what next gives)` for each: `next`'s own steps,
    /// but once a window lies within `xs` (from its `len - 1`-th value on) read from `xs` itself
    /// rather than from the ring, which is refilled with the last values at the end. The same
    /// comparisons in the same order: the same extremes and ages whatever the values.
    #[inline(always)]
    pub(crate) fn many(&mut self, xs: &[f64], mut each: impl FnMut(usize, Option<(f64, usize)>)) {
        let n = xs.len();
        let len = self.window.capacity();
        let head = (len - 1).min(n);
        for (i, &x) in xs[..head].iter().enumerate() {
            each(i, self.next(x));
        }
        if head == n {
            return;
        }
        // `xs[i]` is value number `base + i` since the start.
        let base = self.today - head;
        let (mut best, mut best_index) = (self.best, self.best_index);
        for (i, &x) in xs.iter().enumerate().skip(head) {
            let today = base + i;
            let trailing = today + 1 - len;
            if best_index.is_none_or(|b| b < trailing) {
                let window = &xs[i + 1 - len..=i];
                let (mut value, mut at) = (window[0], 0);
                self.rescan(&window[1..], 1, &mut value, &mut at);
                best = value;
                best_index = Some(trailing + at);
            } else if Self::reaches(x, best) {
                best = x;
                best_index = Some(today);
            }
            each(i, Some((best, today - best_index.unwrap_or(today))));
        }
        self.today = base + n;
        self.best = best;
        self.best_index = best_index;
        self.window.push_all(xs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescans_when_the_extreme_leaves_and_reports_its_age() {
        let mut max = Highest::new(3, false);
        assert_eq!(max.next(5.0), None);
        assert_eq!(max.next(1.0), None);
        assert_eq!(max.next(2.0), Some((5.0, 2)));
        assert_eq!(max.next(1.0), Some((2.0, 1)));
        let mut min = Lowest::new(2, true);
        min.next(1.0);
        assert_eq!(min.next(1.0), Some((1.0, 0)));
    }

    #[test]
    fn many_gives_what_next_gives_in_pieces() {
        // Ties, zeros of both signs and NaN: `many` compares as `next` does.
        let mut x = 11u64;
        let mut values: Vec<f64> = (0..2_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((x >> 40) % 40) as f64 - 20.0
            })
            .collect();
        values[700] = -0.0;
        values[900] = f64::NAN;
        for (len, latest) in [(1, false), (3, true), (15, false), (60, true)] {
            let mut one = Highest::new(len, latest);
            let mut low_one = Lowest::new(len, latest);
            let expected: Vec<_> = values
                .iter()
                .map(|&v| (one.next(v), low_one.next(v)))
                .collect();
            let (mut high, mut low) = (Highest::new(len, latest), Lowest::new(len, latest));
            let (mut got_high, mut got_low) = (Vec::new(), Vec::new());
            let mut start = 0;
            for piece in [1, 2, 70, 500, 1_427] {
                let end = start + piece;
                high.many(&values[start..end], |i, v| {
                    assert_eq!(start + i, got_high.len());
                    got_high.push(v);
                });
                low.many(&values[start..end], |_, v| got_low.push(v));
                start = end;
            }
            let bits = |v: Option<(f64, usize)>| v.map(|(x, age)| (x.to_bits(), age));
            for (i, (h, l)) in expected.into_iter().enumerate() {
                assert_eq!(bits(got_high[i]), bits(h), "len {len}, value {i}");
                assert_eq!(bits(got_low[i]), bits(l), "len {len}, value {i}");
            }
        }
    }
}
