//! Single kernels on ndarray inputs, for tests, debugging and comparing against the CPU ops.
//!
//! Each call uploads its operands, records the kernel (the very launch the models use), submits
//! and reads the result back; it allocates fresh buffers every time, so it is not the way to run
//! a model (use [`super::GpuModel`]).

use ndarray::{Array2, Array3, ArrayView1, ArrayView2, ArrayView3};

use super::buffers::Buffers;
use super::buffers::row_major;
use super::cnn::ConvBuffers;
use super::context::GpuContext;
use super::kernels::{Act, Launch, Pool};
use super::lstm::LayerBuffers;
use super::plan::PlanBuilder;
use super::{buffers, map};
use crate::InferError;
use crate::weights::{Conv1d, LayerNorm, LstmLayer};

/// `act(x · weightᵀ + bias)`, plus row `r % residual.nrows()` of `residual` if given (the
/// transformer adds its position table this way). `weight` is (out, in) as PyTorch stores it.
pub fn linear(
    ctx: &GpuContext,
    x: ArrayView2<f32>,
    weight: ArrayView2<f32>,
    bias: ArrayView1<f32>,
    act: Act,
    residual: Option<ArrayView2<f32>>,
) -> Result<Array2<f32>, InferError> {
    let (m, k) = x.dim();
    let n = weight.nrows();
    check(
        weight.ncols() == k && bias.len() == n,
        "linear: x, weight and bias disagree",
    )?;
    check(m * n * k > 0, "linear: an operand is empty")?;
    if let Some(r) = &residual {
        check(
            r.ncols() == n && r.nrows() > 0,
            "linear: the residual must have n columns",
        )?;
    }
    let mut b = Buffers::default();
    let mut plan = PlanBuilder::default();
    let xs = b.storage_init(ctx, "x", &row_major(&x))?;
    let ws = b.storage_init(ctx, "weight", &row_major(&weight))?;
    let bs = b.storage_init(ctx, "bias", &row_major(&bias))?;
    let rs = match &residual {
        Some(r) => b.storage_init(ctx, "residual", &row_major(r))?,
        None => bs.clone(),
    };
    let y = b.storage(ctx, "y", m * n)?;
    plan.push(
        Launch::linear(m, n, k, act, residual.map(|r| r.nrows())),
        &[&xs, &ws, &bs, &rs, &y],
    );
    let data = run(ctx, &mut b, plan, &y, m * n)?;
    Ok(Array2::from_shape_vec((m, n), data).expect("m × n"))
}

/// `weight · v + bias` for every row v of `x` (one workgroup per row).
pub fn matvec(
    ctx: &GpuContext,
    x: ArrayView2<f32>,
    weight: ArrayView2<f32>,
    bias: ArrayView1<f32>,
) -> Result<Array2<f32>, InferError> {
    let (rows, k) = x.dim();
    head(ctx, row_major(&x), (rows, 1, k), weight, bias, None)
}

/// `weight · v_b + bias` where v_b pools sample b of `x` (batch, steps, k) over time.
pub fn pooled_matvec(
    ctx: &GpuContext,
    x: ArrayView3<f32>,
    weight: ArrayView2<f32>,
    bias: ArrayView1<f32>,
    pool: Pool,
) -> Result<Array2<f32>, InferError> {
    head(ctx, row_major(&x), x.dim(), weight, bias, Some(pool))
}

