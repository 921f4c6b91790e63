//! The WGSL kernels of `shaders/`, their parameter blocks and launch geometry, and the per-device
//! pipeline cache. Every kernel binds a uniform parameter block at 0, its read-only storage inputs
//! at 1.., and one read-write output last; specialisations (fused activation, pooling, workgroup
//! memory size) are pipeline-overridable constants, each compiled once per device on first use and
//! shared by every model on it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

use crate::InferError;

const MATH: &str = include_str!("../../../../shaders/math.wgsl");
const MATMUL: &str = include_str!("../../../../shaders/matmul.wgsl");
const MATVEC: &str = include_str!("../../../../shaders/matvec.wgsl");
const LSTM: &str = include_str!("../../../../shaders/lstm.wgsl");
const ATTENTION: &str = include_str!("../../../../shaders/attention.wgsl");
const LAYER_NORM: &str = include_str!("../../../../shaders/layer_norm.wgsl");
const SOFTMAX: &str = include_str!("../../../../shaders/softmax.wgsl");

/// Rows and columns of the output tile one matmul workgroup computes.
const MATMUL_TILE: u64 = 32;
/// Invocations per workgroup of every kernel.
const WORKGROUP: u64 = 64;
/// Queries one attention workgroup handles.
const ATTENTION_QUERIES: u64 = 64;

/// An activation fused into a matrix multiply's epilogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Act {
    /// No activation.
    Identity,
    /// `max(0, x)`.
    Relu,
    /// The exact (erf) GELU.
    Gelu,
}

/// How a pooled matrix-vector product reduces each sample's steps to one vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pool {
    /// The mean over time.
    Mean,
    /// The last time step.
    Last,
}

/// One kernel specialisation, the pipeline cache's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    /// `shaders/matmul.wgsl`.
    Matmul {
        act: Act,
        residual: bool,
        conv: bool,
    },
    /// `shaders/matvec.wgsl`; `None` takes each row as a vector.
    Matvec { pool: Option<Pool> },
    /// `shaders/lstm.wgsl` with this many floats of workgroup state and samples per task.
    Lstm { state_floats: u32, samples: u32 },
    /// `shaders/attention.wgsl`.
    Attention,
    /// `shaders/layer_norm.wgsl`.
    LayerNorm,
    /// `shaders/softmax.wgsl`.
    Softmax,
}

impl Kernel {
    fn name(self) -> &'static str {
        match self {
            Kernel::Matmul { .. } => "matmul",
            Kernel::Matvec { .. } => "matvec",
            Kernel::Lstm { .. } => "lstm",
            Kernel::Attention => "attention",
            Kernel::LayerNorm => "layer_norm",
            Kernel::Softmax => "softmax",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Kernel::Matmul { .. } => MATMUL,
            Kernel::Matvec { .. } => MATVEC,
            Kernel::Lstm { .. } => LSTM,
            Kernel::Attention => ATTENTION,
            Kernel::LayerNorm => LAYER_NORM,
            Kernel::Softmax => SOFTMAX,
        }
    }

    /// Read-only storage bindings (1..=inputs); the output is binding inputs + 1.
    pub(crate) fn inputs(self) -> usize {
        match self {
            Kernel::Matmul { .. } => 4,
            Kernel::Matvec { .. } | Kernel::LayerNorm => 3,
            Kernel::Lstm { .. } => 2,
            Kernel::Attention | Kernel::Softmax => 1,
        }
    }

    fn constants(self) -> Vec<(&'static str, f64)> {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        match self {
            Kernel::Matmul {
                act,
                residual,
                conv,
            } => vec![
                (
                    "ACTIVATION",
                    match act {
                        Act::Identity => 0.0,
                        Act::Relu => 1.0,
                        Act::Gelu => 2.0,
                    },
                ),
                ("RESIDUAL", flag(residual)),
                ("CONV", flag(conv)),
            ],
            Kernel::Matvec { pool } => vec![(
                "POOL",
                match pool {
                    None => 0.0,
                    Some(Pool::Mean) => 1.0,
                    Some(Pool::Last) => 2.0,
                },
            )],
            Kernel::Lstm {
                state_floats,
                samples,
            } => vec![
                ("STATE_FLOATS", f64::from(state_floats)),
                ("SAMPLES", f64::from(samples)),
            ],
            Kernel::Attention | Kernel::LayerNorm | Kernel::Softmax => Vec::new(),
        }
    }
}

/// A compiled kernel and the bind group layout its bind groups use.
#[derive(Clone)]
pub(crate) struct Compiled {
    /// The pipeline.
    pub pipeline: wgpu::ComputePipeline,
    /// Its bind group 0.
    pub layout: wgpu::BindGroupLayout,
}

