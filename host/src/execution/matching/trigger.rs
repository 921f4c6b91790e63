//! When a stop or take-profit order triggers, on the last traded price.
//!
//! An order triggers *upward* (when the price rises to its level: stop-loss buys, take-profit
//! sells) or *downward* (stop-loss sells, take-profit buys). A fixed trigger's level is its stop
//! price. A trailing trigger (Binance's `trailingDelta`, in basis points) follows the best price
//! since it became active: a downward trailing order triggers once the price has fallen
//! `delta` below the highest price seen, an upward one once it has risen `delta` above the lowest.
//! With an activation price (Binance's `stopPrice` sent with a `trailingDelta`) it becomes active
//! when the price first reaches the activation price in the order's favourable direction (up for
//! a downward order, down for an upward one); without one, at once.

use crate::model::{Fixed, OrderType, Side, Trigger};

/// Basis points per unit.
const BPS: i128 = 10_000;

/// The trigger of one working order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TriggerState {
    trigger: Trigger,
    /// The symbol's tick: a trailing level is a price on its grid.
    tick: Fixed,
    /// Triggers when the price rises to the level (otherwise when it falls to it).
    upward: bool,
    /// For a trailing trigger: active, and the best price seen since.
    active: bool,
    extreme: Option<Fixed>,
}

impl TriggerState {
    /// The trigger of an order of `order_type` on `side` of a symbol with price grid `tick`, if
    /// it has one.
    pub fn of(order_type: &OrderType, side: Side, tick: Fixed) -> Option<Self> {
        let trigger = order_type.trigger()?;
        let upward = order_type.is_stop_loss() == (side == Side::Buy);
        let active = matches!(
            trigger,
            Trigger::Trailing {
                activation: None,
                ..
            }
        );
        Some(TriggerState {
            trigger,
            tick,
            upward,
            active,
            extreme: None,
        })
    }

    /// Whether it triggers when the price rises to its level.
    pub fn upward(&self) -> bool {
        self.upward
    }

    /// The level the price must reach now to trigger, if the trigger is armed.
    pub fn level(&self) -> Option<Fixed> {
        match self.trigger {
            Trigger::Price(stop) => Some(stop),
            Trigger::Trailing { delta_bps, .. } => {
                let extreme = self.extreme.filter(|_| self.active)?;
                let delta = i128::from(delta_bps);
                let raw = i128::from(extreme.raw());
                let tick = i128::from(self.tick.raw().max(1));
                // The first price on the grid the move reaches: up for an upward trigger.
                let level = if self.upward {
                    let l = raw * (BPS + delta);
                    (l + BPS * tick - 1).div_euclid(BPS * tick) * tick
                } else {
                    (raw * (BPS - delta)).div_euclid(BPS * tick) * tick
                };
                Some(Fixed::from_raw(level as i64))
            }
        }
    }

    fn reached(&self, price: Fixed, level: Fixed) -> bool {
        if self.upward {
            price >= level
        } else {
            price <= level
        }
    }

    /// Whether `price`, were it the next traded price, would trigger the order (a venue refuses
    /// such a stop when it is placed).
    pub fn would_trigger_at(&self, price: Fixed) -> bool {
        matches!(self.trigger, Trigger::Price(stop) if self.reached(price, stop))
    }

    /// Takes a traded price; the level it triggered at, if it did.
    pub fn on_price(&mut self, price: Fixed) -> Option<Fixed> {
        if let Trigger::Trailing {
            activation: Some(activation),
            ..
        } = self.trigger
            && !self.active
        {
            // Active once the price reaches the activation price in the favourable direction.
            let favourable = if self.upward {
                price <= activation
            } else {
                price >= activation
            };
            if !favourable {
                return None;
            }
            self.active = true;
        }
        let level = self.level();
        if let Some(level) = level
            && self.reached(price, level)
        {
            return Some(level);
        }
        if matches!(self.trigger, Trigger::Trailing { .. }) {
            let better = self
                .extreme
                .is_none_or(|e| if self.upward { price < e } else { price > e });
            if better {
                self.extreme = Some(price);
            }
        }
        None
    }

