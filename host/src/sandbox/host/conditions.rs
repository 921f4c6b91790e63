//! `conditions` (0.2.3): the market regimes and the signals' measured quality, as the signal
//! stage last wrote them ([`crate::signals::shared::SignalsView`]).

use super::{GuestCtx, HostResult};
use crate::model::SignalKind;
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::{conditions, types};
use crate::signals::regime::{TrendRegime, VolatilityRegime};

impl conditions::Host for GuestCtx {
    fn regime(&mut self, symbol: types::SymbolId) -> HostResult<Option<conditions::MarketRegime>> {
        let view = self.env.signals();
        Ok(view.regime(symbol).map(|r| conditions::MarketRegime {
            symbol,
            time: r.time_ms,
            volatility: match r.volatility {
                VolatilityRegime::Low => conditions::VolatilityRegime::Low,
                VolatilityRegime::Normal => conditions::VolatilityRegime::Normal,
                VolatilityRegime::High => conditions::VolatilityRegime::High,
            },
            realized_volatility: r.realized_volatility,
            volatility_percentile: r.volatility_percentile,
            trend: match r.trend {
                TrendRegime::Up => conditions::TrendRegime::Up,
                TrendRegime::Down => conditions::TrendRegime::Down,
                TrendRegime::Range => conditions::TrendRegime::Range,
            },
            adx: r.adx,
            slope: r.slope,
            spread_bps: r.spread_bps,
            depth_quote: r.depth_quote,
            impact_bps: r.impact_bps,
        }))
    }

    fn signal_quality(
        &mut self,
        source: String,
        kind: types::SignalKind,
        symbol: types::SymbolId,
    ) -> HostResult<Option<conditions::SourceQuality>> {
        let Some(name) = self.env.market().symbols().name(symbol).cloned() else {
            return Ok(None);
        };
        let kind = match kind {
            types::SignalKind::Trend => SignalKind::Trend,
            types::SignalKind::Reversal => SignalKind::Reversal,
            types::SignalKind::Breakout => SignalKind::Breakout,
            types::SignalKind::Arbitrage => SignalKind::Arbitrage,
        };
        let view = self.env.signals();
        Ok(view
            .quality(&source, kind, &name)
            .map(|q| conditions::SourceQuality {
                signals: u32::try_from(q.signals).unwrap_or(u32::MAX),
                hit_rate: q.hit_rate,
                hit_rate_low: q.hit_rate_low,
                hit_rate_high: q.hit_rate_high,
                mean_return: q.mean_return,
                ic: q.ic,
                rank_ic: q.rank_ic,
            }))
    }
}
