//! The feature engine: every named feature of every symbol, updated as events arrive and never
//! looking ahead.
//!
//! On each closed bar a symbol's row is computed in one pass: basic price features, the TA-Lib
//! functions of [`stratbox_ta`] (every one at its defaults plus the configured extra specs is
//! named; a symbol runs those something reads, started over its kept bars when first read, see
//! the `technical` module), the flow features
//! of the bar's trades and book updates, the latest book features, sentiment and macro values as
//! of the bar's close, and cross-market features against the reference symbols. Rows are kept in a
//! per-symbol history from which transforms ([`preprocess`]) and model input windows
//! ([`FeatureEngine::windows`]) are read.

pub mod batch;
pub mod catalog;
pub mod cross;
mod history;
pub mod lexicon;
pub mod microstructure;
pub mod preprocess;
pub mod sentiment;
pub mod social;
mod technical;

use std::collections::VecDeque;

use ndarray::{Array2, Array3};
use stratbox_ta::{Spec, registry};

use crate::feeds::sources::SourceEvent;
use crate::feeds::{BookTop, TradePrint};
use crate::model::{Bar, SymbolId, SymbolTable};
use catalog::{Catalog, Source};
use cross::{BarPoint, CROSS_FEATURES, CrossPair, PAIRING_DEPTH};
use history::History;
use microstructure::{BOOK_FEATURES, FLOW_FEATURES, MicroConfig, Microstructure};
use preprocess::Transform;
use sentiment::{SENTIMENT_FEATURES, SourceState};
use social::{SOCIAL_FEATURES, SocialConfig, SocialState};
use technical::{Technical, TechnicalLayout};

/// What the feature engine computes besides its defaults.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// TA-Lib specs computed besides every function at its defaults (`RSI_7`, `BBANDS_50_2_2_0`).
    pub extra: Vec<String>,
    /// Symbols the cross-market features of every symbol are measured against.
    pub references: Vec<String>,
    /// Macro series (`source.series`, e.g. `fred.DGS10`) published as features.
    pub macro_series: Vec<String>,
    /// Social sources published as features per symbol (`social.<source>.<name>`).
    pub social: SocialConfig,
    /// Paired bars the cross-market statistics cover.
    pub cross_window: usize,
    /// Rows of history kept per symbol for transforms and model windows (the market keeps at
    /// least as many bars, to start an indicator over).
    pub history: usize,
    /// Microstructure parameters.
    pub micro: MicroConfig,
    /// Run every TA-Lib indicator on every bar. Off (the default), a symbol's bar runs only the
    /// indicators a strategy or a model has read, each started over the symbol's kept bars when
    /// first read, which gives the same values while no kept bar has been dropped.
    pub eager: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            extra: Vec::new(),
            references: Vec::new(),
            macro_series: vec![
                "fred.DGS10".into(),
                "fred.CPIAUCSL".into(),
                "fred.GDP".into(),
            ],
            social: SocialConfig::default(),
            cross_window: 50,
            history: 256,
            micro: MicroConfig::default(),
            eager: false,
        }
    }
}

/// Basic bar features: name, lookback, description.
const BASIC_FEATURES: [(&str, usize, &str); 12] = [
    ("open", 0, "opening price of the last closed bar"),
    ("high", 0, "highest price of the last closed bar"),
    ("low", 0, "lowest price of the last closed bar"),
    ("close", 0, "closing price of the last closed bar"),
    ("volume", 0, "base volume of the last closed bar"),
    ("ret_1", 1, "simple return over the last bar"),
    ("ret_5", 5, "simple return over the last 5 bars"),
    ("ret_20", 20, "simple return over the last 20 bars"),
    (
        "rv_5",
        5,
        "realised volatility: root of the summed squared log returns of 5 bars",
    ),
    ("rv_20", 20, "realised volatility over 20 bars"),
    ("rv_60", 60, "realised volatility over 60 bars"),
    (
        "amihud_20",
        20,
        "Amihud illiquidity: mean |log return| per unit of quote volume, 20 bars",
    ),
];
const RETURN_DEPTH: usize = 61;

/// Column offsets of each feature family.
#[derive(Clone, Copy, Debug)]
struct Layout {
    flow: usize,
    book: usize,
    sentiment: usize,
    macro_: usize,
    social: usize,
    cross: usize,
}

/// One symbol's state.
struct SymbolFeatures {
    values: Vec<f64>,
    technical: Technical,
    micro: Microstructure,
    pairs: Vec<CrossPair>,
    /// (close, quote volume, log return from the previous close) of the recent bars.
    closes: VecDeque<(f64, f64, f64)>,
    recent: VecDeque<BarPoint>,
    history: History,
}

