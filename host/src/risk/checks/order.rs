//! The order's own consistency: a type the symbol allows, with the parameters that type takes.

use crate::model::{Amount, OrderType, Rejection, TimeInForce, Trigger};
use crate::risk::Check;

/// The type is allowed on the symbol, a quote amount comes only with a market order, an iceberg
/// only with a good-till-cancelled limit type on a symbol that allows icebergs, and a trailing
/// delta is positive.
pub fn order_type(c: &Check<'_>) -> Result<(), Rejection> {
    let r = c.request;
    let name = r.order_type.name();
    if !c.instrument.allows(name) {
        return Err(Rejection::invalid(format!(
            "order type {name} is not supported for {}",
            c.instrument.symbol
        )));
    }
    if matches!(r.amount, Amount::Quote(_)) && r.order_type != OrderType::Market {
        return Err(Rejection::invalid(format!(
            "a quote amount (quoteOrderQty) is for MARKET orders only, not {name}"
        )));
    }
    if let Some(iceberg) = r.iceberg {
        if !c.instrument.iceberg_allowed {
            return Err(Rejection::invalid(format!(
                "iceberg orders are not allowed on {}",
                c.instrument.symbol
            )));
        }
        match r.order_type.time_in_force() {
            Some(TimeInForce::Gtc) => {}
            None if matches!(r.order_type, OrderType::LimitMaker { .. }) => {}
            _ => {
                return Err(Rejection::invalid(format!(
                    "an iceberg quantity needs a GTC limit type (LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT), not {name}{}",
                    r.order_type
                        .time_in_force()
                        .map(|t| format!(" {t:?}").to_uppercase())
                        .unwrap_or_default()
                )));
            }
        }
        if r.base_quantity().is_some_and(|q| iceberg >= q) {
            return Err(Rejection::invalid(format!(
                "iceberg quantity {iceberg} must be below the order's quantity {}",
                c.quantity
            )));
        }
    }
    if let Some(Trigger::Trailing { delta_bps: 0, .. }) = r.order_type.trigger() {
        return Err(Rejection::invalid(
            "a trailing delta must be at least 1 basis point",
        ));
    }
    Ok(())
}
