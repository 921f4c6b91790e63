//! Labels: what a sample made at bar `t` is trained to predict, from the bars after it only.
//!
//! - **Fixed horizon**: the log return from the close of `t` to the close of `t + horizon`,
//!   classed down / flat / up by a threshold, fixed or a multiple of the volatility known at `t`
//!   (the standard deviation of the last `window` one-bar log returns, scaled by `√horizon`).
//! - **Triple barrier** (López de Prado, *Advances in Financial Machine Learning*, 3.4): an upper
//!   (profit-take) and a lower (stop-loss) barrier at `±k · σ_t · √horizon` in log price around the
//!   close of `t`, and a vertical barrier `horizon` bars later. The first barrier touched, by a
//!   bar's high or low, gives the class: up, down, or flat at the vertical barrier. A bar that
//!   touches both counts as the stop (the order within a bar is unknown; this leans the classes
//!   towards down, which the class shares of the report show).
//! - **Forward return**: the log return over `horizon` bars, as a regression target.
//!
//! Every label records `end`, the bar whose close completes it: the splits use it to keep
//! training labels out of test windows. Where the volatility is (near) zero, a flat stretch,
//! a volatility-scaled label is not made.

use crate::LearnError;
use serde::{Deserialize, Serialize};

/// Class indices, in the order of the models' outputs.
pub const DOWN: usize = 0;
/// Neither up nor down.
pub const FLAT: usize = 1;
/// Up.
pub const UP: usize = 2;

/// Below this volatility (of one-bar log returns) a stretch counts as flat: barriers scaled by
/// it would have no width.
pub const MIN_VOLATILITY: f64 = 1e-9;

/// Bars of one symbol, oldest first (equal lengths).
#[derive(Clone, Copy, Debug)]
pub struct Bars<'a> {
    /// Highs.
    pub high: &'a [f64],
    /// Lows.
    pub low: &'a [f64],
    /// Closes.
    pub close: &'a [f64],
}

/// How a class threshold is set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Threshold {
    /// A log return, the same for every sample (e.g. 0.002).
    Fixed(f64),
    /// `k` times the volatility at the sample's bar (standard deviation of the last `window`
    /// one-bar log returns, times √horizon).
    Volatility {
        /// The multiple.
        k: f64,
        /// One-bar returns in the estimate.
        window: usize,
    },
}

/// What to predict.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LabelSpec {
    /// Down / flat / up by the return over `horizon` bars.
    FixedHorizon {
        /// Bars ahead.
        horizon: usize,
        /// Where flat ends.
        threshold: Threshold,
    },
    /// Down / flat / up by the first of three barriers touched.
    TripleBarrier {
        /// Bars to the vertical barrier.
        horizon: usize,
        /// The upper barrier, in volatilities.
        profit_take: f64,
        /// The lower barrier, in volatilities.
        stop_loss: f64,
        /// One-bar returns in the volatility estimate.
        window: usize,
    },
    /// The log return over `horizon` bars (regression).
    ForwardReturn {
        /// Bars ahead.
        horizon: usize,
    },
}

/// One sample's label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Label {
    /// [`DOWN`], [`FLAT`] or [`UP`] ([`FLAT`] for a forward return).
    pub class: usize,
    /// The log return realised from the sample's close to where the label ended (a barrier's
    /// level when one was touched).
    pub ret: f64,
    /// The bar whose close completes the label.
    pub end: usize,
}

impl LabelSpec {
    /// The most bars a label looks ahead.
    pub fn horizon(&self) -> usize {
        match *self {
            LabelSpec::FixedHorizon { horizon, .. }
            | LabelSpec::TripleBarrier { horizon, .. }
            | LabelSpec::ForwardReturn { horizon } => horizon,
        }
    }

    /// Classes of the label (1 for a regression target).
    pub fn classes(&self) -> usize {
        match self {
            LabelSpec::ForwardReturn { .. } => 1,
            _ => 3,
        }
    }

