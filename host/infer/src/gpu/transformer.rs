//! `TransformerNet` on the GPU. The input projection adds the position embeddings in its epilogue;
//! each encoder layer is seven dispatches (bias, activation and residual adds fused into the
//! matrix multiplies, attention in one kernel):
//!
//! - post-norm: qkv = in_proj(h); a = attention(qkv); h' = out_proj(a) + h; h = norm1(h');
//!   f = act(linear1(h)); h' = linear2(f) + h; h = norm2(h')
//! - pre-norm: n = norm1(h); qkv = in_proj(n); a = attention(qkv); h' = out_proj(a) + h;
//!   n = norm2(h'); f = act(linear1(n)); h = linear2(f) + h'
//!
//! then the head averages over time. Dispatches: 2 + 7 · layers.

use super::buffers::{Buffers, row_major};
use super::context::GpuContext;
use super::kernels::{Act, Launch, Pool};
use super::linear::LinearBuffers;
use super::plan::{Plan, PlanBuilder};
use crate::InferError;
use crate::manifest::{Activation, TransformerSpec};
use crate::weights::{LayerNorm, TransformerWeights};

struct NormBuffers {
    gamma: wgpu::Buffer,
    beta: wgpu::Buffer,
}

impl NormBuffers {
    fn upload(
        ctx: &GpuContext,
        buffers: &mut Buffers,
        name: &str,
        norm: &LayerNorm,
    ) -> Result<Self, InferError> {
        Ok(NormBuffers {
            gamma: buffers.storage_init(
                ctx,
                &format!("{name}.weight"),
                &row_major(&norm.weight),
            )?,
            beta: buffers.storage_init(ctx, &format!("{name}.bias"), &row_major(&norm.bias))?,
        })
    }

    fn push(
        &self,
        plan: &mut PlanBuilder,
        rows: usize,
        d: usize,
        x: &wgpu::Buffer,
        y: &wgpu::Buffer,
    ) {
        plan.push(
            Launch::layer_norm(rows, d),
            &[x, &self.gamma, &self.beta, y],
        );
    }
}

struct EncoderBuffers {
    in_proj: LinearBuffers,
    out_proj: LinearBuffers,
    linear1: LinearBuffers,
    linear2: LinearBuffers,
    norm1: NormBuffers,
    norm2: NormBuffers,
}

/// `TransformerNet`'s weights on the device.
pub(crate) struct TransformerNet {
    spec: TransformerSpec,
    input_proj: LinearBuffers,
    pos_emb: wgpu::Buffer,
    layers: Vec<EncoderBuffers>,
    head: LinearBuffers,
}

/// Activation buffers of one shape.
struct Scratch {
    h: wgpu::Buffer,
    h2: wgpu::Buffer,
    /// Attention output, and the normalised input in pre-norm layers.
    d: wgpu::Buffer,
    qkv: wgpu::Buffer,
    ff: wgpu::Buffer,
}

impl TransformerNet {
    /// Uploads the weights.
    pub(crate) fn new(
        ctx: &GpuContext,
        buffers: &mut Buffers,
        spec: &TransformerSpec,
        w: &TransformerWeights,
    ) -> Result<Self, InferError> {
        let layers = w
            .layers
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let p = format!("encoder.layers.{k}");
                Ok(EncoderBuffers {
                    in_proj: LinearBuffers::upload(
                        ctx,
                        buffers,
                        &format!("{p}.self_attn.in_proj"),
                        &l.in_proj,
                    )?,
                    out_proj: LinearBuffers::upload(
                        ctx,
                        buffers,
                        &format!("{p}.self_attn.out_proj"),
                        &l.out_proj,
                    )?,
                    linear1: LinearBuffers::upload(
                        ctx,
                        buffers,
                        &format!("{p}.linear1"),
                        &l.linear1,
                    )?,
                    linear2: LinearBuffers::upload(
                        ctx,
                        buffers,
                        &format!("{p}.linear2"),
                        &l.linear2,
                    )?,
                    norm1: NormBuffers::upload(ctx, buffers, &format!("{p}.norm1"), &l.norm1)?,
                    norm2: NormBuffers::upload(ctx, buffers, &format!("{p}.norm2"), &l.norm2)?,
                })
            })
            .collect::<Result<_, InferError>>()?;
        Ok(TransformerNet {
            spec: spec.clone(),
            input_proj: LinearBuffers::upload(ctx, buffers, "input_proj", &w.input_proj)?,
            pos_emb: buffers.storage_init(ctx, "pos_emb", &row_major(&w.pos_emb))?,
            layers,
            head: LinearBuffers::upload(ctx, buffers, "head", &w.head)?,
        })
    }

    /// Floats per sample of the widest activation for `seq` steps.
    pub(crate) fn widest(&self, seq: usize) -> usize {
        seq * (3 * self.spec.d_model).max(self.spec.ff)
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
        let s = &self.spec;
        let d = s.d_model;
        let rows = batch * seq;
        let act = match s.activation {
            Activation::Relu => Act::Relu,
            Activation::Gelu => Act::Gelu,
        };
        let scratch = Scratch {
            h: buffers.storage(ctx, "transformer activations", rows * d)?,
            h2: buffers.storage(ctx, "transformer residual sums", rows * d)?,
            d: buffers.storage(ctx, "transformer attention output", rows * d)?,
            qkv: buffers.storage(ctx, "transformer q, k, v", rows * 3 * d)?,
            ff: buffers.storage(ctx, "transformer feed-forward hidden", rows * s.ff)?,
        };
        let x = &scratch;
        let mut plan = PlanBuilder::default();
        self.input_proj.push(
            &mut plan,
            rows,
            input,
            Act::Identity,
            Some((&self.pos_emb, seq)),
            &x.h,
        );
        for l in &self.layers {
            let attention = Launch::attention(batch, seq, d, s.nhead);
            if s.norm_first {
                l.norm1.push(&mut plan, rows, d, &x.h, &x.d);
                l.in_proj
                    .push(&mut plan, rows, &x.d, Act::Identity, None, &x.qkv);
                plan.push(attention, &[&x.qkv, &x.d]);
                l.out_proj.push(
                    &mut plan,
                    rows,
                    &x.d,
                    Act::Identity,
                    Some((&x.h, rows)),
                    &x.h2,
                );
                l.norm2.push(&mut plan, rows, d, &x.h2, &x.d);
                l.linear1.push(&mut plan, rows, &x.d, act, None, &x.ff);
                l.linear2.push(
                    &mut plan,
                    rows,
                    &x.ff,
                    Act::Identity,
                    Some((&x.h2, rows)),
                    &x.h,
                );
            } else {
                l.in_proj
                    .push(&mut plan, rows, &x.h, Act::Identity, None, &x.qkv);
                plan.push(attention, &[&x.qkv, &x.d]);
                l.out_proj.push(
                    &mut plan,
                    rows,
                    &x.d,
                    Act::Identity,
                    Some((&x.h, rows)),
                    &x.h2,
                );
                l.norm1.push(&mut plan, rows, d, &x.h2, &x.h);
                l.linear1.push(&mut plan, rows, &x.h, act, None, &x.ff);
                l.linear2.push(
                    &mut plan,
                    rows,
                    &x.ff,
                    Act::Identity,
                    Some((&x.h, rows)),
                    &x.h2,
                );
                l.norm2.push(&mut plan, rows, d, &x.h2, &x.h);
            }
        }
        plan.push(
            Launch::matvec(batch, s.n_out, d, seq, Some(Pool::Mean)),
            &[&x.h, &self.head.weight, &self.head.bias, output],
        );
        plan.build(ctx, buffers, "transformer")
    }
}
