//! The live venue's task: it sends orders and cancels (each once its row is committed, never
//! blocking the others), follows the user data stream (subscribing again when it ends), and
//! reconciles with the exchange at start, after every reconnect and on a timer. Everything it
//! learns goes through the [`Tracker`], so the order manager hears each fact once.

use super::client::{TradingClient, TradingError};
use super::orders::{self, OrderView, Trade};
use super::status::{ExchangeBalance, UnknownOrder};
use super::tracker::{Placed, Tracker};
use super::venue::Shared;
use crate::execution::venue::{Counted, FeeDiscount, VenueReport};
use crate::journal::{JournalMark, JournalProgress};
use crate::model::{AccountLimit, Fixed, RejectCode, Rejection};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What the venue asks of its task.
#[derive(Debug)]
pub enum Command {
    /// Send a new order once the journal has committed up to `mark`.
    Place {
        /// The order.
        placed: Placed,
        /// Its parameters.
        params: Map<String, Value>,
        /// The journal position of its row.
        mark: Option<JournalMark>,
    },
    /// Take back an order that was open before a restart: look it up by its client order id
    /// and follow it, or send it if it never reached the exchange.
    Restore {
        /// The order, for what remained of it.
        placed: Placed,
        /// Its parameters (for what remained).
        params: Map<String, Value>,
        /// What the order manager counted of it before the restart.
        counted: Counted,
    },
    /// Cancel an order.
    Cancel {
        /// Host order id.
        order_id: u64,
    },
}

/// What to do with open orders on the account that are not ours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownPolicy {
    /// Leave them, report them.
    #[default]
    Report,
    /// Cancel them.
    Cancel,
}

/// The result of a request the task started.
enum Outcome {
    /// A placement's answer (or a query's, when its answer was lost or it was a duplicate).
    Placed(u64, Result<Value, TradingError>),
    /// An order not sent because its row was not stored: why.
    Unstored(u64, String),
    /// A restored order's lookup: its query answer and its trades.
    Restored(u64, Result<(Value, Vec<Trade>), TradingError>),
    /// A cancel's answer.
    Cancelled(u64, Result<Value, TradingError>),
    /// A query's answer.
    Queried(u64, Result<Value, TradingError>),
    /// An order's trades (`myTrades?orderId=`).
    Trades(u64, Result<Vec<Trade>, TradingError>),
    /// A reconciliation's findings.
    Reconciled(Result<Box<Snapshot>, TradingError>),
    /// A measurement of the exchange clock's offset.
    ClockSynced(Result<i64, TradingError>),
}

/// What one reconciliation read from the exchange.
struct Snapshot {
    open: Vec<OrderView>,
    /// New trades: symbol, the exchange's order id, the trade.
    trades: Vec<(String, i64, Trade)>,
    balances: Vec<ExchangeBalance>,
    fees: Option<crate::model::FeeRates>,
    /// The symbols whose commissions the account pays at a discount in another asset, when
    /// the exchange told them.
    discounts: Option<HashMap<String, FeeDiscount>>,
    /// How many symbols it read.
    symbols: usize,
    /// The last trade id per symbol read.
    last_trade: HashMap<String, i64>,
    time: i64,
}

/// The task's state.
pub struct Worker {
    client: Arc<TradingClient>,
    shared: Arc<Shared>,
    progress: Option<JournalProgress>,
    reports: std::sync::mpsc::Sender<VenueReport>,
    tracker: Tracker,
    outcomes: (
        mpsc::UnboundedSender<Outcome>,
        mpsc::UnboundedReceiver<Outcome>,
    ),
    /// Orders whose placement (or lookup) is in flight.
    placing: HashSet<u64>,
    /// Orders whose placement's outcome is unknown.
    in_doubt: HashSet<u64>,
    /// Orders restored after a restart whose lookup is in flight (tried again until the
    /// exchange answers), with their placement's parameters and what was counted before: what
    /// the exchange says of them meanwhile waits for it (the lookup decides which trades were
    /// counted before).
    restoring: HashMap<u64, (Map<String, Value>, Counted)>,
    /// Cancels sent and not yet confirmed, with their attempts.
    cancelling: HashMap<u64, u32>,
    /// When each order's trades were last fetched.
    fetched: HashMap<u64, std::time::Instant>,
    /// Cancels asked for while the order's placement was in flight.
    deferred_cancels: HashSet<u64>,
    /// Orders whose query or trades are being fetched.
    fetching: HashSet<u64>,
    /// Symbols we trade, for reconciliation.
    symbols: HashSet<String>,
    /// The last trade id seen per symbol.
    last_trade: HashMap<String, i64>,
    /// Orders that ended (symbol, exchange id): their trades are not unknown.
    ended: HashSet<(String, i64)>,
    /// The same, oldest first, to forget the oldest past [`MAX_ENDED`].
    ended_order: std::collections::VecDeque<(String, i64)>,
    /// Trades the last reconciliation could not match to an order yet (its placement's answer
    /// may still be on its way): unknown if the next cannot either.
    unmatched: Vec<(String, i64, Trade)>,
    reconciling: bool,
    /// Whether a measurement of the exchange's clock is in flight.
    clock_syncing: bool,
    /// Whether the last reconciliation failed.
    reconcile_failed: bool,
    /// When the commission discounts were last read, and for how many symbols.
    discounts_read: Option<(std::time::Instant, usize)>,
    in_flight: usize,
    policy: UnknownPolicy,
    /// Reports sent since the engine was last woken.
    news: bool,
}