/// One input column of a model window: a catalog feature, or a transform of one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowInput {
    column: usize,
    transform: Option<Transform>,
}

impl WindowInput {
    /// Catalog column `column`, untransformed.
    pub fn plain(column: usize) -> Self {
        Self {
            column,
            transform: None,
        }
    }

    /// The catalog column it reads.
    pub fn column(&self) -> usize {
        self.column
    }
}

/// Every feature of every symbol.
pub struct FeatureEngine {
    config: FeatureConfig,
    catalog: Catalog,
    technical: TechnicalLayout,
    layout: Layout,
    /// Boxed: a bar takes its symbol's state out and puts it back, a pointer's move.
    symbols: Vec<Option<Box<SymbolFeatures>>>,
    sources: SourceState,
    social: SocialState,
}

impl std::fmt::Debug for FeatureEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureEngine")
            .field("features", &self.catalog.len())
            .finish()
    }
}

impl Default for FeatureEngine {
    fn default() -> Self {
        Self::new(FeatureConfig::default()).expect("the default configuration is valid")
    }
}

impl FeatureEngine {
    /// An engine computing the defaults and what `config` adds; refuses bad specs by name.
    pub fn new(config: FeatureConfig) -> Result<Self, String> {
        let mut catalog = Catalog::default();
        for (name, lookback, description) in BASIC_FEATURES {
            catalog.add(name, "", lookback, Source::Bars, description);
        }
        let mut specs: Vec<Spec> = registry::all()
            .iter()
            .map(|f| Spec::with_defaults(f))
            .collect();
        for text in &config.extra {
            let spec = Spec::parse(text).map_err(|e| format!("features.extra: {e}"))?;
            if !specs.iter().any(|s| s.name() == spec.name()) {
                specs.push(spec);
            }
        }
        let technical = catalog.len();
        for spec in &specs {
            catalog.add_spec(spec);
        }
        let flow = catalog.len();
        let kyle = config.micro.kyle_bars;
        for (i, (name, description)) in FLOW_FEATURES.into_iter().enumerate() {
            let (params, lookback) = match i {
                4 => (
                    format!(
                        "buckets={} bucket_volume={}",
                        config.micro.vpin_buckets, config.micro.vpin_bucket_volume
                    ),
                    config.micro.vpin_buckets,
                ),
                5 => (format!("bars={kyle}"), kyle),
                _ => (String::new(), 0),
            };
            catalog.add(name, params, lookback, Source::Trades, description);
        }
        let book = catalog.len();
        for (name, description) in BOOK_FEATURES {
            let params = if name.contains("impact") {
                format!("notional={}", config.micro.impact_notional)
            } else {
                String::new()
            };
            catalog.add(name, params, 0, Source::Book, description);
        }
        let sentiment = catalog.len();
        for (name, description) in SENTIMENT_FEATURES {
            catalog.add(name, "", 0, Source::Sentiment, description);
        }
        let macro_ = catalog.len();
        for series in &config.macro_series {
            catalog.add(
                format!("macro.{series}"),
                "",
                0,
                Source::Macro,
                format!("latest published value of {series}"),
            );
            catalog.add(
                format!("macro.{series}.change"),
                "",
                0,
                Source::Macro,
                format!("change of {series} from its previous period"),
            );
        }
        let social = catalog.len();
        for (i, source) in config.social.sources.iter().enumerate() {
            if source.is_empty() || config.social.sources[..i].contains(source) {
                return Err(format!(
                    "features.social.sources: {source:?} is empty or listed twice"
                ));
            }
            for (name, description) in SOCIAL_FEATURES {
                catalog.add(
                    format!("social.{source}.{name}"),
                    format!("window={}m", config.social.window_minutes),
                    0,
                    Source::Social,
                    description,
                );
            }
        }
        if config.social.window_minutes == 0 {
            return Err("features.social.window_minutes must be at least 1".into());
        }
        let cross = catalog.len();
        for reference in &config.references {
            for (suffix, description) in CROSS_FEATURES {
                catalog.add(
                    format!("cross.{reference}.{suffix}"),
                    format!("window={}", config.cross_window),
                    config.cross_window,
                    Source::Cross(reference.clone()),
                    description,
                );
            }
        }
        let layout = Layout {
            flow,
            book,
            sentiment,
            macro_,
            social,
            cross,
        };
        Ok(Self {
            technical: TechnicalLayout::new(specs, technical, config.eager),
            catalog,
            layout,
            symbols: Vec::new(),
            sources: SourceState::default(),
            social: SocialState::new(config.social.clone()),
            config,
        })
    }

