//! The trading state: HALTED refuses every order (cancels do not pass the checks), REDUCING
//! every order that would not reduce a position.

use crate::model::{RejectCode, Rejection};
use crate::risk::{Check, TradingState};

/// `trading-state`: the stricter of the deployment's and the account's state allows the order.
pub fn trading_state(c: &Check<'_>) -> Result<(), Rejection> {
    if c.protective {
        return Ok(());
    }
    let state = c.state();
    match state.state {
        TradingState::Active => Ok(()),
        TradingState::Halted => Err(Rejection::new(
            RejectCode::TradingHalted,
            format!(
                "trading is HALTED ({}): only cancels are accepted",
                state.reason
            ),
        )),
        TradingState::Reducing if reduces(c) => Ok(()),
        TradingState::Reducing => Err(Rejection::new(
            RejectCode::Reducing,
            format!(
                "trading is REDUCING ({}): only orders that reduce a position are accepted, and this {:?} of {} would not reduce position {} (open orders included: {})",
                state.reason,
                c.request.side,
                c.quantity,
                c.account.position(c.request.symbol),
                c.account.committed(c.request.symbol),
            ),
        )),
    }
}

/// Whether the order shrinks the symbol's position, open orders included, without flipping it.
fn reduces(c: &Check<'_>) -> bool {
    let position = c.account.position(c.request.symbol);
    let committed = c.account.committed(c.request.symbol);
    let after = committed.saturating_add(c.signed_quantity());
    position.raw() != 0
        && c.signed_quantity().raw().signum() == -position.raw().signum()
        && after.abs() < committed.abs()
        && (after.raw() == 0 || after.raw().signum() == position.raw().signum())
}
