//! Persistence of what cannot be recomputed: deployments with their components, strategy state
//! and fills, through sqlx in a SQLite file by default or in PostgreSQL when the URL says
//! `postgres:`; the statements are written once, in SQL both accept. The engine never waits for it: [`StoreJournal`] queues
//! journal entries and a writer task applies them in batches, one transaction each.

pub(crate) mod database;
mod journal;

pub use journal::StoreJournal;

use crate::journal::{JournalEntry, VersionRecord};
use crate::model::Side;
use crate::risk::Budget;
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
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FillRow {
    /// The deployment.
    pub deployment: String,
    /// Host order id.
    pub order_id: i64,
    /// Symbol name.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Exact price.
    pub price: String,
    /// Exact quantity.
    pub quantity: String,
    /// Exact fee.
    pub fee: String,
    /// Event time.
    pub time_ms: i64,
}

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

/// Runs the same code, statements included, on whichever pool the store has.
macro_rules! on_pool {
    ($self:expr, |$pool:ident| $body:expr) => {
        match &*$self.pool {
            Database::Sqlite($pool) => $body,
            Database::Postgres($pool) => $body,
        }
    };
}

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
                        let Some(fill) = &update.fill else { continue };
                        sqlx::query("INSERT INTO fills (deployment, order_id, client_id, symbol, side, price, quantity, fee, status, time_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                        .bind(&*fill.owner)
                        .bind(fill.order_id as i64)
                        .bind(fill.client_id as i64)
                        .bind(&**symbol)
                        .bind(if fill.side == Side::Buy { "buy" } else { "sell" })
                        .bind(fill.price.to_string())
                        .bind(fill.quantity.to_string())
                        .bind(fill.fee.to_string())
                        .bind(serde_json::to_value(fill.status).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default())
                        .bind(fill.time)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("storing a fill"))?;
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

    /// A deployment's fills, oldest first.
    pub async fn fills(&self, deployment: &str) -> Result<Vec<FillRow>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query("SELECT deployment, order_id, symbol, side, price, quantity, fee, time_ms FROM fills WHERE deployment = $1 ORDER BY id")
                .bind(deployment)
                .fetch_all(pool)
                .await
                .map_err(db("reading fills"))?;
            rows.into_iter()
                .map(|r| {
                    Ok(FillRow {
                        deployment: r.try_get("deployment").map_err(db("reading a fill"))?,
                        order_id: r.try_get("order_id").map_err(db("reading a fill"))?,
                        symbol: r.try_get("symbol").map_err(db("reading a fill"))?,
                        side: r.try_get("side").map_err(db("reading a fill"))?,
                        price: r.try_get("price").map_err(db("reading a fill"))?,
                        quantity: r.try_get("quantity").map_err(db("reading a fill"))?,
                        fee: r.try_get("fee").map_err(db("reading a fill"))?,
                        time_ms: r.try_get("time_ms").map_err(db("reading a fill"))?,
                    })
                })
                .collect()
        })
    }
}

/// Wall-clock milliseconds, for bookkeeping columns only (never for trading decisions).
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
