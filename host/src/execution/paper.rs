//! The plain paper venue: an order accepted during one bar executes against the next bar of its
//! symbol, entirely, at that bar's open or at its limit/stop price when the bar trades through
//! it, paying a proportional fee. (The matching simulator with a book and partial fills comes later.)

use crate::model::{Bar, Fixed, Order, OrderKind, Side, TimeInForce};

/// What happens to an open order on a bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Execution {
    /// Nothing: the order stays open.
    Rest,
    /// The whole remaining quantity executes at this price.
    Fill(Fixed),
    /// The order's time in force ends without a fill.
    Expire,
}

/// Fills at the next bar's open with a fee.
#[derive(Clone, Copy, Debug)]
pub struct PaperVenue {
    /// Fee as a fraction of notional (0.001 = 10 bps).
    pub fee_rate: Fixed,
}

impl Default for PaperVenue {
    fn default() -> Self {
        PaperVenue {
            fee_rate: Fixed::from_raw(100_000),
        } // 0.001
    }
}

impl PaperVenue {
    /// The fee on `price * quantity`.
    pub fn fee(&self, price: Fixed, quantity: Fixed) -> Fixed {
        price.saturating_mul(quantity).saturating_mul(self.fee_rate)
    }

    /// Matches `order` against `bar`. Orders accepted at or after the bar's open wait for the next bar.
    pub fn execute(&self, order: &mut Order, bar: &Bar) -> Execution {
        if order.time > bar.open_time {
            return Execution::Rest;
        }
        let px = |x: f64| Fixed::from_f64(x).unwrap_or(Fixed::ZERO);
        let (open, high, low) = (px(bar.open), px(bar.high), px(bar.low));
        let buy = order.request.side == Side::Buy;
        let limit_price = |limit: Fixed, from_open: bool| {
            if buy {
                if from_open && open <= limit {
                    Some(open)
                } else if low <= limit {
                    Some(limit)
                } else {
                    None
                }
            } else if from_open && open >= limit {
                Some(open)
            } else if high >= limit {
                Some(limit)
            } else {
                None
            }
        };
        // Whether the stop triggers at the open, during the bar, or not at all.
        let trigger = |stop: Fixed| -> Option<bool> {
            if buy {
                if open >= stop {
                    Some(true)
                } else if high >= stop {
                    Some(false)
                } else {
                    None
                }
            } else if open <= stop {
                Some(true)
            } else if low <= stop {
                Some(false)
            } else {
                None
            }
        };
        let price = match order.request.kind {
            OrderKind::Market => Some(open),
            OrderKind::Limit(limit) => limit_price(limit, true),
            OrderKind::Stop(stop) => match trigger(stop) {
                Some(true) => Some(open),
                Some(false) => Some(stop),
                None => None,
            },
            OrderKind::StopLimit { stop, limit } => {
                if order.triggered {
                    limit_price(limit, true)
                } else {
                    match trigger(stop) {
                        Some(at_open) => {
                            order.triggered = true;
                            limit_price(limit, at_open)
                        }
                        None => None,
                    }
                }
            }
        };
        match (price, order.request.time_in_force) {
            (Some(p), _) => Execution::Fill(p),
            (None, TimeInForce::Ioc | TimeInForce::Fok) => Execution::Expire,
            (None, TimeInForce::Gtc) => Execution::Rest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrderRequest, OrderStatus};

    fn order(side: Side, kind: OrderKind, tif: TimeInForce) -> Order {
        Order {
            id: 1,
            owner: "s".into(),
            request: OrderRequest {
                client_id: 1,
                symbol: 0,
                side,
                quantity: Fixed::from_int(1),
                kind,
                time_in_force: tif,
                reduce_only: false,
                venue: 0,
            },
            status: OrderStatus::Accepted,
            filled: Fixed::ZERO,
            triggered: false,
            time: 0,
        }
    }

    fn bar(open: f64, high: f64, low: f64) -> Bar {
        Bar {
            symbol: 0,
            interval_ms: 60_000,
            open_time: 0,
            open,
            high,
            low,
            close: open,
            volume: 1.0,
        }
    }

    #[test]
    fn market_fills_at_open_and_limits_at_their_price() {
        let v = PaperVenue::default();
        let b = bar(100.0, 105.0, 95.0);
        assert_eq!(
            v.execute(
                &mut order(Side::Buy, OrderKind::Market, TimeInForce::Gtc),
                &b
            ),
            Execution::Fill(Fixed::from_int(100))
        );
        assert_eq!(
            v.execute(
                &mut order(
                    Side::Buy,
                    OrderKind::Limit(Fixed::from_int(97)),
                    TimeInForce::Gtc
                ),
                &b
            ),
            Execution::Fill(Fixed::from_int(97))
        );
        assert_eq!(
            v.execute(
                &mut order(
                    Side::Buy,
                    OrderKind::Limit(Fixed::from_int(101)),
                    TimeInForce::Gtc
                ),
                &b
            ),
            Execution::Fill(Fixed::from_int(100))
        );
        assert_eq!(
            v.execute(
                &mut order(
                    Side::Buy,
                    OrderKind::Limit(Fixed::from_int(90)),
                    TimeInForce::Gtc
                ),
                &b
            ),
            Execution::Rest
        );
        assert_eq!(
            v.execute(
                &mut order(
                    Side::Buy,
                    OrderKind::Limit(Fixed::from_int(90)),
                    TimeInForce::Ioc
                ),
                &b
            ),
            Execution::Expire
        );
        assert_eq!(
            v.execute(
                &mut order(
                    Side::Sell,
                    OrderKind::Stop(Fixed::from_int(96)),
                    TimeInForce::Gtc
                ),
                &b
            ),
            Execution::Fill(Fixed::from_int(96))
        );
        assert_eq!(
            v.execute(
                &mut order(
                    Side::Buy,
                    OrderKind::Stop(Fixed::from_int(106)),
                    TimeInForce::Gtc
                ),
                &b
            ),
            Execution::Rest
        );
    }

    #[test]
    fn orders_wait_for_the_next_bar() {
        let v = PaperVenue::default();
        let mut o = order(Side::Buy, OrderKind::Market, TimeInForce::Gtc);
        o.time = 30_000;
        assert_eq!(v.execute(&mut o, &bar(100.0, 101.0, 99.0)), Execution::Rest);
        assert_eq!(
            v.fee(Fixed::from_int(100), Fixed::from_int(2)),
            "0.2".parse().unwrap()
        );
    }
}
