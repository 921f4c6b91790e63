//! `LSTMNet` on the CPU: each layer's input projection for every step is one matrix product; then
//! each sample runs its whole sequence with its state, the transposed recurrent weights and the
//! gates all in L1: per step one (hidden) · (hidden × 4·hidden) product accumulated in registers,
//! then the gate activations and the state update.

use std::cell::RefCell;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::ops::{affine_into, linear, sigmoid, tanh_fast};
use crate::weights::LstmWeights;

/// Logits (batch, n_out) for `x` of (batch·seq, n_features) rows.
pub fn forward(w: &LstmWeights, x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let [projected, even, odd] = &mut *scratch;
        let layers = w.layers.len();
        let mut last = Array2::zeros((batch, w.head.weight.ncols()));
        for (k, layer) in w.layers.iter().enumerate() {
            let hidden = layer.w_hh.ncols();
            let width = layer.w_ih.ncols();
            let (input, output): (ArrayView2<f32>, &mut Vec<f32>) = match k {
                0 => (x, even),
                k if k % 2 == 1 => (rows(even, batch * seq, width), odd),
                _ => (rows(odd, batch * seq, width), even),
            };
            let bias = &layer.b_ih + &layer.b_hh;
            let projected = grown(projected, batch * seq * 4 * hidden);
            affine_into(
                input,
                &layer.w_ih,
                &bias,
                ArrayViewMut2::from_shape((batch * seq, 4 * hidden), &mut *projected)
                    .expect("sized above"),
            );
            let recurrent = layer.w_hh.t().as_standard_layout().into_owned();
            let recurrent = recurrent.as_slice().expect("standard layout");
            let keep_sequence = k + 1 < layers;
            let output = grown(
                output,
                if keep_sequence {
                    batch * seq * hidden
                } else {
                    0
                },
            );
            let mut h = Array2::<f32>::zeros((batch, hidden));
            let mut c = vec![0.0f32; hidden];
            let mut gates = vec![0.0f32; 4 * hidden];
            for b in 0..batch {
                c.fill(0.0);
                let out = if keep_sequence {
                    &mut output[b * seq * hidden..(b + 1) * seq * hidden]
                } else {
                    &mut [][..]
                };
                run_sample(
                    &projected[b * seq * 4 * hidden..(b + 1) * seq * 4 * hidden],
                    recurrent,
                    h.row_mut(b).into_slice().expect("row"),
                    &mut c,
                    &mut gates,
                    out,
                );
            }
            if !keep_sequence {
                last = h;
            }
        }
        linear(last.view(), &w.head)
    })
}

thread_local! {
    /// The input projection and two layer-output buffers per thread, reused by every inference:
    /// fresh multi-megabyte allocations would cost a page fault per 4 KiB on every call.
    static SCRATCH: RefCell<[Vec<f32>; 3]> =
        const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// The first `len` elements of `buffer`, growing it when it is shorter.
fn grown(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    &mut buffer[..len]
}

/// `buffer`'s first `n` rows of `width`, as a matrix.
fn rows(buffer: &[f32], n: usize, width: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((n, width), &buffer[..n * width]).expect("written by the layer before")
}

/// One sample's sequence through one layer: `projected` (seq × 4·hidden) holds the input
/// projection plus both biases, `recurrent` is W_hhᵀ (hidden × 4·hidden); `h` and `c` start at
/// zero and end as the last step's state; `out` (seq × hidden, or empty) receives every `h`.
/// Compiled with AVX2 and fused multiply-adds when the CPU has them.
fn run_sample(
    projected: &[f32],
    recurrent: &[f32],
    h: &mut [f32],
    c: &mut [f32],
    gates: &mut [f32],
    out: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA, just checked.
        return unsafe { run_sample_fma(projected, recurrent, h, c, gates, out) };
    }
    run_sample_with::<false>(projected, recurrent, h, c, gates, out)
}

/// [`run_sample`] with AVX2 and FMA enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_sample_fma(
    projected: &[f32],
    recurrent: &[f32],
    h: &mut [f32],
    c: &mut [f32],
    gates: &mut [f32],
    out: &mut [f32],
) {
    run_sample_with::<true>(projected, recurrent, h, c, gates, out)
}

/// [`run_sample`]'s body; `FMA` says whether `mul_add` is an instruction here (without it, it
/// would be a libm call).
#[inline(always)]
fn run_sample_with<const FMA: bool>(
    projected: &[f32],
    recurrent: &[f32],
    h: &mut [f32],
    c: &mut [f32],
    gates: &mut [f32],
    out: &mut [f32],
) {
    let hidden = h.len();
    let width = 4 * hidden;
    for (t, row) in projected.chunks_exact(width).enumerate() {
        gates.copy_from_slice(row);
        let mut start = 0;
        while start + 64 <= width {
            accumulate::<64, FMA>(&mut gates[start..start + 64], h, recurrent, width, start);
            start += 64;
        }
        while start + 8 <= width {
            accumulate::<8, FMA>(&mut gates[start..start + 8], h, recurrent, width, start);
            start += 8;
        }
        for j in start..width {
            gates[j] += h
                .iter()
                .enumerate()
                .map(|(k, hk)| hk * recurrent[k * width + j])
                .sum::<f32>();
        }
        step(gates, h, c);
        if !out.is_empty() {
            out[t * hidden..(t + 1) * hidden].copy_from_slice(h);
        }
    }
}

/// `gates += h · recurrent[.., start..start + N]`, the N accumulators held in registers.
#[inline(always)]
fn accumulate<const N: usize, const FMA: bool>(
    gates: &mut [f32],
    h: &[f32],
    recurrent: &[f32],
    width: usize,
    start: usize,
) {
    let mut acc = [0.0f32; N];
    acc.copy_from_slice(gates);
    for (k, &hk) in h.iter().enumerate() {
        let w = &recurrent[k * width + start..k * width + start + N];
        for i in 0..N {
            acc[i] = if FMA {
                hk.mul_add(w[i], acc[i])
            } else {
                acc[i] + hk * w[i]
            };
        }
    }
    gates.copy_from_slice(&acc);
}

/// One time step for one sample: `gates` (i, f, g, o pre-activations) become activations in place,
/// then `c = f·c + i·g` and `h = o·tanh(c)`; each pass is a plain loop over a slice, so it
/// vectorises.
#[inline(always)]
fn step(gates: &mut [f32], h: &mut [f32], c: &mut [f32]) {
    let hidden = h.len();
    let (ifg, o) = gates.split_at_mut(3 * hidden);
    let (i_f, g) = ifg.split_at_mut(2 * hidden);
    for v in i_f.iter_mut() {
        *v = sigmoid(*v);
    }
    for v in o.iter_mut() {
        *v = sigmoid(*v);
    }
    for v in g.iter_mut() {
        *v = tanh_fast(*v);
    }
    let (i, f) = i_f.split_at(hidden);
    for (((c, f), i), g) in c.iter_mut().zip(f.iter()).zip(i.iter()).zip(g.iter()) {
        *c = f * *c + i * g;
    }
    for ((h, o), c) in h.iter_mut().zip(o.iter()).zip(c.iter()) {
        *h = o * tanh_fast(*c);
    }
}