/// The matvec kernel over `x` holding (rows, steps, k) in row-major order.
fn head(
    ctx: &GpuContext,
    x: Vec<f32>,
    (rows, steps, k): (usize, usize, usize),
    weight: ArrayView2<f32>,
    bias: ArrayView1<f32>,
    pool: Option<Pool>,
) -> Result<Array2<f32>, InferError> {
    let n = weight.nrows();
    check(
        weight.ncols() == k && bias.len() == n,
        "matvec: x, weight and bias disagree",
    )?;
    check(rows * steps * k * n > 0, "matvec: an operand is empty")?;
    let mut b = Buffers::default();
    let mut plan = PlanBuilder::default();
    let xs = b.storage_init(ctx, "x", &x)?;
    let ws = b.storage_init(ctx, "weight", &row_major(&weight))?;
    let bs = b.storage_init(ctx, "bias", &row_major(&bias))?;
    let y = b.storage(ctx, "y", rows * n)?;
    plan.push(
        Launch::matvec(rows, n, k, steps, pool),
        &[&xs, &ws, &bs, &y],
    );
    let data = run(ctx, &mut b, plan, &y, rows * n)?;
    Ok(Array2::from_shape_vec((rows, n), data).expect("rows × n"))
}

/// A causal dilated convolution (left padding dilation · (k − 1)) of `x` (batch, seq, in) with
/// `conv`'s PyTorch weight (out, in, k) and bias, then `act`: (batch, seq, out).
pub fn conv1d(
    ctx: &GpuContext,
    x: ArrayView3<f32>,
    conv: &Conv1d,
    act: Act,
) -> Result<Array3<f32>, InferError> {
    let (batch, seq, in_ch) = x.dim();
    let (out_ch, w_in, _) = conv.weight.dim();
    check(
        w_in == in_ch && conv.bias.len() == out_ch,
        "conv1d: x, weight and bias disagree",
    )?;
    check(
        batch * seq > 0 && conv.dilation > 0,
        "conv1d: empty input or zero dilation",
    )?;
    let mut b = Buffers::default();
    let mut plan = PlanBuilder::default();
    let layer = ConvBuffers::upload(ctx, &mut b, "conv", conv)?;
    let xs = b.storage_init(ctx, "x", &row_major(&x))?;
    let y = b.storage(ctx, "y", batch * seq * out_ch)?;
    layer.push(&mut plan, batch, seq, act, &xs, &y);
    let data = run(ctx, &mut b, plan, &y, batch * seq * out_ch)?;
    Ok(Array3::from_shape_vec((batch, seq, out_ch), data).expect("batch × seq × out"))
}

/// One LSTM layer over `x` (batch, seq, input) from zero state: every step's h, (batch, seq,
/// hidden). Two dispatches: the input projection and the fused recurrence.
pub fn lstm_layer(
    ctx: &GpuContext,
    x: ArrayView3<f32>,
    layer: &LstmLayer,
) -> Result<Array3<f32>, InferError> {
    let (batch, seq, input) = x.dim();
    check(
        layer.w_ih.ncols() == input,
        "lstm_layer: x and weight_ih disagree",
    )?;
    check(batch * seq > 0, "lstm_layer: x is empty")?;
    let mut b = Buffers::default();
    let mut plan = PlanBuilder::default();
    let weights = LayerBuffers::upload(ctx, &mut b, "lstm", layer)?;
    let h = weights.hidden();
    let xs = b.storage_init(ctx, "x", &row_major(&x))?;
    let gates = b.storage(ctx, "gates", batch * seq * 4 * h)?;
    let y = b.storage(ctx, "h", batch * seq * h)?;
    weights.push(&mut plan, batch, seq, &xs, &gates, &y);
    let data = run(ctx, &mut b, plan, &y, batch * seq * h)?;
    Ok(Array3::from_shape_vec((batch, seq, h), data).expect("batch × seq × hidden"))
}

