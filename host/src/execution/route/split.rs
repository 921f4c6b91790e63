//! Splitting a quantity that takes liquidity across venues for the best price after fees: the
//! venues' levels are merged by their price with the taker fee added (a buy) or taken off (a
//! sell) and taken best first, within each venue's account and the order's limit price, then
//! rounded to the symbol's lot grid. The expected cost of a split is what those levels give;
//! what the venues fill may differ when their books move before the children arrive.

use crate::model::{Fixed, Side};

/// What one venue offers a split.
#[derive(Clone, Debug, PartialEq)]
pub struct LegOffer {
    /// The venue's index among the router's legs.
    pub leg: usize,
    /// The levels the order takes, best first: asks for a buy, bids for a sell.
    pub levels: Vec<(Fixed, Fixed)>,
    /// The venue's taker fee rate.
    pub taker: Fixed,
    /// What the venue's account can spend: quote, fees included, for a buy; base for a sell.
    /// `None` when unknown (no limit is assumed).
    pub budget: Option<Fixed>,
}

/// The symbol's rules a child must meet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LotRules {
    /// The lot step; quantities are multiples of it.
    pub step: Fixed,
    /// The smallest quantity.
    pub min_qty: Fixed,
    /// The smallest `price * quantity`.
    pub min_notional: Fixed,
}

/// One venue's share of a split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Allocation {
    /// The venue's index among the router's legs.
    pub leg: usize,
    /// Base quantity sent there.
    pub quantity: Fixed,
}

/// A level of one venue, ranked by its price after fees.
struct Ranked {
    /// Price after fees, in 1e-16 units (exact).
    effective: i128,
    price: Fixed,
    quantity: Fixed,
    leg: usize,
}

/// The price of `price` after a fee of `fee` on `side`, exactly, in 1e-16 units.
fn after_fees(side: Side, price: Fixed, fee: Fixed) -> i128 {
    let factor = match side {
        Side::Buy => i128::from(Fixed::SCALE) + i128::from(fee.raw()),
        Side::Sell => i128::from(Fixed::SCALE) - i128::from(fee.raw()),
    };
    i128::from(price.raw()) * factor
}

