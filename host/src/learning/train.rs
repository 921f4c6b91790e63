//! `stratbox model train`: a training set from candles, every model (logistic regression,
//! gradient-boosted trees, LSTM, CNN, Transformer) judged out of sample on purged walk-forward folds (and on shifted
//! labels, which must come out at chance), then trained on the latest window and written where
//! inference loads it (only if that control passed), with a report and the ensemble's
//! `[inference]` table (`inference.json`, for `PUT /v1/inference`).

use super::dataset::{Dataset, DatasetSpec};
use crate::features::FeatureConfig;
use crate::feeds::candles::Candle;
use crate::inference::{InferenceConfig, MemberConfig};
use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis};
use serde::{Deserialize, Serialize};
use std::path::Path;
use stratbox_learn::calibration::{fit_temperature, training_rows};
use stratbox_learn::gbt::{Gbt, GbtSpec};
use stratbox_learn::labels::LabelSpec;
use stratbox_learn::logistic::{Logistic, LogisticSpec};
use stratbox_learn::metrics::Scores;
use stratbox_learn::neural::{
    Architecture, CnnShape, EpochReport, LstmShape, Neural, Training, TransformerShape,
};
use stratbox_learn::split::{Span, SplitSpec, uniqueness};

/// `train.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The model inputs, by feature name (`transform:name` allowed), in order.
    pub features: Vec<String>,
    /// Rows (bars) per sample's window.
    #[serde(default = "one")]
    pub seq: usize,
    /// The candles' interval (`1m`, `1h`, ...).
    pub interval: String,
    /// What each sample is labelled with.
    pub label: LabelSpec,
    /// How samples are split into training and test windows.
    pub split: SplitSpec,
    /// Weight samples by their labels' uniqueness (true) or alike.
    #[serde(default = "yes")]
    pub uniqueness_weights: bool,
    /// Seed of the shifted-labels control.
    #[serde(default)]
    pub seed: u64,
    /// The feature engine's settings (`[features]` of a service config).
    #[serde(default)]
    pub feature_engine: FeatureConfig,
    /// The models to train: each a table with `name`, `kind` and the kind's settings.
    #[serde(rename = "models")]
    raw_models: Vec<toml::Table>,
    /// The models, read from `raw_models` by [`TrainConfig::load`].
    #[serde(skip)]
    pub models: Vec<ModelConfig>,
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// One model of `train.toml`.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Its name: the files `<name>.json` and `<name>.safetensors`.
    pub name: String,
    /// What it is, with its settings.
    pub kind: ModelKind,
    /// A logistic regression's or trees' calibration (`calibrate = true`, with `validation`,
    /// the share of each training set held out to fit it, 0.2 by default): the temperature
    /// fitted there on a model trained on the rest divides the logits of the model trained on
    /// all of it. (A network calibrates itself: [`Training`].)
    pub calibration: Option<f64>,
}

/// The kinds of model the host trains.
#[derive(Clone, Debug)]
pub enum ModelKind {
    /// Multinomial logistic regression on the last row of the window (`kind = "logistic"`;
    /// settings `c`, `class_weight`, `tol`, `max_iter`, and `calibrate`, `validation` of
    /// [`ModelConfig::calibration`]).
    Logistic(LogisticSpec),
    /// Gradient-boosted trees on the last row of the window (`kind = "gbt"`; settings
    /// `rounds`, `learning_rate`, `max_depth`, `min_child_weight`, `lambda`, `gamma`, `bins`,
    /// and `calibrate`, `validation`).
    Gbt(GbtSpec),
    /// A network on the whole window (`kind = "lstm"` with `hidden`, `layers`; `"cnn"` with
    /// `channels`, `kernels`, `dilations`; `"transformer"` with `d_model`, `nhead`, `layers`,
    /// `ff`, `activation`, `norm_first`), trained with the settings of [`Training`]
    /// (`epochs`, `batch`, `learning_rate`, `weight_decay`, `schedule`, `warmup`, `patience`,
    /// `validation`, `clip_norm`, `class_weight`, `seed`, `calibrate`).
    Neural(Architecture, Training),
}

