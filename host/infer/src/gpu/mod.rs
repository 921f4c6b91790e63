//! The GPU path: our WGSL compute shaders (`shaders/`: tiled matmul with fused epilogues and
//! implicit-GEMM convolution, pooled matrix-vector head, fused LSTM recurrence, attention, layer
//! norm, softmax) run through wgpu, within 1e-6 relative error of PyTorch on the fixtures.
//!
//! A [`GpuModel`] uploads its weights once. For each input shape (batch, seq) it meets, it builds
//! once, and caches (the [`MAX_SHAPES`] most recently used), the activation buffers, a mapped
//! staging buffer for the input, a readback buffer for the logits and a plan of kernel launches
//! with their bind groups; a repeat inference with a known shape creates no buffer. An inference
//! is one submit (input copy, dispatches, logits copy) and one readback.
//!
//! Dispatches per inference ([`GpuModel::last_dispatches`]): LSTM 2 · layers + 1 (input projection
//! and fused recurrence per layer, head on the last step), Transformer 2 + 7 · layers, CNN
//! convolutions + 1. A batch whose activations exceed the device's storage-binding limit runs in
//! chunks inside the same submit, multiplying those counts by the number of chunks.
//! [`infer_many`] runs several models in one submit and one readback; [`ops`] runs single kernels.

mod buffers;
mod cnn;
mod context;
mod kernels;
mod linear;
mod lstm;
pub mod ops;
mod plan;
mod transformer;

use std::sync::{Arc, mpsc};
use std::time::Duration;

use ndarray::{Array2, ArrayView3};

pub use context::{AdapterPolicy, GpuContext};
pub use kernels::{Act, Pool};

use crate::{InferError, Manifest, Weights};
use buffers::Buffers;
use plan::Plan;

/// Input shapes a model keeps buffers for; the least recently used is dropped beyond this.
pub const MAX_SHAPES: usize = 8;

/// A model's weights on one device, with its per-shape buffers and plans.
pub struct GpuModel {
    ctx: Arc<GpuContext>,
    manifest: Manifest,
    net: Net,
    buffers: Buffers,
    /// Least recently used first.
    shapes: Vec<Shape>,
    last_dispatches: usize,
}

enum Net {
    Lstm(lstm::LstmNet),
    Transformer(transformer::TransformerNet),
    Cnn(cnn::CnnNet),
}

/// Everything one input shape needs.
struct Shape {
    batch: usize,
    seq: usize,
    features: usize,
    n_out: usize,
    /// Samples per pass of the plan (the whole batch unless it exceeds the binding limit).
    chunk: usize,
    /// Input staging, (batch, seq, features); mapped for writing between inferences.
    upload: wgpu::Buffer,
    upload_mapped: bool,
    /// (chunk, seq, features).
    input: wgpu::Buffer,
    /// (chunk, n_out).
    output: wgpu::Buffer,
    /// (batch, n_out).
    readback: wgpu::Buffer,
    plan: Plan,
}

impl Shape {
    /// Records the input copy, the plan and the logits copy for each chunk; returns the dispatches.
    fn encode(&self, encoder: &mut wgpu::CommandEncoder, label: &str) -> usize {
        let sample_in = (self.seq * self.features * 4) as u64;
        let sample_out = (self.n_out * 4) as u64;
        let mut first = 0;
        while first < self.batch {
            let rows = self.chunk.min(self.batch - first);
            encoder.copy_buffer_to_buffer(
                &self.upload,
                first as u64 * sample_in,
                &self.input,
                0,
                rows as u64 * sample_in,
            );
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some(label),
                    timestamp_writes: None,
                });
                self.plan.record(&mut pass);
            }
            encoder.copy_buffer_to_buffer(
                &self.output,
                0,
                &self.readback,
                first as u64 * sample_out,
                rows as u64 * sample_out,
            );
            first += rows;
        }
        self.batch.div_ceil(self.chunk) * self.plan.dispatches()
    }
}

impl GpuModel {
    /// Uploads the weights to the context's device.
    pub fn new(
        ctx: Arc<GpuContext>,
        manifest: &Manifest,
        weights: &Weights,
    ) -> Result<Self, InferError> {
        let mut buffers = Buffers::default();
        let net = ctx.checked(
            &format!("uploading the {} weights", manifest.arch()),
            || {
                Ok(match (manifest, weights) {
                    (Manifest::Lstm(s), Weights::Lstm(w)) => {
                        Net::Lstm(lstm::LstmNet::new(&ctx, &mut buffers, s, w)?)
                    }
                    (Manifest::Transformer(s), Weights::Transformer(w)) => Net::Transformer(
                        transformer::TransformerNet::new(&ctx, &mut buffers, s, w)?,
                    ),
                    (Manifest::Cnn(s), Weights::Cnn(w)) => {
                        Net::Cnn(cnn::CnnNet::new(&ctx, &mut buffers, s, w)?)
                    }
                    _ => {
                        return Err(InferError::Weights(format!(
                            "the weights do not belong to the {} the manifest describes",
                            manifest.arch()
                        )));
                    }
                })
            },
        )?;
        Ok(GpuModel {
            ctx,
            manifest: manifest.clone(),
            net,
            buffers,
            shapes: Vec::new(),
            last_dispatches: 0,
        })
    }