    /// Rows of history kept per symbol.
    pub fn history_len(&self) -> usize {
        self.config.history
    }

    /// Rows of history a window of `len` rows over `inputs` needs (the deepest transform's
    /// look-back added).
    pub fn rows_needed(inputs: &[WindowInput], len: usize) -> usize {
        len + inputs
            .iter()
            .filter_map(|i| i.transform.and_then(|t| t.depth()))
            .max()
            .unwrap_or(1)
            .saturating_sub(1)
    }

    /// The feature catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn state(&mut self, symbol: SymbolId) -> &mut SymbolFeatures {
        let i = symbol as usize;
        if self.symbols.len() <= i {
            self.symbols.resize_with(i + 1, || None);
        }
        let (technical, catalog, config) = (&self.technical, &self.catalog, &self.config);
        self.symbols[i].get_or_insert_with(|| {
            let mut history = History::new(catalog.len(), technical.range(), config.history);
            let technical = technical.symbol(&mut history);
            Box::new(SymbolFeatures {
                values: vec![f64::NAN; catalog.len()],
                technical,
                micro: Microstructure::new(config.micro.clone()),
                pairs: config
                    .references
                    .iter()
                    .map(|_| CrossPair::new(config.cross_window))
                    .collect(),
                closes: VecDeque::with_capacity(RETURN_DEPTH + 1),
                recent: VecDeque::with_capacity(PAIRING_DEPTH + 1),
                history,
            })
        })
    }

    /// Takes a public trade.
    pub fn on_trade(&mut self, trade: &TradePrint) {
        self.state(trade.symbol).micro.on_trade(trade);
    }

    /// Takes a book update; the book features follow it at once.
    pub fn on_book(&mut self, book: &BookTop) {
        let first = self.layout.book;
        let s = self.state(book.symbol);
        s.micro.on_book(book);
        s.values[first..first + BOOK_FEATURES.len()].copy_from_slice(s.micro.book_values());
    }

    /// Takes a non-market source's event; a social post's mentions are found among
    /// `symbols`.
    pub fn on_source(&mut self, event: &SourceEvent, symbols: &SymbolTable) {
        match event {
            SourceEvent::Post(post) => self.social.record(post, symbols),
            SourceEvent::Polled(poll) => self.social.polled(&poll.source, poll.known_at),
            other => self.sources.record(other),
        }
    }

    /// Takes a closed bar and computes the symbol's row for it.
    pub fn on_bar(&mut self, bar: &Bar, symbols: &SymbolTable) {
        let layout = self.layout;
        let now = bar.close_time();
        self.state(bar.symbol);
        // Take the symbol's state out so the references' states can be read beside it.
        let mut s = self.symbols[bar.symbol as usize]
            .take()
            .expect("created above");
        let v = &mut s.values;
        let log_return = s
            .closes
            .back()
            .map_or(f64::NAN, |&(c, _, _)| log_ratio(bar.close, c));
        s.closes
            .push_back((bar.close, bar.close * bar.volume, log_return));
        if s.closes.len() > RETURN_DEPTH {
            s.closes.pop_front();
        }
        basics(bar, &s.closes, &mut v[..BASIC_FEATURES.len()]);
        s.technical.next(bar, v);
        let flow = layout.flow..layout.flow + FLOW_FEATURES.len();
        s.micro.close_bar(bar.interval_ms, log_return, &mut v[flow]);
        let sentiment = layout.sentiment..layout.sentiment + SENTIMENT_FEATURES.len();
        self.sources.sentiment(now, &mut v[sentiment]);
        for (i, series) in self.config.macro_series.iter().enumerate() {
            let (value, change) = self.sources.series(series);
            v[layout.macro_ + 2 * i] = value;
            v[layout.macro_ + 2 * i + 1] = change;
        }
        let social =
            layout.social..layout.social + self.config.social.sources.len() * SOCIAL_FEATURES.len();
        self.social.features(bar.symbol, now, &mut v[social]);
        let point = BarPoint {
            open_time: bar.open_time,
            log_return,
            log_price: bar.close.ln(),
        };
        s.recent.push_back(point);
        if s.recent.len() > PAIRING_DEPTH {
            s.recent.pop_front();
        }
        let empty = VecDeque::new();
        for (i, (pair, reference)) in s.pairs.iter_mut().zip(&self.config.references).enumerate() {
            let first = layout.cross + i * CROSS_FEATURES.len();
            let recent = match symbols.id(reference) {
                Some(id) if id == bar.symbol => &s.recent,
                Some(id) => self
                    .symbols
                    .get(id as usize)
                    .and_then(Option::as_ref)
                    .map_or(&empty, |r| &r.recent),
                None => &empty,
            };
            pair.update(point, recent, &mut v[first..first + CROSS_FEATURES.len()]);
        }
        s.history.push(v);
        self.symbols[bar.symbol as usize] = Some(s);
    }

    /// What `name` (a feature or `transform:feature`) reads, or an error naming what is
    /// accepted.
    pub fn input(&self, name: &str) -> Result<WindowInput, String> {
        let (transform, feature) = match Transform::parse(name) {
            Some(parsed) => {
                let (t, f) = parsed?;
                (Some(t), f)
            }
            None => (None, name),
        };
        let column = self
            .catalog
            .column(feature)
            .ok_or_else(|| self.catalog.unknown(feature))?;
        Ok(WindowInput { column, transform })
    }

    /// Makes `symbol` compute `column` from now on. A TA-Lib column the symbol does not run yet
    /// is started over `bars`, the symbol's kept bars (oldest first, ending with its last bar),
    /// and its current value and kept history are filled in; other columns are always computed.
    /// `symbol` must be a known one (its state is created if it has seen no event yet).
    pub fn require(&mut self, symbol: SymbolId, column: usize, bars: &VecDeque<Bar>) {
        let Some(spec) = self.technical.spec_of(column) else {
            return;
        };
        self.state(symbol);
        let s = self.symbols[symbol as usize]
            .as_mut()
            .expect("created above");
        s.technical
            .start(&self.technical, spec, bars, &mut s.values, &mut s.history);
    }

    /// Whether reading `column` of `symbol` needs [`FeatureEngine::require`] first: a TA-Lib
    /// column the symbol does not run (or a symbol with no state yet).
    pub fn needs_start(&self, symbol: SymbolId, column: usize) -> bool {
        let Some(spec) = self.technical.spec_of(column) else {
            return false;
        };
        self.symbols
            .get(symbol as usize)
            .and_then(Option::as_ref)
            .is_none_or(|s| !s.technical.is_started(spec))
    }

    /// Makes every symbol compute `inputs` (a model's): symbols seen so far start them now over
    /// their kept bars, `bars[symbol]`, as [`FeatureEngine::require`] does; later ones from their
    /// first bar.
    pub fn require_everywhere(&mut self, inputs: &[WindowInput], bars: &[VecDeque<Bar>]) {
        let none = VecDeque::new();
        for input in inputs {
            let Some(spec) = self.technical.spec_of(input.column) else {
                continue; // computed on every bar anyway
            };
            self.technical.always(spec);
            for symbol in 0..self.symbols.len() {
                if self.symbols[symbol].is_some() {
                    let kept = bars.get(symbol).unwrap_or(&none);
                    self.require(symbol as SymbolId, input.column, kept);
                }
            }
        }
    }

    /// The current value of a feature of `symbol` (`Ok(None)` while it has none), by name or
    /// `transform:name`; an unknown name is an error naming what is accepted. A TA-Lib feature
    /// the symbol does not compute reads as missing: [`FeatureEngine::require`] it first.
    pub fn value(&self, symbol: SymbolId, name: &str) -> Result<Option<f64>, String> {
        Ok(self.value_of(symbol, self.input(name)?))
    }

    /// The current value of `input` of `symbol`, as [`FeatureEngine::value`] gives it.
    pub fn value_of(&self, symbol: SymbolId, input: WindowInput) -> Option<f64> {
        let state = self.symbols.get(symbol as usize)?.as_ref()?;
        let WindowInput { column, transform } = input;
        let Some(transform) = transform else {
            return Some(state.values[column]).filter(|v| !v.is_nan());
        };
        let depth = transform
            .depth()
            .unwrap_or(state.history.len())
            .min(state.history.len());
        let rows = state.history.len();
        let history: Vec<f64> = state.history.column(column, rows - depth..rows).collect();
        transform.apply(&history).filter(|v| !v.is_nan())
    }

    /// The latest value of a polled source's series by `source.series` name (`fred.DGS10`).
    pub fn source_value(&self, name: &str) -> Option<f64> {
        Some(self.sources.series(name).0).filter(|v| !v.is_nan())
    }

    /// Model inputs named by `names` (catalog names, or `transform:name` such as
    /// `zscore_64:ret_1`), or an error naming the first unknown one.
    pub fn columns(&self, names: &[String]) -> Result<Vec<WindowInput>, String> {
        names.iter().map(|n| self.input(n)).collect()
    }

    /// The last `len` rows of `inputs` for each of `symbols`, oldest first, as a (len, inputs)
    /// matrix, with a mask of the values that were missing (they are 0 in the matrix). A
    /// transformed input at row t is the transform over the history up to t, exactly what
    /// [`FeatureEngine::value`] gave when t was the latest bar. `None` for a symbol whose history
    /// is shorter than `len` plus the deepest transform's look-back.
    pub fn windows(
        &self,
        symbols: &[SymbolId],
        inputs: &[WindowInput],
        len: usize,
    ) -> Vec<Option<(Array2<f32>, Array2<bool>)>> {
        let needed = Self::rows_needed(inputs, len);
        let mut scratch = Vec::new();
        symbols
            .iter()
            .map(|&id| {
                let state = self.symbols.get(id as usize)?.as_ref()?;
                let rows = state.history.len();
                if rows < needed || len == 0 {
                    return None;
                }
                let mut values = Array2::<f32>::zeros((len, inputs.len()));
                let mut missing = Array2::<bool>::from_elem((len, inputs.len()), false);
                for t in 0..len {
                    let end = rows - len + t + 1;
                    for (k, input) in inputs.iter().enumerate() {
                        let value = match input.transform {
                            None => state.history.value(end - 1, input.column),
                            Some(transform) => {
                                let start = transform.depth().map_or(0, |d| end - d.min(end));
                                scratch.clear();
                                scratch.extend(state.history.column(input.column, start..end));
                                transform.apply(&scratch).unwrap_or(f64::NAN)
                            }
                        };
                        if value.is_finite() {
                            values[[t, k]] = value as f32;
                        } else {
                            missing[[t, k]] = true;
                        }
                    }
                }
                Some((values, missing))
            })
            .collect()
    }

    /// The windows of every symbol in `symbols` that has enough history, stacked into one
    /// (batch, len, columns) tensor, with the symbols it holds.
    pub fn batch(
        &self,
        symbols: &[SymbolId],
        columns: &[WindowInput],
        len: usize,
    ) -> (Vec<SymbolId>, Array3<f32>) {
        let windows = self.windows(symbols, columns, len);
        let ready: Vec<(SymbolId, Array2<f32>)> = symbols
            .iter()
            .zip(windows)
            .filter_map(|(&s, w)| w.map(|(v, _)| (s, v)))
            .collect();
        let mut out = Array3::<f32>::zeros((ready.len(), len, columns.len()));
        for (b, (_, w)) in ready.iter().enumerate() {
            out.index_axis_mut(ndarray::Axis(0), b).assign(w);
        }
        (ready.into_iter().map(|(s, _)| s).collect(), out)
    }

    /// Latest values of every column of `symbol`, if it has seen a bar (NaN where a value is
    /// missing, including the TA-Lib columns the symbol does not run).
    pub fn row(&self, symbol: SymbolId) -> Option<&[f64]> {
        self.symbols
            .get(symbol as usize)?
            .as_ref()
            .map(|s| s.values.as_slice())
    }
}