/// Ended orders remembered, so that their trades are not taken for unknown ones.
const MAX_ENDED: usize = 100_000;
/// Cancels sent for one order before its cancel counts as refused.
const CANCEL_ATTEMPTS: u32 = 3;
/// How long an order waits for its journal row to be committed before it is refused.
const COMMIT_WAIT: Duration = Duration::from_secs(30);
/// Pause before a restored order's lookup is tried again after a failure.
const RESTORE_RETRY: Duration = Duration::from_secs(2);
/// How often reconciliation reads the account's commission discounts (weight 20 a symbol).
const DISCOUNTS_EVERY: Duration = Duration::from_secs(600);

fn rate_refusal(why: String) -> Rejection {
    Rejection::new(RejectCode::Account(AccountLimit::OrderRate), why)
}

fn order_params(symbol: &str, client_order_id: &str) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("symbol".into(), json!(symbol));
    p.insert("origClientOrderId".into(), json!(client_order_id));
    p
}

/// Places `params`, sending it again only while the request could not be sent at all. An
/// answer that was lost, or a duplicate (an earlier send arrived), is settled by a query on the
/// client order id; if that cannot tell, the outcome stays unknown (the order is in doubt until
/// reconciliation finds it or finds it missing): sending again could make it two orders, as
/// Binance keeps client order ids unique only among open orders.
async fn place(client: &TradingClient, params: Map<String, Value>) -> Result<Value, TradingError> {
    let symbol = params["symbol"].as_str().unwrap_or("").to_string();
    let id = params["newClientOrderId"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut pause = Duration::from_millis(50);
    for attempt in 0..4 {
        let result = client.place(params.clone()).await;
        let ask = match &result {
            Err(TradingError::Transport(_)) if attempt < 3 => {
                tokio::time::sleep(pause).await;
                pause *= 4;
                continue;
            }
            Err(TradingError::Unknown { .. }) => true,
            Err(TradingError::Refused {
                code: -2010, msg, ..
            }) => msg.contains("Duplicate"),
            _ => false,
        };
        if !ask {
            return result;
        }
        return match client.query(order_params(&symbol, &id)).await {
            Ok(answer) => Ok(answer),
            Err(e) => Err(TradingError::Unknown {
                what: format!("order {id} (its answer lost, and the query said: {e})"),
            }),
        };
    }
    Err(TradingError::Transport(format!(
        "order {id} could not be sent after 4 attempts"
    )))
}

/// A trades list of `myTrades`.
fn trades_of(answer: &Value) -> Result<Vec<(i64, Trade)>, TradingError> {
    let rows = answer.as_array().ok_or_else(|| {
        TradingError::Transport(format!("myTrades answered with no list: {answer}"))
    })?;
    rows.iter()
        .map(|row| orders::account_trade(row).map_err(TradingError::Transport))
        .collect()
}

/// Up to 1000 trades of `symbol`, those after `filter` (`fromId` or `orderId` and its value)
/// or the newest.
async fn my_trades(
    client: &TradingClient,
    symbol: &str,
    filter: Option<(&str, i64)>,
) -> Result<Vec<(i64, Trade)>, TradingError> {
    let mut p = Map::new();
    p.insert("symbol".into(), json!(symbol));
    if let Some((name, value)) = filter {
        p.insert(name.into(), json!(value));
    }
    p.insert("limit".into(), json!(1000));
    let answer = client
        .rest(reqwest::Method::GET, "/api/v3/myTrades", &p)
        .await?;
    trades_of(&answer)
}

/// The account's discount on a symbol's commissions from its `account/commission` answer,
/// when the account pays them in another asset (BNB) on that symbol.
fn discount_of(answer: &Value) -> Option<FeeDiscount> {
    let d = &answer["discount"];
    if !(d["enabledForAccount"].as_bool()? && d["enabledForSymbol"].as_bool()?) {
        return None;
    }
    Some(FeeDiscount {
        asset: d["discountAsset"].as_str()?.into(),
        multiplier: d["discount"].as_str()?.parse().ok()?,
    })
}

/// Which of `symbols` the account pays commissions on at a discount (weight 20 each, no more
/// once one answer says the account pays none at a discount); `None` when the exchange would
/// not say (logged: the last known stay).
async fn discounts(
    client: &TradingClient,
    symbols: &[String],
) -> Option<HashMap<String, FeeDiscount>> {
    let mut out = HashMap::new();
    for symbol in symbols {
        let mut p = Map::new();
        p.insert("symbol".into(), json!(symbol));
        match client
            .rest(reqwest::Method::GET, "/api/v3/account/commission", &p)
            .await
        {
            Ok(answer) => {
                if let Some(discount) = discount_of(&answer) {
                    out.insert(symbol.clone(), discount);
                } else if answer["discount"]["enabledForAccount"] == Value::Bool(false) {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!("the account's commission on {symbol} is unknown: {e}");
                return None;
            }
        }
    }
    Some(out)
}

/// Reads open orders, balances, the trades after `last_trade` of `symbols` and, with
/// `read_discounts`, the account's commission discounts on them.
async fn snapshot(
    client: Arc<TradingClient>,
    symbols: Vec<String>,
    last_trade: HashMap<String, i64>,
    read_discounts: bool,
) -> Result<Box<Snapshot>, TradingError> {
    let open = client
        .rest(reqwest::Method::GET, "/api/v3/openOrders", &Map::new())
        .await?;
    let open = open
        .as_array()
        .ok_or_else(|| TradingError::Transport(format!("openOrders answered {open}")))?
        .iter()
        .map(|o| OrderView::from_answer(o).map_err(TradingError::Transport))
        .collect::<Result<Vec<_>, _>>()?;
    let account = client
        .rest(reqwest::Method::GET, "/api/v3/account", &Map::new())
        .await?;
    let balances = account["balances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            Some(ExchangeBalance {
                asset: b["asset"].as_str()?.to_string(),
                free: b["free"].as_str()?.parse().ok()?,
                locked: b["locked"].as_str()?.parse().ok()?,
            })
        })
        .filter(|b| b.free.raw() != 0 || b.locked.raw() != 0)
        .collect();
    let rate =
        |name: &str| -> Option<Fixed> { account["commissionRates"][name].as_str()?.parse().ok() };
    let fees = match (rate("maker"), rate("taker")) {
        (Some(maker), Some(taker)) => Some(crate::model::FeeRates { maker, taker }),
        _ => None,
    };
    let discounts = match read_discounts {
        true => discounts(&client, &symbols).await,
        false => None,
    };
    let mut trades = Vec::new();
    let mut last = last_trade.clone();
    let symbol_count = symbols.len();
    for symbol in symbols {
        // Pages of 1000 after the last seen; the first reconciliation only learns where the
        // account's history ends.
        let first = last_trade.get(&symbol).copied();
        let mut from = first.map(|id| id + 1);
        loop {
            let page = my_trades(&client, &symbol, from.map(|id| ("fromId", id))).await?;
            let n = page.len();
            for (order, trade) in page {
                let newest = last.entry(symbol.clone()).or_insert(trade.id);
                *newest = (*newest).max(trade.id);
                if first.is_some() {
                    trades.push((symbol.clone(), order, trade));
                }
            }
            match (from, last.get(&symbol)) {
                (Some(_), Some(&newest)) if n == 1000 => from = Some(newest + 1),
                _ => break,
            }
        }
        last.entry(symbol).or_insert(-1);
    }
    Ok(Box::new(Snapshot {
        open,
        trades,
        balances,
        fees,
        discounts,
        symbols: symbol_count,
        last_trade: last,
        time: crate::model::time::wall_clock_ms(),
    }))
}

