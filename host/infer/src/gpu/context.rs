//! The wgpu instance, adapter and device the GPU path runs on, chosen once per process, with the
//! device's pipeline cache (kernels compile on first use and are shared by every model on it).

use wgpu::DeviceType;

use super::kernels::Pipelines;
use crate::InferError;

/// Which adapters may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterPolicy {
    /// Discrete, integrated or virtual GPUs only: a software rasteriser is slower than the CPU path.
    Hardware,
    /// Any adapter, software ones (lavapipe's `llvmpipe`) included.
    Any,
}

/// An open device with its queue and what it is.
pub struct GpuContext {
    /// The logical device.
    pub device: wgpu::Device,
    /// Its submission queue.
    pub queue: wgpu::Queue,
    /// The adapter behind it.
    pub info: wgpu::AdapterInfo,
    /// Kernels compiled on this device so far.
    pub(crate) pipelines: Pipelines,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuContext({})", describe(&self.info))
    }
}

impl GpuContext {
    /// Opens the best adapter the policy allows (discrete before integrated before virtual before
    /// other before software); the error lists the adapters found and why none was taken.
    pub fn new(policy: AdapterPolicy) -> Result<Self, InferError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let found: Vec<String> = adapters.iter().map(|a| describe(&a.get_info())).collect();
        let adapter = adapters
            .into_iter()
            .filter(|a| policy == AdapterPolicy::Any || is_hardware(a.get_info().device_type))
            .min_by_key(|a| rank(a.get_info().device_type))
            .ok_or_else(|| {
                InferError::Gpu(if found.is_empty() {
                    "no GPU adapter found (for software Vulkan install mesa-vulkan-drivers and \
                     libvulkan1)"
                        .into()
                } else {
                    format!("no hardware GPU adapter; found only {}", found.join(", "))
                })
            })?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("stratbox-infer"),
            required_limits: adapter.limits(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        }))
        .map_err(|e| InferError::Gpu(format!("opening {}: {e}", describe(&info))))?;
        Ok(GpuContext {
            device,
            queue,
            info,
            pipelines: Pipelines::default(),
        })
    }

    /// Runs `f` with the device's validation, out-of-memory and internal errors captured, so that
    /// a failure inside wgpu becomes an [`InferError::Gpu`] saying what was being done instead of
    /// wgpu's default panic.
    pub(crate) fn checked<T>(
        &self,
        what: &str,
        f: impl FnOnce() -> Result<T, InferError>,
    ) -> Result<T, InferError> {
        let internal = self.device.push_error_scope(wgpu::ErrorFilter::Internal);
        let memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let result = f();
        let errors = [
            pollster::block_on(validation.pop()),
            pollster::block_on(memory.pop()),
            pollster::block_on(internal.pop()),
        ];
        let value = result?;
        match errors.into_iter().flatten().next() {
            Some(error) => Err(InferError::Gpu(format!(
                "{what} on {}: {error}",
                self.describe()
            ))),
            None => Ok(value),
        }
    }

    /// "name (backend, device type)".
    pub fn describe(&self) -> String {
        describe(&self.info)
    }

    /// Whether the adapter is a software implementation.
    pub fn is_software(&self) -> bool {
        !is_hardware(self.info.device_type)
    }
}

fn is_hardware(kind: DeviceType) -> bool {
    matches!(
        kind,
        DeviceType::DiscreteGpu | DeviceType::IntegratedGpu | DeviceType::VirtualGpu
    )
}

fn rank(kind: DeviceType) -> u8 {
    match kind {
        DeviceType::DiscreteGpu => 0,
        DeviceType::IntegratedGpu => 1,
        DeviceType::VirtualGpu => 2,
        DeviceType::Other => 3,
        DeviceType::Cpu => 4,
    }
}

fn describe(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)
}
