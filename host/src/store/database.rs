//! What the service store and the history store share: opening a SQLite file or a PostgreSQL
//! database by URL, and applying versioned migrations, each once and in order, recorded in a
//! table of their own (on PostgreSQL under an advisory lock, so processes opening one database
//! together do not race); a database whose schema is newer than this build is refused.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{StoreError, db, wall_ms};

/// An open database.
pub(crate) enum Database {
    /// A SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

/// A borrowed [`Database`].
#[derive(Clone, Copy)]
pub(crate) enum DatabaseRef<'a> {
    /// A SQLite file.
    Sqlite(&'a SqlitePool),
    /// A PostgreSQL database.
    Postgres(&'a PgPool),
}

/// Opens `url`: `sqlite://path` (created if missing, WAL) or `postgres://...`.
pub(crate) async fn connect(url: &str) -> Result<Database, StoreError> {
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db("parsing the database URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db("connecting"))?;
        Ok(Database::Sqlite(pool))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let options = PgConnectOptions::from_str(url).map_err(db("parsing the database URL"))?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db("connecting"))?;
        Ok(Database::Postgres(pool))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

/// A schema's migrations and the statements that keep their record; build it with
/// [`migrations!`].
pub(crate) struct Migrations {
    /// Which database this is, for errors ("service", "history").
    pub what: &'static str,
    /// Creates the record table.
    pub create: &'static str,
    /// The newest recorded version.
    pub newest: &'static str,
    /// Whether version `$1` is recorded.
    pub done: &'static str,
    /// Records version `$1` at `$2`.
    pub record: &'static str,
    /// PostgreSQL's advisory lock for this schema.
    pub lock: &'static str,
    /// (version, SQLite text, PostgreSQL text), oldest first.
    pub list: &'static [(i64, &'static str, &'static str)],
}

/// [`Migrations`] recorded in table `$table`, locked on PostgreSQL with advisory key `$key`.
macro_rules! migrations {
    ($what:literal, $table:literal, $key:literal, $list:expr) => {
        $crate::store::database::Migrations {
            what: $what,
            create: concat!(
                "CREATE TABLE IF NOT EXISTS ",
                $table,
                " (version BIGINT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)"
            ),
            newest: concat!("SELECT MAX(version) FROM ", $table),
            done: concat!("SELECT version FROM ", $table, " WHERE version = $1"),
            record: concat!(
                "INSERT INTO ",
                $table,
                " (version, applied_at_ms) VALUES ($1, $2)"
            ),
            lock: concat!("SELECT pg_advisory_xact_lock(", $key, ")"),
            list: $list,
        }
    };
}
pub(crate) use migrations;

impl Database {
    /// The borrowed form.
    pub(crate) fn as_ref(&self) -> DatabaseRef<'_> {
        match self {
            Database::Sqlite(p) => DatabaseRef::Sqlite(p),
            Database::Postgres(p) => DatabaseRef::Postgres(p),
        }
    }
}

impl DatabaseRef<'_> {
    /// Applies every migration of `m` the database lacks.
    pub(crate) async fn migrate(self, m: &Migrations) -> Result<(), StoreError> {
        let postgres = matches!(self, DatabaseRef::Postgres(_));
        let known = m.list.last().map_or(0, |l| l.0);
        macro_rules! on_pool {
            (|$pool:ident| $body:expr) => {
                match self {
                    DatabaseRef::Sqlite($pool) => $body,
                    DatabaseRef::Postgres($pool) => $body,
                }
            };
        }
        on_pool!(|pool| {
            let mut tx = pool.begin().await.map_err(db("starting a migration"))?;
            if postgres {
                sqlx::query(m.lock)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("locking the migrations"))?;
            }
            sqlx::query(m.create)
                .execute(&mut *tx)
                .await
                .map_err(db("creating the migrations table"))?;
            let newest: Option<i64> = sqlx::query_scalar(m.newest)
                .fetch_one(&mut *tx)
                .await
                .map_err(db("reading applied migrations"))?;
            tx.commit()
                .await
                .map_err(db("creating the migrations table"))?;
            if let Some(newest) = newest.filter(|&n| n > known) {
                return Err(StoreError::Schema(format!(
                    "the {} database is at schema version {newest}, newer than this stratbox \
                     knows ({known}); use a newer stratbox or another database",
                    m.what
                )));
            }
            for &(version, sqlite, pg) in m.list {
                let mut tx = pool.begin().await.map_err(db("starting a migration"))?;
                if postgres {
                    sqlx::query(m.lock)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("locking the migrations"))?;
                }
                let done: Option<i64> = sqlx::query_scalar(m.done)
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
                sqlx::query(m.record)
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
}
