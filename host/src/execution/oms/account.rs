//! One deployment's spot account: free and locked balances per asset, positions per symbol (for
//! PnL), and its open orders with what each has locked.
//!
//! A buy locks quote, a sell locks base; a fill moves the locked amount to the other asset, and
//! an order that ends releases what it still holds. No balance goes negative: an order whose
//! lock the free balance cannot cover is refused before it is accepted.

use crate::market::MarketData;
use crate::model::{
    AssetId, DeploymentId, Fixed, Instrument, OrderRequest, OrderStatus, Side, SymbolId,
    TimestampMs,
};
use crate::risk::{AccountView, OpenCounts};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An asset's free and locked amounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    /// Available for new orders.
    pub free: Fixed,
    /// Held by open orders.
    pub locked: Fixed,
}

impl Balance {
    /// Free plus locked.
    pub fn total(&self) -> Fixed {
        self.free.saturating_add(self.locked)
    }
}

/// Net position in one symbol, for PnL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// Signed base quantity traded (negative after selling more than was bought).
    pub quantity: Fixed,
    /// Average entry price of the open quantity.
    pub average_price: Fixed,
    /// Profit realised by closing trades, after the fees of every trade, in the quote asset.
    pub realized_pnl: Fixed,
}

/// An order the order manager holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    /// Host-assigned id.
    pub id: u64,
    /// What was asked.
    pub request: OrderRequest,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// Base quantity filled.
    pub filled: Fixed,
    /// Quote quantity filled.
    pub filled_quote: Fixed,
    /// Fees paid, in the quote asset.
    pub fees: Fixed,
    /// Event time of submission.
    pub time: TimestampMs,
    /// The asset it locks: quote for a buy, base for a sell.
    pub lock_asset: AssetId,
    /// What it still has locked.
    pub locked: Fixed,
    /// Signed base quantity it adds to the symbol's committed exposure until it ends.
    pub committed: Fixed,
    /// Whether its stop trigger has fired (it works as a market or limit order since).
    pub triggered: bool,
}

impl Order {
    /// Base quantity still to fill (estimated for a quote amount).
    pub fn remaining(&self) -> Fixed {
        self.committed
            .abs()
            .saturating_sub(self.filled)
            .max(Fixed::ZERO)
    }
}

/// The amounts of one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    /// Price.
    pub price: Fixed,
    /// Base quantity.
    pub quantity: Fixed,
    /// Exact quote quantity.
    pub quote: Fixed,
    /// The fee's value in the quote asset.
    pub fee: Fixed,
    /// Where the fee was paid from.
    pub charge: Charge,
}

/// Where an execution's fee is paid from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charge {
    /// From the quote asset (a buy pays it on top of its cost, a sell out of its proceeds).
    Quote,
    /// Out of the base a buy received, this much (at most the quantity); the rest of the fee,
    /// if any, is paid in quote.
    BaseBought(Fixed),
    /// This much of an asset other than the one the order pays or receives (BNB; or the base
    /// of a sell), from its free balance.
    Asset(AssetId, Fixed),
}

/// Fees paid in another asset at a discount, as Binance's "use BNB to pay fees": a fill's fee
/// times `multiplier` is taken in `asset` at the market's price when that much is free, and
/// charged as the venue charged it otherwise (or on a symbol that trades `asset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeeAsset {
    /// The asset fees are paid in.
    pub asset: AssetId,
    /// The share of the fee paid (Binance: 0.75).
    pub multiplier: Fixed,
}

/// What an order adds to its symbol's counts.
#[derive(Clone, Copy, Debug, Default)]
struct SymbolOrders {
    committed: Fixed,
    counts: OpenCounts,
    open_buys: Fixed,
}

/// A deployment's spot account.
#[derive(Clone, Debug)]
pub struct Account {
    /// The deployment.
    pub id: DeploymentId,
    /// Its name.
    pub name: Arc<str>,
    /// The asset equity is measured in.
    pub valuation: AssetId,
    /// The asset it pays its fees in, if not the one each venue charges.
    pub fee_asset: Option<FeeAsset>,
    balances: Vec<Balance>,
    positions: BTreeMap<SymbolId, Position>,
    orders: BTreeMap<u64, Order>,
    by_symbol: BTreeMap<SymbolId, SymbolOrders>,
}

/// Why a lock could not be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insufficient {
    /// What was needed.
    pub needed: Fixed,
    /// What was free.
    pub free: Fixed,
}

impl Account {
    /// An account holding `starting` amounts, valued in `valuation`.
    pub fn new(
        id: DeploymentId,
        name: Arc<str>,
        valuation: AssetId,
        starting: &[(AssetId, Fixed)],
    ) -> Self {
        let mut account = Account {
            id,
            name,
            valuation,
            fee_asset: None,
            balances: Vec::new(),
            positions: BTreeMap::new(),
            orders: BTreeMap::new(),
            by_symbol: BTreeMap::new(),
        };
        for &(asset, amount) in starting {
            account.balance_mut(asset).free = amount;
        }
        account
    }

