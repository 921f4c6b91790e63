//! What operators do with models while the host runs: load a new ensemble (off the event path;
//! a failure leaves the running one in place), roll back to the previous one, read the status.

use std::sync::{Arc, Mutex, RwLock};

use stratbox_infer::{Compute, DeviceChoice};

use super::{InferenceConfig, InferenceError, InferenceService, InferenceStatus, Predictor};
use crate::market::MarketData;

/// Loads, swaps and rolls back the service's predictor.
pub struct ModelControl {
    service: Arc<InferenceService>,
    market: Arc<RwLock<MarketData>>,
    computes: Mutex<Vec<(DeviceChoice, Compute)>>,
    /// The last version given, held while a predictor loads, so versions are given in order
    /// and only to predictors that load.
    version: Mutex<u64>,
}

impl ModelControl {
    /// Controls `service`, whose requests read `market`.
    pub fn new(service: Arc<InferenceService>, market: Arc<RwLock<MarketData>>) -> Self {
        ModelControl {
            service,
            market,
            computes: Mutex::new(Vec::new()),
            version: Mutex::new(0),
        }
    }

    /// Loads the ensemble `config` describes and installs it; blocking (models load and GPU
    /// pipelines compile here), so call it off the async runtime's workers.
    pub fn load(&self, config: &InferenceConfig) -> Result<InferenceStatus, InferenceError> {
        let mut last = self.version.lock().unwrap_or_else(|p| p.into_inner());
        let compute = self.compute(config.device)?;
        let version = *last + 1;
        let predictor = Predictor::load(config, &compute, &self.market, version)?;
        *last = version;
        tracing::info!(version, device = %predictor.device(), "predictor installed");
        self.service.install(predictor);
        Ok(self.service.status())
    }

    /// Switches back to the previous predictor.
    pub fn rollback(&self) -> Result<InferenceStatus, InferenceError> {
        self.service.rollback()?;
        Ok(self.service.status())
    }

    /// The status.
    pub fn status(&self) -> InferenceStatus {
        self.service.status()
    }

    /// The device for `choice`, opened once and shared by every later load.
    fn compute(&self, choice: DeviceChoice) -> Result<Compute, InferenceError> {
        let mut computes = self.computes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = computes.iter().find(|(c, _)| *c == choice) {
            return Ok(c.clone());
        }
        let compute = Compute::select(choice)?;
        computes.push((choice, compute.clone()));
        Ok(compute)
    }
}