    /// Logits (batch, n_out). Input already validated by Model::infer (finite, shape fits the
    /// manifest).
    pub fn infer(&mut self, input: ArrayView3<f32>) -> Result<Array2<f32>, InferError> {
        let mut out = infer_many(&mut [self], &[input])?;
        Ok(out.pop().expect("one output per model"))
    }

    /// Compute dispatches recorded by the last infer.
    pub fn last_dispatches(&self) -> usize {
        self.last_dispatches
    }

    /// GPU buffers this model has created so far: weights, then per new input shape its
    /// activations, parameter block, input staging and logits readback. A repeat inference with
    /// a cached shape creates none.
    pub fn buffers_created(&self) -> usize {
        self.buffers.created()
    }

    /// The device the model lives on.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// Finds or builds the shape's buffers (most recently used last), writes `input` into its
    /// staging buffer and returns the shape's index.
    fn stage(&mut self, input: &ArrayView3<f32>) -> Result<usize, InferError> {
        let (batch, seq, features) = input.dim();
        if batch == 0 {
            return Err(InferError::Input("the input batch is empty".into()));
        }
        self.manifest.check_input(seq, features)?;
        match self
            .shapes
            .iter()
            .position(|s| s.batch == batch && s.seq == seq)
        {
            Some(i) => {
                let shape = self.shapes.remove(i);
                self.shapes.push(shape);
            }
            None => {
                let what = format!(
                    "building the {} buffers for {batch} × {seq} steps",
                    self.manifest.arch()
                );
                let shape = self
                    .ctx
                    .clone()
                    .checked(&what, || self.build_shape(batch, seq))?;
                if self.shapes.len() == MAX_SHAPES {
                    self.shapes.remove(0);
                }
                self.shapes.push(shape);
            }
        }
        let index = self.shapes.len() - 1;
        let shape = &mut self.shapes[index];
        if !shape.upload_mapped {
            map(
                &self.ctx,
                &shape.upload,
                wgpu::MapMode::Write,
                "the input staging buffer",
            )?;
            shape.upload_mapped = true;
        }
        let data = input.as_standard_layout();
        let data = data.as_slice().expect("standard layout");
        {
            let mut view =
                shape.upload.slice(..).get_mapped_range_mut().map_err(|e| {
                    InferError::Gpu(format!("writing the input staging buffer: {e}"))
                })?;
            view.copy_from_slice(bytemuck::cast_slice(data));
        }
        shape.upload.unmap();
        shape.upload_mapped = false;
        Ok(index)
    }

    fn build_shape(&mut self, batch: usize, seq: usize) -> Result<Shape, InferError> {
        let ctx = &*self.ctx;
        let arch = self.manifest.arch();
        let features = self.manifest.n_features();
        let n_out = self.manifest.n_out();
        let widest = match &self.net {
            Net::Lstm(n) => n.widest(seq),
            Net::Transformer(n) => n.widest(seq),
            Net::Cnn(n) => n.widest(seq),
        }
        .max(seq * features)
        .max(n_out);
        let limit = ctx.device.limits().max_storage_buffer_binding_size;
        let fit = usize::try_from(limit / buffers::float_bytes(widest)).unwrap_or(usize::MAX);
        if fit == 0 {
            return Err(InferError::Gpu(format!(
                "one {arch} sample of {seq} steps needs {} bytes for its widest activation, more \
                 than the {limit} bytes {} binds per storage buffer",
                buffers::float_bytes(widest),
                ctx.describe()
            )));
        }
        let chunk = batch.min(fit);
        let b = &mut self.buffers;
        let upload = b.upload(
            ctx,
            &format!("{arch} input staging"),
            batch * seq * features,
        )?;
        let input = b.storage(ctx, &format!("{arch} input"), chunk * seq * features)?;
        let output = b.storage(ctx, &format!("{arch} logits"), chunk * n_out)?;
        let readback = b.readback(ctx, &format!("{arch} logits readback"), batch * n_out)?;
        let plan = match &self.net {
            Net::Lstm(n) => n.plan(ctx, b, chunk, seq, &input, &output)?,
            Net::Transformer(n) => n.plan(ctx, b, chunk, seq, &input, &output)?,
            Net::Cnn(n) => n.plan(ctx, b, chunk, seq, &input, &output)?,
        };
        Ok(Shape {
            batch,
            seq,
            features,
            n_out,
            chunk,
            upload,
            upload_mapped: true,
            input,
            output,
            readback,
            plan,
        })
    }
}