/// Pipelines compiled so far on one device, by specialisation.
#[derive(Default)]
pub(crate) struct Pipelines {
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    layouts: HashMap<usize, (wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    pipelines: HashMap<Kernel, Compiled>,
}

impl Pipelines {
    /// The pipeline for `kernel`, compiled on first use.
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        kernel: Kernel,
    ) -> Result<Compiled, InferError> {
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| InferError::Gpu("the pipeline cache was poisoned by a panic".into()))?;
        if let Some(compiled) = cache.pipelines.get(&kernel) {
            return Ok(compiled.clone());
        }
        let inputs = kernel.inputs();
        let (layout, pipeline_layout) = cache
            .layouts
            .entry(inputs)
            .or_insert_with(|| layouts(device, inputs))
            .clone();
        // A kernel that fails to compile is reported (and not cached) here rather than
        // surfacing later as an invalid pipeline.
        let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(kernel.name()),
            source: wgpu::ShaderSource::Wgsl(Cow::Owned(format!("{MATH}\n{}", kernel.source()))),
        });
        let constants = kernel.constants();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.name()),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                // Every kernel writes its workgroup memory before reading it.
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        let errors = [
            pollster::block_on(validation.pop()),
            pollster::block_on(internal.pop()),
        ];
        if let Some(error) = errors.into_iter().flatten().next() {
            return Err(InferError::Gpu(format!(
                "compiling the {kernel:?} kernel: {error}"
            )));
        }
        let compiled = Compiled { pipeline, layout };
        cache.pipelines.insert(kernel, compiled.clone());
        Ok(compiled)
    }
}

