//! Every function this crate implements, with TA-Lib's name, parameters and outputs.

use std::sync::OnceLock;

use crate::functions;
use crate::indicator::Indicator;
use crate::spec::SpecError;

/// TA-Lib's function groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// Moving averages, bands and other overlays on price.
    OverlapStudies,
    /// Oscillators and trend-strength measures.
    MomentumIndicators,
    /// Functions of volume.
    VolumeIndicators,
    /// Ranges and volatility measures.
    VolatilityIndicators,
    /// Per-bar transforms of OHLC.
    PriceTransform,
    /// The Hilbert-transform cycle measures.
    CycleIndicators,
    /// Regression, correlation, variance and order statistics.
    StatisticFunctions,
    /// Candlestick patterns.
    PatternRecognition,
}

impl Group {
    /// The group's name as `talib.get_function_groups()` spells it.
    pub fn talib_name(self) -> &'static str {
        match self {
            Group::OverlapStudies => "Overlap Studies",
            Group::MomentumIndicators => "Momentum Indicators",
            Group::VolumeIndicators => "Volume Indicators",
            Group::VolatilityIndicators => "Volatility Indicators",
            Group::PriceTransform => "Price Transform",
            Group::CycleIndicators => "Cycle Indicators",
            Group::StatisticFunctions => "Statistic Functions",
            Group::PatternRecognition => "Pattern Recognition",
        }
    }
}

/// The kind of value a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number (periods).
    Integer,
    /// A real number (multipliers, limits).
    Real,
    /// A moving-average type, 0..=13 as [`crate::blocks::ma::MaType`] numbers them.
    MaType,
}

/// One optional input of a function, in TA-Lib's order.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// TA-Lib's parameter name (`timeperiod`, `nbdevup`, ...).
    pub name: &'static str,
    /// The kind of value.
    pub kind: ParamKind,
    /// TA-Lib's default.
    pub default: f64,
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
}

/// TA-Lib's largest period.
pub const MAX_PERIOD: f64 = 100_000.0;
/// TA-Lib's bound on real parameters (`TA_REAL_MAX`).
pub const MAX_REAL: f64 = 3e37;

impl Param {
    /// A period parameter: a whole number from `min` to 100000.
    pub const fn period(name: &'static str, default: u32, min: u32) -> Self {
        Self {
            name,
            kind: ParamKind::Integer,
            default: default as f64,
            min: min as f64,
            max: MAX_PERIOD,
        }
    }

    /// A real parameter from `min` to `max`.
    pub const fn real(name: &'static str, default: f64, min: f64, max: f64) -> Self {
        Self {
            name,
            kind: ParamKind::Real,
            default,
            min,
            max,
        }
    }

    /// A moving-average type parameter.
    pub const fn ma_type(name: &'static str, default: u8) -> Self {
        Self {
            name,
            kind: ParamKind::MaType,
            default: default as f64,
            min: 0.0,
            max: 13.0,
        }
    }

    /// Checks one value against this parameter.
    pub fn check(&self, value: f64) -> Result<(), String> {
        if !value.is_finite() {
            return Err(format!(
                "{} must be a finite number, got {value}",
                self.name
            ));
        }
        if self.kind != ParamKind::Real && value.fract() != 0.0 {
            return Err(format!("{} must be a whole number, got {value}", self.name));
        }
        if value < self.min || value > self.max {
            return Err(format!(
                "{} must be within {}..={}, got {value}",
                self.name,
                crate::spec::shortest(self.min),
                crate::spec::shortest(self.max)
            ));
        }
        Ok(())
    }
}

/// A price field an indicator reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Opening price.
    Open,
    /// Highest price.
    High,
    /// Lowest price.
    Low,
    /// Closing price.
    Close,
    /// Volume.
    Volume,
}

/// One function: its metadata and how to build it from parameter values.
pub struct Function {
    /// TA-Lib's name (`SMA`, `BBANDS`, `CDLDOJI`).
    pub name: &'static str,
    /// TA-Lib's group.
    pub group: Group,
    /// One line saying what it computes.
    pub description: &'static str,
    /// The bar fields it reads (TA-Lib's default price inputs).
    pub inputs: &'static [Field],
    /// Optional inputs in TA-Lib's order.
    pub params: &'static [Param],
    /// Output names in TA-Lib's order (`real` for single-output functions).
    pub outputs: &'static [&'static str],
    /// Builds an indicator from one value per parameter, already checked.
    pub build: fn(&[f64]) -> Box<dyn Indicator>,
}

impl Function {
    /// TA-Lib's defaults for every parameter.
    pub fn defaults(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.default).collect()
    }

    /// Builds the function with `values` (one per parameter), checking every value first.
    pub fn build(&self, values: &[f64]) -> Result<Box<dyn Indicator>, SpecError> {
        if values.len() != self.params.len() {
            return Err(SpecError::Arity {
                name: self.name.to_string(),
                expected: self
                    .params
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", "),
                got: values.len(),
            });
        }
        for (param, value) in self.params.iter().zip(values) {
            param.check(*value).map_err(|reason| SpecError::Param {
                name: self.name.to_string(),
                reason,
            })?;
        }
        Ok((self.build)(values))
    }

    /// The lookback with `values` (TA-Lib's index of the first valid output).
    pub fn lookback(&self, values: &[f64]) -> Result<usize, SpecError> {
        Ok(self.build(values)?.lookback())
    }
}

/// Every function, by group in TA-Lib's group order, then by name.
pub fn all() -> &'static [&'static Function] {
    static ALL: OnceLock<Vec<&'static Function>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static Function> =
            functions::FAMILIES.iter().flat_map(|g| g.iter()).collect();
        all.sort_by_key(|f| (f.group, f.name));
        all
    })
}

/// The function whose name starts `text` (any case), followed by the end of the text or by
/// `_`: the longest such, since names contain `_` (MINUS_DI, HT_DCPERIOD).
pub fn find_prefix(text: &str) -> Option<&'static Function> {
    all()
        .iter()
        .copied()
        .filter(|f| {
            text.get(..f.name.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(f.name))
                && matches!(text.as_bytes().get(f.name.len()), None | Some(b'_'))
        })
        .max_by_key(|f| f.name.len())
}

/// The function called `name` (any case).
pub fn find(name: &str) -> Option<&'static Function> {
    all()
        .iter()
        .copied()
        .find(|f| f.name.eq_ignore_ascii_case(name))
}