    /// Why the settings cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), LearnError> {
        let bad = |m: String| Err(LearnError::Config(m));
        if self.horizon() == 0 {
            return bad("label horizon must be at least 1 bar".into());
        }
        let volatility = |k: f64, window: usize, what: &str| {
            if !(k.is_finite() && k > 0.0) {
                return bad(format!("label {what} {k} must be a positive number"));
            }
            if window < 2 {
                return bad(format!(
                    "label volatility window {window} must be at least 2 returns"
                ));
            }
            Ok(())
        };
        match *self {
            LabelSpec::FixedHorizon { threshold, .. } => match threshold {
                Threshold::Fixed(x) if !(x.is_finite() && x >= 0.0) => bad(format!(
                    "label threshold {x} must be 0 or a positive number"
                )),
                Threshold::Fixed(_) => Ok(()),
                Threshold::Volatility { k, window } => volatility(k, window, "threshold k"),
            },
            LabelSpec::TripleBarrier {
                profit_take,
                stop_loss,
                window,
                ..
            } => {
                volatility(profit_take, window, "profit_take")?;
                volatility(stop_loss, window, "stop_loss")
            }
            LabelSpec::ForwardReturn { .. } => Ok(()),
        }
    }

    /// The label of every bar of `bars`: `None` where the future needed is not there yet, or
    /// the volatility needs more history than the bar has, or a price is not positive.
    pub fn labels(&self, bars: Bars<'_>) -> Result<Vec<Option<Label>>, LearnError> {
        self.check()?;
        let n = bars.close.len();
        if bars.high.len() != n || bars.low.len() != n {
            return Err(LearnError::Data(format!(
                "bars of unequal lengths: {} highs, {} lows, {n} closes",
                bars.high.len(),
                bars.low.len()
            )));
        }
        let horizon = self.horizon();
        let scale = (horizon as f64).sqrt();
        let window = match *self {
            LabelSpec::FixedHorizon {
                threshold: Threshold::Volatility { window, .. },
                ..
            }
            | LabelSpec::TripleBarrier { window, .. } => Some(window),
            _ => None,
        };
        let sigma = window.map(|w| volatility(bars.close, w));
        let log = |p: f64| if p > 0.0 { Some(p.ln()) } else { None };
        Ok((0..n)
            .map(|t| {
                let end = t + horizon;
                if end >= n {
                    return None;
                }
                let base = log(bars.close[t])?;
                let ret = log(bars.close[end])? - base;
                // A flat stretch has no volatility to scale by: no label there.
                let sigma = match &sigma {
                    Some(s) => Some(s[t].filter(|v| *v > MIN_VOLATILITY)?),
                    None => None,
                };
                Some(match *self {
                    LabelSpec::ForwardReturn { .. } => Label {
                        class: FLAT,
                        ret,
                        end,
                    },
                    LabelSpec::FixedHorizon { threshold, .. } => {
                        let edge = match threshold {
                            Threshold::Fixed(x) => x,
                            Threshold::Volatility { k, .. } => k * sigma? * scale,
                        };
                        Label {
                            class: classify(ret, edge),
                            ret,
                            end,
                        }
                    }
                    LabelSpec::TripleBarrier {
                        profit_take,
                        stop_loss,
                        ..
                    } => {
                        let width = sigma? * scale;
                        let (up, down) = (profit_take * width, -stop_loss * width);
                        let mut label = Label {
                            class: FLAT,
                            ret,
                            end,
                        };
                        for i in t + 1..=end {
                            let (high, low) = (log(bars.high[i])? - base, log(bars.low[i])? - base);
                            if low <= down {
                                label = Label {
                                    class: DOWN,
                                    ret: down,
                                    end: i,
                                };
                                break;
                            }
                            if high >= up {
                                label = Label {
                                    class: UP,
                                    ret: up,
                                    end: i,
                                };
                                break;
                            }
                        }
                        label
                    }
                })
            })
            .collect())
    }
}

/// Down below `-edge`, up above `edge`, flat between (both edges flat).
fn classify(ret: f64, edge: f64) -> usize {
    if ret > edge {
        UP
    } else if ret < -edge {
        DOWN
    } else {
        FLAT
    }
}

