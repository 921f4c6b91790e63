//! Choosing where models run: `auto | gpu | cpu`.

use std::str::FromStr;
use std::sync::Arc;

use crate::InferError;
use crate::gpu::{AdapterPolicy, GpuContext};

/// The operator's device request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// A hardware GPU if there is one, otherwise the CPU path.
    #[default]
    Auto,
    /// Any GPU adapter, software ones included; an error when there is none.
    Gpu,
    /// The CPU path.
    Cpu,
}

impl FromStr for DeviceChoice {
    type Err = InferError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "gpu" => Ok(DeviceChoice::Gpu),
            "cpu" => Ok(DeviceChoice::Cpu),
            other => Err(InferError::Input(format!(
                "unknown device `{other}`: expected auto, gpu or cpu"
            ))),
        }
    }
}

/// Where models run, resolved from a [`DeviceChoice`] once and shared by every model.
#[derive(Clone, Debug)]
pub enum Compute {
    /// The ndarray path; `reason` says why it was chosen.
    Cpu {
        /// Why the CPU path was taken.
        reason: String,
    },
    /// Our WGSL kernels on this device.
    Gpu(Arc<GpuContext>),
}

impl Compute {
    /// Resolves the choice and logs which path was taken and why.
    pub fn select(choice: DeviceChoice) -> Result<Self, InferError> {
        let compute = match choice {
            DeviceChoice::Cpu => Compute::Cpu {
                reason: "the CPU was requested".into(),
            },
            DeviceChoice::Gpu => Compute::Gpu(Arc::new(GpuContext::new(AdapterPolicy::Any)?)),
            DeviceChoice::Auto => match GpuContext::new(AdapterPolicy::Hardware) {
                Ok(context) => Compute::Gpu(Arc::new(context)),
                Err(e) => Compute::Cpu {
                    reason: e.detail().to_string(),
                },
            },
        };
        tracing::info!(device = %compute.describe(), "inference device");
        Ok(compute)
    }

    /// The CPU path.
    pub fn cpu() -> Self {
        Compute::Cpu {
            reason: "the CPU was requested".into(),
        }
    }

    /// What was chosen and why, for logs and `model info`.
    pub fn describe(&self) -> String {
        match self {
            Compute::Cpu { reason } => format!("cpu ({reason})"),
            Compute::Gpu(context) => format!("gpu: {}", context.describe()),
        }
    }
}