    fn balance_mut(&mut self, asset: AssetId) -> &mut Balance {
        let i = asset as usize;
        if self.balances.len() <= i {
            self.balances.resize(i + 1, Balance::default());
        }
        &mut self.balances[i]
    }

    /// The balance of `asset`.
    pub fn balance(&self, asset: AssetId) -> Balance {
        self.balances
            .get(asset as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Every asset with a non-zero balance.
    pub fn balances(&self) -> impl Iterator<Item = (AssetId, Balance)> + '_ {
        self.balances
            .iter()
            .enumerate()
            .filter(|(_, b)| b.total().raw() != 0 || b.free.raw() != 0)
            .map(|(i, b)| (i as AssetId, *b))
    }

    /// Positions by symbol, flat ones with realised PnL included.
    pub fn positions(&self) -> impl Iterator<Item = (SymbolId, &Position)> {
        self.positions.iter().map(|(&s, p)| (s, p))
    }

    /// The open orders, by id.
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }

    /// How many orders are open.
    pub fn open_order_count(&self) -> usize {
        self.orders.len()
    }

    /// An open order.
    pub fn order(&self, id: u64) -> Option<&Order> {
        self.orders.get(&id)
    }

    /// Adds `delta` (negative: takes it away) to the free balance of `asset`: a deposit or a
    /// withdrawal. Refused if it would take more than is free.
    pub fn transfer(&mut self, asset: AssetId, delta: Fixed) -> Result<(), Insufficient> {
        let b = self.balance_mut(asset);
        let free = b.free.saturating_add(delta);
        if free.raw() < 0 {
            return Err(Insufficient {
                needed: -delta,
                free: b.free,
            });
        }
        b.free = free;
        Ok(())
    }

    /// Moves `amount` of `asset` from free to locked, if that much is free.
    pub fn lock(&mut self, asset: AssetId, amount: Fixed) -> Result<(), Insufficient> {
        let b = self.balance_mut(asset);
        if b.free < amount {
            return Err(Insufficient {
                needed: amount,
                free: b.free,
            });
        }
        b.free = b.free.saturating_sub(amount);
        b.locked = b.locked.saturating_add(amount);
        Ok(())
    }

    /// Takes an order whose lock is already held.
    pub fn open(&mut self, order: Order) {
        let s = self.by_symbol.entry(order.request.symbol).or_default();
        s.committed = s.committed.saturating_add(order.committed);
        s.counts.orders += 1;
        s.counts.algo += u32::from(order.request.order_type.is_algo());
        s.counts.iceberg += u32::from(order.request.iceberg.is_some());
        if order.request.side == Side::Buy {
            s.open_buys = s.open_buys.saturating_add(order.committed);
        }
        self.orders.insert(order.id, order);
    }

    /// Notes that open order `id`'s trigger fired.
    pub fn set_triggered(&mut self, id: u64) -> Option<&Order> {
        let order = self.orders.get_mut(&id)?;
        order.triggered = true;
        Some(order)
    }

    /// Replaces the balances, positions and open orders with persisted ones (a restart): the
    /// balances already hold what the orders lock.
    pub fn restore(
        &mut self,
        balances: &[(AssetId, Balance)],
        positions: &[(SymbolId, Position)],
        orders: Vec<Order>,
    ) {
        self.balances.clear();
        for &(asset, balance) in balances {
            *self.balance_mut(asset) = balance;
        }
        self.positions = positions.iter().copied().collect();
        self.orders.clear();
        self.by_symbol.clear();
        for order in orders {
            self.open(order);
        }
    }

    /// The position in `symbol`, if it ever traded.
    pub fn position_in(&self, symbol: SymbolId) -> Option<&Position> {
        self.positions.get(&symbol)
    }

    /// Marks an open order as working at the venue.
    pub fn set_status(&mut self, id: u64, status: OrderStatus) -> Option<&Order> {
        let order = self.orders.get_mut(&id)?;
        order.status = status;
        Some(order)
    }

