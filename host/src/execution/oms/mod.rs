//! The order manager: every deployment's account and orders, the life cycle of each order, and
//! the journal of every change. Orders enter through [`Oms::accept`] once the risk checks passed
//! (which locks what they may spend), and change only through the venue's reports
//! ([`Oms::apply`]), each turned into an [`OrderUpdate`] for the owner.

mod account;

pub use account::{Account, Balance, Charge, Execution, FeeAsset, Insufficient, Order, Position};

use super::venue::{Commission, ReportKind, VenueOrder, VenueReport};
use crate::journal::{Journal, JournalEntry, OrderRecord};
use crate::market::MarketData;
use crate::model::{
    Amount, AssetId, DeploymentId, ExecutionType, FeeRates, Fill, Fixed, Instrument, OrderRequest,
    OrderStatus, OrderUpdate, RejectCode, Rejection, Side, TimestampMs,
};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// How much more than its estimated cost a market buy locks, for the book to move against it.
const MARKET_SLACK: Fixed = Fixed::from_raw(110_000_000);
/// A few units of 1e-8 on top of a computed lock, so rounding never leaves a fill short.
const DUST: Fixed = Fixed::from_raw(4);
/// The most a limit buy locks for the rounding of its fills, in units of 1e-8 (0.01).
const MAX_ROUNDING_ROOM: i64 = 1_000_000;

/// What an order locks and commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    /// The amount locked, in the quote asset for a buy, the base asset for a sell.
    pub amount: Fixed,
    /// The least free balance the order needs (its estimated cost).
    pub needed: Fixed,
    /// The signed base quantity it commits.
    pub committed: Fixed,
}

/// What `request` must lock, valued at `price` (its limit price, or the market's) with fee rates
/// `fees`, given `free` of the asset it locks and the symbol's lot `step`. A limit buy locks its
/// notional plus the larger fee, and 1e-8 for each fill it can have (each fill rounds its quote
/// and fee to 1e-8, and is at least one lot step), so rounding never leaves its last part
/// unpaid; a market buy its estimated cost plus 10 % for the book to move (at most what is free,
/// at least the estimate); a sell locks its base quantity.
pub fn lock_for(
    request: &OrderRequest,
    price: Fixed,
    fees: FeeRates,
    free: Fixed,
    step: Fixed,
) -> Lock {
    let rate = fees.maker.max(fees.taker).max(Fixed::ZERO);
    let with_fee = |notional: Fixed| {
        notional
            .saturating_add(notional.saturating_mul(rate))
            .saturating_add(DUST)
    };
    let market_like = request.order_type.limit_price().is_none();
    let base = match request.amount {
        Amount::Base(q) => q,
        Amount::Quote(q) => q.checked_div(price).unwrap_or(Fixed::ZERO),
    };
    match (request.side, request.amount) {
        (Side::Buy, Amount::Quote(q)) => {
            let needed = with_fee(q);
            Lock {
                amount: needed,
                needed,
                committed: base,
            }
        }
        (Side::Buy, Amount::Base(q)) => {
            let needed = with_fee(q.saturating_mul(price));
            let amount = if market_like {
                needed.saturating_mul(MARKET_SLACK).min(free).max(needed)
            } else {
                let fills = (q.raw() / step.raw().max(1)).saturating_add(1);
                let rounding = Fixed::from_raw(fills.min(MAX_ROUNDING_ROOM));
                needed.saturating_add(rounding).min(free).max(needed)
            };
            Lock {
                amount,
                needed,
                committed: q,
            }
        }
        (Side::Sell, Amount::Base(q)) => Lock {
            amount: q,
            needed: q,
            committed: -q,
        },
        (Side::Sell, Amount::Quote(_)) => Lock {
            amount: base.saturating_mul(MARKET_SLACK).min(free).max(base),
            needed: base,
            committed: -base,
        },
    }
}

/// Every account and open order, and where each order belongs.
pub struct Oms {
    accounts: Vec<Option<Account>>,
    owners: FxHashMap<u64, DeploymentId>,
    next_order_id: u64,
    next_trade_id: u64,
    journal: Arc<dyn Journal>,
}

impl Oms {
    /// An order manager with no accounts, journaling to `journal`.
    pub fn new(journal: Arc<dyn Journal>) -> Self {
        Oms {
            accounts: Vec::new(),
            owners: FxHashMap::default(),
            next_order_id: 1,
            next_trade_id: 1,
            journal,
        }
    }