/// The settings of `[[models]]` that belong to [`Training`] rather than to a network's shape.
const TRAINING_KEYS: [&str; 12] = [
    "epochs",
    "batch",
    "learning_rate",
    "weight_decay",
    "schedule",
    "warmup",
    "patience",
    "validation",
    "clip_norm",
    "class_weight",
    "seed",
    "calibrate",
];

/// A trained model of any kind.
enum Fitted {
    Logistic(Logistic),
    Gbt(Gbt),
    Neural(Neural),
}

/// A model's inputs: every sample's window, and its last row as f64.
#[derive(Clone, Copy)]
struct Inputs<'a> {
    windows: ArrayView3<'a, f32>,
    last: ArrayView2<'a, f64>,
}

impl ModelKind {
    /// Trains on inputs `x` (in time order), labels `y` and weights `w`; a network purges by
    /// the samples' `spans` around its validation window and reports its epochs.
    fn fit(
        &self,
        x: Inputs<'_>,
        y: &[usize],
        w: &[f64],
        classes: usize,
        spans: &[Span],
        epochs: &mut dyn FnMut(&EpochReport),
    ) -> Result<Fitted, String> {
        match self {
            ModelKind::Logistic(spec) => {
                Logistic::fit(x.last, y, Some(w), classes, spec).map(Fitted::Logistic)
            }
            ModelKind::Gbt(spec) => Gbt::fit(x.last, y, Some(w), classes, spec).map(Fitted::Gbt),
            ModelKind::Neural(arch, training) => Neural::fit(
                arch,
                x.windows,
                y,
                Some(w),
                classes,
                spans,
                training,
                epochs,
            )
            .map(Fitted::Neural),
        }
        .map_err(|e| e.to_string())
    }

    /// Rows of the window the model reads.
    fn seq(&self, seq: usize) -> usize {
        match self {
            ModelKind::Neural(..) => seq,
            _ => 1,
        }
    }
}

impl ModelConfig {
    /// Trains as [`ModelKind::fit`] does and calibrates as `calibration` says; returns the
    /// model and the temperature its logits are divided by (a network's own, if it calibrated).
    fn fit(
        &self,
        x: Inputs<'_>,
        y: &[usize],
        w: &[f64],
        classes: usize,
        spans: &[Span],
        epochs: &mut dyn FnMut(&EpochReport),
    ) -> Result<(Fitted, Option<f64>), String> {
        let Some(share) = self.calibration else {
            let fitted = self.kind.fit(x, y, w, classes, spans, epochs)?;
            let t = match &fitted {
                Fitted::Neural(n) => Some(n.temperature),
                _ => None,
            };
            return Ok((fitted, t));
        };
        let n = y.len();
        let held = (n as f64 * share).round() as usize;
        let rows = training_rows(spans, held);
        if held == 0 || rows.is_empty() {
            return Err(format!(
                "{}: {n} training samples leave none to calibrate on with validation = {share}",
                self.name
            ));
        }
        let part_x = x.last.select(Axis(0), &rows);
        let of = |v: &[usize]| -> Vec<usize> { rows.iter().map(|&i| v[i]).collect() };
        let part_w: Vec<f64> = rows.iter().map(|&i| w[i]).collect();
        let part_spans: Vec<Span> = rows.iter().map(|&i| spans[i]).collect();
        let part = self.kind.fit(
            Inputs {
                windows: x.windows,
                last: part_x.view(),
            },
            &of(y),
            &part_w,
            classes,
            &part_spans,
            epochs,
        )?;
        let validation = x.last.slice(ndarray::s![n - held.., ..]);
        let t = fit_temperature(&part.logits(validation), &y[n - held..], &w[n - held..]);
        let mut full = self.kind.fit(x, y, w, classes, spans, epochs)?;
        full.set_temperature(t);
        Ok((full, Some(t)))
    }
}

impl Fitted {
    /// A logistic regression's or trees' logits.
    fn logits(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        match self {
            Fitted::Logistic(m) => m.logits(x),
            Fitted::Gbt(m) => m.logits(x),
            Fitted::Neural(_) => unreachable!("a network calibrates itself"),
        }
    }

    /// Divides a logistic regression's or trees' logits by `t`.
    fn set_temperature(&mut self, t: f64) {
        match self {
            Fitted::Logistic(m) => m.set_temperature(t),
            Fitted::Gbt(m) => m.set_temperature(t),
            Fitted::Neural(_) => unreachable!("a network calibrates itself"),
        }
    }