    /// Takes a bar's prices in the least favourable order for the order (the open, then the
    /// extreme in its favour, then the one against it); the price it triggered at (the open, if
    /// the open reached the level; the level otherwise), and whether that was at the open.
    pub fn on_bar(&mut self, open: Fixed, high: Fixed, low: Fixed) -> Option<(Fixed, bool)> {
        if self.on_price(open).is_some() {
            return Some((open, true));
        }
        let (favourable, adverse) = if self.upward {
            (low, high)
        } else {
            (high, low)
        };
        self.on_price(favourable)
            .or_else(|| self.on_price(adverse))
            .map(|level| (level, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn stop_loss(side: Side, trigger: Trigger) -> TriggerState {
        TriggerState::of(&OrderType::StopLoss { trigger }, side, Fixed::from_raw(1)).unwrap()
    }

    #[test]
    fn fixed_stops_trigger_in_their_direction() {
        let mut sell = stop_loss(Side::Sell, Trigger::Price(fx("95")));
        assert!(!sell.upward());
        assert_eq!(sell.on_price(fx("96")), None);
        assert_eq!(sell.on_price(fx("95")), Some(fx("95")));
        let buy_tp = TriggerState::of(
            &OrderType::TakeProfit {
                trigger: Trigger::Price(fx("90")),
            },
            Side::Buy,
            Fixed::from_raw(1),
        )
        .unwrap();
        assert!(!buy_tp.upward() && buy_tp.would_trigger_at(fx("89")));
        let mut buy = stop_loss(Side::Buy, Trigger::Price(fx("105")));
        assert!(buy.would_trigger_at(fx("105")) && !buy.would_trigger_at(fx("104")));
        assert_eq!(
            buy.on_bar(fx("100"), fx("106"), fx("99")),
            Some((fx("105"), false))
        );
        let mut gap = stop_loss(Side::Buy, Trigger::Price(fx("105")));
        assert_eq!(
            gap.on_bar(fx("107"), fx("108"), fx("106")),
            Some((fx("107"), true))
        );
    }

    #[test]
    fn trailing_stops_follow_the_best_price() {
        // A sell trailing 100 bps: highest 110 -> triggers at or below 108.9.
        let mut t = stop_loss(
            Side::Sell,
            Trigger::Trailing {
                delta_bps: 100,
                activation: None,
            },
        );
        for p in ["100", "105", "110", "109"] {
            assert_eq!(t.on_price(fx(p)), None, "{p}");
        }
        assert_eq!(t.level(), Some(fx("108.9")));
        assert_eq!(t.on_price(fx("108.9")), Some(fx("108.9")));
        // With an activation price of 120 it does nothing until the price reaches 120.
        let mut a = stop_loss(
            Side::Sell,
            Trigger::Trailing {
                delta_bps: 500,
                activation: Some(fx("120")),
            },
        );
        assert_eq!(a.on_price(fx("100")), None);
        assert_eq!(a.level(), None);
        assert_eq!(a.on_price(fx("120")), None);
        assert_eq!(a.on_price(fx("130")), None);
        assert_eq!(a.on_price(fx("123.5")), Some(fx("123.5")));
        // On a grid of 0.01, levels are the first grid prices the move reaches.
        let on_grid = |side, order_type: OrderType| {
            let mut t = TriggerState::of(&order_type, side, fx("0.01")).unwrap();
            t.on_price(fx("104.5"));
            t.on_price(fx("99.5"));
            t.level()
        };
        let trailing = Trigger::Trailing {
            delta_bps: 100,
            activation: None,
        };
        assert_eq!(
            on_grid(Side::Sell, OrderType::StopLoss { trigger: trailing }),
            Some(fx("103.45")),
            "104.5 less 1 % is 103.455"
        );
        assert_eq!(
            on_grid(Side::Buy, OrderType::StopLoss { trigger: trailing }),
            Some(fx("100.5")),
            "99.5 plus 1 % is 100.495"
        );
    }
}