/// Splits `quantity` to take on `side` across `offers`, never past `limit`: the venues' shares,
/// by leg, each on the lot grid and meeting the minimums. What the books cannot give within the
/// limit (and the lot grid's remainders) goes to the venue with the best price after fees at
/// its top, where it takes whatever arrives there. Empty when no venue has a price.
pub fn split(
    side: Side,
    quantity: Fixed,
    limit: Option<Fixed>,
    rules: LotRules,
    offers: &[LegOffer],
) -> Vec<Allocation> {
    let within = |p: Fixed| {
        limit.is_none_or(|l| match side {
            Side::Buy => p <= l,
            Side::Sell => p >= l,
        })
    };
    let mut ranked: Vec<Ranked> = offers
        .iter()
        .flat_map(|o| {
            o.levels
                .iter()
                .filter(|(p, q)| p.is_positive() && q.is_positive() && within(*p))
                .map(move |&(price, quantity)| Ranked {
                    effective: after_fees(side, price, o.taker),
                    price,
                    quantity,
                    leg: o.leg,
                })
        })
        .collect();
    // Best first; equal prices after fees go to the earlier leg.
    ranked.sort_by(|a, b| {
        let by_price = match side {
            Side::Buy => a.effective.cmp(&b.effective),
            Side::Sell => b.effective.cmp(&a.effective),
        };
        by_price.then(a.leg.cmp(&b.leg))
    });
    let Some(best) = ranked.first().map(|r| r.leg).or_else(|| {
        // No level within the limit: the best top of book after fees takes it all.
        offers
            .iter()
            .filter_map(|o| {
                o.levels
                    .first()
                    .map(|l| (after_fees(side, l.0, o.taker), o.leg))
            })
            .min_by(|a, b| match side {
                Side::Buy => a.cmp(b),
                Side::Sell => b.0.cmp(&a.0).then(a.1.cmp(&b.1)),
            })
            .map(|(_, leg)| leg)
    }) else {
        return Vec::new();
    };
    let legs = offers.iter().map(|o| o.leg).max().map_or(0, |m| m + 1);
    let mut taken = vec![Fixed::ZERO; legs];
    let mut spent: Vec<Option<Fixed>> = vec![None; legs];
    for o in offers {
        spent[o.leg] = o.budget;
    }
    let taker_of = |leg: usize| {
        offers
            .iter()
            .find(|o| o.leg == leg)
            .map_or(Fixed::ZERO, |o| o.taker)
    };
    let mut left = quantity;
    for r in &ranked {
        if !left.is_positive() {
            break;
        }
        let mut q = r.quantity.min(left);
        if let Some(room) = spent[r.leg] {
            let most = match side {
                // Quote with the fee on top: how much base the rest of the budget buys here.
                Side::Buy => {
                    let unit = r
                        .price
                        .saturating_add(r.price.saturating_mul(taker_of(r.leg)));
                    room.checked_div_floor(unit).unwrap_or(Fixed::ZERO)
                }
                Side::Sell => room,
            };
            q = q.min(most.max(Fixed::ZERO));
            let used = match side {
                Side::Buy => {
                    let cost = r.price.saturating_mul(q);
                    cost.saturating_add(cost.saturating_mul(taker_of(r.leg)))
                }
                Side::Sell => q,
            };
            spent[r.leg] = Some(room.saturating_sub(used));
        }
        taken[r.leg] = taken[r.leg].saturating_add(q);
        left = left.saturating_sub(q);
    }
    // On the lot grid; what rounding and thin books leave goes to the best venue that can
    // pay for it (none: it is not sent).
    let step = if rules.step.is_positive() {
        rules.step
    } else {
        Fixed::from_raw(1)
    };
    let price_of = |leg: usize| {
        ranked
            .iter()
            .find(|r| r.leg == leg)
            .map(|r| r.price)
            .or_else(|| {
                offers
                    .iter()
                    .find(|o| o.leg == leg)
                    .and_then(|o| o.levels.first().map(|l| l.0))
            })
            .unwrap_or(Fixed::ZERO)
    };
    // The dearest price each venue was taken at (what more of it costs at least).
    let mut dearest = vec![Fixed::ZERO; legs];
    for r in ranked.iter().filter(|r| taken[r.leg].is_positive()) {
        dearest[r.leg] = r.price;
    }
    let mut rest = quantity;
    for (leg, q) in taken.iter_mut().enumerate() {
        let floored = q.floor_to(step);
        // A share under the symbol's minimums could not be sent on its own.
        let small =
            floored < rules.min_qty || price_of(leg).saturating_mul(floored) < rules.min_notional;
        let kept = if leg != best && small {
            Fixed::ZERO
        } else {
            floored
        };
        // What is not sent frees its cost (counted at the venue's best price: a lower bound).
        if let Some(room) = spent[leg].as_mut() {
            let freed = q.saturating_sub(kept);
            *room = room.saturating_add(match side {
                Side::Buy => price_of(leg).saturating_mul(freed),
                Side::Sell => freed,
            });
        }
        *q = kept;
        rest = rest.saturating_sub(kept);
    }
    let fits = |leg: usize, q: Fixed| match spent[leg] {
        None => true,
        Some(room) => {
            let at = dearest[leg].max(price_of(leg));
            let need = match side {
                Side::Buy => {
                    let cost = at.saturating_mul(q);
                    cost.saturating_add(cost.saturating_mul(taker_of(leg)))
                }
                Side::Sell => q,
            };
            need <= room
        }
    };
    let mut order: Vec<usize> = vec![best];
    for r in &ranked {
        if !order.contains(&r.leg) {
            order.push(r.leg);
        }
    }
    if let Some(&leg) = order.iter().find(|&&leg| fits(leg, rest)) {
        taken[leg] = taken[leg].saturating_add(rest).floor_to(step);
    }
    taken
        .into_iter()
        .enumerate()
        .filter(|(_, q)| q.is_positive())
        .map(|(leg, quantity)| Allocation { leg, quantity })
        .collect()
}