/// Runs several models (an ensemble) in one submit and one readback: every model's input copy,
/// dispatches and logits copy go into one command buffer, and all logits are mapped after a
/// single wait. The models must share one [`GpuContext`]; `inputs[i]` feeds `models[i]`, and the
/// logits come back in the same order. Each model's [`GpuModel::last_dispatches`] is its share.
pub fn infer_many(
    models: &mut [&mut GpuModel],
    inputs: &[ArrayView3<f32>],
) -> Result<Vec<Array2<f32>>, InferError> {
    if models.len() != inputs.len() {
        return Err(InferError::Input(format!(
            "{} models but {} inputs",
            models.len(),
            inputs.len()
        )));
    }
    let Some(first) = models.first() else {
        return Ok(Vec::new());
    };
    let ctx = first.ctx.clone();
    if models.iter().any(|m| !Arc::ptr_eq(&m.ctx, &ctx)) {
        return Err(InferError::Gpu(
            "models run in one submission must share one GpuContext".into(),
        ));
    }
    let slots = models
        .iter_mut()
        .zip(inputs)
        .map(|(model, input)| model.stage(input))
        .collect::<Result<Vec<_>, _>>()?;
    let dispatches = ctx.checked("running the models", || {
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("stratbox-infer"),
            });
        let counts: Vec<usize> = models
            .iter()
            .zip(&slots)
            .map(|(m, &i)| m.shapes[i].encode(&mut encoder, m.manifest.arch()))
            .collect();
        ctx.queue.submit([encoder.finish()]);
        Ok(counts)
    })?;
    let (tx, rx) = mpsc::channel();
    for (k, (model, &i)) in models.iter().zip(&slots).enumerate() {
        let shape = &model.shapes[i];
        let read = tx.clone();
        shape.readback.map_async(wgpu::MapMode::Read, .., move |r| {
            drop(read.send((k, true, r)))
        });
        let write = tx.clone();
        shape.upload.map_async(wgpu::MapMode::Write, .., move |r| {
            drop(write.send((k, false, r)))
        });
    }
    drop(tx);
    let mut readable = vec![false; models.len()];
    for (k, is_readback, result) in collect(&ctx, rx)? {
        if is_readback {
            readable[k] = result.is_ok();
        } else {
            models[k].shapes[slots[k]].upload_mapped = result.is_ok();
        }
    }
    let mut outputs = Vec::with_capacity(models.len());
    let mut failure = None;
    for ((model, &i), (&ok, &count)) in models
        .iter_mut()
        .zip(&slots)
        .zip(readable.iter().zip(&dispatches))
    {
        let shape = &model.shapes[i];
        if !ok {
            failure.get_or_insert_with(|| {
                InferError::Gpu(format!(
                    "reading back the {} logits failed",
                    model.manifest.arch()
                ))
            });
            continue;
        }
        let data = shape
            .readback
            .get_mapped_range(..)
            .map(|view| bytemuck::pod_collect_to_vec::<u8, f32>(&view))
            .map_err(|e| InferError::Gpu(format!("reading back the logits: {e}")));
        shape.readback.unmap();
        model.last_dispatches = count;
        match data {
            Ok(data) => outputs.push(
                Array2::from_shape_vec((shape.batch, shape.n_out), data)
                    .expect("the readback holds batch × n_out floats"),
            ),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(outputs),
    }
}

/// Maps `buffer` and waits for the device.
fn map(
    ctx: &GpuContext,
    buffer: &wgpu::Buffer,
    mode: wgpu::MapMode,
    what: &str,
) -> Result<(), InferError> {
    let (tx, rx) = mpsc::channel();
    buffer.map_async(mode, .., move |r| drop(tx.send(r)));
    match collect(ctx, rx)?.pop() {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(InferError::Gpu(format!("mapping {what}: {e}"))),
        None => Err(InferError::Gpu(format!("mapping {what} was abandoned"))),
    }
}

/// Waits for the device, then gathers what the map callbacks holding `rx`'s senders send,
/// returning once every one of them has run (or was dropped). The wait is on the channel too:
/// another thread's poll may be the one running our callbacks, still at it when ours returns.
fn collect<T>(ctx: &GpuContext, rx: mpsc::Receiver<T>) -> Result<Vec<T>, InferError> {
    let mut received = Vec::new();
    loop {
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| InferError::Gpu(format!("waiting for {}: {e}", ctx.describe())))?;
        loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(message) => received.push(message),
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(received),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
            }
        }
    }
}
