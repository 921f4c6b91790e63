//! TA-Lib functions over long histories, a chunk of bars at a time: each function keeps its
//! streaming state from one chunk to the next, so a series of any length needs room only for
//! one chunk's inputs and outputs, and the chunk's functions run in parallel on rayon's
//! threads. The outputs equal one batch over the whole series bit for bit (every function's
//! batch continues from its state).

use rayon::prelude::*;
use stratbox_ta::{Indicator, Series, Spec};

/// Bars a chunk holds by default: small enough that a chunk's outputs of every function stay
/// in a few megabytes, large enough that a chunk's parallel run costs little to start.
pub const CHUNK_BARS: usize = 4096;

/// A function with its outputs' columns for the latest chunk.
type WithColumns = (Box<dyn Indicator>, Vec<Vec<f64>>);

/// Functions run chunk by chunk over one symbol's bars.
pub struct ChunkedBatch {
    functions: Vec<WithColumns>,
}

impl ChunkedBatch {
    /// The functions `specs` name, each at its start.
    pub fn new(specs: &[Spec]) -> Self {
        ChunkedBatch {
            functions: specs
                .iter()
                .map(|s| (s.build(), vec![Vec::new(); s.function.outputs.len()]))
                .collect(),
        }
    }

    /// Runs every function over `chunk`, the bars after those of the earlier chunks, in
    /// parallel on the current rayon pool.
    pub fn run(&mut self, chunk: &Series) {
        self.functions
            .par_iter_mut()
            .for_each(|(function, out)| function.batch(chunk, out));
    }

    /// The latest chunk's columns: each function's outputs, in the specs' order.
    pub fn columns(&self) -> impl Iterator<Item = &[f64]> {
        self.functions
            .iter()
            .flat_map(|(_, out)| out.iter().map(Vec::as_slice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_give_the_whole_series_outputs_bit_for_bit() {
        let specs: Vec<Spec> = stratbox_ta::registry::all()
            .iter()
            .map(|f| Spec::with_defaults(f))
            .collect();
        let mut series = Series::default();
        let mut close: f64 = 100.0;
        for i in 0..1_000 {
            let open = close;
            close = open * (1.0 + ((i * 37 % 101) as f64 - 50.0) / 2_000.0);
            series.push(stratbox_ta::Bar {
                open,
                high: open.max(close) * 1.002,
                low: open.min(close) * 0.998,
                close,
                volume: 10.0 + (i % 13) as f64,
            });
        }
        let whole: Vec<Vec<f64>> = specs
            .iter()
            .flat_map(|s| {
                let mut out = vec![Vec::new(); s.function.outputs.len()];
                s.build().batch(&series, &mut out);
                out
            })
            .collect();
        // Chunks of uneven lengths, one of a single bar.
        let mut chunked = ChunkedBatch::new(&specs);
        let mut got: Vec<Vec<f64>> = vec![Vec::new(); whole.len()];
        let mut start = 0;
        for len in [1, 300, 77, 622] {
            let mut chunk = Series::default();
            for i in start..start + len {
                chunk.push(series.bar(i));
            }
            chunked.run(&chunk);
            for (column, part) in got.iter_mut().zip(chunked.columns()) {
                column.extend_from_slice(part);
            }
            start += len;
        }
        assert_eq!(start, series.len());
        for (k, (a, b)) in whole.iter().zip(&got).enumerate() {
            let same =
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "column {k} differs");
        }
    }
}
