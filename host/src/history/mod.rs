//! The market history store: candles by symbol and interval, in a SQLite file by default or in
//! PostgreSQL when the URL says `postgres:`. Upserts are idempotent (the key is symbol,
//! interval and open time), reads come back in open-time order, and gap queries say which open
//! times are missing from a range. Market history is a cache: it can always be fetched again.

use crate::feeds::candles::Candle;
use crate::model::Decimal;
use crate::store::{StoreError, wall_ms};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::str::FromStr;

/// The schema's migrations, oldest first: (version, SQLite text, PostgreSQL text). Each is applied
/// once, in a transaction, and recorded in `history_migrations`; version 1 is written so that it
/// also adopts a candles table created before migrations were versioned.
const MIGRATIONS: &[(i64, &str, &str)] = &[(1, SQLITE_SCHEMA, POSTGRES_SCHEMA)];

/// Serialises migrations between processes sharing one PostgreSQL database.
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock(7400001)";

const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS history_migrations (
    version BIGINT PRIMARY KEY,
    applied_at_ms BIGINT NOT NULL
)";

const SQLITE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS candles (
    symbol TEXT NOT NULL,
    interval TEXT NOT NULL,
    open_time INTEGER NOT NULL,
    open TEXT NOT NULL,
    high TEXT NOT NULL,
    low TEXT NOT NULL,
    close TEXT NOT NULL,
    volume TEXT NOT NULL,
    PRIMARY KEY (symbol, interval, open_time)
) WITHOUT ROWID";

const POSTGRES_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS candles (
    symbol TEXT NOT NULL,
    interval TEXT NOT NULL,
    open_time BIGINT NOT NULL,
    open TEXT NOT NULL,
    high TEXT NOT NULL,
    low TEXT NOT NULL,
    close TEXT NOT NULL,
    volume TEXT NOT NULL,
    PRIMARY KEY (symbol, interval, open_time)
)";

const UPSERT: &str = "INSERT INTO candles (symbol, interval, open_time, open, high, low, close, volume)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (symbol, interval, open_time) DO UPDATE SET
      open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close, volume = excluded.volume";

const SELECT: &str = "SELECT open_time, open, high, low, close, volume FROM candles
    WHERE symbol = $1 AND interval = $2 AND open_time >= $3 AND open_time <= $4 ORDER BY open_time";

const SELECT_TIMES: &str = "SELECT open_time FROM candles
    WHERE symbol = $1 AND interval = $2 AND open_time >= $3 AND open_time <= $4 ORDER BY open_time";

/// A contiguous run of missing open times, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// First missing open time.
    pub from: i64,
    /// Last missing open time.
    pub to: i64,
}

