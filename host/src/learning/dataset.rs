//! Training sets from candles, through the feature engine's windows: the same code that feeds
//! inference, so a model is trained on exactly what it will be given.
//!
//! Each symbol's candles run through a [`FeatureEngine`] bar by bar; after each bar the
//! symbol's window of `seq` rows of the model's inputs is taken as that bar's sample (values
//! missing in its last row make no sample), and its label from the bars after it. Samples of
//! every symbol are merged in time order; their spans are on the bar grid of the interval
//! (open time / interval), so splits purge across symbols by time and a gap in the candles
//! lengthens the spans across it.

use crate::features::{FeatureConfig, FeatureEngine};
use crate::feeds::candles::Candle;
use crate::model::SymbolTable;
use ndarray::{Array3, Axis};
use rayon::prelude::*;
use stratbox_learn::labels::{Bars, Label, LabelSpec};
use stratbox_learn::split::Span;

/// What a training set holds.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetSpec {
    /// The model inputs, by feature name (`transform:name` allowed), in order.
    pub features: Vec<String>,
    /// Rows (bars) per sample's window.
    pub seq: usize,
    /// What each sample is labelled with.
    pub label: LabelSpec,
    /// The bars' interval, ms.
    pub interval_ms: u32,
}

/// One sample before they are merged.
struct Row {
    /// On the bar grid: the sample's bar, and its label's last (its bar plus the bars the label
    /// looked ahead).
    span: Span,
    symbol: usize,
    window: ndarray::Array2<f32>,
    label: Label,
    time: i64,
}

/// Samples, oldest first.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Inputs (samples, seq, features).
    pub x: Array3<f32>,
    /// Each sample's label.
    pub labels: Vec<Label>,
    /// When each sample is made and its label completes, on the interval's bar grid.
    pub spans: Vec<Span>,
    /// Each sample's bar's close time (ms since the epoch).
    pub times: Vec<i64>,
    /// Each sample's symbol (an index into `symbols`).
    pub symbol: Vec<usize>,
    /// The symbols, in the order they were given.
    pub symbols: Vec<String>,
}

/// Why `candles` are not bars of `interval_ms`, if they are not: out of order, repeated, or
/// closer together than the interval (another interval's candles).
fn check_interval(name: &str, candles: &[Candle], interval_ms: u32) -> Result<(), String> {
    let step = i64::from(interval_ms);
    match candles
        .windows(2)
        .map(|w| w[1].open_time - w[0].open_time)
        .find(|&gap| gap < step || gap % step != 0)
    {
        None => Ok(()),
        Some(gap) => Err(format!(
            "{name}: two candles open {gap} ms apart, not a multiple of the interval's {step} ms \
             (another interval's candles, or out of order)"
        )),
    }
}

impl Dataset {
    /// Samples of `series` (symbol name, candles oldest first) as `spec` says, with the feature
    /// engine configured by `features` (its history is raised to what the windows need).
    pub fn build(
        series: &[(String, Vec<Candle>)],
        spec: &DatasetSpec,
        features: FeatureConfig,
    ) -> Result<Dataset, String> {
        if spec.seq == 0 || spec.features.is_empty() {
            return Err("a training set needs at least one feature and a window of 1 bar".into());
        }
        spec.label.check().map_err(|e| e.to_string())?;
        let probe = FeatureEngine::new(features.clone())?;
        let inputs = probe.columns(&spec.features)?;
        let needed = FeatureEngine::rows_needed(&inputs, spec.seq);
        let config = FeatureConfig {
            history: features.history.max(needed + 1),
            ..features
        };
        let mut symbols = SymbolTable::default();
        for (name, _) in series {
            symbols.intern(name);
        }
        // Each symbol runs through its own engine: the symbols in parallel.
        let per_symbol: Vec<Result<Vec<Row>, String>> = series
            .par_iter()
            .enumerate()
            .map(|(k, (name, candles))| {
                symbol_rows(k, name, candles, spec, &config, &inputs, &symbols)
            })
            .collect();
        // The first symbol's error in the given order, whichever thread met it first.
        let per_symbol: Vec<Vec<Row>> = per_symbol.into_iter().collect::<Result<_, _>>()?;
        let mut rows: Vec<Row> = per_symbol.into_iter().flatten().collect();
        if rows.is_empty() {
            return Err(format!(
                "no sample: the candles are shorter than the {} bars the windows need plus the label's {} bars ahead",
                needed,
                spec.label.horizon()
            ));
        }
        rows.sort_by_key(|r| (r.span.start, r.symbol));
        let mut x = Array3::<f32>::zeros((rows.len(), spec.seq, spec.features.len()));
        for (i, row) in rows.iter().enumerate() {
            x.index_axis_mut(Axis(0), i).assign(&row.window);
        }
        Ok(Dataset {
            x,
            labels: rows.iter().map(|r| r.label).collect(),
            spans: rows.iter().map(|r| r.span).collect(),
            times: rows.iter().map(|r| r.time).collect(),
            symbol: rows.iter().map(|r| r.symbol).collect(),
            symbols: series.iter().map(|(n, _)| n.clone()).collect(),
        })
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The samples of one symbol (`k`-th of the series, `name`), through its own feature engine.
fn symbol_rows(
    k: usize,
    name: &str,
    candles: &[Candle],
    spec: &DatasetSpec,
    config: &FeatureConfig,
    inputs: &[crate::features::WindowInput],
    symbols: &SymbolTable,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut engine = FeatureEngine::new(config.clone())?;
    engine.require_everywhere(inputs, &[]);
    let id = symbols
        .id(name)
        .ok_or_else(|| format!("{name}: not interned"))?;
    let high: Vec<f64> = candles.iter().map(|c| c.high.to_f64()).collect();
    let low: Vec<f64> = candles.iter().map(|c| c.low.to_f64()).collect();
    let close: Vec<f64> = candles.iter().map(|c| c.close.to_f64()).collect();
    let labels = spec
        .label
        .labels(Bars {
            high: &high,
            low: &low,
            close: &close,
        })
        .map_err(|e| format!("{name}: {e}"))?;
    check_interval(name, candles, spec.interval_ms)?;
    let grid = |c: &Candle| {
        usize::try_from(c.open_time / i64::from(spec.interval_ms))
            .map_err(|_| format!("{name}: a candle opens before 1970"))
    };
    for (t, candle) in candles.iter().enumerate() {
        let bar = candle.to_bar(id, spec.interval_ms);
        engine.on_bar(&bar, symbols);
        let Some(label) = labels[t] else { continue };
        let Some(Some((window, missing))) =
            engine.windows(&[id], inputs, spec.seq).into_iter().next()
        else {
            continue;
        };
        // A value still missing in the row the models read most (the last) would be a
        // 0 that means nothing: no sample until every input has one.
        if missing.row(spec.seq - 1).iter().any(|&m| m) {
            continue;
        }
        rows.push(Row {
            // On the time grid, so a gap in the candles lengthens the span it lies in.
            span: Span {
                start: grid(candle)?,
                end: grid(&candles[label.end])?,
            },
            symbol: k,
            window,
            label,
            time: bar.close_time(),
        });
    }
    Ok(rows)
}
