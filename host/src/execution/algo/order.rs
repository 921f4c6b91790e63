//! A parent order as an operator asks for it (`POST /v1/deployments/{name}/algos`), checked
//! and resolved against the market into an [`AlgoSpec`].

use super::{AlgoSpec, Style, Urgency};
use crate::market::MarketData;
use crate::model::{Fixed, Side, TimestampMs};
use serde::Deserialize;
use std::sync::Arc;

/// Most slices of a TWAP or VWAP.
pub const MAX_SLICES: u32 = 1_000;

/// A parent order to work.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlgoOrder {
    /// The symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: Side,
    /// Base quantity in all.
    pub quantity: f64,
    /// `twap`, `vwap`, `pov`, `iceberg` or `peg`.
    pub style: String,
    /// How long it may work, in seconds.
    pub duration_s: f64,
    /// When it starts (ms since the epoch, event time); now when absent.
    #[serde(default)]
    pub start_ms: Option<i64>,
    /// Slices of a TWAP or VWAP (10 when absent).
    #[serde(default)]
    pub slices: Option<u32>,
    /// Never buy above (sell below) this price; required for an iceberg.
    #[serde(default)]
    pub limit_price: Option<f64>,
    /// Never pay more than this many basis points through the mid at the start (50 when
    /// neither this nor a limit is given).
    #[serde(default)]
    pub max_slippage_bps: Option<f64>,
    /// `passive`, `neutral` (the default) or `aggressive`.
    #[serde(default)]
    pub urgency: Urgency,
    /// POV: the share of the market's volume, in (0, 1).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Iceberg: the part shown.
    #[serde(default)]
    pub visible: Option<f64>,
    /// Iceberg: Binance's own (`icebergQty`) instead of host slices.
    #[serde(default)]
    pub native: bool,
    /// Peg: ticks inside the touch.
    #[serde(default)]
    pub offset_ticks: Option<u32>,
    /// With several venues (`[[venue.legs]]`): the one to work it on, by name; split across
    /// all of them when absent.
    #[serde(default)]
    pub venue: Option<String>,
}

fn positive(name: &str, x: f64) -> Result<Fixed, String> {
    Fixed::from_f64(x)
        .ok()
        .filter(|f| f.is_positive())
        .ok_or_else(|| format!("{name} {x} must be a positive number"))
}

/// Whether `weights` can be a VWAP's volume profile: one to [`MAX_SLICES`] finite,
/// non-negative weights with a positive sum.
fn check_weights(weights: &[f64]) -> Result<(), String> {
    let usable = (1..=MAX_SLICES as usize).contains(&weights.len())
        && weights.iter().all(|x| x.is_finite() && *x >= 0.0)
        && weights.iter().sum::<f64>() > 0.0;
    if usable {
        Ok(())
    } else {
        Err(format!(
            "a VWAP needs 1 to {MAX_SLICES} finite, non-negative weights with a positive sum"
        ))
    }
}

impl AlgoOrder {
    /// When it works, from `now` unless it says when: (start, end, slices of a TWAP or VWAP),
    /// or why it cannot.
    pub fn window(&self, now: TimestampMs) -> Result<(TimestampMs, TimestampMs, u32), String> {
        if !(self.duration_s.is_finite()
            && self.duration_s > 0.0
            && self.duration_s <= 7.0 * 86_400.0)
        {
            return Err(format!(
                "duration_s {} must be above 0 and at most a week",
                self.duration_s
            ));
        }
        let slices = self.slices.unwrap_or(10);
        if !(1..=MAX_SLICES).contains(&slices) {
            return Err(format!("slices {slices} must be 1 to {MAX_SLICES}"));
        }
        let start = self.start_ms.unwrap_or(now).max(now);
        Ok((start, start + (self.duration_s * 1000.0) as i64, slices))
    }

    /// The parent it describes, starting at `now` unless it says when; `weights` is the VWAP
    /// volume profile (one weight per slice), required for a VWAP; `venues` the names of the
    /// venues it may be pinned to.
    pub fn resolve(
        &self,
        market: &MarketData,
        now: TimestampMs,
        weights: Option<Vec<f64>>,
        venues: &[Arc<str>],
    ) -> Result<AlgoSpec, String> {
        let venue = match &self.venue {
            None => None,
            Some(name) => Some(venues.iter().find(|v| ***v == **name).cloned().ok_or_else(
                || match venues.len() {
                    0 => format!("venue {name:?}: this host trades on a single venue"),
                    _ => format!("venue {name:?}: use one of {venues:?}"),
                },
            )?),
        };
        let symbol = market
            .symbols()
            .id(&self.symbol.to_ascii_uppercase())
            .ok_or_else(|| format!("unknown symbol {:?}", self.symbol))?;
        let quantity = positive("quantity", self.quantity)?;
        let (start, end, slices) = self.window(now)?;
        let limit = self
            .limit_price
            .map(|p| positive("limit_price", p))
            .transpose()?;
        if let Some(bps) = self.max_slippage_bps
            && !(bps.is_finite() && bps > 0.0 && bps < 10_000.0)
        {
            return Err(format!(
                "max_slippage_bps {bps} must be above 0 and below 10000"
            ));
        }
        let style = match self.style.to_ascii_lowercase().as_str() {
            "twap" => Style::Twap,
            "vwap" => {
                let weights = weights.ok_or("a VWAP needs a volume profile")?;
                check_weights(&weights)?;
                Style::Vwap { weights }
            }
            "pov" => {
                let rate = self.rate.ok_or("a POV needs its rate")?;
                if !(rate > 0.0 && rate < 1.0) {
                    return Err(format!("rate {rate} must be above 0 and below 1"));
                }
                Style::Pov { rate }
            }
            "iceberg" => {
                if limit.is_none() {
                    return Err("an iceberg needs a limit_price".into());
                }
                let visible = positive(
                    "visible",
                    self.visible.ok_or("an iceberg needs its visible part")?,
                )?;
                if visible >= quantity {
                    return Err(format!(
                        "visible {visible} must be less than the quantity {quantity}"
                    ));
                }
                Style::Iceberg {
                    visible,
                    native: self.native,
                }
            }
            "peg" => Style::Peg {
                offset_ticks: self.offset_ticks.unwrap_or(0),
            },
            other => {
                return Err(format!(
                    "style {other:?}: use twap, vwap, pov, iceberg or peg"
                ));
            }
        };
        Ok(AlgoSpec {
            symbol,
            side: self.side,
            quantity,
            style,
            start,
            end,
            slices,
            limit,
            max_slippage_bps: self.max_slippage_bps,
            urgency: self.urgency,
            venue,
            floating: self.start_ms.is_none(),
        })
    }
}