/// The quote that taking `quantity` on `side` through `levels` with a taker fee of `taker`
/// moves, fees included (paid for a buy, received for a sell); `None` when the levels hold
/// less than `quantity`.
pub fn cost(side: Side, levels: &[(Fixed, Fixed)], taker: Fixed, quantity: Fixed) -> Option<f64> {
    let mut left = quantity.to_f64();
    let mut quote = 0.0;
    for &(price, q) in levels {
        if left <= 0.0 {
            break;
        }
        let take = q.to_f64().min(left);
        quote += price.to_f64() * take;
        left -= take;
    }
    if left > 1e-12 {
        return None;
    }
    let fee = quote * taker.to_f64();
    Some(match side {
        Side::Buy => quote + fee,
        Side::Sell => quote - fee,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn levels(v: &[(&str, &str)]) -> Vec<(Fixed, Fixed)> {
        v.iter().map(|(p, q)| (f(p), f(q))).collect()
    }

    fn rules() -> LotRules {
        LotRules {
            step: f("0.01"),
            min_qty: f("0.01"),
            min_notional: f("5"),
        }
    }

    fn offer(leg: usize, l: &[(&str, &str)], taker: &str) -> LegOffer {
        LegOffer {
            leg,
            levels: levels(l),
            taker: f(taker),
            budget: None,
        }
    }

    fn shares(a: &[Allocation]) -> Vec<(usize, String)> {
        a.iter().map(|a| (a.leg, a.quantity.to_string())).collect()
    }

    #[test]
    fn a_buy_takes_the_cheapest_levels_after_fees_across_venues() {
        // After fees: leg 1 at 100.05 costs 100.060005, leg 0 at 100 costs 100.1, leg 1 at
        // 100.5 costs 100.51005, leg 0 at 101 costs 101.101.
        let offers = [
            offer(0, &[("100", "1"), ("101", "5")], "0.001"),
            offer(1, &[("100.05", "2"), ("100.5", "5")], "0.0001"),
        ];
        let a = split(Side::Buy, f("3"), None, rules(), &offers);
        assert_eq!(shares(&a), [(0, "1".into()), (1, "2".into())]);
        let a = split(Side::Buy, f("4"), None, rules(), &offers);
        assert_eq!(shares(&a), [(0, "1".into()), (1, "3".into())]);
        // Before fees leg 0's 100 looks best; after them the split pays less than either venue
        // alone.
        let both = cost(Side::Buy, &offers[0].levels[..1], offers[0].taker, f("1")).unwrap()
            + cost(Side::Buy, &offers[1].levels, offers[1].taker, f("3")).unwrap();
        for o in &offers {
            assert!(both < cost(Side::Buy, &o.levels, o.taker, f("4")).unwrap());
        }
    }

    #[test]
    fn a_sell_takes_the_richest_bids_after_fees() {
        let offers = [
            offer(0, &[("100", "1"), ("99", "5")], "0.0001"),
            offer(1, &[("100.05", "2"), ("99.5", "5")], "0.001"),
        ];
        // After fees: leg 0's 100 gives 99.99, leg 1's 100.05 gives 99.94995.
        let a = split(Side::Sell, f("2"), None, rules(), &offers);
        assert_eq!(shares(&a), [(0, "1".into()), (1, "1".into())]);
    }

    #[test]
    fn the_limit_price_bounds_every_venue_and_the_rest_goes_to_the_best() {
        let offers = [
            offer(0, &[("100", "1"), ("101", "5")], "0.001"),
            offer(1, &[("100.05", "2"), ("100.5", "5")], "0.0001"),
        ];
        // Only 100 and 100.05 are within 100.2: 3 there, the other 2 rest where the best price
        // after fees is (leg 1).
        let a = split(Side::Buy, f("5"), Some(f("100.2")), rules(), &offers);
        assert_eq!(shares(&a), [(0, "1".into()), (1, "4".into())]);
        // Nothing within the limit: all of it to the best top of book after fees.
        let a = split(Side::Buy, f("5"), Some(f("99")), rules(), &offers);
        assert_eq!(shares(&a), [(1, "5".into())]);
    }

    #[test]
    fn an_account_short_of_funds_gets_only_what_it_can_pay() {
        let mut offers = [
            offer(0, &[("100", "10")], "0.001"),
            offer(1, &[("99", "10")], "0.001"),
        ];
        // 150 quote buys 150 / (99 * 1.001) = 1.5137... → 1.51 on the lot grid.
        offers[1].budget = Some(f("150"));
        let a = split(Side::Buy, f("3"), None, rules(), &offers);
        assert_eq!(shares(&a), [(0, "1.49".into()), (1, "1.51".into())]);
        // A seller's budget is base.
        let mut bids = [
            offer(0, &[("100", "10")], "0.001"),
            offer(1, &[("101", "10")], "0.001"),
        ];
        bids[1].budget = Some(f("0.5"));
        let a = split(Side::Sell, f("2"), None, rules(), &bids);
        assert_eq!(shares(&a), [(0, "1.5".into()), (1, "0.5".into())]);
    }

    #[test]
    fn shares_under_the_minimums_and_lot_remainders_go_to_the_best_venue() {
        // Leg 0 offers 0.004 at the best price: below the lot minimum, so leg 0 gets nothing
        // and its share goes to... leg 0 is the best venue, so it keeps the whole rest.
        let offers = [
            offer(0, &[("100", "0.004"), ("102", "5")], "0.001"),
            offer(1, &[("100.5", "0.037"), ("101", "5")], "0.001"),
        ];
        let a = split(Side::Buy, f("0.05"), None, rules(), &offers);
        // Merged: 0.004 @100 (leg 0), 0.037 @100.5 (leg 1), 0.009 @101 (leg 1) → leg 1 takes
        // 0.046 → 0.04 on the grid; notional 4.02 < 5, so it is dropped: all 0.05 to leg 0.
        assert_eq!(shares(&a), [(0, "0.05".into())]);
        let a = split(Side::Buy, f("0.5"), None, rules(), &offers);
        // Leg 1: 0.037 + 0.459 = 0.496 → 0.49; leg 0 keeps 0.004 + the 0.006 remainder = 0.01.
        assert_eq!(shares(&a), [(0, "0.01".into()), (1, "0.49".into())]);
    }

    #[test]
    fn no_prices_no_split() {
        assert!(split(Side::Buy, f("1"), None, rules(), &[offer(0, &[], "0.001")]).is_empty());
        assert!(split(Side::Buy, f("1"), None, rules(), &[]).is_empty());
    }
}
