//! `LSTMNet` on the GPU: per layer one matrix multiply for every step's input projection (both
//! biases folded in) and one fused recurrence dispatch that loops over time with h and c in
//! workgroup memory; then the head reads the last step. Dispatches: 2 · layers + 1.

use ndarray::Array2;

use super::buffers::{Buffers, row_major};
use super::context::GpuContext;
use super::kernels::{Act, Launch, Pool};
use super::linear::LinearBuffers;
use super::plan::{Plan, PlanBuilder};
use crate::InferError;
use crate::manifest::LstmSpec;
use crate::weights::{LstmLayer, LstmWeights};

/// Invocations of a recurrence workgroup (the `@workgroup_size` of `shaders/lstm.wgsl`).
const INVOCATIONS: usize = 64;
/// Most samples one invocation steps at once.
const MAX_SAMPLES_PER_TASK: usize = 4;

/// One layer's weights on the device, gates interleaved per unit (see `shaders/lstm.wgsl`).
pub(crate) struct LayerBuffers {
    input: usize,
    hidden: usize,
    /// W_ih with rows reordered to unit-major, gate-minor: (hidden · 4, input).
    w_ih: wgpu::Buffer,
    /// b_ih + b_hh in the same order.
    bias: wgpu::Buffer,
    /// w_hh[(k · hidden + j) · 4 + gate] = W_hh[gate · hidden + j][k].
    w_hh: wgpu::Buffer,
    /// Samples per recurrence task.
    samples: usize,
    /// Samples per recurrence workgroup, a multiple of `samples`.
    per_group: usize,
}

impl LayerBuffers {
    /// Uploads one layer; `name` prefixes the tensors' names in errors.
    pub(crate) fn upload(
        ctx: &GpuContext,
        buffers: &mut Buffers,
        name: &str,
        layer: &LstmLayer,
    ) -> Result<Self, InferError> {
        let (gates, input) = layer.w_ih.dim();
        let hidden = gates / 4;
        // PyTorch stacks the gates: row g · hidden + j is gate g of unit j.
        let row = |r: usize| (r % 4) * hidden + r / 4;
        let w_ih = Array2::from_shape_fn((gates, input), |(r, c)| layer.w_ih[[row(r), c]]);
        let bias: Vec<f32> = (0..gates)
            .map(|r| layer.b_ih[row(r)] + layer.b_hh[row(r)])
            .collect();
        let w_hh = Array2::from_shape_fn((hidden, gates), |(k, r)| layer.w_hh[[row(r), k]]);
        let (samples, per_group) = grouping(ctx, hidden)?;
        Ok(LayerBuffers {
            input,
            hidden,
            w_ih: buffers.storage_init(ctx, &format!("{name}.weight_ih"), &row_major(&w_ih))?,
            bias: buffers.storage_init(ctx, &format!("{name}.bias_ih + bias_hh"), &bias)?,
            w_hh: buffers.storage_init(ctx, &format!("{name}.weight_hh"), &row_major(&w_hh))?,
            samples,
            per_group,
        })
    }

    /// Hidden units.
    pub(crate) fn hidden(&self) -> usize {
        self.hidden
    }

    /// Records the layer for `batch` sequences of `seq` steps: `x` (batch·seq, input) -> gate
    /// inputs in `gates` (batch·seq, hidden · 4) -> every step's h in `out` (batch·seq, hidden).
    pub(crate) fn push(
        &self,
        plan: &mut PlanBuilder,
        batch: usize,
        seq: usize,
        x: &wgpu::Buffer,
        gates: &wgpu::Buffer,
        out: &wgpu::Buffer,
    ) {
        let h = self.hidden;
        plan.push(
            Launch::linear(batch * seq, 4 * h, self.input, Act::Identity, None),
            &[x, &self.w_ih, &self.bias, &self.bias, gates],
        );
        plan.push(
            Launch::lstm(batch, seq, h, self.per_group, self.samples),
            &[gates, &self.w_hh, out],
        );
    }
}

/// Samples per recurrence task and per workgroup: tasks of up to [`MAX_SAMPLES_PER_TASK`] samples
/// (each weight load serves them all), enough tasks to occupy the workgroup's invocations, all
/// within the device's workgroup memory (h twice and c: 12 bytes per sample and unit).
fn grouping(ctx: &GpuContext, hidden: usize) -> Result<(usize, usize), InferError> {
    let limit = ctx.device.limits().max_compute_workgroup_storage_size as usize;
    let fits = limit / (12 * hidden);
    if fits == 0 {
        return Err(InferError::Gpu(format!(
            "an LSTM with {hidden} hidden units needs {} bytes of workgroup memory, {} has {limit}",
            12 * hidden,
            ctx.describe()
        )));
    }
    let samples = [MAX_SAMPLES_PER_TASK, 2, 1]
        .into_iter()
        .find(|&s| s <= fits)
        .expect("fits >= 1");
    let sample_groups = (INVOCATIONS / hidden).clamp(1, fits / samples);
    Ok((samples, samples * sample_groups))
}

/// `LSTMNet`'s weights on the device.
pub(crate) struct LstmNet {
    layers: Vec<LayerBuffers>,
    head: LinearBuffers,
    n_out: usize,
}

impl LstmNet {
    /// Uploads the weights.
    pub(crate) fn new(
        ctx: &GpuContext,
        buffers: &mut Buffers,
        spec: &LstmSpec,
        w: &LstmWeights,
    ) -> Result<Self, InferError> {
        let layers = w
            .layers
            .iter()
            .enumerate()
            .map(|(k, layer)| LayerBuffers::upload(ctx, buffers, &format!("lstm l{k}"), layer))
            .collect::<Result<_, _>>()?;
        Ok(LstmNet {
            layers,
            head: LinearBuffers::upload(ctx, buffers, "head", &w.head)?,
            n_out: spec.n_out,
        })
    }

    /// Floats per sample of the widest activation for `seq` steps.
    pub(crate) fn widest(&self, seq: usize) -> usize {
        seq * 4 * self.layers[0].hidden
    }

    /// The plan for `batch` sequences of `seq` steps from `input` into `output` (batch, n_out).
    pub(crate) fn plan(
        &self,
        ctx: &GpuContext,
        buffers: &mut Buffers,
        batch: usize,
        seq: usize,
        input: &wgpu::Buffer,
        output: &wgpu::Buffer,
    ) -> Result<Plan, InferError> {
        let h = self.layers[0].hidden;
        let rows = batch * seq;
        let gates = buffers.storage(ctx, "lstm gate inputs", rows * 4 * h)?;
        let hs = (0..self.layers.len().min(2))
            .map(|k| buffers.storage(ctx, &format!("lstm hidden states {k}"), rows * h))
            .collect::<Result<Vec<_>, _>>()?;
        let mut plan = PlanBuilder::default();
        for (k, layer) in self.layers.iter().enumerate() {
            let x = if k == 0 { input } else { &hs[(k - 1) % 2] };
            layer.push(&mut plan, batch, seq, x, &gates, &hs[k % 2]);
        }
        let last = &hs[(self.layers.len() - 1) % 2];
        plan.push(
            Launch::matvec(batch, self.n_out, h, seq, Some(Pool::Last)),
            &[last, &self.head.weight, &self.head.bias, output],
        );
        plan.build(ctx, buffers, "lstm")
    }
}
