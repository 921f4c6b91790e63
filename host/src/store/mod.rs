//! Persistence of what cannot be recomputed: deployments with their components, strategy state
//! and fills, through sqlx in a SQLite file by default or in PostgreSQL when the URL says
//! `postgres:`; the statements are written once, in SQL both accept. The engine never waits for it: [`StoreJournal`] queues
//! journal entries and a writer task applies them in batches, one transaction each.

pub(crate) mod database;
mod journal;

pub use journal::StoreJournal;

use crate::journal::{JournalEntry, OrderRecord, TradingRecord, VersionRecord};
use crate::model::{Fixed, Side};
use crate::risk::{Budget, StateRecord, StopState, TradingState};
use crate::sandbox::{Grants, StateStore, World};
use database::{Database, Migrations, migrations};
use sqlx::Row;
use std::sync::Arc;

/// The schema's migrations, (version, SQLite text, PostgreSQL text), recorded in
/// `stratbox_migrations`.
const MIGRATIONS: Migrations = migrations!(
    "service",
    "stratbox_migrations",
    "7400002",
    &[
        (
            1,
            include_str!("../../migrations/sqlite/0001_init.sql"),
            include_str!("../../migrations/postgres/0001_init.sql"),
        ),
        (
            2,
            include_str!("../../migrations/sqlite/0002_grants.sql"),
            include_str!("../../migrations/postgres/0002_grants.sql"),
        ),
        (
            3,
            include_str!("../../migrations/sqlite/0003_orders.sql"),
            include_str!("../../migrations/postgres/0003_orders.sql"),
        ),
        (
            4,
            include_str!("../../migrations/sqlite/0004_trading_states.sql"),
            include_str!("../../migrations/postgres/0004_trading_states.sql"),
        ),
        (
            5,
            include_str!("../../migrations/sqlite/0005_operators.sql"),
            include_str!("../../migrations/postgres/0005_operators.sql"),
        ),
        (
            6,
            include_str!("../../migrations/sqlite/0006_token_rates.sql"),
            include_str!("../../migrations/postgres/0006_token_rates.sql"),
        ),
        (
            7,
            include_str!("../../migrations/sqlite/0007_model_registry.sql"),
            include_str!("../../migrations/postgres/0007_model_registry.sql"),
        ),
        (
            8,
            include_str!("../../migrations/sqlite/0008_signal_outcomes.sql"),
            include_str!("../../migrations/postgres/0008_signal_outcomes.sql"),
        ),
        (
            9,
            include_str!("../../migrations/sqlite/0009_signal_pending.sql"),
            include_str!("../../migrations/postgres/0009_signal_pending.sql"),
        ),
        (
            10,
            include_str!("../../migrations/sqlite/0010_fill_commissions.sql"),
            include_str!("../../migrations/postgres/0010_fill_commissions.sql"),
        ),
    ]
);

/// A storage failure, naming the operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not one this store understands.
    #[error("unsupported database URL {0:?}: use sqlite://<path> or postgres://user@host/database")]
    UnsupportedUrl(String),
    /// The database refused an operation.
    #[error("database error while {doing}: {source}")]
    Database {
        /// What was being done.
        doing: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The database's schema cannot be used by this build.
    #[error("{0}")]
    Schema(String),
    /// A stored row could not be understood.
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        detail: String,
    },
}

pub(crate) fn db(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { doing, source }
}

/// A deployment as persisted.
#[derive(Clone, Debug)]
pub struct DeploymentRecord {
    /// Its name.
    pub name: String,
    /// Its world.
    pub world: World,
    /// The running version.
    pub current: VersionRecord,
    /// The version kept for rollback.
    pub previous: Option<VersionRecord>,
    /// Its budget.
    pub budget: Budget,
    /// What its guests may reach beyond the contract.
    pub grants: Grants,
    /// Why it was halted, if it was.
    pub halted_reason: Option<String>,
}

