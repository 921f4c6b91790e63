//! A loaded ensemble with the inputs each member reads: turns the feature engine's windows into
//! requests and requests into predictions.

use std::sync::{Arc, RwLock};

use ndarray::{Array3, Axis};
use serde::Serialize;
use stratbox_infer::{Compute, Ensemble, EnsembleMember, Model};

use super::{InferenceConfig, InferenceError, MemberPrediction, PredictionEvent};
use crate::features::{FeatureEngine, WindowInput};
use crate::market::MarketData;
use crate::model::{SymbolId, TimestampMs};

/// What the engine needs to assemble requests for a predictor: each member's inputs and window
/// length, and the predictor's version.
#[derive(Clone, Debug)]
pub struct InputSpec {
    /// Increases with every installed predictor.
    pub version: u64,
    members: Vec<(Vec<WindowInput>, usize)>,
}

/// Windows of some symbols for every member, as of their last closed bars.
#[derive(Debug)]
pub struct Request {
    /// The predictor version the windows were assembled for.
    pub version: u64,
    /// The symbols, one per batch row.
    pub symbols: Vec<SymbolId>,
    /// Close time of the last bar in each symbol's window.
    pub as_of: Vec<TimestampMs>,
    /// One (symbols, seq, features) tensor per member.
    pub inputs: Vec<Array3<f32>>,
}

/// A member as the status reports it.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize)]
pub struct MemberInfo {
    /// Its name.
    pub name: String,
    /// Architecture and hyperparameters.
    pub architecture: String,
    /// Trainable parameters.
    pub parameters: usize,
    /// Weight in the ensemble.
    pub weight: f64,
    /// Features per step.
    pub features: usize,
    /// Steps per window.
    pub seq: usize,
}

/// A loaded ensemble.
pub struct Predictor {
    ensemble: Ensemble,
    spec: Arc<InputSpec>,
    device: String,
    members: Vec<MemberInfo>,
}

impl Predictor {
    /// Loads every member on `compute` and checks its features against the feature catalog of
    /// `market`, its input width against its manifest, and its window against the kept history;
    /// once all are loaded, every symbol of `market` computes the features they read. The market
    /// is locked only for those checks and that, not while models load.
    pub fn load(
        config: &InferenceConfig,
        compute: &Compute,
        market: &RwLock<MarketData>,
        version: u64,
    ) -> Result<Self, InferenceError> {
        if config.models.is_empty() {
            return Err(InferenceError::Config("[inference] lists no models".into()));
        }
        let mut members = Vec::new();
        let mut inputs = Vec::new();
        let mut infos = Vec::new();
        for m in &config.models {
            let bad =
                |message: String| InferenceError::Config(format!("model `{}`: {message}", m.name));
            let model =
                Model::load(&m.manifest, &m.weights, compute).map_err(|e| bad(e.to_string()))?;
            let manifest = model.manifest();
            let market = market.read().unwrap_or_else(|p| p.into_inner());
            let features = &market.features;
            let columns = features.columns(&m.features).map_err(bad)?;
            if columns.len() != manifest.n_features() {
                return Err(bad(format!(
                    "lists {} features, the {} model reads {}",
                    columns.len(),
                    manifest.arch(),
                    manifest.n_features()
                )));
            }
            manifest
                .check_input(m.seq, columns.len())
                .map_err(|e| bad(e.detail().to_string()))?;
            let needed = FeatureEngine::rows_needed(&columns, m.seq);
            if needed > features.history_len() {
                return Err(bad(format!(
                    "a window of {} steps with these transforms needs {needed} rows of history; \
                     raise [features].history (now {})",
                    m.seq,
                    features.history_len()
                )));
            }
            infos.push(MemberInfo {
                name: m.name.clone(),
                architecture: manifest.to_string(),
                parameters: manifest.parameter_count(),
                weight: m.weight,
                features: columns.len(),
                seq: m.seq,
            });
            inputs.push((columns, m.seq));
            members.push(EnsembleMember {
                name: m.name.clone(),
                model,
                weight: m.weight,
            });
        }
        let ensemble = Ensemble::new(members, config.class_returns.clone())?;
        // Every symbol computes what the members read from now on.
        let mut market = market.write().unwrap_or_else(|p| p.into_inner());
        for (columns, _) in &inputs {
            market.require_everywhere(columns);
        }
        drop(market);
        Ok(Predictor {
            ensemble,
            spec: Arc::new(InputSpec {
                version,
                members: inputs,
            }),
            device: compute.describe(),
            members: infos,
        })
    }

