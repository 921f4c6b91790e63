//! `execution` (0.2.2): parent orders a strategy starts, worked by the host's execution
//! algorithms through child orders of its own account ([`crate::execution::algo`]), on every
//! venue or (`start-at`, 0.2.4) the one named.

use super::{GuestCtx, HostResult};
use crate::execution::algo::order::AlgoOrder;
use crate::execution::algo::{AlgoState, Urgency};
use crate::model::Side;
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::{execution as wit, types};

/// The operators' form of the guest's parent order (the same checks apply), and a VWAP's
/// weights.
fn order_of(order: &wit::ParentOrder, symbol: String) -> (AlgoOrder, Option<Vec<f64>>) {
    let (style, slices, rate, visible, native, offset, weights) = match &order.style {
        wit::AlgoStyle::Twap(n) => ("twap", Some(*n), None, None, false, None, None),
        wit::AlgoStyle::Vwap(w) => (
            "vwap",
            Some(w.len() as u32),
            None,
            None,
            false,
            None,
            Some(w.clone()),
        ),
        wit::AlgoStyle::Pov(rate) => ("pov", None, Some(*rate), None, false, None, None),
        wit::AlgoStyle::Iceberg(i) => {
            ("iceberg", None, None, Some(i.visible), i.native, None, None)
        }
        wit::AlgoStyle::Peg(ticks) => ("peg", None, None, None, false, Some(*ticks), None),
    };
    (
        AlgoOrder {
            symbol,
            side: match order.side {
                types::Side::Buy => Side::Buy,
                types::Side::Sell => Side::Sell,
            },
            quantity: order.quantity,
            style: style.into(),
            duration_s: order.duration_ms as f64 / 1000.0,
            start_ms: None,
            slices,
            limit_price: order.limit_price,
            max_slippage_bps: order.max_slippage_bps,
            urgency: match order.urgency {
                wit::Urgency::Passive => Urgency::Passive,
                wit::Urgency::Neutral => Urgency::Neutral,
                wit::Urgency::Aggressive => Urgency::Aggressive,
            },
            rate,
            visible,
            native,
            offset_ticks: offset,
            // Every venue, unless `start-at` names one.
            venue: None,
        },
        weights,
    )
}

fn state(s: AlgoState) -> wit::AlgoState {
    match s {
        AlgoState::Waiting => wit::AlgoState::Waiting,
        AlgoState::Working => wit::AlgoState::Working,
        AlgoState::Done => wit::AlgoState::Done,
        AlgoState::Expired => wit::AlgoState::Expired,
        AlgoState::Cancelled => wit::AlgoState::Cancelled,
    }
}

impl GuestCtx {
    /// Starts the guest's parent `order`, its children all at `venue` when it names one.
    fn start_parent(
        &mut self,
        order: wit::ParentOrder,
        venue: Option<String>,
    ) -> HostResult<Result<u64, String>> {
        if self.in_init {
            return Ok(Err(
                "parent orders are refused in init: start one from a callback".into(),
            ));
        }
        let market = self.env.market();
        let Some(name) = market.symbols().name(order.symbol) else {
            return Ok(Err(format!("unknown symbol id {}", order.symbol)));
        };
        let (mut parent, weights) = order_of(&order, name.to_string());
        parent.venue = venue;
        let venues = self.env.orders().venue_names();
        let spec = match parent.resolve(&market, self.now, weights, &venues) {
            Ok(spec) => spec,
            Err(why) => return Ok(Err(why)),
        };
        drop(market);
        Ok(Ok(self.env.algos().start(self.id, spec)))
    }
}

impl wit::Host for GuestCtx {
    fn start(&mut self, order: wit::ParentOrder) -> HostResult<Result<u64, String>> {
        self.start_parent(order, None)
    }

    fn start_at(
        &mut self,
        venue: String,
        order: wit::ParentOrder,
    ) -> HostResult<Result<u64, String>> {
        self.start_parent(order, Some(venue))
    }

    fn cancel(&mut self, id: u64) -> HostResult<bool> {
        let mut orders = self.env.orders();
        Ok(self
            .env
            .algos()
            .cancel_own(self.id, id, self.now, &mut orders))
    }

    fn status(&mut self, id: u64) -> HostResult<Option<wit::AlgoStatus>> {
        Ok(self
            .env
            .algos()
            .status(self.id, id)
            .map(|(s, working, tca)| wit::AlgoStatus {
                state: state(s),
                filled: tca.filled,
                working: working.to_f64(),
                average_price: tca.average_price,
                arrival_mid: tca.arrival_mid,
                shortfall_bps: tca.shortfall_bps,
                fees: tca.fees,
                children: tca.children,
            }))
    }
}
