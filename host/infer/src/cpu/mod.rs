//! The CPU path: every model in plain ndarray, the reference the shaders are tested against and
//! the fallback when no GPU adapter exists. Large batches are split across threads (rayon).

mod cnn;
mod gbt;
mod logistic;
mod lstm;
pub mod ops;
mod simd;
mod transformer;

use ndarray::{Array2, ArrayView3, Axis, concatenate};
use rayon::prelude::*;

use crate::manifest::Manifest;
use crate::weights::Weights;

/// Samples below which a batch runs on one thread.
const MIN_SAMPLES_PER_THREAD: usize = 8;

/// Logits (batch, n_out) of the model for `input` (batch, seq, n_features), already checked to fit.
pub fn forward(manifest: &Manifest, weights: &Weights, input: ArrayView3<f32>) -> Array2<f32> {
    let batch = input.len_of(Axis(0));
    let threads = rayon::current_num_threads()
        .min(batch / MIN_SAMPLES_PER_THREAD)
        .max(1);
    if threads == 1 {
        return forward_chunk(manifest, weights, input);
    }
    let per = batch.div_ceil(threads);
    let parts: Vec<Array2<f32>> = (0..threads)
        .into_par_iter()
        .map(|k| {
            let end = ((k + 1) * per).min(batch);
            forward_chunk(
                manifest,
                weights,
                input.slice(ndarray::s![k * per..end, .., ..]),
            )
        })
        .collect();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    concatenate(Axis(0), &views).expect("chunks share the output width")
}

fn forward_chunk(manifest: &Manifest, weights: &Weights, input: ArrayView3<f32>) -> Array2<f32> {
    let (batch, seq, features) = input.dim();
    let rows = input.as_standard_layout();
    let x = rows
        .view()
        .into_shape_with_order((batch * seq, features))
        .expect("standard layout");
    match (manifest, weights) {
        (Manifest::Lstm(_), Weights::Lstm(w)) => lstm::forward(w, x, batch, seq),
        (Manifest::Transformer(s), Weights::Transformer(w)) => {
            transformer::forward(s, w, x, batch, seq)
        }
        (Manifest::Cnn(_), Weights::Cnn(w)) => cnn::forward(w, x, batch, seq),
        (Manifest::Logistic(_), Weights::Logistic(w)) => logistic::forward(w, x, batch, seq),
        (Manifest::Gbt(_), Weights::Gbt(w)) => gbt::forward(w, x, batch, seq),
        _ => unreachable!("weights are loaded for their manifest"),
    }
}