/// A fill as persisted.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, serde::Serialize)]
pub struct FillRow {
    /// The deployment.
    pub deployment: String,
    /// Host order id.
    pub order_id: i64,
    /// Host trade id, unique across deployments (0 for fills stored before schema 3).
    pub trade_id: i64,
    /// Exact quote quantity.
    pub quote_quantity: String,
    /// `maker` or `taker`.
    pub liquidity: String,
    /// Symbol name.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Exact price.
    pub price: String,
    /// Exact quantity.
    pub quantity: String,
    /// Exact fee, valued in the quote asset.
    pub fee: String,
    /// The commission as charged, in `commission_asset` (empty for fills stored before
    /// schema 10).
    pub commission: String,
    /// The asset the commission was charged in (the quote asset, the base a buy received, or
    /// the asset the account pays fees in, e.g. BNB).
    pub commission_asset: String,
    /// The venue's own id of the trade (an exchange's, per symbol), when it has one.
    pub venue_trade_id: Option<i64>,
    /// Event time.
    pub time_ms: i64,
}

/// What [`Store::trading`] reads: balances, positions, open orders and their fills' venue
/// trade ids (order id, trade id).
type TradingRows = (
    Vec<BalanceRow>,
    Vec<PositionRow>,
    Vec<StoredOrder>,
    Vec<(i64, i64)>,
);
/// A `balances` row: asset, free, locked.
type BalanceRow = (String, String, String);
/// A `positions` row: symbol, quantity, average price, realised PnL.
type PositionRow = (String, String, String, String);
/// An `orders` row: symbol, order id, request (JSON), status, filled, filled quote, fees,
/// time, lock asset, locked, committed, triggered.
type StoredOrder = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
);

/// The database.
#[derive(Clone)]
pub struct Store {
    pool: std::sync::Arc<Database>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match *self.pool {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        };
        write!(f, "Store({kind})")
    }
}

/// Deletes a waiting signal's row, by id.
const DELETE_PENDING_SIGNAL: &str = "DELETE FROM signal_pending WHERE id = $1";

/// Runs the same code, statements included, on whichever pool the store has.
macro_rules! on_pool {
    ($self:expr, |$pool:ident| $body:expr) => {
        match &*$self.pool {
            $crate::store::database::Database::Sqlite($pool) => $body,
            $crate::store::database::Database::Postgres($pool) => $body,
        }
    };
}

mod history;
mod operators;
mod registry;
mod signals;
pub use history::{EquityPoint, HistoryQuery, MAX_PAGE, OrderRow, Page};
pub use operators::{AuditRow, TokenRow};
pub use registry::{ModelVersion, NewModelVersion};
pub use signals::StoredPending;

