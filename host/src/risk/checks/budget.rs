//! The deployment's budget: what the operator allows it, in the valuation asset.

use crate::model::{Fixed, RejectCode, Rejection};
use crate::risk::Check;

/// A reduce-only order must shrink an existing position without flipping it.
pub fn reduce_only(c: &Check<'_>) -> Result<(), Rejection> {
    if !c.request.reduce_only {
        return Ok(());
    }
    let position = c.account.position(c.request.symbol);
    let signed = c.signed_quantity();
    let reduces = position.raw() != 0
        && position.raw().signum() != signed.raw().signum()
        && c.quantity <= position.abs();
    if reduces {
        Ok(())
    } else {
        Err(Rejection::new(
            RejectCode::ReduceOnly,
            format!(
                "reduce-only {:?} of {} would not reduce position {position}",
                c.request.side, c.quantity
            ),
        ))
    }
}

/// `max_order_notional`: the order's notional.
pub fn max_order_notional(c: &Check<'_>) -> Result<(), Rejection> {
    let notional = c.valued(c.notional());
    if notional > c.risk.order_notional {
        return Err(Rejection::new(
            RejectCode::MaxOrderNotional,
            format!(
                "order notional {notional} exceeds max_order_notional {}",
                c.risk.order_notional
            ),
        ));
    }
    Ok(())
}

/// `max_orders_per_second`: orders accepted in the second before this one, in event time.
pub fn max_orders_per_second(c: &Check<'_>) -> Result<(), Rejection> {
    let max = c.risk.budget.max_orders_per_second as usize;
    // The window is in time order: what is older than a second is a prefix.
    let window = &c.risk.recent;
    let recent = window.len() - window.partition_point(|&t| t <= c.now - 1000);
    if recent >= max {
        return Err(Rejection::new(
            RejectCode::MaxOrdersPerSecond,
            format!(
                "{recent} orders already accepted in the last second (max_orders_per_second {max})"
            ),
        ));
    }
    Ok(())
}

/// Whether the order grows the symbol's committed exposure (position plus open orders).
fn adds_exposure(c: &Check<'_>) -> (bool, Fixed) {
    let committed = c.account.committed(c.request.symbol);
    let projected = committed.saturating_add(c.signed_quantity());
    (projected.abs() > committed.abs(), projected)
}

/// `max_daily_loss`: once the UTC day's loss reached it, only orders that reduce exposure.
pub fn max_daily_loss(c: &Check<'_>) -> Result<(), Rejection> {
    if !adds_exposure(c).0 {
        return Ok(());
    }
    let Some(equity) = c.account.equity(c.market) else {
        return Ok(());
    };
    let loss = c.risk.day_start_equity.saturating_sub(equity);
    if c.risk.day != i64::MIN && loss >= c.risk.daily_loss {
        return Err(Rejection::new(
            RejectCode::MaxDailyLoss,
            format!(
                "today's loss {loss} reached max_daily_loss {}; only orders that reduce exposure are accepted",
                c.risk.daily_loss
            ),
        ));
    }
    Ok(())
}

/// The notional of the symbol's committed exposure after the order, in the valuation asset.
fn projected_notional(c: &Check<'_>, projected: Fixed) -> Fixed {
    c.valued(projected.abs().saturating_mul(c.price))
}

/// `max_position_notional`: the symbol's position plus open orders, if the order grows it.
pub fn max_position(c: &Check<'_>) -> Result<(), Rejection> {
    let (adds, projected) = adds_exposure(c);
    if !adds {
        return Ok(());
    }
    let notional = projected_notional(c, projected);
    if notional > c.risk.position_notional {
        return Err(Rejection::new(
            RejectCode::MaxPosition,
            format!(
                "position notional would be {notional}, above max_position_notional {}",
                c.risk.position_notional
            ),
        ));
    }
    Ok(())
}

/// `max_gross_exposure`: every symbol's position plus open orders, if the order grows its own.
pub fn max_gross_exposure(c: &Check<'_>) -> Result<(), Rejection> {
    let (adds, projected) = adds_exposure(c);
    if !adds {
        return Ok(());
    }
    let gross = c
        .account
        .committed_exposure(c.market, Some(c.request.symbol))
        .saturating_add(projected_notional(c, projected));
    if gross > c.risk.gross_exposure {
        return Err(Rejection::new(
            RejectCode::MaxGrossExposure,
            format!(
                "gross exposure would be {gross}, above max_gross_exposure {}",
                c.risk.gross_exposure
            ),
        ));
    }
    Ok(())
}

/// `max_net_exposure`: signed exposures summed, if the order moves the sum away from zero.
pub fn max_net_exposure(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.risk.net_exposure else {
        return Ok(());
    };
    let committed = c.account.committed(c.request.symbol);
    let signed_notional = |q: Fixed| {
        let v = projected_notional(c, q);
        if q.raw() < 0 { -v } else { v }
    };
    let others = c
        .account
        .committed_net_exposure(c.market, Some(c.request.symbol));
    let before = others.saturating_add(signed_notional(committed));
    let after = others.saturating_add(signed_notional(
        committed.saturating_add(c.signed_quantity()),
    ));
    if after.abs() > before.abs() && after.abs() > max {
        return Err(Rejection::new(
            RejectCode::MaxNetExposure,
            format!("net exposure would be {after}, beyond max_net_exposure {max}"),
        ));
    }
    Ok(())
}

/// `max_leverage`: gross exposure after the order against equity, if the order grows it.
pub fn max_leverage(c: &Check<'_>) -> Result<(), Rejection> {
    let (adds, projected) = adds_exposure(c);
    if !adds {
        return Ok(());
    }
    let Some(equity) = c.account.equity(c.market).filter(|e| e.raw() > 0) else {
        return Ok(());
    };
    let gross = c
        .account
        .committed_exposure(c.market, Some(c.request.symbol))
        .saturating_add(projected_notional(c, projected));
    let leverage = gross.to_f64() / equity.to_f64();
    let max = c.risk.budget.max_leverage;
    if leverage > max {
        return Err(Rejection::new(
            RejectCode::MaxLeverage,
            format!(
                "gross exposure would be {gross}, {leverage:.2} times equity {equity}, above max_leverage {max}"
            ),
        ));
    }
    Ok(())
}
