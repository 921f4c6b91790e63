//! The market history store: candles by symbol and interval, in a SQLite file by default or in
//! PostgreSQL when the URL says `postgres:`. Upserts are idempotent (the key is symbol,
//! interval and open time), reads come back in open-time order, and gap queries say which open
//! times are missing from a range. Market history is a cache: it can always be fetched again.
//! The service can store the bars it handles ([`live`]). [`quality`] checks a history; the rows
//! it finds suspect can be marked in `candle_flags` beside the candles, which are never changed
//! by a mark.

pub mod live;
pub mod quality;

use crate::feeds::candles::Candle;
use crate::model::Decimal;
use crate::store::StoreError;
use crate::store::database::{self, Database, DatabaseRef, Migrations, migrations};
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

/// The schema's migrations, recorded in `history_migrations`; version 1 is written so that it
/// also adopts a candles table created before migrations were versioned.
const MIGRATIONS: Migrations = migrations!(
    "history",
    "history_migrations",
    "7400001",
    &[
        (1, SQLITE_SCHEMA, POSTGRES_SCHEMA),
        (2, FLAGS_SCHEMA, FLAGS_SCHEMA)
    ]
);

/// Suspect rows, one per candle and kind of finding, with what was found and when.
const FLAGS_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS candle_flags (
    symbol TEXT NOT NULL,
    interval TEXT NOT NULL,
    open_time BIGINT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    flagged_at BIGINT NOT NULL,
    PRIMARY KEY (symbol, interval, open_time, kind)
)";

const UPSERT_FLAG: &str =
    "INSERT INTO candle_flags (symbol, interval, open_time, kind, detail, flagged_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (symbol, interval, open_time, kind) DO UPDATE SET
      detail = excluded.detail, flagged_at = excluded.flagged_at";

const DELETE_FLAGS: &str = "DELETE FROM candle_flags
    WHERE symbol = $1 AND interval = $2 AND open_time >= $3 AND open_time <= $4";

const SELECT_FLAGS: &str = "SELECT open_time, kind, detail, flagged_at FROM candle_flags
    WHERE symbol = $1 AND interval = $2 AND open_time >= $3 AND open_time <= $4
    ORDER BY open_time, kind";

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

/// A candle marked suspect.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    /// The candle's open time.
    pub open_time: i64,
    /// The kind of finding (`quality::FindingKind::name`).
    pub kind: String,
    /// What was found.
    pub detail: String,
    /// When it was marked, ms since the epoch.
    pub flagged_at: i64,
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
        let store = match database::connect(url).await? {
            Database::Sqlite(pool) => HistoryStore::Sqlite(pool),
            Database::Postgres(pool) => HistoryStore::Postgres(pool),
        };
        let db = match &store {
            HistoryStore::Sqlite(pool) => DatabaseRef::Sqlite(pool),
            HistoryStore::Postgres(pool) => DatabaseRef::Postgres(pool),
        };
        db.migrate(&MIGRATIONS).await?;
        Ok(store)
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

    /// Marks candles of `symbol` at `interval` suspect (open time, kind, detail) at `now` ms,
    /// replacing every earlier mark of open times in `span` (both ends included), in one
    /// transaction: the marks are those of the latest check. The candles are not touched.
    pub async fn replace_flags(
        &self,
        symbol: &str,
        interval: &str,
        span: (i64, i64),
        marks: &[(i64, &str, String)],
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(db("starting a flag batch"))?;
            sqlx::query(DELETE_FLAGS)
                .bind(symbol)
                .bind(interval)
                .bind(span.0)
                .bind(span.1)
                .execute(&mut *tx)
                .await
                .map_err(db("dropping earlier candle flags"))?;
            for (open_time, kind, detail) in marks {
                sqlx::query(UPSERT_FLAG)
                    .bind(symbol)
                    .bind(interval)
                    .bind(open_time)
                    .bind(kind)
                    .bind(detail.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("storing a candle flag"))?;
            }
            tx.commit().await.map_err(db("committing a flag batch"))?;
        });
        Ok(())
    }

    /// Drops every mark of the candles opening at `open_times` (their values were replaced).
    pub async fn unflag(
        &self,
        symbol: &str,
        interval: &str,
        open_times: &[i64],
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(db("starting a flag batch"))?;
            for t in open_times {
                sqlx::query(DELETE_FLAGS)
                    .bind(symbol)
                    .bind(interval)
                    .bind(t)
                    .bind(t)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("dropping a candle's flags"))?;
            }
            tx.commit().await.map_err(db("committing a flag batch"))?;
        });
        Ok(())
    }

    /// Marks of candles with open time in `from..=to`, in open-time order.
    pub async fn flags(
        &self,
        symbol: &str,
        interval: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Flag>, StoreError> {
        type Row = (i64, String, String, i64);
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(SELECT_FLAGS)
            .bind(symbol)
            .bind(interval)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await
            .map_err(db("reading candle flags"))?);
        Ok(rows
            .into_iter()
            .map(|(open_time, kind, detail, flagged_at)| Flag {
                open_time,
                kind,
                detail,
                flagged_at,
            })
            .collect())
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