fn layouts(device: &wgpu::Device, inputs: usize) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
    let buffer = |binding: usize, ty: wgpu::BufferBindingType| wgpu::BindGroupLayoutEntry {
        binding: u32::try_from(binding).expect("a handful of bindings"),
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let mut entries = vec![buffer(0, wgpu::BufferBindingType::Uniform)];
    entries.extend(
        (1..=inputs).map(|b| buffer(b, wgpu::BufferBindingType::Storage { read_only: true })),
    );
    entries.push(buffer(
        inputs + 1,
        wgpu::BufferBindingType::Storage { read_only: false },
    ));
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("kernel bindings"),
        entries: &entries,
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("kernel layout"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    (layout, pipeline_layout)
}

/// One dispatch to record: which kernel, its parameter block and how many workgroups.
pub(crate) struct Launch {
    /// The specialisation to run.
    pub kernel: Kernel,
    /// The uniform parameter block's bytes.
    pub params: Vec<u8>,
    /// Workgroups in total (the plan folds them into a 2-D grid).
    pub workgroups: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    res_rows: u32,
    seq: u32,
    in_ch: u32,
    taps: u32,
    dilation: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatvecParams {
    rows: u32,
    n: u32,
    k: u32,
    steps: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct LstmParams {
    batch: u32,
    steps: u32,
    hidden: u32,
    per_group: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct AttentionParams {
    batch: u32,
    seq: u32,
    d: u32,
    heads: u32,
    head_dim: u32,
    query_blocks: u32,
    scale: f32,
    pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct RowParams {
    rows: u32,
    width: u32,
    pad: [u32; 2],
}

/// A size as the kernels' u32; every size is bounded by a buffer the device accepted.
fn u32_of(value: usize) -> u32 {
    u32::try_from(value).expect("sizes fit the device's buffers, so they fit u32")
}

fn blocks(n: usize, per: u64) -> u64 {
    (n as u64).div_ceil(per)
}

impl Launch {
    /// `y (m, n) = act(x (m, k) · wᵀ + bias)`, plus row `r % res_rows` of a residual if given.
    /// Bindings: x, w, bias, residual (any buffer when `None`), y.
    pub(crate) fn linear(m: usize, n: usize, k: usize, act: Act, res_rows: Option<usize>) -> Self {
        let params = MatmulParams {
            m: u32_of(m),
            n: u32_of(n),
            k: u32_of(k),
            res_rows: u32_of(res_rows.unwrap_or(1)),
            seq: 1,
            in_ch: u32_of(k),
            taps: 1,
            dilation: 1,
        };
        Launch {
            kernel: Kernel::Matmul {
                act,
                residual: res_rows.is_some(),
                conv: false,
            },
            params: bytemuck::bytes_of(&params).to_vec(),
            workgroups: blocks(m, MATMUL_TILE) * blocks(n, MATMUL_TILE),
        }
    }

    /// A causal dilated convolution of `batch` sequences of `seq` steps, (batch·seq, in_ch) ->
    /// (batch·seq, out_ch), with the PyTorch weight (out_ch, in_ch, taps), bias and activation.
    /// Bindings: x, weight, bias, any buffer (unused residual), y.
    pub(crate) fn conv(
        batch: usize,
        seq: usize,
        in_ch: usize,
        out_ch: usize,
        taps: usize,
        dilation: usize,
        act: Act,
    ) -> Self {
        let m = batch * seq;
        let params = MatmulParams {
            m: u32_of(m),
            n: u32_of(out_ch),
            k: u32_of(in_ch * taps),
            res_rows: 1,
            seq: u32_of(seq),
            in_ch: u32_of(in_ch),
            taps: u32_of(taps),
            // Taps reaching before the sequence read zeros; a dilation past u32 reaches no step.
            dilation: u32::try_from(dilation).unwrap_or(u32::MAX).min(u32_of(seq)),
        };
        Launch {
            kernel: Kernel::Matmul {
                act,
                residual: false,
                conv: true,
            },
            params: bytemuck::bytes_of(&params).to_vec(),
            workgroups: blocks(m, MATMUL_TILE) * blocks(out_ch, MATMUL_TILE),
        }
    }

    /// `y (rows, n) = w (n, k) · v_r + bias` where v_r is row r of x (`pool` None) or the mean /
    /// last of rows r·steps .. r·steps + steps − 1. Bindings: x, w, bias, y.
    pub(crate) fn matvec(
        rows: usize,
        n: usize,
        k: usize,
        steps: usize,
        pool: Option<Pool>,
    ) -> Self {
        let params = MatvecParams {
            rows: u32_of(rows),
            n: u32_of(n),
            k: u32_of(k),
            steps: u32_of(steps),
        };
        Launch {
            kernel: Kernel::Matvec { pool },
            params: bytemuck::bytes_of(&params).to_vec(),
            workgroups: rows as u64 * blocks(n, WORKGROUP),
        }
    }

    /// One LSTM layer's recurrence over `steps` for `batch` samples, `per_group` samples per
    /// workgroup in tasks of `samples` (which divides `per_group`). Bindings: gate inputs
    /// (batch·steps, hidden · 4), W_hh interleaved (hidden, hidden · 4), h out (batch·steps,
    /// hidden); gates interleaved per unit as in `shaders/lstm.wgsl`.
    pub(crate) fn lstm(
        batch: usize,
        steps: usize,
        hidden: usize,
        per_group: usize,
        samples: usize,
    ) -> Self {
        let params = LstmParams {
            batch: u32_of(batch),
            steps: u32_of(steps),
            hidden: u32_of(hidden),
            per_group: u32_of(per_group),
        };
        Launch {
            kernel: Kernel::Lstm {
                state_floats: u32_of(3 * per_group * hidden),
                samples: u32_of(samples),
            },
            params: bytemuck::bytes_of(&params).to_vec(),
            workgroups: blocks(batch, per_group as u64),
        }
    }

    /// Multi-head self-attention over packed (batch·seq, 3·d) q, k, v. Bindings: qkv, out.
    pub(crate) fn attention(batch: usize, seq: usize, d: usize, heads: usize) -> Self {
        let head_dim = d / heads;
        let query_blocks = blocks(seq, ATTENTION_QUERIES);
        let params = AttentionParams {
            batch: u32_of(batch),
            seq: u32_of(seq),
            d: u32_of(d),
            heads: u32_of(heads),
            head_dim: u32_of(head_dim),
            query_blocks: u32::try_from(query_blocks).expect("fewer blocks than steps"),
            scale: 1.0 / (head_dim as f32).sqrt(),
            pad: 0,
        };
        Launch {
            kernel: Kernel::Attention,
            params: bytemuck::bytes_of(&params).to_vec(),
            workgroups: (batch * heads) as u64 * query_blocks,
        }
    }

    /// Layer norm of each row of (rows, d). Bindings: x, gamma, beta, y.
    pub(crate) fn layer_norm(rows: usize, d: usize) -> Self {
        Self::rows(Kernel::LayerNorm, rows, d)
    }

    /// Softmax of each row of (rows, n). Bindings: x, y.
    pub(crate) fn softmax(rows: usize, n: usize) -> Self {
        Self::rows(Kernel::Softmax, rows, n)
    }

    fn rows(kernel: Kernel, rows: usize, width: usize) -> Self {
        let params = RowParams {
            rows: u32_of(rows),
            width: u32_of(width),
            pad: [0; 2],
        };
        Launch {
            kernel,
            params: bytemuck::bytes_of(&params).to_vec(),
            workgroups: blocks(rows, WORKGROUP),
        }
    }
}
