//! A PyTorch `Linear` layer's weights on the device, and its fused matrix-multiply launch.

use super::buffers::{Buffers, row_major};
use super::context::GpuContext;
use super::kernels::{Act, Launch};
use super::plan::PlanBuilder;
use crate::InferError;
use crate::weights::Linear;

/// A Linear layer on the device.
pub(crate) struct LinearBuffers {
    inputs: usize,
    outputs: usize,
    /// `weight`, row-major `[outputs, inputs]`.
    pub(crate) weight: wgpu::Buffer,
    /// `bias`, `[outputs]`.
    pub(crate) bias: wgpu::Buffer,
}

impl LinearBuffers {
    /// Uploads `layer` under `name`.
    pub(crate) fn upload(
        ctx: &GpuContext,
        buffers: &mut Buffers,
        name: &str,
        layer: &Linear,
    ) -> Result<Self, InferError> {
        let (outputs, inputs) = layer.weight.dim();
        Ok(LinearBuffers {
            inputs,
            outputs,
            weight: buffers.storage_init(
                ctx,
                &format!("{name}.weight"),
                &row_major(&layer.weight),
            )?,
            bias: buffers.storage_init(ctx, &format!("{name}.bias"), &row_major(&layer.bias))?,
        })
    }

    /// Records `y = act(x · wᵀ + b) (+ residual row r % res_rows)` for `rows` rows of x.
    pub(crate) fn push(
        &self,
        plan: &mut PlanBuilder,
        rows: usize,
        x: &wgpu::Buffer,
        act: Act,
        residual: Option<(&wgpu::Buffer, usize)>,
        y: &wgpu::Buffer,
    ) {
        let (res, res_rows) = match residual {
            Some((buffer, res_rows)) => (buffer, Some(res_rows)),
            None => (&self.bias, None),
        };
        plan.push(
            Launch::linear(rows, self.outputs, self.inputs, act, res_rows),
            &[x, &self.weight, &self.bias, res, y],
        );
    }
}
