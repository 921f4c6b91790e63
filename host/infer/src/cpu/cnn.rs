//! `CNNNet` on the CPU. Activations stay (batch·seq, channels). Each causal dilated convolution
//! is computed directly, two time steps at a time: for every block of output channels, the two
//! rows' accumulators sit in registers while each tap adds `x[t − dilation·(kernel − 1 − j)]` times
//! that tap's weights (zero before the sequence starts, PyTorch's left padding); bias and ReLU are
//! applied on the way out. No im2col matrix is built.

use std::cell::RefCell;

use ndarray::{Array2, ArrayView2};

use super::ops::{linear, mean_over_time};
use crate::weights::{CnnWeights, Conv1d};

/// Logits (batch, n_out) for `x` of (batch·seq, n_features) rows.
pub fn forward(w: &CnnWeights, x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let [even, odd] = &mut *scratch;
        let mut width = x.len() / (batch * seq);
        for (k, conv) in w.convs.iter().enumerate() {
            let (input, output): (&[f32], &mut Vec<f32>) = match k {
                0 => (x, even),
                k if k % 2 == 1 => (even.as_slice(), odd),
                _ => (odd.as_slice(), even),
            };
            width = convolve_relu(conv, input, output, batch, seq);
        }
        let last = if w.convs.len() % 2 == 1 {
            &*even
        } else {
            &*odd
        };
        let h = ArrayView2::from_shape((batch * seq, width), &last[..batch * seq * width])
            .expect("rows are batch × seq");
        linear(mean_over_time(h, batch, seq).view(), &w.head)
    })
}

thread_local! {
    /// Two activation buffers per thread, reused by every inference: fresh multi-megabyte
    /// allocations would cost a page fault per 4 KiB on every call.
    static SCRATCH: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// One causal dilated convolution followed by ReLU, (batch·seq, in) rows of `x` into
/// (batch·seq, out) rows of `out`; returns `out`'s width.
fn convolve_relu(conv: &Conv1d, x: &[f32], out: &mut Vec<f32>, batch: usize, seq: usize) -> usize {
    let (out_ch, in_ch, kernel) = conv.weight.dim();
    // (out, in, k) -> (k, in, out): each tap's weights as an (in × out) matrix.
    let taps = conv
        .weight
        .view()
        .permuted_axes([2, 1, 0])
        .as_standard_layout()
        .into_owned();
    let layer = Layer {
        taps: taps.as_slice().expect("standard layout"),
        bias: conv.bias.as_slice().expect("contiguous"),
        in_ch,
        out_ch,
        kernel,
        dilation: conv.dilation,
    };
    // Every element is written by the kernel; growing only when a bigger batch comes.
    if out.len() < batch * seq * out_ch {
        out.resize(batch * seq * out_ch, 0.0);
    }
    for b in 0..batch {
        sample(
            &layer,
            &x[b * seq * in_ch..(b + 1) * seq * in_ch],
            &mut out[b * seq * out_ch..(b + 1) * seq * out_ch],
        );
    }
    out_ch
}

/// A convolution's weights laid out for the kernel.
struct Layer<'a> {
    /// (kernel, in, out).
    taps: &'a [f32],
    bias: &'a [f32],
    in_ch: usize,
    out_ch: usize,
    kernel: usize,
    dilation: usize,
}

/// One sample's sequence, (seq, in) -> (seq, out); AVX2 + FMA when the CPU has them.
fn sample(layer: &Layer, x: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA, just checked.
        return unsafe { sample_fma(layer, x, out) };
    }
    sample_with::<false>(layer, x, out)
}

/// [`sample`] with AVX2 and FMA enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sample_fma(layer: &Layer, x: &[f32], out: &mut [f32]) {
    sample_with::<true>(layer, x, out)
}

#[inline(always)]
fn sample_with<const FMA: bool>(layer: &Layer, x: &[f32], out: &mut [f32]) {
    let seq = x.len() / layer.in_ch;
    let mut t = 0;
    while t < seq {
        let mut start = 0;
        while start + 32 <= layer.out_ch {
            block::<32, FMA>(layer, x, out, t, start);
            start += 32;
        }
        while start + 8 <= layer.out_ch {
            block::<8, FMA>(layer, x, out, t, start);
            start += 8;
        }
        while start < layer.out_ch {
            block::<1, FMA>(layer, x, out, t, start);
            start += 1;
        }
        t += 2;
    }
}

/// Output channels `start..start + N` of steps t and t + 1 (when it exists).
#[inline(always)]
fn block<const N: usize, const FMA: bool>(
    layer: &Layer,
    x: &[f32],
    out: &mut [f32],
    t: usize,
    start: usize,
) {
    let (cin, cout) = (layer.in_ch, layer.out_ch);
    let seq = x.len() / cin;
    let second = t + 1 < seq;
    let mut a = [0.0f32; N];
    a.copy_from_slice(&layer.bias[start..start + N]);
    let mut b = a;
    for j in 0..layer.kernel {
        let shift = layer.dilation * (layer.kernel - 1 - j);
        let weights = &layer.taps[j * cin * cout..(j + 1) * cin * cout];
        let row = |step: usize| &x[step * cin..(step + 1) * cin];
        match (t >= shift, second && t + 1 >= shift) {
            (true, true) => {
                (a, b) = pair::<N, FMA>(
                    a,
                    b,
                    row(t - shift),
                    row(t + 1 - shift),
                    weights,
                    cout,
                    start,
                )
            }
            (true, false) => a = single::<N, FMA>(a, row(t - shift), weights, cout, start),
            (false, true) => b = single::<N, FMA>(b, row(t + 1 - shift), weights, cout, start),
            (false, false) => {}
        }
    }
    for (o, v) in out[t * cout + start..][..N].iter_mut().zip(a) {
        *o = if v > 0.0 { v } else { 0.0 };
    }
    if second {
        for (o, v) in out[(t + 1) * cout + start..][..N].iter_mut().zip(b) {
            *o = if v > 0.0 { v } else { 0.0 };
        }
    }
}

/// Two rows' accumulators plus `row · weights[.., start..start + N]` each, sharing every weight
/// load; taken and returned by value so they stay in registers.
#[inline(always)]
fn pair<const N: usize, const FMA: bool>(
    mut a: [f32; N],
    mut b: [f32; N],
    row_a: &[f32],
    row_b: &[f32],
    weights: &[f32],
    cout: usize,
    start: usize,
) -> ([f32; N], [f32; N]) {
    for ((w, &xa), &xb) in weights.chunks_exact(cout).zip(row_a).zip(row_b) {
        let w = &w[start..start + N];
        for i in 0..N {
            a[i] = madd::<FMA>(xa, w[i], a[i]);
            b[i] = madd::<FMA>(xb, w[i], b[i]);
        }
    }
    (a, b)
}

/// One row's accumulators plus `row · weights[.., start..start + N]`.
#[inline(always)]
fn single<const N: usize, const FMA: bool>(
    mut a: [f32; N],
    row: &[f32],
    weights: &[f32],
    cout: usize,
    start: usize,
) -> [f32; N] {
    for (w, &x) in weights.chunks_exact(cout).zip(row) {
        let w = &w[start..start + N];
        for i in 0..N {
            a[i] = madd::<FMA>(x, w[i], a[i]);
        }
    }
    a
}

/// `x · w + acc`, fused when `FMA` says the instruction is there.
#[inline(always)]
fn madd<const FMA: bool>(x: f32, w: f32, acc: f32) -> f32 {
    if FMA { x.mul_add(w, acc) } else { acc + x * w }
}