/// At each bar, the sample standard deviation of the last `window` one-bar log returns ending
/// at that bar (`None` before `window` returns exist, or over a price that is not positive).
pub fn volatility(close: &[f64], window: usize) -> Vec<Option<f64>> {
    let returns: Vec<Option<f64>> = (0..close.len())
        .map(|t| {
            (t > 0 && close[t] > 0.0 && close[t - 1] > 0.0).then(|| (close[t] / close[t - 1]).ln())
        })
        .collect();
    (0..close.len())
        .map(|t| {
            if t < window {
                return None;
            }
            let span = &returns[t + 1 - window..=t];
            let values: Option<Vec<f64>> = span.iter().copied().collect();
            let values = values?;
            let mean = values.iter().sum::<f64>() / window as f64;
            let var = values.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (window - 1) as f64;
            Some(var.sqrt())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(close: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        (close.to_vec(), close.to_vec(), close.to_vec())
    }

    #[test]
    fn a_fixed_horizon_classes_the_return_by_its_threshold() {
        let close = [100.0, 101.0, 100.0, 99.0, 99.0];
        let (h, l, c) = bars(&close);
        let spec = LabelSpec::FixedHorizon {
            horizon: 1,
            threshold: Threshold::Fixed(0.005),
        };
        let labels = spec
            .labels(Bars {
                high: &h,
                low: &l,
                close: &c,
            })
            .unwrap();
        let classes: Vec<Option<usize>> = labels.iter().map(|l| l.map(|l| l.class)).collect();
        assert_eq!(
            classes,
            [Some(UP), Some(DOWN), Some(DOWN), Some(FLAT), None],
            "the last bar has no future yet"
        );
        let first = labels[0].unwrap();
        assert_eq!(first.end, 1);
        assert!((first.ret - (101.0f64 / 100.0).ln()).abs() < 1e-15);
    }

    #[test]
    fn volatility_is_the_sample_deviation_of_the_last_returns() {
        let close = [100.0, 110.0, 99.0, 99.0];
        let v = volatility(&close, 2);
        assert_eq!(v[0..2], [None, None]);
        let (r1, r2, r3) = (1.1f64.ln(), 0.9f64.ln(), 0.0f64);
        let sd = |a: f64, b: f64| ((a - b).powi(2) / 2.0).sqrt();
        assert!((v[2].unwrap() - sd(r1, r2)).abs() < 1e-15);
        assert!((v[3].unwrap() - sd(r2, r3)).abs() < 1e-15);
    }

    #[test]
    fn the_first_barrier_touched_decides_and_a_bar_touching_both_is_the_stop() {
        // σ of the last 2 returns at bar 2 is 0.01 exactly by construction below; horizon 4
        // scales it by 2: barriers at ±0.02 (profit 1σ, stop 1σ) in log price.
        let r = 0.01 / 2f64.sqrt();
        let c0 = 100.0;
        let c1 = c0 * r.exp();
        let c2 = c1 * (-r).exp();
        let base = c2.ln();
        let at = |x: f64| (base + x).exp();
        let close = vec![c0, c1, c2, at(0.0), at(0.005), at(0.0), at(0.0), at(0.0)];
        let mut high = close.clone();
        let mut low = close.clone();
        high[4] = at(0.021); // the upper barrier is touched on bar 4
        let spec = LabelSpec::TripleBarrier {
            horizon: 4,
            profit_take: 1.0,
            stop_loss: 1.0,
            window: 2,
        };
        let get = |high: &[f64], low: &[f64]| {
            spec.labels(Bars {
                high,
                low,
                close: &close,
            })
            .unwrap()[2]
                .unwrap()
        };
        let label = get(&high, &low);
        assert_eq!((label.class, label.end), (UP, 4));
        assert!((label.ret - 0.02).abs() < 1e-12, "{label:?}");
        // The same bar also reaching the stop: counted as the stop.
        low[4] = at(-0.03);
        let label = get(&high, &low);
        assert_eq!((label.class, label.end), (DOWN, 4));
        // Nothing touched: flat at the vertical barrier, with the return there.
        let label = get(&close, &close);
        assert_eq!((label.class, label.end), (FLAT, 6));
        assert!(label.ret.abs() < 1e-12);
    }

    #[test]
    fn a_flat_stretch_gets_no_volatility_scaled_label() {
        let close = [100.0; 8];
        let spec = LabelSpec::TripleBarrier {
            horizon: 2,
            profit_take: 1.0,
            stop_loss: 1.0,
            window: 2,
        };
        let labels = spec
            .labels(Bars {
                high: &close,
                low: &close,
                close: &close,
            })
            .unwrap();
        assert!(labels.iter().all(Option::is_none), "{labels:?}");
    }

    #[test]
    fn unusable_settings_and_data_are_named() {
        let zero = LabelSpec::ForwardReturn { horizon: 0 };
        assert!(zero.check().unwrap_err().to_string().contains("horizon"));
        let window = LabelSpec::TripleBarrier {
            horizon: 3,
            profit_take: 1.0,
            stop_loss: 1.0,
            window: 1,
        };
        assert!(window.check().unwrap_err().to_string().contains("window"));
        let spec = LabelSpec::ForwardReturn { horizon: 1 };
        let e = spec
            .labels(Bars {
                high: &[1.0],
                low: &[1.0, 2.0],
                close: &[1.0, 2.0],
            })
            .unwrap_err();
        assert!(e.to_string().contains("unequal"), "{e}");
    }
}
