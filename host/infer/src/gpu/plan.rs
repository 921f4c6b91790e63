//! Plans: a fixed sequence of kernel launches with their bind groups, built once per model and
//! input shape and recorded into a compute pass on every inference.
//!
//! A [`PlanBuilder`] collects launches and the buffers they bind; [`PlanBuilder::build`] packs all
//! parameter blocks into one uniform buffer (each at the device's offset alignment), compiles or
//! fetches the pipelines and creates the bind groups. Workgroup counts beyond the device's
//! per-dimension limit are folded into a 2-D grid; the kernels number their workgroups
//! `wg.y · num_workgroups.x + wg.x` and skip the surplus of the last row.

use super::buffers::Buffers;
use super::context::GpuContext;
use super::kernels::Launch;
use crate::InferError;

/// Recorded launches, ready to replay.
pub(crate) struct Plan {
    steps: Vec<Step>,
}

struct Step {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    grid: (u32, u32),
}

impl Plan {
    /// Dispatches one replay records.
    pub(crate) fn dispatches(&self) -> usize {
        self.steps.len()
    }

    /// Records every launch into `pass`, in order.
    pub(crate) fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        for step in &self.steps {
            pass.set_pipeline(&step.pipeline);
            pass.set_bind_group(0, &step.bind_group, &[]);
            pass.dispatch_workgroups(step.grid.0, step.grid.1, 1);
        }
    }
}

/// Launches being collected for a [`Plan`].
#[derive(Default)]
pub(crate) struct PlanBuilder {
    launches: Vec<(Launch, Vec<wgpu::Buffer>)>,
}

impl PlanBuilder {
    /// Appends a launch; `buffers` are its storage bindings in order (inputs, then the output).
    pub(crate) fn push(&mut self, launch: Launch, buffers: &[&wgpu::Buffer]) {
        debug_assert_eq!(
            buffers.len(),
            launch.kernel.inputs() + 1,
            "{:?}",
            launch.kernel
        );
        self.launches
            .push((launch, buffers.iter().map(|&b| b.clone()).collect()));
    }

    /// Creates the parameter buffer, pipelines and bind groups; `label` names the plan in errors.
    pub(crate) fn build(
        self,
        ctx: &GpuContext,
        buffers: &mut Buffers,
        label: &str,
    ) -> Result<Plan, InferError> {
        let limits = ctx.device.limits();
        let align = u64::from(limits.min_uniform_buffer_offset_alignment).max(16);
        let mut params = Vec::new();
        let mut offsets = Vec::with_capacity(self.launches.len());
        for (launch, _) in &self.launches {
            let offset = (params.len() as u64).next_multiple_of(align);
            params.resize(
                usize::try_from(offset).expect("parameter blocks are small"),
                0,
            );
            offsets.push(offset);
            params.extend_from_slice(&launch.params);
        }
        let uniform = buffers.uniform_init(ctx, &format!("{label} parameters"), &params)?;
        let max = u64::from(limits.max_compute_workgroups_per_dimension);
        let mut steps = Vec::with_capacity(self.launches.len());
        for ((launch, bound), offset) in self.launches.iter().zip(offsets) {
            let compiled = ctx.pipelines.get(&ctx.device, launch.kernel)?;
            let grid = grid(launch.workgroups, max).ok_or_else(|| {
                InferError::Gpu(format!(
                    "{label}: {:?} needs {} workgroups, more than {max}×{max}",
                    launch.kernel, launch.workgroups
                ))
            })?;
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &uniform,
                    offset,
                    size: wgpu::BufferSize::new(launch.params.len() as u64),
                }),
            }];
            entries.extend(
                bound
                    .iter()
                    .enumerate()
                    .map(|(i, buffer)| wgpu::BindGroupEntry {
                        binding: u32::try_from(i + 1).expect("a handful of bindings"),
                        resource: buffer.as_entire_binding(),
                    }),
            );
            let bind_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &compiled.layout,
                entries: &entries,
            });
            steps.push(Step {
                pipeline: compiled.pipeline,
                bind_group,
                grid,
            });
        }
        Ok(Plan { steps })
    }
}

/// `workgroups` as an (x, y) grid with both sides at most `max`, x · y ≥ workgroups.
fn grid(workgroups: u64, max: u64) -> Option<(u32, u32)> {
    let x = workgroups.clamp(1, max);
    let y = workgroups.div_ceil(x).max(1);
    if y > max {
        return None;
    }
    Some((u32::try_from(x).ok()?, u32::try_from(y).ok()?))
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn grids_fold_into_two_dimensions() {
        assert_eq!(grid(1, 65535), Some((1, 1)));
        assert_eq!(grid(65535, 65535), Some((65535, 1)));
        assert_eq!(grid(65536, 65535), Some((65535, 2)));
        assert_eq!(grid(65535 * 65535 + 1, 65535), None);
    }
}
