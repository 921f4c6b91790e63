//! `risk` (0.2.1): the deployment's trading state, drawdown and VaR as the risk stage keeps
//! them, and position sizes from `stratbox_quant::sizing`, clipped to what the budget's
//! `max_position_notional` allows.

use super::{GuestCtx, HostResult};
use crate::risk::{AccountView, TradingState};
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::risk;
use stratbox_quant::sizing;

impl GuestCtx {
    /// The deployment's equity and its budget's largest position notional.
    fn equity_and_cap(&self) -> (f64, f64) {
        let market = self.env.market();
        let orders = self.env.orders();
        let equity = orders
            .account(self.id)
            .and_then(|a| a.equity(&market))
            .map_or(0.0, |e| e.to_f64());
        let cap = orders
            .risk()
            .deployment(self.id)
            .map_or(0.0, |d| d.budget.max_position_notional);
        (equity, cap)
    }
}

fn state(s: TradingState) -> risk::TradingState {
    match s {
        TradingState::Active => risk::TradingState::Active,
        TradingState::Reducing => risk::TradingState::Reducing,
        TradingState::Halted => risk::TradingState::Halted,
    }
}

impl risk::Host for GuestCtx {
    fn status(&mut self) -> HostResult<risk::RiskStatus> {
        let (equity, _) = self.equity_and_cap();
        let orders = self.env.orders();
        let engine = orders.risk();
        let (Some(d), Some(stricter)) =
            (engine.deployment(self.id), engine.effective_state(self.id))
        else {
            return Ok(risk::RiskStatus {
                state: risk::TradingState::Halted,
                reason: "the deployment is not installed yet".into(),
                equity,
                drawdown: 0.0,
                var: None,
            });
        };
        Ok(risk::RiskStatus {
            state: state(stricter.state),
            reason: stricter.reason.clone(),
            equity,
            drawdown: d.drawdown,
            var: d.var,
        })
    }

    fn volatility_target(
        &mut self,
        target_vol: f64,
        asset_vol: f64,
        strength: f64,
        max_fraction: f64,
    ) -> HostResult<f64> {
        let (equity, cap) = self.equity_and_cap();
        let budget = if equity > 0.0 { cap / equity } else { 0.0 };
        Ok(sizing::volatility_target(
            target_vol,
            asset_vol,
            strength.clamp(0.0, 1.0),
            max_fraction.min(budget),
        ))
    }

    fn kelly(
        &mut self,
        win_prob: f64,
        payoff: f64,
        fraction: f64,
        strength: f64,
        max_fraction: f64,
    ) -> HostResult<f64> {
        let (equity, cap) = self.equity_and_cap();
        let budget = if equity > 0.0 { cap / equity } else { 0.0 };
        Ok(sizing::kelly(
            win_prob,
            payoff,
            fraction,
            strength.clamp(0.0, 1.0),
            max_fraction.min(budget),
        ))
    }

    fn fixed_risk(
        &mut self,
        risk_fraction: f64,
        entry: f64,
        stop: f64,
        strength: f64,
        max_quantity: f64,
    ) -> HostResult<f64> {
        let (equity, cap) = self.equity_and_cap();
        let budget = if entry > 0.0 { cap / entry } else { 0.0 };
        Ok(sizing::fixed_risk(
            equity,
            risk_fraction,
            entry,
            stop,
            strength.clamp(0.0, 1.0),
            max_quantity.min(budget),
        ))
    }
}
