//! Live accuracy of the running models: each prediction the engine receives waits for the bars
//! its label needs (the training label's definition, computed by the same code on the same
//! bars), then counts as a hit or a miss of the ensemble and of each member. The rolling
//! accuracy of the latest predictions is set beside the accuracy the ensemble had on its
//! held-out days when retraining installed it; falling significantly below that is drift.

use super::PredictionEvent;
use crate::model::{Bar, SymbolId, TimestampMs};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use stratbox_learn::labels::{Bars, LabelSpec};
use stratbox_learn::metrics::{label_log_loss, predicted_class};

/// Resolved predictions the rolling figures cover, per model.
pub const ROLLING: usize = 500;
/// Resolved predictions before drift is judged.
pub const MIN_RESOLVED: usize = 100;
/// Bars a prediction may arrive after its own and still be judged.
const LATE: usize = 1024;
/// Predictor versions whose records are kept (the newest).
const VERSIONS_KEPT: usize = 3;

/// The validation accuracy of each predictor version, where known (retraining sets it when it
/// installs one).
pub type Baselines = Arc<Mutex<HashMap<u64, f64>>>;

/// One model's live record under one predictor version.
#[derive(utoipa::ToSchema, Clone, Debug, Default, PartialEq, Serialize)]
pub struct LiveAccuracy {
    /// The predictor version.
    pub version: u64,
    /// `ensemble`, or a member's name.
    pub model: String,
    /// Predictions resolved so far.
    pub resolved: u64,
    /// Accuracy of the latest (at most [`ROLLING`]) resolved predictions.
    pub accuracy: f64,
    /// Their mean log loss.
    pub log_loss: f64,
    /// The ensemble's accuracy on its held-out days, when retraining installed it.
    pub validation_accuracy: Option<f64>,
    /// Whether the rolling accuracy lies more than two standard errors below the validation
    /// accuracy (errors counted over predictions a label horizon apart, since neighbours'
    /// labels overlap), after at least [`MIN_RESOLVED`] predictions.
    pub drifting: bool,
}

/// What the tracker shows outside the engine.
#[derive(utoipa::ToSchema, Clone, Debug, Default, Serialize)]
pub struct AccuracyStatus {
    /// Every model of every version that has resolved predictions, newest version first.
    pub models: Vec<LiveAccuracy>,
    /// Predictions waiting for their labels' bars.
    pub pending: usize,
    /// Predictions dropped: made from a bar the tracker did not see, or left without a label
    /// (a flat stretch, a price that is not positive).
    pub unresolved: u64,
}

struct Pending {
    /// Index of the prediction's bar in its symbol's bar count.
    index: u64,
    version: u64,
    /// (model, probabilities): the ensemble first.
    predictions: Vec<(String, Vec<f64>)>,
}

#[derive(Default)]
struct SymbolBars {
    /// Bars seen before the first one kept.
    dropped: u64,
    close_time: VecDeque<TimestampMs>,
    high: VecDeque<f64>,
    low: VecDeque<f64>,
    close: VecDeque<f64>,
    pending: VecDeque<Pending>,
}

#[derive(Default)]
struct Record {
    resolved: u64,
    /// (hit, log loss) of the latest.
    latest: VecDeque<(bool, f64)>,
    /// Hits among `latest`.
    hits: usize,
    /// Sum of the log losses of `latest`.
    loss: f64,
}

impl Record {
    fn push(&mut self, hit: bool, loss: f64) {
        self.resolved += 1;
        self.latest.push_back((hit, loss));
        self.hits += usize::from(hit);
        self.loss += loss;
        if self.latest.len() > ROLLING
            && let Some((h, l)) = self.latest.pop_front()
        {
            self.hits -= usize::from(h);
            self.loss -= l;
        }
    }
}

/// Follows predictions to their outcomes; lives in the engine, which sees both.
pub struct AccuracyTracker {
    label: LabelSpec,
    /// The label's bars: bars of other intervals are not its bars.
    interval_ms: u32,
    /// Closes before a prediction's bar its label reads (the volatility window's).
    window: usize,
    /// Bars kept per symbol: the label's volatility window and horizon, and room for
    /// predictions that arrive late (a replay runs far ahead of its predictions).
    keep: usize,
    symbols: HashMap<SymbolId, SymbolBars>,
    records: BTreeMap<(u64, String), Record>,
    unresolved: u64,
    baselines: Baselines,
    status: Arc<Mutex<AccuracyStatus>>,
}