fn log_ratio(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 0.0 {
        (a / b).ln()
    } else {
        f64::NAN
    }
}

/// The basic features from the recent (close, quote volume, log return), the newest last.
fn basics(bar: &Bar, closes: &VecDeque<(f64, f64, f64)>, out: &mut [f64]) {
    out[..5].copy_from_slice(&[bar.open, bar.high, bar.low, bar.close, bar.volume]);
    let n = closes.len();
    let ret = |k: usize| {
        if n > k {
            let then = closes[n - 1 - k].0;
            if then != 0.0 {
                bar.close / then - 1.0
            } else {
                f64::NAN
            }
        } else {
            f64::NAN
        }
    };
    out[5] = ret(1);
    out[6] = ret(5);
    out[7] = ret(20);
    let log_returns = |k: usize| closes.range(n - k..).map(|c| c.2);
    let rv = |k: usize| {
        if n > k {
            log_returns(k).map(|r| r * r).sum::<f64>().sqrt()
        } else {
            f64::NAN
        }
    };
    out[8] = rv(5);
    out[9] = rv(20);
    out[10] = rv(60);
    out[11] = if n > 20 {
        let mut total = 0.0;
        for &(_, dollar, r) in closes.range(n - 20..) {
            total += if dollar > 0.0 {
                r.abs() / dollar
            } else {
                f64::NAN
            };
        }
        total / 20.0
    } else {
        f64::NAN
    };
}
