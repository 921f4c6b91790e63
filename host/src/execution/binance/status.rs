//! What operators see of the live venue: its connection, how much of Binance's limits it uses,
//! its reconciliation and the exchange's own balances.

use crate::model::Fixed;
use serde::Serialize;

/// An open order on the exchange account that no deployment of this host owns.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnknownOrder {
    /// Its symbol.
    pub symbol: String,
    /// The exchange's order id.
    pub order_id: i64,
    /// Its client order id.
    pub client_order_id: String,
    /// What was done: `reported` or `cancelled`.
    pub action: String,
}

/// One asset of the exchange account.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExchangeBalance {
    /// The asset.
    pub asset: String,
    /// Free.
    #[schema(value_type = String)]
    pub free: Fixed,
    /// Locked in open orders.
    #[schema(value_type = String)]
    pub locked: Fixed,
}

/// A deposit or withdrawal on the exchange account (`balanceUpdate`).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Transfer {
    /// The asset.
    pub asset: String,
    /// The change (negative: a withdrawal).
    #[schema(value_type = String)]
    pub delta: Fixed,
    /// When it cleared (ms since the epoch).
    pub time: i64,
}

/// Transfers remembered in the status.
pub const MAX_TRANSFERS: usize = 20;

/// The live venue's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VenueStatus {
    /// REST base URL.
    pub rest: String,
    /// WebSocket API URL.
    pub ws_api: String,
    /// Whether the user data stream is subscribed now.
    pub connected: bool,
    /// Times the user data stream was subscribed again after it ended.
    pub reconnects: u64,
    /// The exchange's clock minus ours, in milliseconds.
    pub clock_offset_ms: i64,
    /// REQUEST_WEIGHT used in the current minute, as last counted.
    pub weight_used: u32,
    /// REQUEST_WEIGHT allowed per minute.
    pub weight_limit: u32,
    /// New orders in the last ten seconds.
    pub orders_10s: usize,
    /// New orders allowed per ten seconds.
    pub orders_10s_limit: usize,
    /// New orders today.
    pub orders_day: u64,
    /// New orders allowed per day.
    pub orders_day_limit: u64,
    /// Requests sent and not yet answered.
    pub in_flight: usize,
    /// Orders of ours not yet ended.
    pub open_orders: usize,
    /// Orders whose placement's outcome is not known yet (no answer; reconciliation decides).
    pub in_doubt: usize,
    /// Reconciliations done.
    pub reconciliations: u64,
    /// When the last one ended (milliseconds since the epoch).
    pub last_reconciliation: Option<i64>,
    /// Fills learned by queries and reconciliation rather than from answers or the stream.
    pub recovered_fills: u64,
    /// Open orders on the account that are not ours.
    pub unknown_orders: Vec<UnknownOrder>,
    /// Trades on the account of orders that are not ours, since the first reconciliation.
    pub unknown_trades: u64,
    /// Symbols whose commissions the account pays at a discount in another asset (Binance's
    /// "use BNB to pay fees"), as the last reconciliation read them.
    pub fee_discounts: Vec<String>,
    /// The exchange's balances (non-zero ones), at the last reconciliation or account event.
    pub balances: Vec<ExchangeBalance>,
    /// The latest deposits and withdrawals on the account, newest last (at most
    /// [`MAX_TRANSFERS`]): the host's deployments do not own them, so they show in the balance
    /// differences.
    pub transfers: Vec<Transfer>,
    /// The last error talking to the exchange.
    pub last_error: Option<String>,
    /// Symbols whose book the host keeps from this exchange's own market streams (a routed
    /// venue's, to split orders by), once in sync.
    pub books: Vec<String>,
}