impl Worker {
    /// A task for `client` reporting to `reports`, waiting for `progress` before each order,
    /// reconciling the trades of `symbols` (and of any symbol it trades).
    pub fn new(
        client: Arc<TradingClient>,
        shared: Arc<Shared>,
        progress: Option<JournalProgress>,
        reports: std::sync::mpsc::Sender<VenueReport>,
        policy: UnknownPolicy,
        symbols: Vec<String>,
    ) -> Self {
        Worker {
            client,
            shared,
            progress,
            reports,
            tracker: Tracker::default(),
            outcomes: mpsc::unbounded_channel(),
            placing: HashSet::new(),
            in_doubt: HashSet::new(),
            restoring: HashMap::new(),
            cancelling: HashMap::new(),
            fetched: HashMap::new(),
            deferred_cancels: HashSet::new(),
            fetching: HashSet::new(),
            symbols: symbols.into_iter().collect(),
            last_trade: HashMap::new(),
            ended: HashSet::new(),
            ended_order: Default::default(),
            unmatched: Vec::new(),
            reconciling: false,
            discounts_read: None,
            clock_syncing: false,
            reconcile_failed: false,
            in_flight: 0,
            policy,
            news: false,
        }
    }

    /// Runs until the venue is dropped: commands from `commands`, the user data stream,
    /// reconciliation every `every`.
    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>, every: Duration) {
        if let Err(e) = self.client.sync_clock().await {
            self.error(format!("clock not synchronised: {e}"));
        }
        match self.client.learn_limits().await {
            Ok((orders, weight)) => tracing::info!(
                orders_10s = orders.per_10s,
                orders_day = orders.per_day,
                weight,
                "the exchange's limits"
            ),
            Err(e) => self.error(format!("limits not read (Binance's defaults kept): {e}")),
        }
        let mut stream = self.subscribed(self.client.user_data().await, false);
        self.reconcile();
        let mut timer = tokio::time::interval(every);
        timer.tick().await;
        let mut retry = tokio::time::interval(Duration::from_secs(1));
        // A subscription on its way (the loop never waits on the network itself).
        let mut subscribing: Option<tokio::task::JoinHandle<_>> = None;
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.command(command),
                    None => return,
                },
                Some(outcome) = self.outcomes.1.recv() => self.outcome(outcome),
                event = next(&mut stream), if stream.is_some() => match event {
                    Some(event) if self.event(&event) => {}
                    _ => {
                        stream = None;
                        self.shared.status(|s| s.connected = false);
                        tracing::warn!("the user data stream ended; subscribing again");
                    }
                },
                joined = async { subscribing.as_mut().expect("guarded").await },
                    if subscribing.is_some() => {
                    subscribing = None;
                    let result = joined.unwrap_or_else(|e| Err(TradingError::Transport(e.to_string())));
                    stream = self.subscribed(result, true);
                    if stream.is_some() {
                        self.reconcile();
                    }
                }
                _ = retry.tick(), if stream.is_none() && subscribing.is_none() => {
                    let client = self.client.clone();
                    subscribing = Some(tokio::spawn(async move { client.user_data().await }));
                }
                _ = timer.tick() => {
                    self.sync_clock();
                    self.reconcile();
                    // While reconciliations fail, each order whose placement's outcome is
                    // unknown is asked about on its own (a reconciliation that gets through
                    // asks about it itself).
                    if self.reconcile_failed {
                        let doubtful: Vec<u64> = self.in_doubt.iter().copied().collect();
                        for order_id in doubtful {
                            self.query(order_id);
                        }
                    }
                }
            }
            self.follow_up();
            self.publish();
        }
    }

    /// The user data stream of a subscription's `result` (`again`: after one ended).
    fn subscribed(
        &mut self,
        result: Result<mpsc::Receiver<Value>, TradingError>,
        again: bool,
    ) -> Option<mpsc::Receiver<Value>> {
        match result {
            Ok(rx) => {
                self.shared.status(|s| {
                    s.connected = true;
                    s.reconnects += u64::from(again);
                });
                Some(rx)
            }
            Err(e) => {
                self.error(format!("user data stream not subscribed: {e}"));
                None
            }
        }
    }

    fn error(&self, message: String) {
        tracing::warn!("binance venue: {message}");
        self.shared.status(|s| s.last_error = Some(message));
    }

    /// Measures the exchange's clock, unless a measurement is already in flight.
    fn sync_clock(&mut self) {
        if std::mem::replace(&mut self.clock_syncing, true) {
            return;
        }
        let client = self.client.clone();
        self.spawn(async move { Outcome::ClockSynced(client.sync_clock().await) });
    }

    /// Measures the exchange's clock again when it refused a request's timestamp (-1021: out
    /// of its recvWindow), rather than waiting for the timer while every signed request fails.
    fn resync_on_clock_refusal(&mut self, e: &TradingError) {
        if matches!(e, TradingError::Refused { code: -1021, .. }) {
            self.sync_clock();
        }
    }

    fn spawn<F>(&mut self, work: F)
    where
        F: std::future::Future<Output = Outcome> + Send + 'static,
    {
        self.in_flight += 1;
        let tx = self.outcomes.0.clone();
        tokio::spawn(async move {
            let _ = tx.send(work.await);
        });
    }

    fn emit(&mut self, reports: Vec<VenueReport>) {
        self.news |= !reports.is_empty();
        for report in reports {
            let _ = self.reports.send(report);
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Place {
                placed,
                params,
                mark,
            } => {
                let order_id = placed.order_id;
                self.symbols.insert(placed.symbol.clone());
                self.tracker.track(placed);
                self.placing.insert(order_id);
                let (client, progress) = (self.client.clone(), self.progress.clone());
                self.spawn(async move {
                    let committed = match (&progress, mark) {
                        (Some(progress), Some(mark)) => {
                            tokio::time::timeout(COMMIT_WAIT, progress.committed(mark))
                                .await
                                .unwrap_or_else(|_| {
                                    Err(format!("not committed within {COMMIT_WAIT:?}"))
                                })
                        }
                        _ => Ok(()),
                    };
                    if let Err(why) = committed {
                        return Outcome::Unstored(order_id, why);
                    }
                    Outcome::Placed(order_id, place(&client, params).await)
                });
            }
            Command::Restore {
                placed,
                params,
                counted,
            } => {
                let order_id = placed.order_id;
                self.symbols.insert(placed.symbol.clone());
                self.tracker.track(placed);
                self.placing.insert(order_id);
                self.restoring.insert(order_id, (params, counted));
                self.look_up(order_id, Duration::ZERO);
            }
            Command::Cancel { order_id } => {
                if self.placing.contains(&order_id) {
                    self.deferred_cancels.insert(order_id);
                } else {
                    self.cancel(order_id);
                }
            }
        }
    }

    /// Looks restored order `order_id` up by its client id after `pause`: its state and
    /// trades, or, when the exchange has never seen it, sends it.
    fn look_up(&mut self, order_id: u64, pause: Duration) {
        let Some((params, _)) = self.restoring.get(&order_id) else {
            return;
        };
        let params = params.clone();
        let client = self.client.clone();
        self.spawn(async move {
            tokio::time::sleep(pause).await;
            let symbol = params["symbol"].as_str().unwrap_or("").to_string();
            let id = params["newClientOrderId"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let found = match client.query(order_params(&symbol, &id)).await {
                Err(TradingError::Refused { code: -2013, .. }) => {
                    return Outcome::Placed(order_id, place(&client, params).await);
                }
                other => other,
            };
            let result = async {
                let answer = found?;
                let exchange_id = answer["orderId"].as_i64().unwrap_or(-1);
                let trades = my_trades(&client, &symbol, Some(("orderId", exchange_id))).await?;
                Ok((answer, trades.into_iter().map(|(_, t)| t).collect()))
            }
            .await;
            Outcome::Restored(order_id, result)
        });
    }

    fn cancel(&mut self, order_id: u64) {
        let Some(symbol) = self.tracker.symbol(order_id).map(str::to_string) else {
            let now = self.client.clock().now();
            self.emit(vec![VenueReport::cancel_answer(order_id, false, now)]);
            return;
        };
        *self.cancelling.entry(order_id).or_insert(0) += 1;
        let client = self.client.clone();
        let params = self.client_params(order_id, &symbol);
        self.spawn(async move { Outcome::Cancelled(order_id, client.cancel(params).await) });
    }

    /// A cancel whose answer was lost: the query says the order is still open, so it is sent
    /// again, and after [`CANCEL_ATTEMPTS`] counts as refused (a replacement waiting for it is
    /// then decided).
    fn settle_cancel(&mut self, order_id: u64, now: i64) {
        let Some(&attempts) = self.cancelling.get(&order_id) else {
            return;
        };
        if self.tracker.symbol(order_id).is_none() || self.tracker.is_done(order_id) {
            self.cancelling.remove(&order_id);
        } else if attempts < CANCEL_ATTEMPTS {
            self.cancel(order_id);
        } else {
            self.cancelling.remove(&order_id);
            let reason = Rejection::new(
                RejectCode::UnknownOrder,
                format!(
                    "the cancel of order {order_id} got no answer {attempts} times; it is still open"
                ),
            );
            let reports = self.tracker.cancel_refused(order_id, reason, now);
            self.emit(reports);
        }
    }

    fn client_params(&self, order_id: u64, symbol: &str) -> Map<String, Value> {
        order_params(
            symbol,
            &self.tracker.client_order_id(order_id).unwrap_or_default(),
        )
    }

    fn query(&mut self, order_id: u64) {
        let Some(symbol) = self.tracker.symbol(order_id).map(str::to_string) else {
            return;
        };
        if !self.fetching.insert(order_id) {
            return;
        }
        let client = self.client.clone();
        let params = self.client_params(order_id, &symbol);
        self.spawn(async move { Outcome::Queried(order_id, client.query(params).await) });
    }

    fn observe(&mut self, order_id: u64, view: &OrderView) -> usize {
        if self.restoring.contains_key(&order_id) {
            // Reconciliation tells it again once the lookup has decided.
            return 0;
        }
        let reports = self.tracker.observe(order_id, view);
        // The exchange has the order: a placement whose answer is late is settled, and a cancel
        // that waited for it can go.
        if self.tracker.exchange_id(order_id).is_some() {
            self.in_doubt.remove(&order_id);
            if self.placing.remove(&order_id) && self.deferred_cancels.remove(&order_id) {
                self.cancel(order_id);
            }
        }
        let fills = reports
            .iter()
            .filter(|r| matches!(r.kind, crate::execution::ReportKind::Fill { .. }))
            .count();
        self.emit(reports);
        fills
    }

    fn outcome(&mut self, outcome: Outcome) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let now = self.client.clock().now();
        match outcome {
            Outcome::Placed(order_id, result) => {
                self.placing.remove(&order_id);
                // A restored order the exchange had never seen, now sent.
                self.restoring.remove(&order_id);
                match result {
                    Ok(answer) => {
                        self.in_doubt.remove(&order_id);
                        self.answer(order_id, &answer, false);
                    }
                    Err(e @ TradingError::Refused { .. }) => {
                        self.resync_on_clock_refusal(&e);
                        if let TradingError::Refused { code, msg, .. } = e {
                            let rejection = orders::rejection(code, &msg);
                            let reports = self.tracker.refuse(order_id, rejection, now);
                            self.emit(reports);
                        }
                    }
                    Err(TradingError::Throttled(why)) => {
                        let reports = self.tracker.refuse(order_id, rate_refusal(why), now);
                        self.emit(reports);
                    }
                    Err(e) => {
                        // Sent, perhaps; reconciliation will find it or find it missing.
                        self.error(format!("order {order_id}: {e}"));
                        if self.tracker.exchange_id(order_id).is_none() {
                            self.in_doubt.insert(order_id);
                        }
                    }
                }
                if self.deferred_cancels.remove(&order_id) {
                    self.cancel(order_id);
                }
            }
            Outcome::Unstored(order_id, why) => {
                self.placing.remove(&order_id);
                self.deferred_cancels.remove(&order_id);
                let reason = Rejection::new(
                    RejectCode::InvalidOrder,
                    format!("not sent: its row was not stored ({why})"),
                );
                let reports = self.tracker.refuse(order_id, reason, now);
                self.emit(reports);
            }
            Outcome::Restored(order_id, Err(e)) if !matches!(e, TradingError::Refused { code, .. } if code != -1021) =>
            {
                // Until the lookup has decided which trades were counted before the restart,
                // nothing the exchange says of the order is taken: ask again (a refused
                // timestamp, once the clock is measured again).
                self.resync_on_clock_refusal(&e);
                self.error(format!("restored order {order_id} not looked up yet: {e}"));
                self.look_up(order_id, RESTORE_RETRY);
            }
            Outcome::Restored(order_id, result) => {
                self.placing.remove(&order_id);
                let counted = self
                    .restoring
                    .remove(&order_id)
                    .map(|(_, counted)| counted)
                    .unwrap_or_default();
                match result {
                    Ok((answer, trades)) => {
                        // Trades before the restart were counted then; the rest are news,
                        // told after the order's state (so its end is known with its fills).
                        let rest = self.tracker.restored(order_id, &counted, trades);
                        self.answer(order_id, &answer, true);
                        self.trades(order_id, rest);
                    }
                    Err(e) => {
                        self.error(format!("restored order {order_id} refused its lookup: {e}"));
                        self.in_doubt.insert(order_id);
                    }
                }
                if self.deferred_cancels.remove(&order_id) {
                    self.cancel(order_id);
                }
            }
            Outcome::Cancelled(order_id, result) => match result {
                Ok(answer) => {
                    self.cancelling.remove(&order_id);
                    self.answer(order_id, &answer, false)
                }
                Err(e @ TradingError::Refused { code: -1021, .. }) => {
                    // The timestamp, not the cancel, was refused: the query decides whether to
                    // send it again.
                    self.resync_on_clock_refusal(&e);
                    self.error(format!("cancel of order {order_id}: {e}"));
                    self.query(order_id);
                }
                Err(TradingError::Refused { code, msg, .. }) => {
                    self.cancelling.remove(&order_id);
                    let reports =
                        self.tracker
                            .cancel_refused(order_id, orders::rejection(code, &msg), now);
                    self.emit(reports);
                    // It ended meanwhile: learn how.
                    self.query(order_id);
                }
                Err(e) => {
                    self.error(format!("cancel of order {order_id}: {e}"));
                    self.query(order_id);
                }
            },
            Outcome::Queried(order_id, result) => {
                self.fetching.remove(&order_id);
                match result {
                    Ok(answer) => {
                        self.in_doubt.remove(&order_id);
                        self.answer(order_id, &answer, true);
                        self.settle_cancel(order_id, now);
                    }
                    Err(TradingError::Refused { code: -2013, .. })
                        if self.in_doubt.remove(&order_id) =>
                    {
                        // It never reached the exchange (told once, if it is still open here).
                        if self.tracker.is_open(order_id) {
                            let reason = Rejection::new(
                                RejectCode::InvalidOrder,
                                "the order did not reach the exchange (no answer, and the exchange does not know it)",
                            );
                            let reports = self.tracker.refuse(order_id, reason, now);
                            self.emit(reports);
                        }
                    }
                    Err(e) => {
                        self.resync_on_clock_refusal(&e);
                        self.error(format!("query of order {order_id}: {e}"));
                    }
                }
            }
            Outcome::Trades(order_id, result) => {
                self.fetching.remove(&order_id);
                match result {
                    Ok(trades) => self.trades(order_id, trades),
                    Err(e) => {
                        self.resync_on_clock_refusal(&e);
                        self.error(format!("trades of order {order_id}: {e}"));
                    }
                }
            }
            Outcome::Reconciled(result) => {
                self.reconciling = false;
                self.reconcile_failed = result.is_err();
                match result {
                    Ok(snapshot) => self.reconciled(*snapshot),
                    Err(e) => {
                        self.resync_on_clock_refusal(&e);
                        self.error(format!("reconciliation failed: {e}"));
                    }
                }
            }
            Outcome::ClockSynced(result) => {
                self.clock_syncing = false;
                if let Err(e) = result {
                    self.error(format!("clock not synchronised: {e}"));
                }
            }
        }
    }

    /// An order answer (placement, query, cancel): `recovered` when it may carry fills the
    /// answers and the stream did not.
    fn answer(&mut self, order_id: u64, answer: &Value, recovered: bool) {
        match OrderView::from_answer(answer) {
            Ok(view) => {
                let fills = self.observe(order_id, &view);
                if recovered && fills > 0 {
                    self.shared.status(|s| s.recovered_fills += fills as u64);
                }
            }
            Err(e) => self.error(e),
        }
    }

    /// Trades of order `order_id` from `myTrades`.
    fn trades(&mut self, order_id: u64, trades: Vec<Trade>) {
        if trades.is_empty() {
            return;
        }
        let Some(symbol) = self.tracker.symbol(order_id).map(str::to_string) else {
            return;
        };
        let view = OrderView {
            client_order_id: self.tracker.client_order_id(order_id).unwrap_or_default(),
            exchange_id: self.tracker.exchange_id(order_id).unwrap_or(-1),
            symbol,
            status: "TRADES".into(),
            executed: Fixed::ZERO,
            working: true,
            time: self.client.clock().now(),
            trades,
        };
        let fills = self.observe(order_id, &view);
        self.shared.status(|s| s.recovered_fills += fills as u64);
    }

    /// A user data stream event; false when it ends the stream.
    fn event(&mut self, event: &Value) -> bool {
        match event["e"].as_str() {
            Some("executionReport") => match OrderView::from_execution_report(event) {
                Ok(view) => match orders::host_order_id(&view.client_order_id) {
                    Some(order_id) => {
                        self.observe(order_id, &view);
                    }
                    None => tracing::debug!(
                        "execution report of an order not ours: {}",
                        view.client_order_id
                    ),
                },
                Err(e) => self.error(e),
            },
            Some("outboundAccountPosition") => {
                let changed: Vec<ExchangeBalance> = event["B"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|b| {
                        Some(ExchangeBalance {
                            asset: b["a"].as_str()?.to_string(),
                            free: b["f"].as_str()?.parse().ok()?,
                            locked: b["l"].as_str()?.parse().ok()?,
                        })
                    })
                    .collect();
                self.shared.status(|s| {
                    for c in changed {
                        s.balances.retain(|b| b.asset != c.asset);
                        if c.free.raw() != 0 || c.locked.raw() != 0 {
                            s.balances.push(c);
                        }
                    }
                    s.balances.sort_by(|a, b| a.asset.cmp(&b.asset));
                });
            }
            Some("balanceUpdate") => {
                let transfer = event["d"]
                    .as_str()
                    .and_then(|d| d.parse().ok())
                    .map(|delta| super::status::Transfer {
                        asset: event["a"].as_str().unwrap_or("").to_string(),
                        delta,
                        time: event["T"].as_i64().unwrap_or(0),
                    });
                match transfer {
                    Some(t) => {
                        tracing::info!(asset = %t.asset, delta = %t.delta, "a transfer on the exchange account");
                        self.shared.status(|s| {
                            s.transfers.push(t);
                            let over = s
                                .transfers
                                .len()
                                .saturating_sub(super::status::MAX_TRANSFERS);
                            s.transfers.drain(..over);
                        });
                    }
                    None => self.error(format!("malformed balanceUpdate: {event}")),
                }
            }
            Some("eventStreamTerminated") => {
                self.error("the exchange ended the user data stream".into());
                return false;
            }
            _ => {}
        }
        true
    }

    fn reconcile(&mut self) {
        if self.reconciling {
            return;
        }
        self.reconciling = true;
        let client = self.client.clone();
        let symbols: Vec<String> = self.symbols.iter().cloned().collect();
        let last = self.last_trade.clone();
        // Every so often, and as soon as a symbol is traded that they were not read for.
        let read_discounts = self
            .discounts_read
            .is_none_or(|(at, n)| at.elapsed() >= DISCOUNTS_EVERY || n < symbols.len());
        self.spawn(async move {
            Outcome::Reconciled(snapshot(client, symbols, last, read_discounts).await)
        });
    }

    fn reconciled(&mut self, snapshot: Snapshot) {
        let mut open_ids = HashSet::new();
        let mut unknown = Vec::new();
        for view in &snapshot.open {
            match orders::host_order_id(&view.client_order_id)
                .filter(|id| self.tracker.symbol(*id).is_some())
            {
                Some(order_id) => {
                    open_ids.insert(order_id);
                    let fills = self.observe(order_id, view);
                    self.shared.status(|s| s.recovered_fills += fills as u64);
                }
                None => unknown.push(view.clone()),
            }
        }
        // Ours, not open there, not in flight: they ended (or never arrived); ask.
        let gone: Vec<u64> = self
            .tracker
            .open()
            .filter(|id| !open_ids.contains(id) && !self.placing.contains(id))
            .collect();
        for order_id in gone {
            self.query(order_id);
        }
        // An order still in doubt that has ended here meanwhile (its events told it, or a
        // refusal of a resend did) is settled once the exchange's id for it is known, or once
        // the tracker has forgotten it (ended and pruned: a trade of it the host never counted
        // would show as an unknown trade); until then the exchange is asked about it again at
        // every reconciliation.
        let doubtful: Vec<u64> = self
            .in_doubt
            .iter()
            .copied()
            .filter(|&id| !self.tracker.is_open(id))
            .collect();
        for order_id in doubtful {
            let forgotten = self.tracker.symbol(order_id).is_none();
            if forgotten || self.tracker.exchange_id(order_id).is_some() {
                self.in_doubt.remove(&order_id);
            } else {
                self.query(order_id);
            }
        }
        let mut unknown_trades = 0;
        // A trade on a symbol where an order of ours has no known exchange id yet (its answer
        // lost, its events missed) may be that order's: it waits until that is settled.
        let unsettled: HashSet<String> = self
            .placing
            .iter()
            .chain(&self.in_doubt)
            .filter_map(|&id| self.tracker.symbol(id).map(str::to_string))
            .collect();
        let earlier = std::mem::take(&mut self.unmatched);
        let fresh = snapshot.trades.into_iter().map(|t| (t, false));
        for ((symbol, exchange_id, trade), late) in
            earlier.into_iter().map(|t| (t, true)).chain(fresh)
        {
            match self.tracker.host_id(&symbol, exchange_id) {
                Some(order_id) => self.trades(order_id, vec![trade]),
                None if self.ended.contains(&(symbol.clone(), exchange_id)) => {}
                None if late && !unsettled.contains(&symbol) => unknown_trades += 1,
                None => self.unmatched.push((symbol, exchange_id, trade)),
            }
        }
        let policy = self.policy;
        let listed: Vec<UnknownOrder> = unknown
            .iter()
            .map(|v| UnknownOrder {
                symbol: v.symbol.clone(),
                order_id: v.exchange_id,
                client_order_id: v.client_order_id.clone(),
                action: match policy {
                    UnknownPolicy::Report => "reported".into(),
                    UnknownPolicy::Cancel => "cancelled".into(),
                },
            })
            .collect();
        if !listed.is_empty() {
            tracing::warn!(
                count = listed.len(),
                ?policy,
                "open orders on the account that are not ours"
            );
        }
        if policy == UnknownPolicy::Cancel {
            // Never ours (an order of this host not followed yet, e.g. before a restore).
            let foreign = unknown
                .into_iter()
                .filter(|v| orders::host_order_id(&v.client_order_id).is_none());
            for v in foreign {
                let client = self.client.clone();
                let mut p = Map::new();
                p.insert("symbol".into(), json!(v.symbol));
                p.insert("orderId".into(), json!(v.exchange_id));
                tokio::spawn(async move {
                    if let Err(e) = client.cancel(p).await {
                        tracing::warn!("cancelling an order not ours failed: {e}");
                    }
                });
            }
        }
        self.last_trade = snapshot.last_trade;
        if let Some(fees) = snapshot.fees {
            *self.shared.fees.lock().unwrap_or_else(|p| p.into_inner()) = Some(fees);
        }
        if let Some(discounts) = snapshot.discounts {
            self.discounts_read = Some((std::time::Instant::now(), snapshot.symbols));
            let mut paid: Vec<String> = discounts.keys().cloned().collect();
            paid.sort();
            self.shared.status(|s| s.fee_discounts = paid);
            *self
                .shared
                .discounts
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = discounts;
        }
        self.shared.status(|s| {
            s.reconciliations += 1;
            s.last_reconciliation = Some(snapshot.time);
            s.unknown_orders = listed;
            s.unknown_trades += unknown_trades;
            s.balances = snapshot.balances;
        });
    }

    /// Fetches what the tracker knows is missing, forgets what has ended.
    fn follow_up(&mut self) {
        let now = std::time::Instant::now();
        for (order_id, symbol, exchange_id) in self.tracker.missing_trades() {
            // At most once a second per order: the exchange's trade list may lag its status.
            let recent = self
                .fetched
                .get(&order_id)
                .is_some_and(|at| now.duration_since(*at) < Duration::from_secs(1));
            if !recent && self.fetching.insert(order_id) {
                self.fetched.insert(order_id, now);
                let client = self.client.clone();
                self.spawn(async move {
                    let trades = my_trades(&client, &symbol, Some(("orderId", exchange_id)))
                        .await
                        .map(|rows| rows.into_iter().map(|(_, t)| t).collect());
                    Outcome::Trades(order_id, trades)
                });
            }
        }
        for key in self.tracker.prune() {
            self.ended.insert(key.clone());
            self.ended_order.push_back(key);
        }
        while self.ended_order.len() > MAX_ENDED {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
        let tracker = &self.tracker;
        self.fetched.retain(|id, _| tracker.is_open(*id));
        self.cancelling.retain(|id, _| tracker.is_open(*id));
    }

    /// Tells the engine there is news (if there is), and operators the state.
    fn publish(&mut self) {
        if std::mem::take(&mut self.news) {
            self.shared.wake();
        }
        let usage = self.client.usage();
        let (in_flight, open, in_doubt) = (
            self.in_flight,
            self.tracker.open().count(),
            self.in_doubt.len(),
        );
        let offset = self.client.clock().offset_ms();
        self.shared.status(|s| {
            s.in_flight = in_flight;
            s.open_orders = open;
            s.in_doubt = in_doubt;
            s.clock_offset_ms = offset;
            s.weight_used = usage.weight_used;
            s.weight_limit = usage.weight_limit;
            s.orders_10s = usage.orders.ten_seconds;
            s.orders_day = usage.orders.day;
            s.orders_10s_limit = usage.limits.per_10s;
            s.orders_day_limit = usage.limits.per_day;
        });
    }
}

async fn next(stream: &mut Option<mpsc::Receiver<Value>>) -> Option<Value> {
    match stream {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
