//! TA-Lib's technical indicators, computed bar by bar.
//!
//! Every function of TA-Lib 0.8's groups Overlap Studies, Momentum, Volume, Volatility, Price
//! Transform, Cycle and Statistic (all but MAVP) and its candlestick patterns, each as an
//! [`Indicator`]: one [`Indicator::next`] per new bar in O(1) or O(period), and
//! [`Indicator::batch`] over a whole [`Series`] giving exactly the same numbers. The outputs match
//! TA-Lib's C core (same lookback, seeding and edge cases); `tests/talib.rs` checks them against
//! fixtures written by TA-Lib itself (`tests/fixtures/ta/generate.py`).
//!
//! [`registry`] lists every function with its parameters and outputs; [`Spec`] parses the
//! `NAME_param_param` form (`BBANDS_20_2_2_0`) and builds an indicator from it.

pub mod bar;
pub mod blocks;
mod functions;
pub mod indicator;
pub mod registry;
pub mod spec;
mod windowed;

pub use bar::{Bar, Series};
pub use indicator::Indicator;
pub use registry::{Function, Group, Param, ParamKind};
pub use spec::{Spec, SpecError};
