//! What operators do with models while the host runs: load a new ensemble (off the event path;
//! a failure leaves the running one in place), roll back to the previous one, read the status.

use std::sync::{Arc, Mutex, RwLock};

use stratbox_infer::{Compute, DeviceChoice};

use super::{InferenceConfig, InferenceError, InferenceService, InferenceStatus, Predictor};
use crate::market::MarketData;

/// An installed ensemble: its predictor version and configuration.
type Running = (u64, InferenceConfig);

/// Loads, swaps and rolls back the service's predictor.
pub struct ModelControl {
    service: Arc<InferenceService>,
    market: Arc<RwLock<MarketData>>,
    computes: Mutex<Vec<(DeviceChoice, Compute)>>,
    /// The last version given, held while a predictor loads, so versions are given in order
    /// and only to predictors that load.
    version: Mutex<u64>,
    /// The running ensemble's version and configuration, and the previous one's (swapped by a
    /// rollback as the predictors are).
    configs: Mutex<(Option<Running>, Option<Running>)>,
}

impl ModelControl {
    /// Controls `service`, whose requests read `market`.
    pub fn new(service: Arc<InferenceService>, market: Arc<RwLock<MarketData>>) -> Self {
        ModelControl {
            service,
            market,
            computes: Mutex::new(Vec::new()),
            version: Mutex::new(0),
            configs: Mutex::new((None, None)),
        }
    }

    /// Loads the ensemble `config` describes and installs it; blocking (models load and GPU
    /// pipelines compile here), so call it off the async runtime's workers.
    pub fn load(&self, config: &InferenceConfig) -> Result<InferenceStatus, InferenceError> {
        self.load_if(|_| Ok(()), config)
    }

    /// Loads and installs `config` as [`ModelControl::load`] does, only if the running
    /// ensemble is still version `expected` (`None`: none runs); otherwise refuses, naming
    /// the version that runs now (an operator changed it meanwhile).
    pub fn load_replacing(
        &self,
        expected: Option<u64>,
        config: &InferenceConfig,
    ) -> Result<InferenceStatus, InferenceError> {
        self.load_if(
            |running| {
                if running == expected {
                    Ok(())
                } else {
                    Err(InferenceError::Config(format!(
                        "the running ensemble is now version {}, not the version {} judged",
                        running.map_or("none".into(), |v| v.to_string()),
                        expected.map_or("none".into(), |v| v.to_string())
                    )))
                }
            },
            config,
        )
    }

    /// Loads and installs `config` if `check` accepts the running version; the running
    /// ensemble cannot change meanwhile.
    fn load_if(
        &self,
        check: impl FnOnce(Option<u64>) -> Result<(), InferenceError>,
        config: &InferenceConfig,
    ) -> Result<InferenceStatus, InferenceError> {
        let mut last = self.version.lock().unwrap_or_else(|p| p.into_inner());
        let mut configs = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        check(configs.0.as_ref().map(|(v, _)| *v))?;
        let compute = self.compute(config.device)?;
        let version = *last + 1;
        let predictor = Predictor::load(config, &compute, &self.market, version)?;
        *last = version;
        tracing::info!(version, device = %predictor.device(), "predictor installed");
        self.service.install(predictor);
        configs.1 = configs.0.replace((version, config.clone()));
        Ok(self.service.status())
    }

    /// Switches back to the previous predictor.
    pub fn rollback(&self) -> Result<InferenceStatus, InferenceError> {
        let mut configs = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        self.service.rollback()?;
        let (current, previous) = (configs.0.take(), configs.1.take());
        *configs = (previous, current);
        Ok(self.service.status())
    }

    /// The running ensemble's version and configuration, if one runs.
    pub fn running(&self) -> Option<(u64, InferenceConfig)> {
        self.configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
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