    /// Adds (or replaces) an account.
    pub fn open_account(&mut self, account: Account) {
        let i = account.id.0 as usize;
        if self.accounts.len() <= i {
            self.accounts.resize_with(i + 1, || None);
        }
        self.accounts[i] = Some(account);
    }

    /// Forgets deployment `id`'s account and its orders' owners (after its orders ended).
    pub fn close_account(&mut self, id: DeploymentId) {
        if let Some(slot) = self.accounts.get_mut(id.0 as usize) {
            *slot = None;
        }
        self.owners.retain(|_, owner| *owner != id);
    }

    /// The account of deployment `id`.
    pub fn account(&self, id: DeploymentId) -> Option<&Account> {
        self.accounts.get(id.0 as usize)?.as_ref()
    }

    fn account_mut(&mut self, id: DeploymentId) -> Option<&mut Account> {
        self.accounts.get_mut(id.0 as usize)?.as_mut()
    }

    /// Where changes are journaled.
    pub fn journal(&self) -> &Arc<dyn Journal> {
        &self.journal
    }

    /// Every account.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter().flatten()
    }

    /// The id the next order will get.
    pub fn next_order_id(&self) -> u64 {
        self.next_order_id
    }

    /// Takes a fresh order id.
    pub fn take_order_id(&mut self) -> u64 {
        let id = self.next_order_id;
        self.next_order_id += 1;
        id
    }

    /// The deployment that owns order `order_id`, while it is open.
    pub fn owner(&self, order_id: u64) -> Option<DeploymentId> {
        self.owners.get(&order_id).copied()
    }

    /// Locks what `request` needs and opens it as order `order_id` of deployment `id`, pending
    /// at the venue; the order the venue is to get, or why the balance does not allow it.
    #[allow(clippy::too_many_arguments)]
    pub fn accept(
        &mut self,
        id: DeploymentId,
        order_id: u64,
        request: OrderRequest,
        price: Fixed,
        fees: FeeRates,
        market: &MarketData,
        now: TimestampMs,
    ) -> Result<VenueOrder, Rejection> {
        let instrument = market.instrument(request.symbol).ok_or_else(|| {
            Rejection::new(
                RejectCode::UnknownSymbol,
                format!("unknown symbol id {}", request.symbol),
            )
        })?;
        let lock_asset = match request.side {
            Side::Buy => instrument.quote,
            Side::Sell => instrument.base,
        };
        let asset_name = market.instruments.asset_name(lock_asset).to_string();
        let account = self.account_mut(id).ok_or_else(|| {
            Rejection::new(
                RejectCode::StrategyHalted,
                "the deployment has no account (halted or not yet installed)",
            )
        })?;
        let free = account.balance(lock_asset).free;
        let lock = lock_for(&request, price, fees, free, instrument.step());
        if free < lock.needed {
            return Err(Rejection::new(
                RejectCode::InsufficientBalance,
                format!(
                    "Account has insufficient balance for requested action: needs {} {asset_name}, {free} free",
                    lock.needed
                ),
            ));
        }
        account
            .lock(lock_asset, lock.amount)
            .map_err(|i| {
                Rejection::new(
                    RejectCode::InsufficientBalance,
                    format!(
                        "Account has insufficient balance for requested action: needs {} {asset_name}, {} free",
                        i.needed, i.free
                    ),
                )
            })?;
        account.open(Order {
            id: order_id,
            request,
            status: OrderStatus::PendingNew,
            filled: Fixed::ZERO,
            filled_quote: Fixed::ZERO,
            fees: Fixed::ZERO,
            time: now,
            lock_asset,
            locked: lock.amount,
            committed: lock.committed,
            triggered: false,
        });
        self.owners.insert(order_id, id);
        let mut entries = Vec::new();
        self.journal_state(&mut entries, id, order_id, request.symbol, None, market);
        self.journal.record_all(entries);
        Ok(VenueOrder {
            id: order_id,
            owner: id,
            symbol: request.symbol,
            side: request.side,
            amount: request.amount,
            order_type: request.order_type,
            iceberg: request.iceberg,
            // A little under the lock, so rounding of fees never spends more than it holds.
            spend_cap: (request.side == Side::Buy).then_some(lock.amount.saturating_sub(DUST)),
            venue: request.venue,
        })
    }

    /// The update for an order refused before it reached a venue (recorded in the journal).
    pub fn rejected(
        &self,
        id: DeploymentId,
        order_id: u64,
        request: OrderRequest,
        reason: Rejection,
        now: TimestampMs,
        market: &MarketData,
    ) -> OrderUpdate {
        let owner = self
            .account(id)
            .map_or_else(|| Arc::from("?"), |a| a.name.clone());
        let update = OrderUpdate {
            order_id,
            client_id: request.client_id,
            deployment: id,
            owner,
            request,
            execution: ExecutionType::Rejected,
            status: OrderStatus::Rejected,
            filled: Fixed::ZERO,
            filled_quote: Fixed::ZERO,
            fill: None,
            reject: Some(reason),
            time: now,
        };
        self.journal.record(journal_update(&update, market));
        update
    }

    /// Applies a venue report to its order; the update for the owner, if the order is known.
    pub fn apply(&mut self, report: VenueReport, market: &MarketData) -> Option<OrderUpdate> {
        let id = self.owner(report.order_id)?;
        let instrument = {
            let symbol = self.account(id)?.order(report.order_id)?.request.symbol;
            market.instrument(symbol)?.clone()
        };
        let next_trade_id = &mut self.next_trade_id;
        let account = self
            .accounts
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)?;
        let (execution, order, fill, reject) = match report.kind {
            ReportKind::Accepted => {
                let order = account
                    .set_status(report.order_id, OrderStatus::New)?
                    .clone();
                (ExecutionType::New, order, None, None)
            }
            ReportKind::Triggered => {
                let order = account.set_triggered(report.order_id)?.clone();
                (ExecutionType::Triggered, order, None, None)
            }
            ReportKind::Fill {
                price,
                quantity,
                quote,
                fee,
                commission,
                venue_trade_id,
                liquidity,
                complete,
            } => {
                let side = account.order(report.order_id)?.request.side;
                let (fee, charge) = charge(
                    account,
                    &instrument,
                    side,
                    quantity,
                    fee,
                    &commission,
                    market,
                );
                let execution = Execution {
                    price,
                    quantity,
                    quote,
                    fee,
                    charge,
                };
                let order = account.fill(report.order_id, &instrument, execution, complete)?;
                let name = |asset| Arc::<str>::from(market.instruments.asset_name(asset));
                let (commission_amount, commission_asset) = match (commission, charge) {
                    (Commission::Other(asset, amount), _) => (amount, asset),
                    (_, Charge::Quote) => (fee, name(instrument.quote)),
                    (_, Charge::BaseBought(kept)) => (kept, name(instrument.base)),
                    (_, Charge::Asset(asset, amount)) => (amount, name(asset)),
                };
                let trade_id = *next_trade_id;
                *next_trade_id += 1;
                let fill = Fill {
                    order_id: order.id,
                    client_id: order.request.client_id,
                    owner: account.name.clone(),
                    symbol: order.request.symbol,
                    side: order.request.side,
                    trade_id,
                    venue_trade_id,
                    price,
                    quantity,
                    quote_quantity: quote,
                    fee,
                    commission: commission_amount,
                    commission_asset,
                    liquidity,
                    time: report.time,
                    status: order.status,
                };
                (ExecutionType::Trade, order, Some(fill), None)
            }
            ReportKind::Expired => {
                let order = account.close(report.order_id, OrderStatus::Expired)?;
                (ExecutionType::Expired, order, None, None)
            }
            ReportKind::Cancelled => {
                let order = account.close(report.order_id, OrderStatus::Cancelled)?;
                (ExecutionType::Cancelled, order, None, None)
            }
            ReportKind::Rejected(reason) => {
                let order = account.close(report.order_id, OrderStatus::Rejected)?;
                (ExecutionType::Rejected, order, None, Some(reason))
            }
            ReportKind::CancelRejected(reason) => {
                let order = account.order(report.order_id)?.clone();
                (ExecutionType::CancelRejected, order, None, Some(reason))
            }
        };
        let owner = account.name.clone();
        // An order that ended is no longer in the account: its last record is journaled here.
        let closed = (!order.status.is_open()).then(|| order.clone());
        if closed.is_some() {
            self.owners.remove(&report.order_id);
        }
        let update = OrderUpdate {
            order_id: order.id,
            client_id: order.request.client_id,
            deployment: id,
            owner,
            request: order.request,
            execution,
            status: order.status,
            filled: order.filled,
            filled_quote: order.filled_quote,
            fill,
            reject,
            time: report.time,
        };
        // The update (a fill's row), the order's state, the balances and the position it changed
        // are kept together or not at all: a restart never sees a fill without its effects.
        let mut entries = vec![journal_update(&update, market)];
        // A commission in a third asset (BNB) changed its balance too.
        let commission_asset = update
            .fill
            .as_ref()
            .and_then(|f| market.instruments.asset_id(&f.commission_asset));
        self.journal_state(
            &mut entries,
            id,
            update.order_id,
            update.request.symbol,
            commission_asset,
            market,
        );
        if let Some(order) = &closed {
            self.journal_order(&mut entries, id, order, market);
        }
        self.journal.record_all(entries);
        Some(update)
    }

    /// Ends every open order of deployment `id` at once (a halt): nothing of them can fill any
    /// more. Returns their updates.
    pub fn cancel_everything(
        &mut self,
        id: DeploymentId,
        now: TimestampMs,
        market: &MarketData,
    ) -> Vec<OrderUpdate> {
        let Some(account) = self.account_mut(id) else {
            return Vec::new();
        };
        let open: Vec<u64> = account.open_orders().map(|o| o.id).collect();
        let mut updates = Vec::with_capacity(open.len());
        for order_id in open {
            if let Some(update) = self.apply(
                VenueReport {
                    order_id,
                    time: now,
                    kind: ReportKind::Cancelled,
                },
                market,
            ) {
                updates.push(update);
            }
        }
        updates
    }

    /// Deposits `delta` of `asset` into deployment `id`'s account (negative: withdraws it, up to
    /// what is free), journaled.
    pub fn transfer(
        &mut self,
        id: DeploymentId,
        asset: crate::model::AssetId,
        delta: Fixed,
        market: &MarketData,
    ) -> Result<(), String> {
        let name = market.instruments.asset_name(asset).to_string();
        let account = self
            .account_mut(id)
            .ok_or_else(|| format!("no account {}", id.0))?;
        account
            .transfer(asset, delta)
            .map_err(|i| format!("cannot withdraw {} {name}: {} free", i.needed, i.free))?;
        if self.journal.keeps_state()
            && let Some(account) = self.account(id)
        {
            let b = account.balance(asset);
            self.journal.record(JournalEntry::Balance {
                deployment: account.name.clone(),
                asset: name.into(),
                free: b.free,
                locked: b.locked,
            });
        }
        Ok(())
    }

    /// Adds to `entries` what order `order_id` of deployment `id` changed: its record (while
    /// open), the balances of its symbol's assets and of `other` (the asset a commission was
    /// paid in), and its position in the symbol.
    fn journal_state(
        &self,
        entries: &mut Vec<JournalEntry>,
        id: DeploymentId,
        order_id: u64,
        symbol: crate::model::SymbolId,
        other: Option<AssetId>,
        market: &MarketData,
    ) {
        if !self.journal.keeps_state() {
            return;
        }
        let (Some(account), Some(instrument)) = (self.account(id), market.instrument(symbol))
        else {
            return;
        };
        if let Some(order) = account.order(order_id) {
            self.journal_order(entries, id, order, market);
        }
        let names = &market.instruments;
        let other = other.filter(|&a| a != instrument.base && a != instrument.quote);
        for asset in [instrument.base, instrument.quote].into_iter().chain(other) {
            let b = account.balance(asset);
            entries.push(JournalEntry::Balance {
                deployment: account.name.clone(),
                asset: names.asset_name(asset).into(),
                free: b.free,
                locked: b.locked,
            });
        }
        if let Some(p) = account.position_in(symbol) {
            entries.push(JournalEntry::Position {
                deployment: account.name.clone(),
                symbol: instrument.symbol.clone(),
                quantity: p.quantity,
                average_price: p.average_price,
                realized_pnl: p.realized_pnl,
            });
        }
    }

    /// Adds order `order`'s record to `entries`.
    fn journal_order(
        &self,
        entries: &mut Vec<JournalEntry>,
        id: DeploymentId,
        order: &Order,
        market: &MarketData,
    ) {
        let Some(account) = self.account(id).filter(|_| self.journal.keeps_state()) else {
            return;
        };
        let symbol = market
            .symbols()
            .name(order.request.symbol)
            .cloned()
            .unwrap_or_else(|| Arc::from("?"));
        entries.push(JournalEntry::OrderState {
            deployment: account.name.clone(),
            symbol,
            order: OrderRecord {
                id: order.id,
                request: order.request,
                status: order.status,
                filled: order.filled,
                filled_quote: order.filled_quote,
                fees: order.fees,
                time: order.time,
                lock_asset: market.instruments.asset_name(order.lock_asset).into(),
                locked: order.locked,
                committed: order.committed,
                triggered: order.triggered,
            },
        });
    }

    /// Continues numbering after a restart: orders from `next_order_id`, trades from
    /// `next_trade_id` (never lower than they are).
    pub fn resume_ids(&mut self, next_order_id: u64, next_trade_id: u64) {
        self.next_order_id = self.next_order_id.max(next_order_id);
        self.next_trade_id = self.next_trade_id.max(next_trade_id);
    }

    /// Restores deployment `id`'s account from persisted balances, positions and open orders.
    pub fn restore(
        &mut self,
        id: DeploymentId,
        balances: &[(crate::model::AssetId, Balance)],
        positions: &[(crate::model::SymbolId, Position)],
        orders: Vec<Order>,
    ) {
        for order in &orders {
            self.owners.insert(order.id, id);
        }
        if let Some(account) = self.account_mut(id) {
            account.restore(balances, positions, orders);
        }
    }
}