    fn probabilities(&self, x: Inputs<'_>) -> Array2<f64> {
        match self {
            Fitted::Logistic(m) => m.probabilities(x.last),
            Fitted::Gbt(m) => m.probabilities(x.last),
            Fitted::Neural(m) => m.probabilities(x.windows),
        }
    }

    fn export(&self, stem: &Path) -> Result<(), String> {
        match self {
            Fitted::Logistic(m) => m.export(stem),
            Fitted::Gbt(m) => m.export(stem),
            Fitted::Neural(m) => m.export(stem),
        }
        .map_err(|e| e.to_string())
    }
}

impl ModelConfig {
    /// A `[[models]]` table: its `name`, its `kind`, and the kind's settings (nothing else).
    fn parse(mut table: toml::Table) -> Result<ModelConfig, String> {
        let mut take = |key: &str| match table.remove(key) {
            Some(toml::Value::String(s)) => Ok(s),
            Some(other) => Err(format!("models: {key} must be a string, not {other}")),
            None => Err(format!("models: every model needs a {key}")),
        };
        let name = take("name")?;
        let kind = take("kind")?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "models: name {name:?}: use letters, digits, '-', '_' or '.' (it names files)"
            ));
        }
        let bad = |e: toml::de::Error| format!("models {name:?} ({kind}): {e}");
        let mut calibration = None;
        if ["logistic", "gbt"].contains(&kind.as_str()) {
            let share = match table.remove("validation") {
                None => 0.2,
                Some(toml::Value::Float(v)) => v,
                Some(other) => {
                    return Err(format!(
                        "models {name:?}: validation must be a number between 0 and 1, not {other}"
                    ));
                }
            };
            match table.remove("calibrate") {
                None | Some(toml::Value::Boolean(false)) => {}
                Some(toml::Value::Boolean(true)) => calibration = Some(share),
                Some(other) => {
                    return Err(format!(
                        "models {name:?}: calibrate must be true or false, not {other}"
                    ));
                }
            }
            if !(share > 0.0 && share < 1.0) {
                return Err(format!(
                    "models {name:?}: validation = {share}: give a share between 0 and 1"
                ));
            }
        }
        let mut training = toml::Table::new();
        if ["lstm", "cnn", "transformer"].contains(&kind.as_str()) {
            for key in TRAINING_KEYS {
                if let Some(v) = table.remove(key) {
                    training.insert(key.to_string(), v);
                }
            }
        }
        let training = || -> Result<Training, String> {
            toml::Value::Table(training.clone()).try_into().map_err(bad)
        };
        let settings = toml::Value::Table(table);
        let kind = match kind.as_str() {
            "logistic" => ModelKind::Logistic(settings.try_into().map_err(bad)?),
            "gbt" => ModelKind::Gbt(settings.try_into().map_err(bad)?),
            "lstm" => ModelKind::Neural(
                Architecture::Lstm(settings.try_into::<LstmShape>().map_err(bad)?),
                training()?,
            ),
            "cnn" => ModelKind::Neural(
                Architecture::Cnn(settings.try_into::<CnnShape>().map_err(bad)?),
                training()?,
            ),
            "transformer" => ModelKind::Neural(
                Architecture::Transformer(settings.try_into::<TransformerShape>().map_err(bad)?),
                training()?,
            ),
            other => {
                return Err(format!(
                    "models {name:?}: kind {other:?} is not one the host trains (logistic, gbt, lstm, cnn, transformer)"
                ));
            }
        };
        Ok(ModelConfig {
            name,
            kind,
            calibration,
        })
    }
}

