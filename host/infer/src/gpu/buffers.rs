//! Creating GPU buffers, every one of them counted and checked against the device's limits.
//!
//! A model owns one [`Buffers`]: weights, per-shape activations, parameter blocks and staging all
//! go through it, so `created()` tells exactly how many buffers a model has asked the device for
//! (the tests assert that a repeat inference with a known shape asks for none). A tensor larger
//! than the device binds per storage buffer is an error naming the tensor, never a wgpu panic.

use ndarray::{ArrayBase, Data, Dimension};
use wgpu::util::DeviceExt;

use super::context::GpuContext;
use crate::InferError;

/// A buffer factory that counts what it creates.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    created: usize,
}

impl Buffers {
    /// Buffers created so far.
    pub(crate) fn created(&self) -> usize {
        self.created
    }

    /// A zeroed storage buffer of `floats` f32 for activations.
    pub(crate) fn storage(
        &mut self,
        ctx: &GpuContext,
        name: &str,
        floats: usize,
    ) -> Result<wgpu::Buffer, InferError> {
        let size = check_binding(ctx, name, floats)?;
        self.created += 1;
        Ok(ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(name),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        }))
    }

    /// A read-only storage buffer holding `data` (weights).
    pub(crate) fn storage_init(
        &mut self,
        ctx: &GpuContext,
        name: &str,
        data: &[f32],
    ) -> Result<wgpu::Buffer, InferError> {
        check_binding(ctx, name, data.len())?;
        self.created += 1;
        Ok(ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE,
            }))
    }

    /// A uniform buffer holding parameter blocks.
    pub(crate) fn uniform_init(
        &mut self,
        ctx: &GpuContext,
        name: &str,
        bytes: &[u8],
    ) -> Result<wgpu::Buffer, InferError> {
        check_size(ctx, name, bytes.len() as u64)?;
        self.created += 1;
        Ok(ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents: bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            }))
    }

    /// A host-writable staging buffer of `floats` f32, mapped for writing from the start.
    pub(crate) fn upload(
        &mut self,
        ctx: &GpuContext,
        name: &str,
        floats: usize,
    ) -> Result<wgpu::Buffer, InferError> {
        let usage = wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC;
        self.staging(ctx, name, floats, usage, true)
    }

    /// A host-readable staging buffer of `floats` f32.
    pub(crate) fn readback(
        &mut self,
        ctx: &GpuContext,
        name: &str,
        floats: usize,
    ) -> Result<wgpu::Buffer, InferError> {
        let usage = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        self.staging(ctx, name, floats, usage, false)
    }

    fn staging(
        &mut self,
        ctx: &GpuContext,
        name: &str,
        floats: usize,
        usage: wgpu::BufferUsages,
        mapped_at_creation: bool,
    ) -> Result<wgpu::Buffer, InferError> {
        let size = check_size(ctx, name, float_bytes(floats))?;
        self.created += 1;
        Ok(ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(name),
            size,
            usage,
            mapped_at_creation,
        }))
    }
}

/// An array's elements in row-major (logical) order, whatever its memory layout.
pub(crate) fn row_major<S: Data<Elem = f32>, D: Dimension>(a: &ArrayBase<S, D>) -> Vec<f32> {
    a.iter().copied().collect()
}

/// Bytes of `floats` f32 (at least 4: wgpu buffers are never empty here).
pub(crate) fn float_bytes(floats: usize) -> u64 {
    4 * floats.max(1) as u64
}

/// Checks that `floats` f32 fit one storage binding; returns the size in bytes.
pub(crate) fn check_binding(
    ctx: &GpuContext,
    name: &str,
    floats: usize,
) -> Result<u64, InferError> {
    let bytes = float_bytes(floats);
    let limit = ctx.device.limits().max_storage_buffer_binding_size;
    if bytes > limit {
        return Err(InferError::Gpu(format!(
            "`{name}` needs {bytes} bytes, more than the {limit} bytes {} binds per storage buffer",
            ctx.describe()
        )));
    }
    check_size(ctx, name, bytes)
}

fn check_size(ctx: &GpuContext, name: &str, bytes: u64) -> Result<u64, InferError> {
    let limit = ctx.device.limits().max_buffer_size;
    if bytes > limit {
        return Err(InferError::Gpu(format!(
            "`{name}` needs {bytes} bytes, more than the {limit}-byte buffer limit of {}",
            ctx.describe()
        )));
    }
    Ok(bytes)
}