/// The journal's entry for an order's update.
fn journal_update(update: &OrderUpdate, market: &MarketData) -> JournalEntry {
    let symbol = market
        .symbols()
        .name(update.request.symbol)
        .cloned()
        .unwrap_or_else(|| Arc::from("?"));
    JournalEntry::Order {
        update: update.clone(),
        symbol,
    }
}

/// How a fill of `account`'s order is paid and the fee's value in quote: as the venue charged
/// it (a commission in another asset valued at the market's price), or in the account's fee
/// asset at its discount when it holds enough of it.
fn charge(
    account: &Account,
    instrument: &Instrument,
    side: Side,
    quantity: Fixed,
    fee: Fixed,
    commission: &Commission,
    market: &MarketData,
) -> (Fixed, Charge) {
    let (base, quote) = (instrument.base, instrument.quote);
    let charged = match *commission {
        Commission::Quote => Charge::Quote,
        // A buy's is kept out of the base it received; a sell's is taken from its base balance.
        Commission::Base(amount) => match side {
            Side::Buy => Charge::BaseBought(amount.max(Fixed::ZERO).min(quantity)),
            Side::Sell => Charge::Asset(base, amount.max(Fixed::ZERO)),
        },
        Commission::Other(ref name, amount) => {
            let amount = amount.max(Fixed::ZERO);
            let Some(asset) = market.instruments.asset_id(name) else {
                tracing::warn!(
                    deployment = %account.name,
                    "a commission of {amount} {name} is not counted: no symbol the host knows trades {name}"
                );
                return (Fixed::ZERO, Charge::Quote);
            };
            let free = account.balance(asset).free;
            if free < amount {
                tracing::warn!(
                    deployment = %account.name,
                    "a commission of {amount} {name} exceeds the deployment's free {free}: the rest was paid by the rest of the account"
                );
            }
            let value = market.convert(amount, asset, quote).unwrap_or_else(|| {
                tracing::warn!(
                    deployment = %account.name,
                    "a commission of {amount} {name} is valued at zero: no price of {name} in {}",
                    market.instruments.asset_name(quote)
                );
                Fixed::ZERO
            });
            return (value, Charge::Asset(asset, amount));
        }
    };
    if let Some(policy) = account.fee_asset
        && policy.asset != base
        && policy.asset != quote
        && fee.is_positive()
    {
        let discounted = fee.saturating_mul(policy.multiplier);
        if let Some(amount) = market
            .price_of(policy.asset, quote)
            .and_then(|price| discounted.checked_div(price))
            && amount.is_positive()
            && account.balance(policy.asset).free >= amount
        {
            return (discounted, Charge::Asset(policy.asset, amount));
        }
    }
    (fee, charged)
}

impl crate::risk::AccountsView for Oms {
    fn totals(
        &self,
        market: &MarketData,
        valuation: crate::model::AssetId,
        symbol: crate::model::SymbolId,
    ) -> crate::risk::AccountTotals {
        use crate::risk::AccountView;
        let mut t = crate::risk::AccountTotals {
            equity: Some(Fixed::ZERO),
            ..Default::default()
        };
        for a in self.accounts() {
            let value = |v: Fixed| {
                if a.valuation == valuation {
                    v
                } else {
                    market.convert(v, a.valuation, valuation).unwrap_or(v)
                }
            };
            t.open_orders += a.open_order_count();
            t.gross_others = t
                .gross_others
                .saturating_add(value(a.committed_exposure(market, Some(symbol))));
            t.net_others = t
                .net_others
                .saturating_add(value(a.committed_net_exposure(market, Some(symbol))));
            t.symbol_committed = t.symbol_committed.saturating_add(a.committed(symbol));
            t.equity = match (t.equity, a.equity(market)) {
                (Some(sum), Some(e)) => Some(sum.saturating_add(value(e))),
                _ => None,
            };
        }
        t
    }
}