/// Multi-head self-attention over `qkv` (batch · seq, 3·d), queries, keys and values side by
/// side: the heads' outputs concatenated, (batch · seq, d), as `cpu::ops::self_attention`.
pub fn attention(
    ctx: &GpuContext,
    qkv: ArrayView2<f32>,
    batch: usize,
    seq: usize,
    heads: usize,
) -> Result<Array2<f32>, InferError> {
    let (rows, width) = qkv.dim();
    check(
        rows == batch * seq && rows > 0,
        "attention: qkv must have batch · seq rows",
    )?;
    check(
        width % 3 == 0 && heads > 0 && (width / 3) % heads == 0,
        "attention: qkv must be 3·d wide with heads dividing d",
    )?;
    let d = width / 3;
    let mut b = Buffers::default();
    let mut plan = PlanBuilder::default();
    let xs = b.storage_init(ctx, "qkv", &row_major(&qkv))?;
    let y = b.storage(ctx, "attention", rows * d)?;
    plan.push(Launch::attention(batch, seq, d, heads), &[&xs, &y]);
    let data = run(ctx, &mut b, plan, &y, rows * d)?;
    Ok(Array2::from_shape_vec((rows, d), data).expect("rows × d"))
}

/// Layer norm of every row (biased variance, eps 1e-5, then `norm`'s affine map).
pub fn layer_norm(
    ctx: &GpuContext,
    x: ArrayView2<f32>,
    norm: &LayerNorm,
) -> Result<Array2<f32>, InferError> {
    let (rows, d) = x.dim();
    check(
        norm.weight.len() == d && norm.bias.len() == d,
        "layer_norm: x and norm disagree",
    )?;
    check(rows * d > 0, "layer_norm: x is empty")?;
    let mut b = Buffers::default();
    let mut plan = PlanBuilder::default();
    let xs = b.storage_init(ctx, "x", &row_major(&x))?;
    let g = b.storage_init(ctx, "gamma", &row_major(&norm.weight))?;
    let beta = b.storage_init(ctx, "beta", &row_major(&norm.bias))?;
    let y = b.storage(ctx, "y", rows * d)?;
    plan.push(Launch::layer_norm(rows, d), &[&xs, &g, &beta, &y]);
    let data = run(ctx, &mut b, plan, &y, rows * d)?;
    Ok(Array2::from_shape_vec((rows, d), data).expect("rows × d"))
}

/// Max-subtracted softmax of every row.
pub fn softmax_rows(ctx: &GpuContext, x: ArrayView2<f32>) -> Result<Array2<f32>, InferError> {
    let (rows, n) = x.dim();
    check(rows * n > 0, "softmax_rows: x is empty")?;
    let mut b = Buffers::default();
    let mut plan = PlanBuilder::default();
    let xs = b.storage_init(ctx, "x", &row_major(&x))?;
    let y = b.storage(ctx, "y", rows * n)?;
    plan.push(Launch::softmax(rows, n), &[&xs, &y]);
    let data = run(ctx, &mut b, plan, &y, rows * n)?;
    Ok(Array2::from_shape_vec((rows, n), data).expect("rows × n"))
}

fn check(ok: bool, message: &str) -> Result<(), InferError> {
    if ok {
        Ok(())
    } else {
        Err(InferError::Input(message.into()))
    }
}

/// Builds `plan`, runs it in one submit and reads `floats` f32 back from `output`.
fn run(
    ctx: &GpuContext,
    b: &mut Buffers,
    plan: PlanBuilder,
    output: &wgpu::Buffer,
    floats: usize,
) -> Result<Vec<f32>, InferError> {
    let readback = ctx.checked("running a kernel", || {
        let plan = plan.build(ctx, b, "op")?;
        let readback = b.readback(ctx, "op readback", floats)?;
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("op") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("op"),
                timestamp_writes: None,
            });
            plan.record(&mut pass);
        }
        encoder.copy_buffer_to_buffer(output, 0, &readback, 0, buffers::float_bytes(floats));
        ctx.queue.submit([encoder.finish()]);
        Ok(readback)
    })?;
    map(
        ctx,
        &readback,
        wgpu::MapMode::Read,
        "the op's readback buffer",
    )?;
    let data = readback
        .get_mapped_range(..)
        .map(|view| bytemuck::pod_collect_to_vec::<u8, f32>(&view))
        .map_err(|e| InferError::Gpu(format!("reading back the op's output: {e}")))?;
    readback.unmap();
    Ok(data)
}
