//! Splitting a quantity that takes liquidity across venues for the best price after fees: the
//! venues' levels are merged by their price with the taker fee added (a buy) or taken off (a
//! sell) and taken best first, within each venue's account and the order's limit price, then
//! rounded to the symbol's lot grid. The expected cost of a split is what those levels give;
//! what the venues fill may differ when their books move before the children arrive.

use crate::model::{Fixed, Side};

/// What one venue offers a split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LegOffer<'a> {
    /// The levels the order takes, best first: asks for a buy, bids for a sell.
    pub levels: &'a [(Fixed, Fixed)],
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
    /// The venue: its offer's index.
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

/// What taking `quantity` at `price` uses of a budget: quote with the fee on top for a buy,
/// base for a sell.
fn spend(side: Side, price: Fixed, quantity: Fixed, taker: Fixed) -> Fixed {
    match side {
        Side::Buy => {
            let quote = price.saturating_mul(quantity);
            quote.saturating_add(quote.saturating_mul(taker))
        }
        Side::Sell => quantity,
    }
}

/// Splits `quantity` to take on `side` across `offers`, never past `limit`: the venues' shares,
/// by offer, each on the lot grid and meeting the minimums. What the books cannot give within
/// the limit (and the lot grid's remainders) goes to the venue with the best price after fees
/// that can pay for it, where it takes whatever arrives there. Empty when no venue has a price.
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
    let better = |a: i128, b: i128| match side {
        Side::Buy => a.cmp(&b),
        Side::Sell => b.cmp(&a),
    };
    let mut ranked: Vec<Ranked> = offers
        .iter()
        .enumerate()
        .flat_map(|(leg, o)| {
            o.levels
                .iter()
                .filter(|(p, q)| p.is_positive() && q.is_positive() && within(*p))
                .map(move |&(price, quantity)| Ranked {
                    effective: after_fees(side, price, o.taker),
                    price,
                    quantity,
                    leg,
                })
        })
        .collect();
    // Best first; equal prices after fees go to the earlier leg.
    ranked.sort_by(|a, b| better(a.effective, b.effective).then(a.leg.cmp(&b.leg)));
    // The top of each venue's book (zero without one).
    let top = |leg: usize| offers[leg].levels.first().map_or(Fixed::ZERO, |l| l.0);
    // No level within the limit: the best top of book after fees.
    let best = ranked.first().map(|r| r.leg).or_else(|| {
        (0..offers.len())
            .filter(|&leg| top(leg).is_positive())
            .min_by(|&a, &b| {
                let price = |leg| after_fees(side, top(leg), offers[leg].taker);
                better(price(a), price(b)).then(a.cmp(&b))
            })
    });
    let Some(best) = best else {
        return Vec::new();
    };
    let mut taken = vec![Fixed::ZERO; offers.len()];
    let mut room: Vec<Option<Fixed>> = offers.iter().map(|o| o.budget).collect();
    // The dearest price each venue was taken at (what more of it costs at least).
    let mut dearest: Vec<Fixed> = (0..offers.len()).map(top).collect();
    let mut left = quantity;
    for r in &ranked {
        if !left.is_positive() {
            break;
        }
        let taker = offers[r.leg].taker;
        let mut q = r.quantity.min(left);
        if let Some(room) = room[r.leg].as_mut() {
            let most = match side {
                Side::Buy => room
                    .checked_div_floor(spend(side, r.price, Fixed::from_int(1), taker))
                    .unwrap_or(Fixed::ZERO),
                Side::Sell => *room,
            };
            q = q.min(most.max(Fixed::ZERO));
            *room = room.saturating_sub(spend(side, r.price, q, taker));
        }
        if q.is_positive() {
            taken[r.leg] = taken[r.leg].saturating_add(q);
            dearest[r.leg] = r.price;
            left = left.saturating_sub(q);
        }
    }
    // On the lot grid; a share under the symbol's minimums (which could not be sent on its
    // own) is dropped, but the best venue's.
    let step = if rules.step.is_positive() {
        rules.step
    } else {
        Fixed::from_raw(1)
    };
    let mut rest = quantity;
    for (leg, q) in taken.iter_mut().enumerate() {
        *q = q.floor_to(step);
        let small = *q < rules.min_qty || top(leg).saturating_mul(*q) < rules.min_notional;
        if leg != best && small {
            *q = Fixed::ZERO;
        }
        rest = rest.saturating_sub(*q);
    }
    // The rest to the best venue that can pay for it, then the others in the order of their
    // best levels (none can: it is not sent).
    let mut order = vec![best];
    for r in &ranked {
        if !order.contains(&r.leg) {
            order.push(r.leg);
        }
    }
    let fits = |leg: usize| {
        room[leg].is_none_or(|room| spend(side, dearest[leg], rest, offers[leg].taker) <= room)
    };
    if let Some(&leg) = order.iter().find(|&&leg| fits(leg)) {
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

    /// An offer of these levels (kept for the whole test run).
    fn offer(l: &[(&str, &str)], taker: &str) -> LegOffer<'static> {
        LegOffer {
            levels: Box::leak(levels(l).into_boxed_slice()),
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
            offer(&[("100", "1"), ("101", "5")], "0.001"),
            offer(&[("100.05", "2"), ("100.5", "5")], "0.0001"),
        ];
        let a = split(Side::Buy, f("3"), None, rules(), &offers);
        assert_eq!(shares(&a), [(0, "1".into()), (1, "2".into())]);
        let a = split(Side::Buy, f("4"), None, rules(), &offers);
        assert_eq!(shares(&a), [(0, "1".into()), (1, "3".into())]);
        // Before fees leg 0's 100 looks best; after them the split pays less than either venue
        // alone.
        let both = cost(Side::Buy, &offers[0].levels[..1], offers[0].taker, f("1")).unwrap()
            + cost(Side::Buy, offers[1].levels, offers[1].taker, f("3")).unwrap();
        for o in &offers {
            assert!(both < cost(Side::Buy, o.levels, o.taker, f("4")).unwrap());
        }
    }

    #[test]
    fn a_sell_takes_the_richest_bids_after_fees() {
        let offers = [
            offer(&[("100", "1"), ("99", "5")], "0.0001"),
            offer(&[("100.05", "2"), ("99.5", "5")], "0.001"),
        ];
        // After fees: leg 0's 100 gives 99.99, leg 1's 100.05 gives 99.94995.
        let a = split(Side::Sell, f("2"), None, rules(), &offers);
        assert_eq!(shares(&a), [(0, "1".into()), (1, "1".into())]);
    }

    #[test]
    fn the_limit_price_bounds_every_venue_and_the_rest_goes_to_the_best() {
        let offers = [
            offer(&[("100", "1"), ("101", "5")], "0.001"),
            offer(&[("100.05", "2"), ("100.5", "5")], "0.0001"),
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
            offer(&[("100", "10")], "0.001"),
            offer(&[("99", "10")], "0.001"),
        ];
        // 150 quote buys 150 / (99 * 1.001) = 1.5137... → 1.51 on the lot grid.
        offers[1].budget = Some(f("150"));
        let a = split(Side::Buy, f("3"), None, rules(), &offers);
        assert_eq!(shares(&a), [(0, "1.49".into()), (1, "1.51".into())]);
        // A seller's budget is base.
        let mut bids = [
            offer(&[("100", "10")], "0.001"),
            offer(&[("101", "10")], "0.001"),
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
            offer(&[("100", "0.004"), ("102", "5")], "0.001"),
            offer(&[("100.5", "0.037"), ("101", "5")], "0.001"),
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
        assert!(split(Side::Buy, f("1"), None, rules(), &[offer(&[], "0.001")]).is_empty());
        assert!(split(Side::Buy, f("1"), None, rules(), &[]).is_empty());
    }
}
