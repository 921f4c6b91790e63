//! A loaded model: manifest, checked weights, and the device it runs on.

use std::path::Path;
use std::sync::Arc;

use ndarray::{Array2, ArrayView3};

use crate::device::Compute;
use crate::gpu::{self, GpuModel};
use crate::manifest::Manifest;
use crate::weights::Weights;
use crate::{InferError, cpu};

/// A model ready to run; GPU buffers and pipelines are created here, once.
pub struct Model {
    manifest: Manifest,
    weights: Arc<Weights>,
    backend: Backend,
}

enum Backend {
    Cpu,
    Gpu(Box<GpuModel>),
}

impl Model {
    /// Reads the manifest and weights files and prepares the model on `compute`.
    pub fn load(manifest: &Path, weights: &Path, compute: &Compute) -> Result<Self, InferError> {
        let manifest = Manifest::load(manifest)?;
        let weights = Weights::load(&manifest, weights)?;
        Self::new(manifest, Arc::new(weights), compute)
    }

    /// Prepares already loaded weights on `compute`.
    pub fn new(
        manifest: Manifest,
        weights: Arc<Weights>,
        compute: &Compute,
    ) -> Result<Self, InferError> {
        let backend = match compute {
            Compute::Cpu { .. } => Backend::Cpu,
            Compute::Gpu(_) if !manifest.runs_on_gpu() => Backend::Cpu,
            Compute::Gpu(context) => Backend::Gpu(Box::new(GpuModel::new(
                context.clone(),
                &manifest,
                &weights,
            )?)),
        };
        Ok(Model {
            manifest,
            weights,
            backend,
        })
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// "cpu" or "gpu".
    pub fn device(&self) -> &'static str {
        match self.backend {
            Backend::Cpu => "cpu",
            Backend::Gpu(_) => "gpu",
        }
    }

    /// Checks that `input` (batch, seq, n_features) fits the model and holds only finite values.
    pub fn check(&self, input: ArrayView3<f32>) -> Result<(), InferError> {
        let (batch, seq, features) = input.dim();
        if batch == 0 {
            return Err(InferError::Input("the input batch is empty".into()));
        }
        self.manifest.check_input(seq, features)?;
        if input.iter().any(|v| !v.is_finite()) {
            return Err(InferError::Input(
                "the input holds NaN or infinite values".into(),
            ));
        }
        Ok(())
    }

    /// Logits of several models, `inputs[i]` feeding `models[i]`: models on one GPU share one
    /// submit and one readback ([`gpu::infer_many`]); otherwise each runs in turn.
    pub fn infer_all(
        models: &mut [&mut Model],
        inputs: &[ArrayView3<f32>],
    ) -> Result<Vec<Array2<f32>>, InferError> {
        for (model, input) in models.iter().zip(inputs) {
            model.check(*input)?;
        }
        Self::infer_all_checked(models, inputs)
    }

    /// [`Model::infer_all`] for inputs already [`Model::check`]ed.
    pub(crate) fn infer_all_checked(
        models: &mut [&mut Model],
        inputs: &[ArrayView3<f32>],
    ) -> Result<Vec<Array2<f32>>, InferError> {
        let count = models.len();
        let mut gpu: Vec<&mut GpuModel> = Vec::new();
        for model in models.iter_mut() {
            if let Backend::Gpu(g) = &mut model.backend {
                gpu.push(g);
            }
        }
        let shared = gpu.len() == count
            && gpu
                .windows(2)
                .all(|w| Arc::ptr_eq(w[0].context(), w[1].context()));
        if shared && gpu.len() > 1 {
            return gpu::infer_many(&mut gpu, inputs);
        }
        drop(gpu);
        models
            .iter_mut()
            .zip(inputs)
            .map(|(m, input)| m.run(*input))
            .collect()
    }

    /// Logits (batch, n_out) for `input` (batch, seq, n_features).
    pub fn infer(&mut self, input: ArrayView3<f32>) -> Result<Array2<f32>, InferError> {
        self.check(input)?;
        self.run(input)
    }

    /// Runs a checked input.
    fn run(&mut self, input: ArrayView3<f32>) -> Result<Array2<f32>, InferError> {
        match &mut self.backend {
            Backend::Cpu => Ok(cpu::forward(&self.manifest, &self.weights, input)),
            Backend::Gpu(model) => model.infer(input),
        }
    }

    /// Compute dispatches the last inference recorded (0 on the CPU path).
    pub fn last_dispatches(&self) -> usize {
        match &self.backend {
            Backend::Cpu => 0,
            Backend::Gpu(model) => model.last_dispatches(),
        }
    }
}