    /// Applies an execution of open order `id` of `instrument`. Returns the order after it; a
    /// completely filled order is closed (its remaining lock released).
    pub fn fill(
        &mut self,
        id: u64,
        instrument: &Instrument,
        execution: Execution,
        complete: bool,
    ) -> Option<Order> {
        let Execution {
            price,
            quantity,
            quote,
            fee,
            charge,
        } = execution;
        let (base, quote_asset) = (instrument.base, instrument.quote);
        let mut order = self.orders.get(&id)?.clone();
        let side = order.request.side;
        let symbol = order.request.symbol;
        // A buy's commission kept in base: the account receives less base, and pays no fee in
        // quote (its value is in the position's average price, not a separate cost). One in
        // another asset is taken from that asset's balance: a realised cost.
        let (quote_fee, base_fee, realised_fee) = match charge {
            Charge::Quote => (fee, Fixed::ZERO, fee),
            Charge::BaseBought(kept) => {
                let rest = fee
                    .saturating_sub(kept.saturating_mul(price))
                    .max(Fixed::ZERO);
                (rest, kept, rest)
            }
            Charge::Asset(..) => (Fixed::ZERO, Fixed::ZERO, fee),
        };
        // Balances: the order's lock pays; proceeds are free at once.
        let (spent, spent_asset) = match side {
            Side::Buy => (quote.saturating_add(quote_fee), quote_asset),
            Side::Sell => (quantity, base),
        };
        let from_lock = spent.min(order.locked).max(Fixed::ZERO);
        order.locked = order.locked.saturating_sub(from_lock);
        {
            let b = self.balance_mut(spent_asset);
            b.locked = b.locked.saturating_sub(from_lock);
            b.free = b.free.saturating_sub(spent.saturating_sub(from_lock));
        }
        match side {
            Side::Buy => {
                let b = self.balance_mut(base);
                b.free = b.free.saturating_add(quantity.saturating_sub(base_fee));
            }
            Side::Sell => {
                let b = self.balance_mut(quote_asset);
                b.free = b.free.saturating_add(quote.saturating_sub(quote_fee));
            }
        }
        // At most what is free: what an exchange charged beyond this deployment's share was
        // paid by the rest of the account (the venue's balance difference shows it).
        let mut taken = Fixed::ZERO;
        if let Charge::Asset(asset, amount) = charge {
            let b = self.balance_mut(asset);
            taken = amount.min(b.free).max(Fixed::ZERO);
            b.free = b.free.saturating_sub(taken);
        }
        // A sell's commission in its own base (selling BNB, fees in BNB) leaves the position
        // with the base sold: disposed of for the proceeds, its cost in the price of the sale.
        // What the deployment did not hold of it is a realised cost at the trade's price.
        let (disposed, position_price, realised_fee) = match charge {
            Charge::Asset(asset, amount) if asset == base && side == Side::Sell => {
                let disposed = quantity.saturating_add(taken);
                let unheld = amount.saturating_sub(taken).max(Fixed::ZERO);
                (
                    disposed,
                    quote.checked_div(disposed).unwrap_or(price),
                    unheld.saturating_mul(price),
                )
            }
            _ => (quantity, price, realised_fee),
        };
        // Exposure: the filled quantity moves from the order to the position.
        let signed = match side {
            Side::Buy => quantity.saturating_sub(base_fee),
            Side::Sell => -disposed,
        };
        let taken = if side == Side::Buy {
            quantity.min(order.committed)
        } else {
            (-quantity).max(order.committed)
        };
        order.committed = order.committed.saturating_sub(taken);
        if let Some(s) = self.by_symbol.get_mut(&symbol) {
            s.committed = s.committed.saturating_sub(taken);
            if side == Side::Buy {
                s.open_buys = s.open_buys.saturating_sub(taken);
            }
        }
        order.filled = order.filled.saturating_add(quantity);
        order.filled_quote = order.filled_quote.saturating_add(quote);
        order.fees = order.fees.saturating_add(fee);
        apply_to_position(
            self.positions.entry(symbol).or_default(),
            signed,
            position_price,
            disposed,
            quote,
            realised_fee,
        );
        order.status = if complete {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        self.orders.insert(id, order.clone());
        if complete {
            return self.close(id, OrderStatus::Filled);
        }
        Some(order)
    }

    /// Ends open order `id` with `status`, releasing what it still holds. Returns it.
    pub fn close(&mut self, id: u64, status: OrderStatus) -> Option<Order> {
        let mut order = self.orders.remove(&id)?;
        let b = self.balance_mut(order.lock_asset);
        b.locked = b.locked.saturating_sub(order.locked);
        b.free = b.free.saturating_add(order.locked);
        order.locked = Fixed::ZERO;
        let symbol = order.request.symbol;
        if let Some(s) = self.by_symbol.get_mut(&symbol) {
            s.committed = s.committed.saturating_sub(order.committed);
            s.counts.orders -= 1;
            s.counts.algo -= u32::from(order.request.order_type.is_algo());
            s.counts.iceberg -= u32::from(order.request.iceberg.is_some());
            if order.request.side == Side::Buy {
                s.open_buys = s.open_buys.saturating_sub(order.committed);
            }
        }
        order.committed = Fixed::ZERO;
        order.status = status;
        Some(order)
    }

    /// Every holding valued in `asset` at the market's prices (`None` when one has no price).
    pub fn value_in(&self, market: &MarketData, asset: AssetId) -> Option<Fixed> {
        let mut total = Fixed::ZERO;
        for (a, b) in self.balances() {
            total = total.saturating_add(market.convert(b.total(), a, asset)?);
        }
        Some(total)
    }
}

/// Updates a position with a trade: a new average entry when it opens or grows, realised PnL
/// when it shrinks or flips; every trade's fee is a realised cost.
fn apply_to_position(
    position: &mut Position,
    signed: Fixed,
    price: Fixed,
    quantity: Fixed,
    quote: Fixed,
    fee: Fixed,
) {
    let before = position.quantity;
    let after = before.saturating_add(signed);
    position.realized_pnl = position.realized_pnl.saturating_sub(fee);
    if before.raw() == 0 || before.raw().signum() == signed.raw().signum() {
        let cost = before
            .abs()
            .saturating_mul(position.average_price)
            .saturating_add(quote);
        position.average_price = Fixed::from_raw(
            (i128::from(cost.raw()) * i128::from(Fixed::SCALE)
                / i128::from(after.abs().raw().max(1))) as i64,
        );
    } else {
        let closed = quantity.min(before.abs());
        let per_unit = if before.raw() > 0 {
            price.saturating_sub(position.average_price)
        } else {
            position.average_price.saturating_sub(price)
        };
        position.realized_pnl = position
            .realized_pnl
            .saturating_add(per_unit.saturating_mul(closed));
        if after.raw() == 0 {
            position.average_price = Fixed::ZERO;
        } else if after.raw().signum() != before.raw().signum() {
            position.average_price = price;
        }
    }
    position.quantity = after;
}

impl AccountView for Account {
    fn position(&self, symbol: SymbolId) -> Fixed {
        self.positions
            .get(&symbol)
            .map_or(Fixed::ZERO, |p| p.quantity)
    }

