//! Persistence of what cannot be recomputed: deployments with their components, strategy state
//! and fills, through sqlx in a SQLite file by default or in PostgreSQL when the URL says
//! `postgres:`; the statements are written once, in SQL both accept. The engine never waits for it: [`StoreJournal`] queues
//! journal entries and a writer task applies them in batches, one transaction each.

mod journal;

pub use journal::StoreJournal;

use crate::journal::{JournalEntry, VersionRecord};
use crate::model::Side;
use crate::risk::Budget;
use crate::sandbox::{StateStore, World};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::sync::Arc;

/// Migrations in order, (version, SQLite text, PostgreSQL text); each runs once, recorded in
/// `stratbox_migrations`.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/postgres/0001_init.sql"),
)];

/// Serialises migrations between processes sharing one PostgreSQL database.
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock(7400002)";

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

fn db(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
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
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code, statements included, on whichever pool the store has.
macro_rules! on_pool {
    ($self:expr, |$pool:ident| $body:expr) => {
        match &$self.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

impl Store {
    /// Opens (creating a SQLite file if needed) the database at `url` and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(db("parsing the database URL"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true);
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(db("connecting"))?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options =
                PgConnectOptions::from_str(url).map_err(db("parsing the database URL"))?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(db("connecting"))?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let store = Store { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies every migration the database lacks, each in its own transaction (on PostgreSQL
    /// under an advisory lock); refuses a database whose schema is newer than this build.
    async fn migrate(&self) -> Result<(), StoreError> {
        let postgres = matches!(self.pool, Pool::Postgres(_));
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(db("starting a migration"))?;
            if postgres {
                sqlx::query(PG_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("locking the migrations"))?;
            }
            sqlx::query("CREATE TABLE IF NOT EXISTS stratbox_migrations (version BIGINT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)")
                .execute(&mut *tx)
                .await
                .map_err(db("creating the migrations table"))?;
            let newest: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM stratbox_migrations")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db("reading applied migrations"))?;
            tx.commit()
                .await
                .map_err(db("creating the migrations table"))?;
            if let Some(newest) = newest.filter(|&n| n > known) {
                return Err(StoreError::Schema(format!(
                    "the service database is at schema version {newest}, newer than this stratbox \
                     knows ({known}); use a newer stratbox or another database"
                )));
            }
            for &(version, sqlite, pg) in MIGRATIONS {
                let mut tx = pool.begin().await.map_err(db("starting a migration"))?;
                if postgres {
                    sqlx::query(PG_LOCK)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("locking the migrations"))?;
                }
                let done: Option<i64> = sqlx::query_scalar(
                    "SELECT version FROM stratbox_migrations WHERE version = $1",
                )
                .bind(version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("reading applied migrations"))?;
                if done.is_some() {
                    continue;
                }
                sqlx::raw_sql(if postgres { pg } else { sqlite })
                    .execute(&mut *tx)
                    .await
                    .map_err(db("applying a migration"))?;
                sqlx::query(
                    "INSERT INTO stratbox_migrations (version, applied_at_ms) VALUES ($1, $2)",
                )
                .bind(version)
                .bind(wall_ms())
                .execute(&mut *tx)
                .await
                .map_err(db("recording a migration"))?;
                tx.commit().await.map_err(db("committing a migration"))?;
            }
            Ok(())
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
                        sqlx::query(
                        "INSERT INTO deployments (name, position, world, hash, config, previous_hash, previous_config, budget, halted_reason, updated_at_ms)
                         VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM deployments), $2, $3, $4, $5, $6, $7, NULL, $8)
                         ON CONFLICT (name) DO UPDATE SET world = excluded.world, hash = excluded.hash, config = excluded.config,
                           previous_hash = excluded.previous_hash, previous_config = excluded.previous_config,
                           budget = excluded.budget, halted_reason = NULL, updated_at_ms = excluded.updated_at_ms",
                    )
                    .bind(&**deployment)
                    .bind(world.name())
                    .bind(&current.hash)
                    .bind(&current.config)
                    .bind(previous.as_ref().map(|p| &p.hash))
                    .bind(previous.as_ref().map(|p| &p.config))
                    .bind(budget)
                    .bind(wall_ms())
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
                    JournalEntry::Fill { fill, symbol } => {
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
        const COLUMNS: [&str; 8] = [
            "name",
            "world",
            "hash",
            "config",
            "previous_hash",
            "previous_config",
            "budget",
            "halted_reason",
        ];
        let rows: Vec<Vec<Option<String>>> = on_pool!(self, |pool| {
            let rows = sqlx::query("SELECT name, world, hash, config, previous_hash, previous_config, budget, halted_reason FROM deployments ORDER BY position")
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
            out.push(DeploymentRecord {
                name,
                world,
                current,
                previous,
                budget,
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
pub(crate) fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