impl Store {
    /// Opens (creating a SQLite file if needed) the database at `url` and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let pool = database::connect(url).await?;
        pool.as_ref().migrate(&MIGRATIONS).await?;
        Ok(Store {
            pool: std::sync::Arc::new(pool),
        })
    }

    /// Applies journal entries in one transaction.
    pub async fn apply(&self, entries: &[JournalEntry]) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(db("starting a journal batch"))?;
            for entry in entries {
                match entry {
                    JournalEntry::Deployed {
                        deployment,
                        world,
                        current,
                        previous,
                        budget,
                        grants,
                    } => {
                        for v in std::iter::once(current).chain(previous.iter()) {
                            sqlx::query("INSERT INTO components (hash, bytes, created_at_ms) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING")
                            .bind(&v.hash)
                            .bind(&*v.bytes)
                            .bind(wall_ms())
                            .execute(&mut *tx)
                            .await
                            .map_err(db("storing a component"))?;
                        }
                        let budget = serde_json::to_string(budget).expect("budget serialises");
                        let grants = serde_json::to_string(grants).expect("grants serialise");
                        sqlx::query(
                        "INSERT INTO deployments (name, position, world, hash, config, previous_hash, previous_config, budget, halted_reason, updated_at_ms, grants)
                         VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM deployments), $2, $3, $4, $5, $6, $7, NULL, $8, $9)
                         ON CONFLICT (name) DO UPDATE SET world = excluded.world, hash = excluded.hash, config = excluded.config,
                           previous_hash = excluded.previous_hash, previous_config = excluded.previous_config,
                           budget = excluded.budget, halted_reason = NULL, updated_at_ms = excluded.updated_at_ms,
                           grants = excluded.grants",
                    )
                    .bind(&**deployment)
                    .bind(world.name())
                    .bind(&current.hash)
                    .bind(&current.config)
                    .bind(previous.as_ref().map(|p| &p.hash))
                    .bind(previous.as_ref().map(|p| &p.config))
                    .bind(budget)
                    .bind(wall_ms())
                    .bind(grants)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("storing a deployment"))?;
                    }
                    JournalEntry::StateSet {
                        deployment,
                        key,
                        value,
                    } => {
                        sqlx::query("INSERT INTO strategy_state (deployment, key, value) VALUES ($1, $2, $3) ON CONFLICT (deployment, key) DO UPDATE SET value = excluded.value")
                        .bind(&**deployment)
                        .bind(key)
                        .bind(value)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing state"))?;
                    }
                    JournalEntry::StateDelete { deployment, key } => {
                        sqlx::query(
                            "DELETE FROM strategy_state WHERE deployment = $1 AND key = $2",
                        )
                        .bind(&**deployment)
                        .bind(key)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("deleting state"))?;
                    }
                    JournalEntry::Order { update, symbol } => {
                        sqlx::query("INSERT INTO order_events (deployment, order_id, symbol, execution, status, filled, filled_quote, reject_rule, reject_message, time_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                        .bind(&*update.owner)
                        .bind(update.order_id as i64)
                        .bind(&**symbol)
                        .bind(label(&update.execution))
                        .bind(label(&update.status))
                        .bind(update.filled.to_string())
                        .bind(update.filled_quote.to_string())
                        .bind(update.reject.as_ref().map(|r| r.code.rule()))
                        .bind(update.reject.as_ref().map(|r| r.message.clone()))
                        .bind(update.time)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing an order update"))?;
                        let Some(fill) = &update.fill else { continue };
                        sqlx::query("INSERT INTO fills (deployment, order_id, client_id, symbol, side, price, quantity, fee, status, time_ms, trade_id, quote_quantity, liquidity, commission, commission_asset, venue_trade_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)")
                        .bind(&*fill.owner)
                        .bind(fill.order_id as i64)
                        .bind(fill.client_id as i64)
                        .bind(&**symbol)
                        .bind(if fill.side == Side::Buy { "buy" } else { "sell" })
                        .bind(fill.price.to_string())
                        .bind(fill.quantity.to_string())
                        .bind(fill.fee.to_string())
                        .bind(label(&fill.status))
                        .bind(fill.time)
                        .bind(fill.trade_id as i64)
                        .bind(fill.quote_quantity.to_string())
                        .bind(label(&fill.liquidity))
                        .bind(fill.commission.to_string())
                        .bind(&*fill.commission_asset)
                        .bind(fill.venue_trade_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing a fill"))?;
                    }
                    JournalEntry::OrderState {
                        deployment,
                        symbol,
                        order,
                    } => {
                        let request =
                            serde_json::to_string(&order.request).expect("requests serialise");
                        sqlx::query(
                            "INSERT INTO orders (order_id, deployment, symbol, request, status, filled, filled_quote, fees, time_ms, lock_asset, locked, committed, triggered)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                             ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, filled = excluded.filled,
                               filled_quote = excluded.filled_quote, fees = excluded.fees, locked = excluded.locked,
                               committed = excluded.committed, triggered = excluded.triggered",
                        )
                        .bind(order.id as i64)
                        .bind(&**deployment)
                        .bind(&**symbol)
                        .bind(request)
                        .bind(label(&order.status))
                        .bind(order.filled.to_string())
                        .bind(order.filled_quote.to_string())
                        .bind(order.fees.to_string())
                        .bind(order.time)
                        .bind(&*order.lock_asset)
                        .bind(order.locked.to_string())
                        .bind(order.committed.to_string())
                        .bind(i64::from(order.triggered))
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing an order"))?;
                    }
                    JournalEntry::Balance {
                        deployment,
                        asset,
                        free,
                        locked,
                    } => {
                        sqlx::query("INSERT INTO balances (deployment, asset, free, locked) VALUES ($1, $2, $3, $4) ON CONFLICT (deployment, asset) DO UPDATE SET free = excluded.free, locked = excluded.locked")
                        .bind(&**deployment)
                        .bind(&**asset)
                        .bind(free.to_string())
                        .bind(locked.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing a balance"))?;
                    }
                    JournalEntry::Position {
                        deployment,
                        symbol,
                        quantity,
                        average_price,
                        realized_pnl,
                    } => {
                        sqlx::query("INSERT INTO positions (deployment, symbol, quantity, average_price, realized_pnl) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (deployment, symbol) DO UPDATE SET quantity = excluded.quantity, average_price = excluded.average_price, realized_pnl = excluded.realized_pnl")
                        .bind(&**deployment)
                        .bind(&**symbol)
                        .bind(quantity.to_string())
                        .bind(average_price.to_string())
                        .bind(realized_pnl.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing a position"))?;
                    }
                    JournalEntry::Stop {
                        deployment,
                        symbol,
                        state,
                    } => match state {
                        Some(state) => {
                            let json =
                                serde_json::to_string(state).map_err(|e| StoreError::Corrupt {
                                    table: "protective_stops",
                                    detail: e.to_string(),
                                })?;
                            sqlx::query("INSERT INTO protective_stops (deployment, symbol, state) VALUES ($1, $2, $3) ON CONFLICT (deployment, symbol) DO UPDATE SET state = excluded.state")
                            .bind(&**deployment)
                            .bind(&**symbol)
                            .bind(json)
                            .execute(&mut *tx)
                            .await
                            .map_err(db("storing a protective stop"))?;
                        }
                        None => {
                            sqlx::query("DELETE FROM protective_stops WHERE deployment = $1 AND symbol = $2")
                            .bind(&**deployment)
                            .bind(&**symbol)
                            .execute(&mut *tx)
                            .await
                            .map_err(db("removing a protective stop"))?;
                        }
                    },
                    JournalEntry::TradingState { deployment, record } => {
                        let scope = match deployment {
                            Some(name) => format!("deployment:{name}"),
                            None => "account".to_string(),
                        };
                        sqlx::query("INSERT INTO trading_states (scope, state, reason, since_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (scope) DO UPDATE SET state = excluded.state, reason = excluded.reason, since_ms = excluded.since_ms")
                        .bind(scope)
                        .bind(record.state.name().to_ascii_lowercase())
                        .bind(&record.reason)
                        .bind(record.since)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing a trading state"))?;
                    }
                    JournalEntry::Equity {
                        deployment,
                        time,
                        equity,
                        drawdown,
                    } => {
                        sqlx::query("INSERT INTO equity_curve (deployment, time_ms, equity, drawdown) VALUES ($1, $2, $3, $4) ON CONFLICT (deployment, time_ms) DO UPDATE SET equity = excluded.equity, drawdown = excluded.drawdown")
                        .bind(&**deployment)
                        .bind(time)
                        .bind(equity)
                        .bind(drawdown)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing an equity sample"))?;
                    }
                    JournalEntry::SignalOutcome {
                        pending_id,
                        outcome: o,
                    } => {
                        let scores = serde_json::to_string(&o.scores)
                            .map_err(|e| StoreError::Schema(format!("signal scores: {e}")))?;
                        sqlx::query("INSERT INTO signal_outcomes (source, kind, symbol, time_ms, direction, strength, confidence, horizon_ms, entry_price, exit_price, exit_time_ms, realized_return, hit, max_adverse, max_favourable, return_q1, return_q2, return_q3, scores) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)")
                        .bind(&*o.source)
                        .bind(o.kind.as_str())
                        .bind(&*o.symbol)
                        .bind(o.time_ms)
                        .bind(o.direction.as_str())
                        .bind(o.strength)
                        .bind(o.confidence)
                        .bind(i64::try_from(o.horizon_ms).unwrap_or(i64::MAX))
                        .bind(o.entry_price)
                        .bind(o.exit_price)
                        .bind(o.exit_time_ms)
                        .bind(o.realized_return)
                        .bind(i64::from(o.hit))
                        .bind(o.max_adverse)
                        .bind(o.max_favourable)
                        .bind(o.path[0])
                        .bind(o.path[1])
                        .bind(o.path[2])
                        .bind(scores)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing a signal's outcome"))?;
                        sqlx::query(DELETE_PENDING_SIGNAL)
                            .bind(i64::try_from(*pending_id).unwrap_or(i64::MAX))
                            .execute(&mut *tx)
                            .await
                            .map_err(db("removing a signal that waited"))?;
                    }
                    JournalEntry::SignalPending(record) => {
                        let state =
                            serde_json::to_string(record).map_err(|e| StoreError::Corrupt {
                                table: "signal_pending",
                                detail: e.to_string(),
                            })?;
                        sqlx::query("INSERT INTO signal_pending (id, state) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET state = excluded.state")
                        .bind(i64::try_from(record.id).unwrap_or(i64::MAX))
                        .bind(state)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing a waiting signal"))?;
                    }
                    JournalEntry::SignalDropped(id) => {
                        sqlx::query(DELETE_PENDING_SIGNAL)
                            .bind(i64::try_from(*id).unwrap_or(i64::MAX))
                            .execute(&mut *tx)
                            .await
                            .map_err(db("removing a signal no longer followed"))?;
                    }
                    JournalEntry::Removed { deployment } => {
                        for sql in [
                            "DELETE FROM deployments WHERE name = $1",
                            "DELETE FROM strategy_state WHERE deployment = $1",
                            "DELETE FROM balances WHERE deployment = $1",
                            "DELETE FROM positions WHERE deployment = $1",
                            "DELETE FROM protective_stops WHERE deployment = $1",
                        ] {
                            sqlx::query(sql)
                                .bind(&**deployment)
                                .execute(&mut *tx)
                                .await
                                .map_err(db("removing a deployment"))?;
                        }
                        sqlx::query("DELETE FROM trading_states WHERE scope = $1")
                            .bind(format!("deployment:{deployment}"))
                            .execute(&mut *tx)
                            .await
                            .map_err(db("removing a deployment's trading state"))?;
                    }
                    JournalEntry::Status { deployment, reason } => {
                        sqlx::query("UPDATE deployments SET halted_reason = $1, updated_at_ms = $2 WHERE name = $3")
                        .bind(reason.as_deref())
                        .bind(wall_ms())
                        .bind(&**deployment)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing a deployment status"))?;
                    }
                }
            }
            tx.commit().await.map_err(db("committing a journal batch"))
        })
    }

    async fn component(&self, hash: &str) -> Result<Arc<[u8]>, StoreError> {
        let bytes: Option<Vec<u8>> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT bytes FROM components WHERE hash = $1")
                .bind(hash)
                .fetch_optional(pool)
                .await
        })
        .map_err(db("reading a component"))?;
        bytes.map(Into::into).ok_or_else(|| StoreError::Corrupt {
            table: "components",
            detail: format!("component {hash} is missing"),
        })
    }

    /// Every deployment, in the order they were first deployed.
    pub async fn deployments(&self) -> Result<Vec<DeploymentRecord>, StoreError> {
        const COLUMNS: [&str; 9] = [
            "name",
            "world",
            "hash",
            "config",
            "previous_hash",
            "previous_config",
            "budget",
            "halted_reason",
            "grants",
        ];
        let rows: Vec<Vec<Option<String>>> = on_pool!(self, |pool| {
            let rows = sqlx::query("SELECT name, world, hash, config, previous_hash, previous_config, budget, halted_reason, grants FROM deployments ORDER BY position")
                .fetch_all(pool)
                .await
                .map_err(db("reading deployments"))?;
            rows.iter()
                .map(|row| {
                    COLUMNS
                        .iter()
                        .map(|c| row.try_get::<Option<String>, _>(*c))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(db("reading a deployment row"))
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let get = |col: &str| -> Result<Option<String>, StoreError> {
                let i = COLUMNS
                    .iter()
                    .position(|c| *c == col)
                    .expect("a selected column");
                Ok(row[i].clone())
            };
            let name = get("name")?.unwrap_or_default();
            let corrupt = |detail: String| StoreError::Corrupt {
                table: "deployments",
                detail,
            };
            let world = match get("world")?.as_deref() {
                Some("strategy") => World::Strategy,
                Some("signal-optimizer") => World::SignalOptimizer,
                other => return Err(corrupt(format!("{name}: unknown world {other:?}"))),
            };
            let hash = get("hash")?.unwrap_or_default();
            let current = VersionRecord {
                bytes: self.component(&hash).await?,
                hash,
                config: get("config")?.unwrap_or_default(),
            };
            let previous = match get("previous_hash")? {
                Some(hash) => Some(VersionRecord {
                    bytes: self.component(&hash).await?,
                    hash,
                    config: get("previous_config")?.unwrap_or_default(),
                }),
                None => None,
            };
            let budget: Budget = serde_json::from_str(&get("budget")?.unwrap_or_default())
                .map_err(|e| corrupt(format!("{name}: budget: {e}")))?;
            let grants: Grants = serde_json::from_str(&get("grants")?.unwrap_or_default())
                .map_err(|e| corrupt(format!("{name}: grants: {e}")))?;
            out.push(DeploymentRecord {
                name,
                world,
                current,
                previous,
                budget,
                grants,
                halted_reason: get("halted_reason")?,
            });
        }
        Ok(out)
    }

    /// A deployment's persisted state.
    pub async fn state(&self, deployment: &str) -> Result<StateStore, StoreError> {
        let rows: Vec<(String, Vec<u8>)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT key, value FROM strategy_state WHERE deployment = $1 ORDER BY key",
            )
            .bind(deployment)
            .fetch_all(pool)
            .await
        })
        .map_err(db("reading state"))?;
        Ok(StateStore::from_entries(rows))
    }

    /// A deployment's protective stops, by symbol name.
    pub async fn stops(&self, deployment: &str) -> Result<Vec<(String, StopState)>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT symbol, state FROM protective_stops WHERE deployment = $1 ORDER BY symbol",
            )
            .bind(deployment)
            .fetch_all(pool)
            .await
        })
        .map_err(db("reading protective stops"))?;
        rows.into_iter()
            .map(|(symbol, json)| {
                let state = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                    table: "protective_stops",
                    detail: format!("{deployment} {symbol}: {e}"),
                })?;
                Ok((symbol, state))
            })
            .collect()
    }

    /// Every persisted trading state: the account's (`None`) and each deployment's, by name.
    pub async fn trading_states(&self) -> Result<Vec<(Option<String>, StateRecord)>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT scope, state, reason, since_ms FROM trading_states ORDER BY scope",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(db("reading trading states"))?;
        rows.into_iter()
            .map(|(scope, state, reason, since)| {
                let bad = |detail: String| StoreError::Corrupt {
                    table: "trading_states",
                    detail,
                };
                let state = TradingState::parse(&state)
                    .ok_or_else(|| bad(format!("{scope}: state {state:?}")))?;
                let name = match scope.strip_prefix("deployment:") {
                    Some(name) => Some(name.to_string()),
                    None if scope == "account" => None,
                    None => return Err(bad(format!("scope {scope:?}"))),
                };
                Ok((
                    name,
                    StateRecord {
                        state,
                        reason,
                        since,
                    },
                ))
            })
            .collect()
    }

    /// A deployment's persisted balances, positions and open orders (empty before it traded).
    pub async fn trading(&self, deployment: &str) -> Result<TradingRecord, StoreError> {
        let corrupt =
            |table: &'static str| move |detail: String| StoreError::Corrupt { table, detail };
        let fixed = |table: &'static str, text: &str| -> Result<Fixed, StoreError> {
            text.parse::<Fixed>()
                .map_err(|e| corrupt(table)(format!("{deployment}: {e}")))
        };
        let (balances, positions, orders, venue_trades): TradingRows = on_pool!(self, |pool| {
            let balances = sqlx::query_as(
                "SELECT asset, free, locked FROM balances WHERE deployment = $1 ORDER BY asset",
            )
            .bind(deployment)
            .fetch_all(pool)
            .await
            .map_err(db("reading balances"))?;
            let positions = sqlx::query_as("SELECT symbol, quantity, average_price, realized_pnl FROM positions WHERE deployment = $1 ORDER BY symbol")
                .bind(deployment)
                .fetch_all(pool)
                .await
                .map_err(db("reading positions"))?;
            let orders = sqlx::query_as("SELECT symbol, order_id, request, status, filled, filled_quote, fees, time_ms, lock_asset, locked, committed, triggered FROM orders WHERE deployment = $1 AND status IN ('pending-new', 'new', 'partially-filled') ORDER BY order_id")
                .bind(deployment)
                .fetch_all(pool)
                .await
                .map_err(db("reading open orders"))?;
            let venue_trades = sqlx::query_as("SELECT f.order_id, f.venue_trade_id FROM fills f JOIN orders o ON o.order_id = f.order_id AND o.deployment = f.deployment WHERE f.deployment = $1 AND o.status IN ('pending-new', 'new', 'partially-filled') AND f.venue_trade_id IS NOT NULL ORDER BY f.id")
                .bind(deployment)
                .fetch_all(pool)
                .await
                .map_err(db("reading open orders' trades"))?;
            (balances, positions, orders, venue_trades)
        });
        let mut record = TradingRecord::default();
        for (asset, free, locked) in balances {
            record.balances.push((
                asset,
                fixed("balances", &free)?,
                fixed("balances", &locked)?,
            ));
        }
        for (symbol, q, avg, pnl) in positions {
            record.positions.push((
                symbol,
                fixed("positions", &q)?,
                fixed("positions", &avg)?,
                fixed("positions", &pnl)?,
            ));
        }
        for (
            symbol,
            id,
            request,
            status,
            filled,
            filled_quote,
            fees,
            time,
            lock_asset,
            locked,
            committed,
            triggered,
        ) in orders
        {
            let bad = corrupt("orders");
            let order = OrderRecord {
                id: id as u64,
                request: serde_json::from_str(&request)
                    .map_err(|e| bad(format!("order {id}: request: {e}")))?,
                status: serde_json::from_value(serde_json::Value::String(status.clone()))
                    .map_err(|_| bad(format!("order {id}: status {status:?}")))?,
                filled: fixed("orders", &filled)?,
                filled_quote: fixed("orders", &filled_quote)?,
                fees: fixed("orders", &fees)?,
                time,
                lock_asset: lock_asset.into(),
                locked: fixed("orders", &locked)?,
                committed: fixed("orders", &committed)?,
                triggered: triggered != 0,
            };
            record.open_orders.push((symbol, order));
        }
        for (order_id, trade_id) in venue_trades {
            record
                .venue_trades
                .entry(order_id as u64)
                .or_default()
                .push(trade_id);
        }
        Ok(record)
    }

    /// The order id and trade id to number on from after a restart (one past the largest
    /// persisted, fills stored by older schemas included).
    pub async fn next_ids(&self) -> Result<(u64, u64), StoreError> {
        let (orders, events, filled, trades): (Option<i64>, Option<i64>, Option<i64>, Option<i64>) =
            on_pool!(self, |pool| {
                let one = |sql| async move {
                    sqlx::query_scalar::<_, Option<i64>>(sql)
                        .fetch_one(pool)
                        .await
                        .map_err(db("reading the largest ids"))
                };
                (
                    one("SELECT MAX(order_id) FROM orders").await?,
                    one("SELECT MAX(order_id) FROM order_events").await?,
                    one("SELECT MAX(order_id) FROM fills").await?,
                    one("SELECT MAX(trade_id) FROM fills").await?,
                )
            });
        let next = |x: Option<i64>| x.map_or(1, |x| x.max(0) as u64 + 1);
        let order = next(orders).max(next(events)).max(next(filled));
        Ok((order, next(trades)))
    }
}

/// The name serde gives a unit variant (`partially-filled`, `maker`).
fn label(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Wall-clock milliseconds, for bookkeeping columns only (never for trading decisions).
fn wall_ms() -> i64 {
    crate::model::time::wall_clock_ms()
}
