//! What the exchange has told us about each of our orders, turned into the venue reports the
//! order manager expects: an order is accepted once, triggered once, each trade is a fill once
//! (by Binance's trade id) whichever message carried it first (the order's answer, the user
//! data stream, a query, `myTrades`), and it ends once, after all its fills. Duplicated,
//! reordered and lost messages therefore neither lose nor double anything; an order that ended
//! with trades not yet seen waits for them ([`Tracker::missing_trades`]).

use super::orders::{OrderView, Trade};
use crate::execution::venue::{Commission, Counted, ReportKind, VenueReport};
use crate::model::{Amount, Fixed, Liquidity, RejectCode, Rejection, TimestampMs};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One of our orders as the exchange has described it so far.
#[derive(Clone, Debug)]
struct Tracked {
    client_order_id: String,
    symbol: String,
    base: String,
    quote: String,
    amount: Amount,
    is_stop: bool,
    exchange_id: Option<i64>,
    accepted: bool,
    triggered: bool,
    seen: HashSet<i64>,
    /// Base quantity reported as fills.
    filled: Fixed,
    /// The most the exchange has said it executed.
    executed: Fixed,
    /// How it ended, once the exchange has said so.
    ended: Option<String>,
    /// Whether its end has been reported.
    done: bool,
}

/// What an order is, for tracking it.
#[derive(Clone, Debug)]
pub struct Placed {
    /// Host order id.
    pub order_id: u64,
    /// Its client order id.
    pub client_order_id: String,
    /// Its symbol's name.
    pub symbol: String,
    /// The symbol's base asset.
    pub base: String,
    /// The symbol's quote asset.
    pub quote: String,
    /// What it asks for.
    pub amount: Amount,
    /// Whether it waits for a trigger.
    pub is_stop: bool,
}

/// Every order of ours the exchange may still tell us about.
#[derive(Debug, Default)]
pub struct Tracker {
    orders: BTreeMap<u64, Tracked>,
    /// Host order id by (symbol, exchange order id), for `myTrades`.
    by_exchange: HashMap<(String, i64), u64>,
}

impl Tracker {
    /// Starts tracking an order about to be sent.
    pub fn track(&mut self, placed: Placed) {
        self.orders.insert(
            placed.order_id,
            Tracked {
                client_order_id: placed.client_order_id,
                symbol: placed.symbol,
                base: placed.base,
                quote: placed.quote,
                amount: placed.amount,
                is_stop: placed.is_stop,
                exchange_id: None,
                accepted: false,
                triggered: false,
                seen: HashSet::new(),
                filled: Fixed::ZERO,
                executed: Fixed::ZERO,
                ended: None,
                done: false,
            },
        );
    }

    /// Order `order_id` was open before a restart with what was `counted` of it then: of its
    /// `trades`, those counted are marked seen (and the order accepted); the others are
    /// returned, to be reported. Counted are the stored fills' trades in the order they were
    /// stored, as far as they make up what the order's stored state says was filled (a fill
    /// stored ahead of that state, which a crash between two journal batches can leave, is
    /// told again); without stored trade ids (fills stored before schema 10), the earliest
    /// trades that make up what was filled.
    pub fn restored(
        &mut self,
        order_id: u64,
        counted: &Counted,
        mut trades: Vec<Trade>,
    ) -> Vec<Trade> {
        let Some(t) = self.orders.get_mut(&order_id) else {
            return trades;
        };
        t.accepted = true;
        trades.sort_by_key(|trade| trade.id);
        let quantity_of = |id: i64| {
            trades
                .iter()
                .find(|trade| trade.id == id)
                .map(|t| t.quantity)
        };
        let mut known: HashSet<i64> = HashSet::new();
        let mut sum = Fixed::ZERO;
        for &id in &counted.trades {
            let Some(quantity) = quantity_of(id) else {
                continue;
            };
            if sum >= counted.filled {
                break;
            }
            if known.insert(id) {
                sum = sum.saturating_add(quantity);
            }
        }
        let by_id = !counted.trades.is_empty();
        let mut rest = Vec::new();
        for trade in trades {
            let before = if by_id {
                known.contains(&trade.id)
            } else {
                t.filled < counted.filled
            };
            if before {
                t.seen.insert(trade.id);
                t.filled = t.filled.saturating_add(trade.quantity);
            } else {
                rest.push(trade);
            }
        }
        // The restored order asks for what remained; what was filled before counts too.
        if let Amount::Base(q) = t.amount {
            t.amount = Amount::Base(q.saturating_add(t.filled));
        }
        rest
    }