    /// The inputs the engine assembles for this predictor.
    pub fn spec(&self) -> &Arc<InputSpec> {
        &self.spec
    }

    /// Where it runs and why.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Its members.
    pub fn members(&self) -> &[MemberInfo] {
        &self.members
    }

    /// Runs the ensemble on a request; `known_at` gives each prediction's publication time from
    /// its `as_of`.
    pub fn run(
        &mut self,
        request: &Request,
        known_at: impl Fn(TimestampMs) -> TimestampMs,
    ) -> Result<Vec<PredictionEvent>, InferenceError> {
        let views: Vec<_> = request.inputs.iter().map(|a| a.view()).collect();
        let out = self.ensemble.predict(&views)?;
        Ok(out
            .into_iter()
            .zip(&request.symbols)
            .zip(&request.as_of)
            .map(|((p, &symbol), &as_of)| PredictionEvent {
                symbol,
                as_of,
                known_at: known_at(as_of),
                version: request.version,
                probabilities: p.probabilities,
                expected_return: p.expected_return,
                confidence: p.confidence,
                members: p
                    .members
                    .into_iter()
                    .map(|m| MemberPrediction {
                        name: m.name,
                        probabilities: m.probabilities,
                    })
                    .collect(),
            })
            .collect())
    }
}

impl InputSpec {
    /// The windows of `symbols` that have enough history for every member, as of `as_of` (the
    /// close time of their last bars); `None` when no symbol is ready.
    pub fn request(
        &self,
        features: &FeatureEngine,
        symbols: &[SymbolId],
        as_of: &[TimestampMs],
    ) -> Option<Request> {
        // Members reading the same inputs over the same length share one set of windows.
        let mut windows = Vec::new();
        let mut source: Vec<usize> = Vec::with_capacity(self.members.len());
        for (k, member) in self.members.iter().enumerate() {
            match self.members[..k]
                .iter()
                .position(|earlier| earlier == member)
            {
                Some(earlier) => source.push(source[earlier]),
                None => {
                    source.push(windows.len());
                    windows.push(features.windows(symbols, &member.0, member.1));
                }
            }
        }
        let ready: Vec<usize> = (0..symbols.len())
            .filter(|&i| windows.iter().all(|w| w[i].is_some()))
            .collect();
        if ready.is_empty() {
            return None;
        }
        let inputs = self
            .members
            .iter()
            .zip(&source)
            .map(|((columns, seq), &w)| {
                let w = &windows[w];
                let mut tensor = Array3::zeros((ready.len(), *seq, columns.len()));
                for (row, &i) in ready.iter().enumerate() {
                    let (values, _) = w[i].as_ref().expect("ready");
                    tensor.index_axis_mut(Axis(0), row).assign(values);
                }
                tensor
            })
            .collect();
        Some(Request {
            version: self.version,
            symbols: ready.iter().map(|&i| symbols[i]).collect(),
            as_of: ready.iter().map(|&i| as_of[i]).collect(),
            inputs,
        })
    }
}

impl Request {
    /// Merges `later` into `self`: a symbol in both keeps `later`'s window. Both must be for the
    /// same version.
    pub fn merge(&mut self, later: Request) {
        let mut keep: Vec<usize> = (0..self.symbols.len())
            .filter(|&i| !later.symbols.contains(&self.symbols[i]))
            .collect();
        keep.sort_unstable();
        let merged = |mine: &Array3<f32>, theirs: &Array3<f32>| {
            let (_, seq, width) = mine.dim();
            let mut out = Array3::zeros((keep.len() + theirs.dim().0, seq, width));
            for (row, &i) in keep.iter().enumerate() {
                out.index_axis_mut(Axis(0), row)
                    .assign(&mine.index_axis(Axis(0), i));
            }
            out.slice_mut(ndarray::s![keep.len().., .., ..])
                .assign(theirs);
            out
        };
        self.inputs = self
            .inputs
            .iter()
            .zip(&later.inputs)
            .map(|(mine, theirs)| merged(mine, theirs))
            .collect();
        self.symbols = keep
            .iter()
            .map(|&i| self.symbols[i])
            .chain(later.symbols)
            .collect();
        self.as_of = keep
            .iter()
            .map(|&i| self.as_of[i])
            .chain(later.as_of)
            .collect();
    }
}