impl TrainConfig {
    /// Reads and checks `train.toml`.
    pub fn load(path: &Path) -> Result<TrainConfig, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
        let mut config: TrainConfig = toml::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
        config.label.check().map_err(|e| format!("{shown}: {e}"))?;
        if config.label.classes() < 2 {
            return Err(format!(
                "{shown}: the models here are classifiers: use a fixed_horizon or triple_barrier label"
            ));
        }
        config.models = std::mem::take(&mut config.raw_models)
            .into_iter()
            .map(ModelConfig::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{shown}: {e}"))?;
        if config.models.is_empty() {
            return Err(format!("{shown}: name at least one [[models]]"));
        }
        let mut names: Vec<&str> = config.models.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("{shown}: two models are named {:?}", w[0]));
        }
        config.interval_ms().map_err(|e| format!("{shown}: {e}"))?;
        if config.seq == 0 {
            return Err(format!("{shown}: seq must be at least 1"));
        }
        for model in &config.models {
            if let ModelKind::Neural(arch, _) = &model.kind {
                let classes = config.label.classes();
                arch.manifest(config.features.len(), config.seq, classes)
                    .map_err(|e| format!("{shown}: models {:?}: {e}", model.name))?;
            }
        }
        Ok(config)
    }

    /// The bars' interval in ms, or why it cannot be read.
    pub fn interval_ms(&self) -> Result<u32, String> {
        crate::feeds::replay::parse_interval(&self.interval)
            .ok_or_else(|| format!("interval {:?}: use e.g. 1m, 15m, 1h or 1d", self.interval))
    }
}

/// What [`train`] reports as it goes.
pub enum Progress<'a> {
    /// A line for the log: a fold's scores, a calibration, a model's summary.
    Line(&'a str),
    /// An epoch of a network's final training, and the line that tells it.
    Epoch(&'a EpochReport, &'a str),
}

/// Out-of-sample results of one model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelReport {
    /// Its name.
    pub name: String,
    /// Scores over every test window's predictions together.
    pub out_of_sample: Scores,
    /// Scores of each test window: (first test sample's time, scores).
    pub folds: Vec<(i64, Scores)>,
    /// The same folds trained on labels shifted around the sample order (each sample given
    /// another's label, the labels' own runs kept): accuracy should be chance.
    pub shifted: Scores,
    /// Whether that control came out at chance (accuracy at most three standard errors above
    /// its `chance`, counting samples a horizon apart); when it does not, the evaluation leaks,
    /// its scores mean nothing and the model is not written. A sanity check, not a proof: a
    /// model that always predicts one class passes it trivially.
    pub shifted_at_chance: bool,
    /// The samples the written model was trained on (the latest training window).
    pub trained_on: usize,
    /// A network's epochs in that training (the model kept is the best's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub epochs: Vec<EpochReport>,
    /// A network's calibration: the temperature its logits were divided by (fitted on the
    /// validation window, folded into the head).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
}

/// What `stratbox model train` writes to `report.json`.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    /// Samples in the training set.
    pub samples: usize,
    /// The symbols.
    pub symbols: Vec<String>,
    /// The first and last sample's bar close times.
    pub from_ms: i64,
    /// See `from_ms`.
    pub to_ms: i64,
    /// Close time of the last bar any label of the written models' training window reaches:
    /// data judged later must start here (`model evaluate`).
    pub labels_end_ms: i64,
    /// Share of each class among the labels.
    pub class_shares: Vec<f64>,
    /// Test windows.
    pub folds: usize,
    /// Each model.
    pub models: Vec<ModelReport>,
}