    /// The client order id of order `order_id`, while tracked.
    pub fn client_order_id(&self, order_id: u64) -> Option<String> {
        self.orders
            .get(&order_id)
            .map(|t| t.client_order_id.clone())
    }

    /// The exchange's id of order `order_id`, once known.
    pub fn exchange_id(&self, order_id: u64) -> Option<i64> {
        self.orders.get(&order_id).and_then(|t| t.exchange_id)
    }

    /// Whether order `order_id` has ended (all its reports out).
    pub fn is_done(&self, order_id: u64) -> bool {
        self.orders.get(&order_id).is_some_and(|t| t.done)
    }

    /// The symbol of order `order_id`, while tracked.
    pub fn symbol(&self, order_id: u64) -> Option<&str> {
        self.orders.get(&order_id).map(|t| t.symbol.as_str())
    }

    /// The host order id of the exchange's order `exchange_id` on `symbol`.
    pub fn host_id(&self, symbol: &str, exchange_id: i64) -> Option<u64> {
        self.by_exchange
            .get(&(symbol.to_string(), exchange_id))
            .copied()
    }

    /// The host ids of the orders not yet ended.
    pub fn open(&self) -> impl Iterator<Item = u64> + '_ {
        self.orders
            .iter()
            .filter(|(_, t)| !t.done)
            .map(|(&id, _)| id)
    }

    /// Whether order `order_id` is tracked and not yet ended.
    pub fn is_open(&self, order_id: u64) -> bool {
        self.orders.get(&order_id).is_some_and(|t| !t.done)
    }

    /// Orders the exchange says have executed more than their fills seen so far: (host id,
    /// symbol, exchange id), whose trades must be fetched.
    pub fn missing_trades(&self) -> Vec<(u64, String, i64)> {
        self.orders
            .iter()
            .filter(|(_, t)| !t.done && t.executed > t.filled)
            .filter_map(|(&id, t)| Some((id, t.symbol.clone(), t.exchange_id?)))
            .collect()
    }

    /// Order `order_id` ended before reaching the exchange: it is refused with `reason`.
    pub fn refuse(
        &mut self,
        order_id: u64,
        reason: Rejection,
        now: TimestampMs,
    ) -> Vec<VenueReport> {
        match self.orders.remove(&order_id) {
            Some(t) if !t.accepted => vec![VenueReport {
                order_id,
                time: now,
                kind: ReportKind::Rejected(reason),
            }],
            Some(t) => {
                self.orders.insert(order_id, t);
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// A cancel of order `order_id` was refused by the exchange: the order stays as it is.
    pub fn cancel_refused(
        &self,
        order_id: u64,
        reason: Rejection,
        now: TimestampMs,
    ) -> Vec<VenueReport> {
        if self.orders.get(&order_id).is_some_and(|t| !t.done) {
            vec![VenueReport {
                order_id,
                time: now,
                kind: ReportKind::CancelRejected(reason),
            }]
        } else {
            Vec::new()
        }
    }

    /// What `view` of order `order_id` adds to what was reported, as reports.
    pub fn observe(&mut self, order_id: u64, view: &OrderView) -> Vec<VenueReport> {
        let mut out = Vec::new();
        let Some(t) = self.orders.get_mut(&order_id) else {
            return out;
        };
        if t.done {
            return out;
        }
        if view.exchange_id >= 0 {
            self.by_exchange
                .insert((t.symbol.clone(), view.exchange_id), order_id);
            t.exchange_id = Some(view.exchange_id);
        }
        let time = view.time;
        let report = |kind| VenueReport {
            order_id,
            time,
            kind,
        };
        if view.status == "REJECTED" && !t.accepted {
            out.push(report(ReportKind::Rejected(Rejection::new(
                RejectCode::InvalidOrder,
                format!("the exchange rejected order {}", view.client_order_id),
            ))));
            t.done = true;
            return out;
        }
        if !t.accepted {
            t.accepted = true;
            out.push(report(ReportKind::Accepted));
        }
        let fired = view.working || !view.trades.is_empty() || view.executed.is_positive();
        if t.is_stop && !t.triggered && fired && view.status != "CANCELED" {
            t.triggered = true;
            out.push(report(ReportKind::Triggered));
        }
        t.executed = t.executed.max(view.executed);
        if view.is_final() {
            t.ended = Some(view.status.clone());
        }
        for trade in &view.trades {
            if !t.seen.insert(trade.id) {
                continue;
            }
            t.filled = t.filled.saturating_add(trade.quantity);
            t.executed = t.executed.max(t.filled);
            let (fee, commission) = commission_of(trade, &t.base, &t.quote);
            let all = match t.amount {
                Amount::Base(q) => t.filled >= q,
                Amount::Quote(_) => false,
            };
            let complete = all || (t.ended.as_deref() == Some("FILLED") && t.filled >= t.executed);
            out.push(report(ReportKind::Fill {
                price: trade.price,
                quantity: trade.quantity,
                quote: trade.quote,
                fee,
                commission,
                venue_trade_id: Some(trade.id),
                liquidity: if trade.maker {
                    Liquidity::Maker
                } else {
                    Liquidity::Taker
                },
                complete,
            }));
            if complete {
                t.done = true;
                return out;
            }
        }
        // It ended with every trade seen: cancelled, expired (or filled, its last fill told).
        if let Some(end) = &t.ended
            && t.filled >= t.executed
        {
            t.done = true;
            // Anything but a cancel ends as expired: a FILLED status after its last fill was
            // told (from `myTrades`) leaves nothing to fill, and the order manager releases
            // what it still holds.
            out.push(report(if end == "CANCELED" {
                ReportKind::Cancelled
            } else {
                ReportKind::Expired
            }));
        }
        out
    }

    /// Forgets orders that have ended (their reports are out): their (symbol, exchange id).
    pub fn prune(&mut self) -> Vec<(String, i64)> {
        let ended: Vec<u64> = self
            .orders
            .iter()
            .filter(|(_, t)| t.done)
            .map(|(&id, _)| id)
            .collect();
        let mut gone = Vec::new();
        for id in ended {
            if let Some(t) = self.orders.remove(&id)
                && let Some(exchange_id) = t.exchange_id
            {
                let key = (t.symbol, exchange_id);
                self.by_exchange.remove(&key);
                gone.push(key);
            }
        }
        gone
    }
}

/// A trade's commission as the order manager takes it, with its value in the quote asset: in
/// the quote asset as is, in the base asset (Binance keeps a buy's out of the base bought
/// without BNB) at the trade's price, in another asset (BNB) valued by the order manager at
/// the market's price.
fn commission_of(trade: &Trade, base: &str, quote: &str) -> (Fixed, Commission) {
    let amount = trade.commission;
    if trade.commission_asset == quote || amount.raw() == 0 {
        (amount, Commission::Quote)
    } else if trade.commission_asset == base {
        (amount.saturating_mul(trade.price), Commission::Base(amount))
    } else {
        (
            Fixed::ZERO,
            Commission::Other(trade.commission_asset.as_str().into(), amount),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn trade(id: i64, qty: &str) -> Trade {
        Trade {
            id,
            price: fx("100"),
            quantity: fx(qty),
            quote: fx("100").saturating_mul(fx(qty)),
            commission: fx("0.01"),
            commission_asset: "USDT".into(),
            maker: true,
        }
    }

    fn view(status: &str, executed: &str, trades: Vec<Trade>) -> OrderView {
        OrderView {
            client_order_id: "sb-0-1".into(),
            exchange_id: 77,
            symbol: "BTCUSDT".into(),
            status: status.into(),
            executed: fx(executed),
            working: true,
            trades,
            time: 5,
        }
    }

    fn tracker(amount: Amount, is_stop: bool) -> Tracker {
        let mut t = Tracker::default();
        t.track(Placed {
            order_id: 1,
            client_order_id: "sb-0-1".into(),
            symbol: "BTCUSDT".into(),
            base: "BTC".into(),
            quote: "USDT".into(),
            amount,
            is_stop,
        });
        t
    }

    fn kinds(reports: &[VenueReport]) -> Vec<String> {
        reports
            .iter()
            .map(|r| match &r.kind {
                ReportKind::Fill {
                    quantity, complete, ..
                } => format!("fill {quantity} {complete}"),
                other => format!("{other:?}")
                    .split(['(', ' '])
                    .next()
                    .unwrap()
                    .to_string(),
            })
            .collect()
    }

    #[test]
    fn duplicated_and_reordered_messages_report_each_trade_once_and_the_end_last() {
        let mut t = tracker(Amount::Base(fx("1")), false);
        let all = t.observe(1, &view("NEW", "0", vec![]));
        assert_eq!(kinds(&all), ["Accepted"]);
        // The last trade's report (status FILLED) overtakes the first's.
        let last = view("FILLED", "1", vec![trade(11, "0.6")]);
        let first = view("PARTIALLY_FILLED", "0.4", vec![trade(10, "0.4")]);
        assert_eq!(kinds(&t.observe(1, &last)), ["fill 0.6 false"]);
        assert_eq!(kinds(&t.observe(1, &last)), Vec::<String>::new());
        assert_eq!(kinds(&t.observe(1, &first)), ["fill 0.4 true"]);
        assert!(t.observe(1, &first).is_empty());
        assert!(t.missing_trades().is_empty());
    }

    #[test]
    fn an_order_cancelled_with_unseen_trades_ends_after_them() {
        let mut t = tracker(Amount::Quote(fx("100")), false);
        let cancelled = t.observe(1, &view("CANCELED", "0.3", vec![]));
        assert_eq!(kinds(&cancelled), ["Accepted"]);
        assert_eq!(t.missing_trades(), vec![(1, "BTCUSDT".to_string(), 77)]);
        let from_my_trades = view("CANCELED", "0.3", vec![trade(3, "0.1"), trade(4, "0.2")]);
        assert_eq!(
            kinds(&t.observe(1, &from_my_trades)),
            ["fill 0.1 false", "fill 0.2 false", "Cancelled"]
        );
        t.prune();
        assert!(t.open().next().is_none() && t.host_id("BTCUSDT", 77).is_none());
    }

    #[test]
    fn stops_trigger_once_before_their_fills_and_refusals_end_unaccepted_orders() {
        let mut t = tracker(Amount::Base(fx("1")), true);
        let mut waiting = view("NEW", "0", vec![]);
        waiting.working = false;
        assert_eq!(kinds(&t.observe(1, &waiting)), ["Accepted"]);
        let filled = view("FILLED", "1", vec![trade(1, "1")]);
        assert_eq!(kinds(&t.observe(1, &filled)), ["Triggered", "fill 1 true"]);
        let mut t = tracker(Amount::Base(fx("1")), false);
        let reason = Rejection::new(RejectCode::InsufficientBalance, "no");
        assert_eq!(kinds(&t.refuse(1, reason, 9)), ["Rejected"]);
        assert!(t.open().next().is_none());
    }

    #[test]
    fn an_order_by_quote_amount_whose_trades_come_before_its_status_still_ends() {
        let mut t = tracker(Amount::Quote(fx("100")), false);
        let trades = view("TRADES", "0", vec![trade(1, "0.5"), trade(2, "0.5")]);
        assert_eq!(
            kinds(&t.observe(1, &trades)),
            ["Accepted", "fill 0.5 false", "fill 0.5 false"]
        );
        assert_eq!(
            kinds(&t.observe(1, &view("FILLED", "1", vec![]))),
            ["Expired"]
        );
        assert!(t.is_done(1));
    }

    #[test]
    fn a_commission_in_base_is_reported_as_kept_base_valued_in_quote() {
        let mut t = tracker(Amount::Base(fx("1")), false);
        let mut bought = trade(1, "1");
        bought.commission = fx("0.001");
        bought.commission_asset = "BTC".into();
        let reports = t.observe(1, &view("FILLED", "1", vec![bought]));
        let fill = reports.iter().find_map(|r| match &r.kind {
            ReportKind::Fill {
                fee, commission, ..
            } => Some((*fee, commission.clone())),
            _ => None,
        });
        assert_eq!(fill, Some((fx("0.1"), Commission::Base(fx("0.001")))));
    }

    #[test]
    fn commissions_are_told_in_the_asset_charged() {
        let mut paid = trade(1, "0.01");
        paid.price = fx("200");
        let of = |asset: &str, amount: &str| {
            let mut t = paid.clone();
            t.commission_asset = asset.into();
            t.commission = fx(amount);
            commission_of(&t, "BTC", "USDT")
        };
        assert_eq!(of("USDT", "2"), (fx("2"), Commission::Quote));
        assert_eq!(of("BTC", "0.01"), (fx("2"), Commission::Base(fx("0.01"))));
        assert_eq!(
            of("BNB", "0.003"),
            (Fixed::ZERO, Commission::Other("BNB".into(), fx("0.003")))
        );
        assert_eq!(of("BNB", "0"), (Fixed::ZERO, Commission::Quote));
    }

    #[test]
    fn trades_counted_before_a_restart_are_not_filled_again() {
        let mut t = tracker(Amount::Base(fx("0.6")), false);
        let counted = Counted {
            filled: fx("0.4"),
            trades: Vec::new(),
        };
        let rest = t.restored(1, &counted, vec![trade(2, "0.3"), trade(1, "0.4")]);
        assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), [2]);
        let all = view(
            "FILLED",
            "1",
            vec![trade(1, "0.4"), trade(2, "0.3"), trade(3, "0.3")],
        );
        assert_eq!(
            kinds(&t.observe(1, &all)),
            ["fill 0.3 false", "fill 0.3 true"]
        );
    }

    #[test]
    fn a_fill_stored_ahead_of_its_orders_state_is_counted_again_with_the_state() {
        // Trade 1 was stored as a fill, the order's state (nothing filled) and balances not:
        // the account does not hold it, so it is told again.
        let mut t = tracker(Amount::Base(fx("1")), false);
        let counted = Counted {
            filled: Fixed::ZERO,
            trades: vec![1],
        };
        let rest = t.restored(1, &counted, vec![trade(1, "0.4"), trade(2, "0.3")]);
        assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn of_fills_stored_out_of_order_those_the_orders_state_holds_are_counted() {
        // Trade 2 (0.3) was stored with the order's state; trade 1 (0.4) was stored after it,
        // without the state that would have followed: trade 2 is counted, trade 1 told again.
        let mut t = tracker(Amount::Base(fx("1")), false);
        let counted = Counted {
            filled: fx("0.3"),
            trades: vec![2, 1],
        };
        let rest = t.restored(1, &counted, vec![trade(1, "0.4"), trade(2, "0.3")]);
        assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn trades_counted_out_of_order_before_a_restart_are_known_by_their_ids() {
        // The later trade (0.3) was told and stored first; the earlier one (0.4) was not.
        let mut t = tracker(Amount::Base(fx("1")), false);
        let counted = Counted {
            filled: fx("0.3"),
            trades: vec![2],
        };
        let rest = t.restored(1, &counted, vec![trade(1, "0.4"), trade(2, "0.3")]);
        assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), [1]);
        let all = view(
            "FILLED",
            "1",
            vec![trade(1, "0.4"), trade(2, "0.3"), trade(3, "0.3")],
        );
        assert_eq!(
            kinds(&t.observe(1, &all)),
            ["fill 0.4 false", "fill 0.3 true"]
        );
    }
}
