//! The `[inference]` section: the device, and the ensemble's members with the features each
//! reads.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use stratbox_infer::DeviceChoice;

/// Which models predict, on what, and where they run. No members: no inference.
#[derive(utoipa::ToSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceConfig {
    /// `auto` (a hardware GPU, else the CPU), `gpu` (any adapter) or `cpu`.
    #[serde(default)]
    #[schema(value_type = String, pattern = "^(auto|cpu|gpu)$")]
    pub device: DeviceChoice,
    /// The return each class stands for (default: −1 … 1 evenly, down / flat / up for three).
    #[serde(default)]
    pub class_returns: Option<Vec<f64>>,
    /// How long the inference thread waits after a request for more symbols' bars to join the
    /// same batch, in milliseconds (live service only).
    #[serde(default = "default_gather_ms")]
    pub gather_ms: u64,
    /// The ensemble's members.
    #[serde(default)]
    pub models: Vec<MemberConfig>,
}

fn default_gather_ms() -> u64 {
    5
}

/// One member of the ensemble.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberConfig {
    /// Name it is reported under.
    pub name: String,
    /// The manifest (JSON) `reference_models.export()` wrote.
    #[schema(value_type = String)]
    pub manifest: PathBuf,
    /// The weights (safetensors).
    #[schema(value_type = String)]
    pub weights: PathBuf,
    /// Weight in the ensemble before normalisation.
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// Feature names, one per model input, in the order the model was trained on; transforms
    /// such as `zscore_64:ret_1` are allowed.
    pub features: Vec<String>,
    /// Time steps per window.
    #[serde(default = "default_seq")]
    pub seq: usize,
}

fn default_weight() -> f64 {
    1.0
}

fn default_seq() -> usize {
    64
}

impl InferenceConfig {
    /// Makes the members' relative paths relative to `base` (the config file's directory).
    pub fn resolve(&mut self, base: &Path) {
        for m in &mut self.models {
            m.manifest = base.join(&m.manifest);
            m.weights = base.join(&m.weights);
        }
    }
}