impl AccuracyTracker {
    /// Judges predictions by `label` on bars of `interval_ms`; reads validation accuracies
    /// from `baselines` and publishes to `status`.
    pub fn new(
        label: LabelSpec,
        interval_ms: u32,
        baselines: Baselines,
        status: Arc<Mutex<AccuracyStatus>>,
    ) -> Self {
        let window = match label {
            LabelSpec::FixedHorizon {
                threshold: stratbox_learn::labels::Threshold::Volatility { window, .. },
                ..
            }
            | LabelSpec::TripleBarrier { window, .. } => window,
            _ => 0,
        };
        AccuracyTracker {
            label,
            interval_ms,
            window,
            keep: window + label.horizon() + LATE,
            symbols: HashMap::new(),
            records: BTreeMap::new(),
            unresolved: 0,
            baselines,
            status,
        }
    }

    /// A prediction reached the engine: it waits for its label.
    pub fn on_prediction(&mut self, p: &PredictionEvent) {
        let found = self.symbols.get_mut(&p.symbol).and_then(|s| {
            let at = s.close_time.iter().rposition(|t| *t == p.as_of)?;
            Some((s, at))
        });
        let Some((s, at)) = found else {
            self.unresolved += 1;
            self.status
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .unresolved = self.unresolved;
            return;
        };
        let mut predictions = vec![("ensemble".to_string(), p.probabilities.clone())];
        predictions.extend(
            p.members
                .iter()
                .map(|m| (m.name.clone(), m.probabilities.clone())),
        );
        s.pending.push_back(Pending {
            index: s.dropped + at as u64,
            version: p.version,
            predictions,
        });
        let pending = self.pending();
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pending = pending;
    }

    fn pending(&self) -> usize {
        self.symbols.values().map(|s| s.pending.len()).sum()
    }

    /// A bar closed: predictions whose labels it completes are judged.
    pub fn on_bar(&mut self, bar: &Bar) {
        if bar.interval_ms != self.interval_ms {
            return;
        }
        let keep = self.keep;
        let s = self.symbols.entry(bar.symbol).or_default();
        s.close_time.push_back(bar.close_time());
        s.high.push_back(bar.high);
        s.low.push_back(bar.low);
        s.close.push_back(bar.close);
        if s.close.len() > keep {
            s.close_time.pop_front();
            s.high.pop_front();
            s.low.pop_front();
            s.close.pop_front();
            s.dropped += 1;
        }
        let last = s.dropped + s.close.len() as u64 - 1;
        let horizon = self.label.horizon() as u64;
        let mut judged = false;
        while let Some(p) = s.pending.front() {
            if p.index + horizon > last {
                break;
            }
            let p = s.pending.pop_front().expect("a front");
            judged = true;
            let Some(class) = label_of(&self.label, self.window, s, p.index) else {
                self.unresolved += 1;
                continue;
            };
            for (model, probabilities) in p.predictions {
                let hit = predicted_class(&probabilities) == class;
                let loss = label_log_loss(probabilities.get(class).copied().unwrap_or(0.0));
                self.records
                    .entry((p.version, model))
                    .or_default()
                    .push(hit, loss);
            }
        }
        if judged {
            self.prune();
            self.publish();
        }
    }

    /// Forgets the records of all but the newest [`VERSIONS_KEPT`] versions.
    fn prune(&mut self) {
        let mut versions: Vec<u64> = self.records.keys().map(|(v, _)| *v).collect();
        versions.dedup();
        if let Some(&oldest_kept) = versions.iter().rev().nth(VERSIONS_KEPT - 1) {
            self.records.retain(|(v, _), _| *v >= oldest_kept);
        }
    }

    fn publish(&self) {
        let baselines = self.baselines.lock().unwrap_or_else(|p| p.into_inner());
        let horizon = self.label.horizon().max(1) as f64;
        let mut models: Vec<LiveAccuracy> = self
            .records
            .iter()
            .map(|((version, model), r)| {
                let n = r.latest.len().max(1) as f64;
                let accuracy = r.hits as f64 / n;
                let validation = (model == "ensemble")
                    .then(|| baselines.get(version).copied())
                    .flatten();
                let drifting = validation.is_some_and(|b| {
                    let error = (b * (1.0 - b) / (n / horizon)).sqrt();
                    r.latest.len() >= MIN_RESOLVED && accuracy < b - 2.0 * error
                });
                LiveAccuracy {
                    version: *version,
                    model: model.clone(),
                    resolved: r.resolved,
                    accuracy,
                    log_loss: r.loss / n,
                    validation_accuracy: validation,
                    drifting,
                }
            })
            .collect();
        models.sort_by_key(|m| std::cmp::Reverse(m.version));
        let pending = self.pending();
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = AccuracyStatus {
            models,
            pending,
            unresolved: self.unresolved,
        };
    }
}

