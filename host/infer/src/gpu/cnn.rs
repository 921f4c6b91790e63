//! `CNNNet` on the GPU: each causal dilated convolution is one implicit-GEMM dispatch of the
//! matmul kernel (im2col indexing on the fly, PyTorch's (out, in, k) weight as stored, bias and
//! ReLU in the epilogue), ping-ponging between two activation buffers; then the head averages
//! over time. Dispatches: convolutions + 1.

use super::buffers::{Buffers, row_major};
use super::context::GpuContext;
use super::kernels::{Act, Launch, Pool};
use super::linear::LinearBuffers;
use super::plan::{Plan, PlanBuilder};
use crate::InferError;
use crate::manifest::CnnSpec;
use crate::weights::{CnnWeights, Conv1d};

/// One convolution on the device.
pub(crate) struct ConvBuffers {
    out_ch: usize,
    in_ch: usize,
    taps: usize,
    dilation: usize,
    weight: wgpu::Buffer,
    bias: wgpu::Buffer,
}

impl ConvBuffers {
    /// Uploads `conv` under `name`.
    pub(crate) fn upload(
        ctx: &GpuContext,
        buffers: &mut Buffers,
        name: &str,
        conv: &Conv1d,
    ) -> Result<Self, InferError> {
        let (out_ch, in_ch, taps) = conv.weight.dim();
        Ok(ConvBuffers {
            out_ch,
            in_ch,
            taps,
            dilation: conv.dilation,
            weight: buffers.storage_init(
                ctx,
                &format!("{name}.weight"),
                &row_major(&conv.weight),
            )?,
            bias: buffers.storage_init(ctx, &format!("{name}.bias"), &row_major(&conv.bias))?,
        })
    }

    /// Records the convolution and `act` of `batch` sequences of `seq` steps, (batch·seq, in) in
    /// `x` to (batch·seq, out) in `y`.
    pub(crate) fn push(
        &self,
        plan: &mut PlanBuilder,
        batch: usize,
        seq: usize,
        act: Act,
        x: &wgpu::Buffer,
        y: &wgpu::Buffer,
    ) {
        plan.push(
            Launch::conv(
                batch,
                seq,
                self.in_ch,
                self.out_ch,
                self.taps,
                self.dilation,
                act,
            ),
            &[x, &self.weight, &self.bias, &self.bias, y],
        );
    }
}

/// `CNNNet`'s weights on the device.
pub(crate) struct CnnNet {
    convs: Vec<ConvBuffers>,
    head: LinearBuffers,
    n_out: usize,
}

impl CnnNet {
    /// Uploads the weights.
    pub(crate) fn new(
        ctx: &GpuContext,
        buffers: &mut Buffers,
        spec: &CnnSpec,
        w: &CnnWeights,
    ) -> Result<Self, InferError> {
        let convs = w
            .convs
            .iter()
            .enumerate()
            .map(|(k, conv)| ConvBuffers::upload(ctx, buffers, &format!("convs.{k}"), conv))
            .collect::<Result<_, _>>()?;
        Ok(CnnNet {
            convs,
            head: LinearBuffers::upload(ctx, buffers, "head", &w.head)?,
            n_out: spec.n_out,
        })
    }

    /// Floats per sample of the widest activation for `seq` steps.
    pub(crate) fn widest(&self, seq: usize) -> usize {
        seq * self.convs.iter().map(|c| c.out_ch).max().unwrap_or(1)
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
        let floats = batch * self.widest(seq);
        let acts = (0..self.convs.len().min(2))
            .map(|k| buffers.storage(ctx, &format!("cnn activations {k}"), floats))
            .collect::<Result<Vec<_>, _>>()?;
        let mut plan = PlanBuilder::default();
        for (k, conv) in self.convs.iter().enumerate() {
            let x = if k == 0 { input } else { &acts[(k - 1) % 2] };
            conv.push(&mut plan, batch, seq, Act::Relu, x, &acts[k % 2]);
        }
        let last = self
            .convs
            .last()
            .expect("the manifest has at least one convolution");
        plan.push(
            Launch::matvec(batch, self.n_out, last.out_ch, seq, Some(Pool::Mean)),
            &[
                &acts[(self.convs.len() - 1) % 2],
                &self.head.weight,
                &self.head.bias,
                output,
            ],
        );
        plan.build(ctx, buffers, "cnn")
    }
}