    fn committed(&self, symbol: SymbolId) -> Fixed {
        self.position(symbol).saturating_add(
            self.by_symbol
                .get(&symbol)
                .map_or(Fixed::ZERO, |s| s.committed),
        )
    }

    fn open_counts(&self, symbol: SymbolId) -> OpenCounts {
        self.by_symbol
            .get(&symbol)
            .map(|s| s.counts)
            .unwrap_or_default()
    }

    fn open_buy_quantity(&self, symbol: SymbolId) -> Fixed {
        self.by_symbol
            .get(&symbol)
            .map_or(Fixed::ZERO, |s| s.open_buys)
    }

    fn holding(&self, asset: AssetId) -> Fixed {
        self.balance(asset).total()
    }

    fn equity(&self, market: &MarketData) -> Option<Fixed> {
        self.value_in(market, self.valuation)
    }

    fn gross_exposure(&self, market: &MarketData) -> Fixed {
        self.positions.iter().fold(Fixed::ZERO, |g, (&s, p)| {
            g.saturating_add(valued_quantity(
                market,
                s,
                p.quantity,
                p.average_price,
                self.valuation,
            ))
        })
    }

    fn committed_exposure(&self, market: &MarketData, except: Option<SymbolId>) -> Fixed {
        self.committed_sum(market, except, Fixed::abs)
    }

    fn committed_net_exposure(&self, market: &MarketData, except: Option<SymbolId>) -> Fixed {
        self.committed_sum(market, except, |v| v)
    }
}

impl Account {
    /// Sum over symbols (but `except`) of `sign(committed notional)`, valued.
    fn committed_sum(
        &self,
        market: &MarketData,
        except: Option<SymbolId>,
        sign: impl Fn(Fixed) -> Fixed,
    ) -> Fixed {
        let symbols = self
            .positions
            .keys()
            .chain(self.by_symbol.keys())
            .copied()
            .collect::<std::collections::BTreeSet<_>>();
        symbols
            .into_iter()
            .filter(|&s| Some(s) != except)
            .fold(Fixed::ZERO, |g, s| {
                let fallback = self
                    .positions
                    .get(&s)
                    .map_or(Fixed::ZERO, |p| p.average_price);
                let committed = self.committed(s);
                let value = valued_quantity(market, s, committed, fallback, self.valuation);
                let signed = if committed.raw() < 0 { -value } else { value };
                g.saturating_add(sign(signed))
            })
    }
}

/// `|quantity|` of `symbol` at its last price (or `fallback`), in `valuation`.
fn valued_quantity(
    market: &MarketData,
    symbol: SymbolId,
    quantity: Fixed,
    fallback: Fixed,
    valuation: AssetId,
) -> Fixed {
    let price = market.marks.get(symbol).unwrap_or(fallback);
    let notional = quantity.abs().saturating_mul(price);
    match market.instrument(symbol) {
        Some(i) => market
            .convert(notional, i.quote, valuation)
            .unwrap_or(notional),
        None => notional,
    }
}
