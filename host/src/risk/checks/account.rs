//! The account-wide limits, every deployment together: order rate, open orders, order
//! notional, gross and net exposure, one symbol's concentration, and the price band around the
//! mark (fat finger).

use crate::model::{AccountLimit, Fixed, RejectCode, Rejection};
use crate::risk::Check;

fn refuse(limit: AccountLimit, message: String) -> Result<(), Rejection> {
    Err(Rejection::new(RejectCode::Account(limit), message))
}

/// `account-order-rate`: orders accepted in the last second over every deployment.
pub fn order_rate(c: &Check<'_>) -> Result<(), Rejection> {
    let max = c.account_risk.limits.max_orders_per_second as usize;
    let window = &c.account_risk.recent;
    let recent = window.len() - window.partition_point(|&t| t <= c.now - 1000);
    if recent >= max {
        return refuse(
            AccountLimit::OrderRate,
            format!(
                "{recent} orders already accepted in the last second over every deployment (account max_orders_per_second {max})"
            ),
        );
    }
    Ok(())
}

/// `account-open-orders`: open orders over every deployment.
pub fn open_orders(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.account_risk.limits.max_open_orders else {
        return Ok(());
    };
    let open = c.totals().open_orders;
    if open >= max as usize {
        return refuse(
            AccountLimit::OpenOrders,
            format!(
                "{open} orders already open over every deployment (account max_open_orders {max})"
            ),
        );
    }
    Ok(())
}

/// `account-order-notional`: one order's notional.
pub fn order_notional(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.account_risk.limits.max_order_notional else {
        return Ok(());
    };
    let notional = c.valued(c.notional());
    if notional.to_f64() > max {
        return refuse(
            AccountLimit::OrderNotional,
            format!("order notional {notional} exceeds the account's max_order_notional {max}"),
        );
    }
    Ok(())
}

/// The order's symbol's committed quantity over every deployment after the order, valued, and
/// whether the order grows it.
fn projected(c: &Check<'_>) -> (bool, Fixed) {
    let before = c.totals().symbol_committed;
    let after = before.saturating_add(c.signed_quantity());
    let signed = if after.raw() < 0 {
        -c.valued(after.abs().saturating_mul(c.price))
    } else {
        c.valued(after.saturating_mul(c.price))
    };
    (after.abs() > before.abs(), signed)
}

/// `account-gross-exposure`: every symbol's absolute exposure, if the order grows its own.
pub fn gross_exposure(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.account_risk.limits.max_gross_exposure else {
        return Ok(());
    };
    let (adds, symbol) = projected(c);
    let gross = c.totals().gross_others.saturating_add(symbol.abs());
    if adds && gross.to_f64() > max {
        return refuse(
            AccountLimit::GrossExposure,
            format!(
                "gross exposure over every deployment would be {gross}, above the account's max_gross_exposure {max}"
            ),
        );
    }
    Ok(())
}

/// `account-net-exposure`: signed exposures summed, if the order moves it away from zero.
pub fn net_exposure(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.account_risk.limits.max_net_exposure else {
        return Ok(());
    };
    let t = c.totals();
    let (_, symbol) = projected(c);
    let before_symbol = {
        let q = t.symbol_committed;
        let v = c.valued(q.abs().saturating_mul(c.price));
        if q.raw() < 0 { -v } else { v }
    };
    let before = t.net_others.saturating_add(before_symbol);
    let after = t.net_others.saturating_add(symbol);
    if after.abs() > before.abs() && after.abs().to_f64() > max {
        return refuse(
            AccountLimit::NetExposure,
            format!(
                "net exposure over every deployment would be {after}, beyond the account's max_net_exposure {max}"
            ),
        );
    }
    Ok(())
}

/// `account-concentration`: one symbol's exposure over every deployment against the account's
/// equity, if the order grows it.
pub fn concentration(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.account_risk.limits.max_symbol_concentration else {
        return Ok(());
    };
    let Some(equity) = c.totals().equity.filter(|e| e.raw() > 0) else {
        return Ok(());
    };
    let (adds, symbol) = projected(c);
    let share = symbol.abs().to_f64() / equity.to_f64();
    if adds && share > max {
        return refuse(
            AccountLimit::Concentration,
            format!(
                "{} would be {:.1}% of the account's equity {equity}, above max_symbol_concentration {:.1}%",
                c.instrument.symbol,
                share * 100.0,
                max * 100.0
            ),
        );
    }
    Ok(())
}

/// `account-price-band`: a limit or stop price more than the band away from the mark.
pub fn price_band(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(band) = c.account_risk.limits.price_band else {
        return Ok(());
    };
    let Some(price) = crate::risk::explicit_price(c.request) else {
        return Ok(());
    };
    let Some(mark) = c.market.marks.get(c.request.symbol).filter(|m| m.raw() > 0) else {
        return Ok(());
    };
    let distance = (price.to_f64() - mark.to_f64()).abs() / mark.to_f64();
    if distance > band {
        return refuse(
            AccountLimit::PriceBand,
            format!(
                "price {price} is {:.2}% from the mark {mark}, beyond the account's price_band {:.2}%",
                distance * 100.0,
                band * 100.0
            ),
        );
    }
    Ok(())
}