/// The candle store.
#[derive(Clone, Debug)]
pub enum HistoryStore {
    /// A SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

fn db(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { doing, source }
}

/// Runs the same statement text on whichever pool the store has.
macro_rules! on_pool {
    ($self:expr, |$pool:ident| $body:expr) => {
        match $self {
            HistoryStore::Sqlite($pool) => $body,
            HistoryStore::Postgres($pool) => $body,
        }
    };
}

impl HistoryStore {
    /// Opens `url` (`sqlite://path`, created if missing, or `postgres://...`) and applies the
    /// schema migrations it lacks.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(db("parsing the database URL"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            HistoryStore::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(db("connecting"))?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options =
                PgConnectOptions::from_str(url).map_err(db("parsing the database URL"))?;
            HistoryStore::Postgres(
                PgPoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(db("connecting"))?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies every migration the database lacks, each in its own transaction (on PostgreSQL
    /// under an advisory lock, so two processes opening one database do not race); refuses a
    /// database whose schema is newer than this build knows.
    async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            HistoryStore::Sqlite(pool) => sqlx::raw_sql(MIGRATIONS_TABLE)
                .execute(pool)
                .await
                .map(drop),
            // Concurrent first opens would race on creating the table: take the lock first.
            HistoryStore::Postgres(pool) => {
                async {
                    let mut tx = pool.begin().await?;
                    sqlx::query(PG_LOCK).execute(&mut *tx).await?;
                    sqlx::raw_sql(MIGRATIONS_TABLE).execute(&mut *tx).await?;
                    tx.commit().await
                }
                .await
            }
        }
        .map_err(db("creating the migrations table"))?;
        let newest: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT MAX(version) FROM history_migrations")
                .fetch_one(pool)
                .await
        })
        .map_err(db("reading applied migrations"))?;
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if let Some(newest) = newest.filter(|&n| n > known) {
            return Err(StoreError::Schema(format!(
                "the history database is at schema version {newest}, newer than this stratbox \
                 knows ({known}); use a newer stratbox or another database"
            )));
        }
        for &(version, sqlite, postgres) in MIGRATIONS {
            match self {
                HistoryStore::Sqlite(pool) => {
                    let mut tx = pool.begin().await.map_err(db("starting a migration"))?;
                    let done: Option<i64> = sqlx::query_scalar(
                        "SELECT version FROM history_migrations WHERE version = $1",
                    )
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db("reading applied migrations"))?;
                    if done.is_none() {
                        sqlx::raw_sql(sqlite)
                            .execute(&mut *tx)
                            .await
                            .map_err(db("applying a migration"))?;
                        sqlx::query("INSERT INTO history_migrations (version, applied_at_ms) VALUES ($1, $2)")
                            .bind(version)
                            .bind(wall_ms())
                            .execute(&mut *tx)
                            .await
                            .map_err(db("recording a migration"))?;
                    }
                    tx.commit().await.map_err(db("committing a migration"))?;
                }
                HistoryStore::Postgres(pool) => {
                    let mut tx = pool.begin().await.map_err(db("starting a migration"))?;
                    sqlx::query(PG_LOCK)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("locking the migrations"))?;
                    let done: Option<i64> = sqlx::query_scalar(
                        "SELECT version FROM history_migrations WHERE version = $1",
                    )
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db("reading applied migrations"))?;
                    if done.is_none() {
                        sqlx::raw_sql(postgres)
                            .execute(&mut *tx)
                            .await
                            .map_err(db("applying a migration"))?;
                        sqlx::query("INSERT INTO history_migrations (version, applied_at_ms) VALUES ($1, $2)")
                            .bind(version)
                            .bind(wall_ms())
                            .execute(&mut *tx)
                            .await
                            .map_err(db("recording a migration"))?;
                    }
                    tx.commit().await.map_err(db("committing a migration"))?;
                }
            }
        }
        Ok(())
    }

    /// Schema versions applied, oldest first.
    pub async fn schema_versions(&self) -> Result<Vec<i64>, StoreError> {
        on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT version FROM history_migrations ORDER BY version")
                .fetch_all(pool)
                .await
        })
        .map_err(db("reading applied migrations"))
    }

    /// Inserts or replaces candles of `symbol` at `interval` in one transaction; returns how many.
    pub async fn upsert(
        &self,
        symbol: &str,
        interval: &str,
        candles: &[Candle],
    ) -> Result<u64, StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(db("starting a candle batch"))?;
            for c in candles {
                sqlx::query(UPSERT)
                    .bind(symbol)
                    .bind(interval)
                    .bind(c.open_time)
                    .bind(c.open.as_str())
                    .bind(c.high.as_str())
                    .bind(c.low.as_str())
                    .bind(c.close.as_str())
                    .bind(c.volume.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db("storing a candle"))?;
            }
            tx.commit().await.map_err(db("committing a candle batch"))?;
        });
        Ok(candles.len() as u64)
    }

    /// Candles with open time in `from..=to`, in order.
    pub async fn candles(
        &self,
        symbol: &str,
        interval: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Candle>, StoreError> {
        type Row = (i64, String, String, String, String, String);
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SELECT)
            .bind(symbol)
            .bind(interval)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await
            .map_err(db("reading candles"))?);
        rows.into_iter()
            .map(|(open_time, o, h, l, c, v)| {
                let d = |s: String| {
                    s.parse::<Decimal>().map_err(|e| StoreError::Corrupt {
                        table: "candles",
                        detail: format!("{symbol} {interval} {open_time}: {e}"),
                    })
                };
                Ok(Candle {
                    open_time,
                    open: d(o)?,
                    high: d(h)?,
                    low: d(l)?,
                    close: d(c)?,
                    volume: d(v)?,
                })
            })
            .collect()
    }

    /// Open times missing between `from` and `to` (both included, aligned to `interval_ms`).
    pub async fn gaps(
        &self,
        symbol: &str,
        interval: &str,
        interval_ms: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<Gap>, StoreError> {
        let times: Vec<(i64,)> = on_pool!(self, |pool| sqlx::query_as(SELECT_TIMES)
            .bind(symbol)
            .bind(interval)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await
            .map_err(db("reading open times"))?);
        Ok(find_gaps(
            times.into_iter().map(|(t,)| t),
            interval_ms,
            from,
            to,
        ))
    }
}

/// The runs of `from, from + step, ..., <= to` absent from the sorted `present` times.
pub fn find_gaps(
    present: impl IntoIterator<Item = i64>,
    step: i64,
    from: i64,
    to: i64,
) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let mut expected = from;
    for t in present {
        if t < expected {
            continue;
        }
        if t > expected {
            let last_missing = expected + ((t - expected - 1) / step) * step;
            gaps.push(Gap {
                from: expected,
                to: last_missing,
            });
        }
        expected = t + step;
    }
    if expected <= to {
        gaps.push(Gap {
            from: expected,
            to: expected + ((to - expected) / step) * step,
        });
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_runs_of_missing_open_times() {
        assert_eq!(
            find_gaps([0, 60, 180, 240], 60, 0, 300),
            vec![Gap { from: 120, to: 120 }, Gap { from: 300, to: 300 }]
        );
        assert_eq!(find_gaps([], 60, 0, 170), vec![Gap { from: 0, to: 120 }]);
        assert_eq!(find_gaps([0, 60, 120], 60, 0, 120), vec![]);
        assert_eq!(find_gaps([120], 60, 0, 120), vec![Gap { from: 0, to: 60 }]);
    }
}