/// Trains every model of `config` on `series` (symbol, candles), writes them and
/// `report.json` to `output`; tells `progress` of each fold, model and epoch.
pub fn train(
    config: &TrainConfig,
    series: &[(String, Vec<Candle>)],
    output: &Path,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<TrainReport, String> {
    let spec = DatasetSpec {
        features: config.features.clone(),
        seq: config.seq,
        label: config.label,
        interval_ms: config.interval_ms()?,
    };
    let data = Dataset::build(series, &spec, config.feature_engine.clone())?;
    let folds = config.split.folds(&data.spans).map_err(|e| e.to_string())?;
    let classes = config.label.classes();
    let last = last_rows(&data);
    let labels: Vec<usize> = data.labels.iter().map(|l| l.class).collect();
    let weights = if config.uniqueness_weights {
        uniqueness(&data.spans)
    } else {
        vec![1.0; data.len()]
    };
    let shifted = shift(&labels, config.label.horizon(), config.seed);
    std::fs::create_dir_all(output).map_err(|e| format!("{}: {e}", output.display()))?;
    // Absolute, so the ensemble's table reads the same from wherever the service runs.
    let output = &output
        .canonicalize()
        .map_err(|e| format!("{}: {e}", output.display()))?;
    // A table left by an earlier run into the same directory must not outlive this one.
    let table = output.join("inference.json");
    if table.exists() {
        std::fs::remove_file(&table).map_err(|e| format!("{}: {e}", table.display()))?;
    }
    let mut models = Vec::new();
    let mut members = Vec::new();
    for model in &config.models {
        let windows = matches!(model.kind, ModelKind::Neural(..));
        // Only the inputs the model reads, for the samples `rows`.
        let pick = |rows: &[usize]| {
            if windows {
                (data.x.select(Axis(0), rows), Array2::zeros((0, 0)))
            } else {
                (Array3::zeros((0, 0, 0)), last.select(Axis(0), rows))
            }
        };
        let fit = |rows: &[usize],
                   y: &[usize],
                   epochs: &mut dyn FnMut(&EpochReport)|
         -> Result<(Fitted, Option<f64>), String> {
            let (w3, l2) = pick(rows);
            let xs = Inputs {
                windows: w3.view(),
                last: l2.view(),
            };
            let ys: Vec<usize> = rows.iter().map(|&i| y[i]).collect();
            // Weights of mean 1 in every training set, so the trees' absolute settings
            // (min_child_weight, lambda) mean samples whatever the labels' overlap.
            let sum: f64 = rows.iter().map(|&i| weights[i]).sum();
            let scale = rows.len() as f64 / sum;
            let ws: Vec<f64> = rows.iter().map(|&i| weights[i] * scale).collect();
            let spans: Vec<Span> = rows.iter().map(|&i| data.spans[i]).collect();
            model.fit(xs, &ys, &ws, classes, &spans, epochs)
        };
        let judge = |y: &[usize]| -> Result<(Scores, Vec<(i64, Scores)>), String> {
            let mut all_p = Vec::new();
            let mut all_y = Vec::new();
            let mut per_fold = Vec::new();
            for fold in &folds {
                let (fitted, _) = fit(&fold.train, y, &mut |_| ())?;
                let test: Vec<usize> = fold.test.clone().collect();
                let (w3, l2) = pick(&test);
                let p = fitted.probabilities(Inputs {
                    windows: w3.view(),
                    last: l2.view(),
                });
                let truth: Vec<usize> = test.iter().map(|&i| y[i]).collect();
                per_fold.push((data.times[fold.test.start], Scores::of(p.view(), &truth)));
                all_p.extend(p.iter().copied());
                all_y.extend(truth);
            }
            let p = Array2::from_shape_vec((all_y.len(), classes), all_p).expect("rows of classes");
            Ok((Scores::of(p.view(), &all_y), per_fold))
        };
        let (out_of_sample, per_fold) = judge(&labels)?;
        for (i, (_, s)) in per_fold.iter().enumerate() {
            progress(Progress::Line(&format!(
                "{}: fold {}/{}: accuracy {:.4} (chance {:.4}), log loss {:.4}",
                model.name,
                i + 1,
                folds.len(),
                s.accuracy,
                s.chance,
                s.log_loss
            )));
        }
        let (shifted_scores, _) = judge(&shifted)?;
        let at_chance = at_chance(&shifted_scores, config.label.horizon());
        let latest = latest_window(&config.split, data.len());
        let mut epochs = Vec::new();
        let mut temperature = None;
        // Only a model whose evaluation holds up is written, and joins the ensemble weighted
        // by its out-of-sample log loss as `Ensemble::weights_from_validation` weighs.
        if at_chance {
            let stem = output.join(&model.name);
            let (fitted, fitted_temperature) = fit(&latest, &labels, &mut |e: &EpochReport| {
                let line = format!(
                    "{}: epoch {}/{}: learning rate {:.2e}, training loss {:.4}{}{}",
                    model.name,
                    e.epoch,
                    e.epochs,
                    e.learning_rate,
                    e.train_loss,
                    e.validation_loss
                        .map(|v| format!(", validation loss {v:.4}"))
                        .unwrap_or_default(),
                    if e.best { " (best)" } else { "" }
                );
                progress(Progress::Epoch(e, &line));
                epochs.push(e.clone());
            })?;
            if let Some(t) = fitted_temperature {
                temperature = Some(t);
                progress(Progress::Line(&format!(
                    "{}: calibrated on the validation window: logits / {t:.4}",
                    model.name
                )));
            }
            fitted.export(&stem)?;
            members.push(MemberConfig {
                name: model.name.clone(),
                manifest: stem.with_extension("json"),
                weights: stem.with_extension("safetensors"),
                weight: 1.0 / out_of_sample.log_loss.max(1e-9),
                features: config.features.clone(),
                seq: model.kind.seq(config.seq),
            });
        }
        progress(Progress::Line(&format!(
            "{}: out of sample accuracy {:.4} (chance {:.4}, base rate {:.4}), log loss {:.4} (prior {:.4}), Brier {:.4}; shifted labels {:.4} (chance {:.4}){}",
            model.name,
            out_of_sample.accuracy,
            out_of_sample.chance,
            out_of_sample.base_rate,
            out_of_sample.log_loss,
            out_of_sample.prior_log_loss,
            out_of_sample.brier,
            shifted_scores.accuracy,
            shifted_scores.chance,
            if at_chance {
                ""
            } else {
                " (ABOVE CHANCE: the evaluation leaks; not written)"
            }
        )));
        models.push(ModelReport {
            name: model.name.clone(),
            out_of_sample,
            folds: per_fold,
            shifted: shifted_scores,
            shifted_at_chance: at_chance,
            trained_on: latest.len(),
            epochs,
            temperature,
        });
    }
    let mut class_shares = vec![0.0; classes];
    for &k in &labels {
        class_shares[k] += 1.0 / labels.len() as f64;
    }
    let report = TrainReport {
        samples: data.len(),
        symbols: data.symbols.clone(),
        from_ms: data.times[0],
        to_ms: *data.times.last().expect("samples"),
        labels_end_ms: latest_window(&config.split, data.len())
            .iter()
            .map(|&i| (data.spans[i].end as i64 + 1) * i64::from(spec.interval_ms))
            .max()
            .unwrap_or(0),
        class_shares,
        folds: folds.len(),
        models,
    };
    if !members.is_empty() {
        let ensemble = InferenceConfig {
            models: members,
            ..InferenceConfig::default()
        };
        let path = output.join("inference.json");
        let json = serde_json::to_string_pretty(&ensemble).expect("the table serialises");
        std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let path = output.join("report.json");
    let json = serde_json::to_string_pretty(&report).expect("the report serialises");
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(report)
}

/// The last row of every sample's window, as f64 (samples, features).
fn last_rows(data: &Dataset) -> Array2<f64> {
    let seq = data.x.len_of(Axis(1));
    data.x.index_axis(Axis(1), seq - 1).mapv(f64::from)
}

/// The samples the deployed model learns from: the latest training window of the scheme (the
/// last `train` samples when rolling, every sample otherwise); no test window follows it, so
/// nothing is purged.
fn latest_window(split: &SplitSpec, n: usize) -> Vec<usize> {
    match *split {
        SplitSpec::WalkForward {
            train,
            expanding: false,
            ..
        } => (n.saturating_sub(train)..n).collect(),
        _ => (0..n).collect(),
    }
}

/// Whether `scores` of predictions against shifted labels are at chance: accuracy at most
/// three standard errors above its `chance`, counting samples a label horizon apart (overlapping
/// labels are not independent).
pub(super) fn at_chance(scores: &Scores, horizon: usize) -> bool {
    let n = scores.samples as f64 / horizon as f64;
    let chance = scores.chance;
    let error = (chance * (1.0 - chance) / n).sqrt();
    scores.accuracy - chance <= 3.0 * error
}

/// `labels` turned around the sample order by a seeded offset of at least a label's horizon
/// (and as far from the end): each sample gets another's label, while the labels keep their
/// own overlap and runs, which a plain shuffle would break (so a leak through overlapping
/// labels still shows).
pub(super) fn shift(labels: &[usize], horizon: usize, seed: u64) -> Vec<usize> {
    let n = labels.len();
    let room = n.saturating_sub(2 * horizon).max(1);
    let mut rng = crate::rng::Rng(seed);
    let offset = (horizon + (rng.next_u64() % room as u64) as usize) % n.max(1);
    (0..n).map(|i| labels[(i + offset) % n]).collect()
}
