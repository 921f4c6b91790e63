//! Every function's batch, run over a series in pieces (shorter and longer than its windows)
//! and followed by `next`, gives the numbers `next` gives bar by bar, bit for bit: on a plain
//! walk, and on one with NaN, zero and negative-zero prices (which the array paths hand back
//! to `next`).

use stratbox_ta::bar::{Bar, Series};
use stratbox_ta::indicator::Indicator;
use stratbox_ta::registry::{self, Function, ParamKind};

/// A walk; with `awkward`, from bar 400, NaN, zero and negative-zero prices now and then, and
/// before it wild bars then a run of flat bars (no range, no move) long enough to empty a
/// window of their ranges.
fn series(n: usize, awkward: bool) -> Series {
    let mut s = Series::default();
    let mut close: f64 = 50.0;
    for i in 0..n {
        let open = close;
        close = open * (1.0 + ((i * 37 % 101) as f64 - 50.0) / 1_000.0);
        let mut bar = Bar {
            open,
            high: open.max(close) * 1.01,
            low: open.min(close) * 0.99,
            close,
            volume: 1.0 + (i % 17) as f64,
        };
        if awkward && (190..200).contains(&i) && i % 2 == 0 {
            // Wild bars just before the flat run, so that the sums a run empties are left
            // with rounding residue (which the restart of `null_run` windows then drops).
            bar.high *= 1_000.3;
            bar.close *= 700.1;
        }
        if awkward && (200..260).contains(&i) {
            bar = Bar {
                open: 40.0,
                high: 40.0,
                low: 40.0,
                close: 40.0,
                volume: 0.0,
            };
        }
        if awkward && i >= 400 {
            match i % 37 {
                0 => bar.low = f64::NAN,
                5 => bar.close = 0.0,
                9 => bar.high = -0.0,
                _ => {}
            }
        }
        s.push(bar);
    }
    s
}

fn slice(s: &Series, from: usize, to: usize) -> Series {
    Series {
        open: s.open[from..to].to_vec(),
        high: s.high[from..to].to_vec(),
        low: s.low[from..to].to_vec(),
        close: s.close[from..to].to_vec(),
        volume: s.volume[from..to].to_vec(),
    }
}

/// `f`'s outputs over `s` with `params`, bar by bar through `next`, one column per output.
fn streamed(f: &Function, params: &[f64], s: &Series) -> Vec<Vec<f64>> {
    let mut columns = vec![Vec::new(); f.outputs.len()];
    next_from(&mut *f.build(params).unwrap(), s, 0, &mut columns);
    columns
}

/// Feeds bars `from..` of `s` to `indicator.next`, pushing each output onto its column.
fn next_from(indicator: &mut dyn Indicator, s: &Series, from: usize, columns: &mut [Vec<f64>]) {
    let mut values = [0.0; 4];
    let width = columns.len();
    for i in from..s.len() {
        indicator.next(&s.bar(i), &mut values[..width]);
        for (column, v) in columns.iter_mut().zip(values) {
            column.push(v);
        }
    }
}

/// The first value where `got` differs from `want` in its bits: its column, its bar and both
/// values. A NaN equals a NaN whatever its payload (`0.0 / 0.0` and `f64::NAN` differ in sign
/// on x86, and neither means more than "no value").
fn first_difference(want: &[Vec<f64>], got: &[Vec<f64>]) -> Option<(usize, usize, f64, f64)> {
    want.iter().zip(got).enumerate().find_map(|(k, (w, g))| {
        w.iter()
            .zip(g)
            .position(|(a, b)| a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan()))
            .map(|i| (k, i, w[i], g[i]))
    })
}

#[test]
fn batches_in_pieces_equal_next_bar_by_bar_bit_for_bit() {
    let mut failures = Vec::new();
    for awkward in [false, true] {
        let s = series(1_500, awkward);
        for f in registry::all() {
            // The defaults; the first parameter (a period for most) at 2, 7 (odd windows have
            // their own paths) and 50; each moving-average type parameter at every type.
            let mut variants = vec![f.defaults()];
            if let Some(p) = f.params.first() {
                for v in [2.0, 7.0, 50.0] {
                    if p.check(v).is_ok() {
                        let mut params = f.defaults();
                        params[0] = v;
                        variants.push(params);
                    }
                }
            }
            for (k, p) in f.params.iter().enumerate() {
                if p.kind == ParamKind::MaType {
                    for t in p.min as u8..=p.max as u8 {
                        let mut params = f.defaults();
                        params[k] = f64::from(t);
                        variants.push(params);
                    }
                }
            }
            for params in variants {
                let width = f.outputs.len();
                let want = streamed(f, &params, &s);
                let mut pieces = f.build(&params).unwrap();
                let mut got = vec![Vec::new(); width];
                let mut start = 0;
                for len in [1, 3, 48, 200, 300, 647] {
                    let mut out = vec![Vec::new(); width];
                    pieces.batch(&slice(&s, start, start + len), &mut out);
                    for (column, part) in got.iter_mut().zip(out) {
                        column.extend(part);
                    }
                    start += len;
                }
                next_from(&mut *pieces, &s, start, &mut got);
                if let Some((k, i, a, b)) = first_difference(&want, &got) {
                    failures.push(format!(
                        "{} {params:?} (awkward {awkward}) {}[{i}]: next {a}, batch {b}",
                        f.name, f.outputs[k]
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One batch over a series longer than the array paths' inner pieces (256 to 4,096 bars, which
/// the pieces above never exceed), then `next` on the same instance, gives what `next` gives
/// bar by bar: every value, and the state the batch leaves.
#[test]
fn one_long_batch_then_next_equals_next_bar_by_bar_bit_for_bit() {
    const BATCH: usize = 10_000;
    let mut failures = Vec::new();
    for awkward in [false, true] {
        let s = series(BATCH + 500, awkward);
        for f in registry::all() {
            let params = f.defaults();
            let want = streamed(f, &params, &s);
            let mut batch = f.build(&params).unwrap();
            let mut got = vec![Vec::new(); f.outputs.len()];
            batch.batch(&slice(&s, 0, BATCH), &mut got);
            if got.iter().any(|column| column.len() != BATCH) {
                failures.push(format!("{}: a batch of {BATCH} gave other lengths", f.name));
                continue;
            }
            next_from(&mut *batch, &s, BATCH, &mut got);
            if let Some((k, i, a, b)) = first_difference(&want, &got) {
                failures.push(format!(
                    "{} (awkward {awkward}) {}[{i}]: next {a}, batch then next {b}",
                    f.name, f.outputs[k]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