/// The class of the label of the bar at `index` (in the symbol's count), from the bars it
/// reads only: `window` closes before it (its volatility) and the horizon after it.
fn label_of(spec: &LabelSpec, window: usize, s: &SymbolBars, index: u64) -> Option<usize> {
    let at = index.checked_sub(s.dropped)? as usize;
    let from = at.saturating_sub(window + 1);
    let end = at + spec.horizon() + 1;
    let slice = |v: &VecDeque<f64>| v.range(from..end).copied().collect::<Vec<f64>>();
    let (high, low, close) = (slice(&s.high), slice(&s.low), slice(&s.close));
    let labels = spec
        .labels(Bars {
            high: &high,
            low: &low,
            close: &close,
        })
        .ok()?;
    labels.get(at - from).copied().flatten().map(|l| l.class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::MemberPrediction;
    use stratbox_learn::labels::Threshold;

    fn bar(i: i64, close: f64) -> Bar {
        Bar {
            symbol: 0,
            interval_ms: 60_000,
            open_time: i * 60_000,
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
        }
    }

    fn prediction(i: i64, version: u64, probabilities: [f64; 3]) -> PredictionEvent {
        PredictionEvent {
            symbol: 0,
            as_of: (i + 1) * 60_000,
            known_at: (i + 1) * 60_000 + 5,
            version,
            probabilities: probabilities.to_vec(),
            expected_return: 0.0,
            confidence: 0.0,
            members: vec![MemberPrediction {
                name: "m".into(),
                probabilities: [probabilities[2], probabilities[1], probabilities[0]].to_vec(),
            }],
        }
    }

    /// Prices that rise 1 % a bar: every fixed-horizon label (threshold 0.5 %) is up.
    #[test]
    fn predictions_are_judged_by_the_training_label_once_its_bars_close() {
        let label = LabelSpec::FixedHorizon {
            horizon: 3,
            threshold: Threshold::Fixed(0.005),
        };
        let baselines: Baselines = Arc::default();
        baselines.lock().unwrap().insert(1, 0.99);
        let status = Arc::new(Mutex::new(AccuracyStatus::default()));
        let mut t = AccuracyTracker::new(label, 60_000, baselines.clone(), status.clone());
        let price = |i: i64| 100.0 * 1.01f64.powi(i as i32);
        for i in 0..400 {
            t.on_bar(&bar(i, price(i)));
            // The ensemble says up (right); its member says down (wrong).
            t.on_prediction(&prediction(i, 1, [0.1, 0.2, 0.7]));
        }
        let s = status.lock().unwrap().clone();
        assert_eq!(s.pending, 3, "the last three wait for their horizon");
        let ensemble = s.models.iter().find(|m| m.model == "ensemble").unwrap();
        assert_eq!(ensemble.resolved, 397);
        assert_eq!(ensemble.accuracy, 1.0);
        assert!((ensemble.log_loss - -(0.7f64.ln())).abs() < 1e-12);
        assert!(!ensemble.drifting);
        let member = s.models.iter().find(|m| m.model == "m").unwrap();
        assert_eq!(member.accuracy, 0.0);
        assert_eq!(member.validation_accuracy, None);
        // Version 2, validated at 0.99, is always wrong: drift once enough are resolved.
        baselines.lock().unwrap().insert(2, 0.99);
        for i in 400..400 + MIN_RESOLVED as i64 + 3 {
            t.on_bar(&bar(i, price(i)));
            t.on_prediction(&prediction(i, 2, [0.7, 0.2, 0.1]));
        }
        let s = status.lock().unwrap().clone();
        let v2 = &s.models[0];
        assert_eq!((v2.version, v2.model.as_str()), (2, "ensemble"));
        assert_eq!(v2.resolved, MIN_RESOLVED as u64);
        assert!(v2.drifting, "{v2:?}");
        // A prediction of a bar never seen is counted, not kept.
        t.on_prediction(&prediction(10_000, 2, [0.7, 0.2, 0.1]));
        assert_eq!(status.lock().unwrap().unresolved, 1);
    }

    /// The label from the bars it reads equals the label of the whole series.
    #[test]
    fn a_label_from_its_own_bars_is_the_whole_series_label() {
        let label = LabelSpec::TripleBarrier {
            horizon: 5,
            profit_take: 1.0,
            stop_loss: 1.0,
            window: 10,
        };
        let mut state = 3u64;
        let mut price = 100.0;
        let mut s = SymbolBars::default();
        let (mut high, mut low, mut close) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..200 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let step = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.02;
            price *= 1.0 + step;
            for (v, x) in [
                (&mut high, price * 1.003),
                (&mut low, price * 0.997),
                (&mut close, price),
            ] {
                v.push(x);
            }
            s.high.push_back(price * 1.003);
            s.low.push_back(price * 0.997);
            s.close.push_back(price);
        }
        let whole = label
            .labels(Bars {
                high: &high,
                low: &low,
                close: &close,
            })
            .unwrap();
        let mut compared = 0;
        for (i, label_whole) in whole.iter().enumerate().take(195) {
            let own = label_of(&label, 10, &s, i as u64);
            assert_eq!(own, label_whole.map(|l| l.class), "bar {i}");
            compared += usize::from(own.is_some());
        }
        assert!(compared > 150);
    }
}
