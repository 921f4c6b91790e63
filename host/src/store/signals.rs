//! The signals' stored outcomes, read back for `stratbox signals report` and, with the
//! signals still waiting for their horizon, for a restart.

use super::{Store, StoreError, db};
use crate::model::{Direction, SignalKind};
use crate::signals::outcome::{Outcome, PendingRecord};
use crate::signals::quality::{OPTIMIZER_WINDOW, QualityReport, Scored, WINDOW, tally};
use sqlx::Row as _;
use std::sync::Arc;

type Row = (
    String,
    String,
    String,
    i64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
    String,
);

impl Store {
    /// The quality of the signals made at or after `since` (every stored one when `None`)
    /// whose outcome is stored.
    pub async fn signal_report(&self, since: Option<i64>) -> Result<QualityReport, StoreError> {
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT source, kind, symbol, time_ms, strength, realized_return, return_q1,
                        return_q2, return_q3, max_adverse, max_favourable, scores
                 FROM signal_outcomes WHERE ($1 IS NULL OR time_ms >= $1) ORDER BY time_ms, id",
            )
            .bind(since)
            .fetch_all(pool)
            .await
        })
        .map_err(db("reading signal outcomes"))?;
        let mut outcomes = Vec::with_capacity(rows.len());
        for (source, kind, symbol, time_ms, strength, r, q1, q2, q3, adverse, favourable, scores) in
            rows
        {
            let kind = SignalKind::parse(&kind).ok_or_else(|| {
                StoreError::Schema(format!("signal_outcomes: unknown kind {kind:?}"))
            })?;
            let scores: Vec<(Arc<str>, f64)> = serde_json::from_str(&scores)
                .map_err(|e| StoreError::Schema(format!("signal_outcomes.scores: {e}")))?;
            let scored = Scored {
                time_ms,
                strength,
                realized_return: r,
                path: [q1, q2, q3, r],
                max_adverse: adverse,
                max_favourable: favourable,
            };
            outcomes.push(((source.into(), kind, symbol.into()), scored, scores));
        }
        Ok(tally(outcomes))
    }
}

/// The waiting signals a store holds.
#[derive(Debug, Default)]
pub struct StoredPending {
    /// Those that could be read, by id.
    pub records: Vec<PendingRecord>,
    /// What could not be read, by row (left in the store as it is).
    pub problems: Vec<String>,
    /// The largest id stored, readable or not: new signals' ids go on after it.
    pub largest_id: u64,
}

impl Store {
    /// The signals waiting for their horizon, by id; a row that cannot be read is left as it
    /// is and named among the problems.
    pub async fn pending_signals(&self) -> Result<StoredPending, StoreError> {
        let rows: Vec<(i64, String)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT id, state FROM signal_pending ORDER BY id")
                .fetch_all(pool)
                .await
        })
        .map_err(db("reading the waiting signals"))?;
        let mut stored = StoredPending {
            records: Vec::new(),
            problems: Vec::new(),
            largest_id: rows.iter().map(|(id, _)| *id).max().unwrap_or(0).max(0) as u64,
        };
        for (id, state) in rows {
            match serde_json::from_str::<PendingRecord>(&state) {
                Ok(r) if i64::try_from(r.id) == Ok(id) => stored.records.push(r),
                Ok(r) => stored
                    .problems
                    .push(format!("signal_pending row {id} holds id {}", r.id)),
                Err(e) => stored
                    .problems
                    .push(format!("signal_pending row {id}: {e}")),
            }
        }
        Ok(stored)
    }

    /// The stored outcomes a restarted quality board starts from, oldest first: the latest
    /// [`WINDOW`] of each source x kind x symbol and the latest [`OPTIMIZER_WINDOW`] with
    /// optimizer scores.
    pub async fn recent_signal_outcomes(&self) -> Result<Vec<Outcome>, StoreError> {
        const SQL: &str = "SELECT source, kind, symbol, time_ms, direction, strength, confidence,
                horizon_ms, entry_price, exit_price, exit_time_ms, realized_return, hit,
                max_adverse, max_favourable, return_q1, return_q2, return_q3, scores
            FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY source, kind, symbol ORDER BY id DESC)
                  AS nth FROM signal_outcomes) AS ranked
            WHERE nth <= $1 OR id IN (SELECT id FROM signal_outcomes WHERE scores <> '[]'
                                      ORDER BY id DESC LIMIT $2)
            ORDER BY id";
        let corrupt = |detail: String| StoreError::Corrupt {
            table: "signal_outcomes",
            detail,
        };
        on_pool!(self, |pool| {
            let rows = sqlx::query(SQL)
                .bind(WINDOW as i64)
                .bind(OPTIMIZER_WINDOW as i64)
                .fetch_all(pool)
                .await
                .map_err(db("reading recent signal outcomes"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let get_f = |i: usize| row.try_get::<f64, _>(i);
                let get_i = |i: usize| row.try_get::<i64, _>(i);
                let get_s = |i: usize| row.try_get::<String, _>(i);
                let read = || -> Result<Outcome, sqlx::Error> {
                    let kind = get_s(1)?;
                    let direction = get_s(4)?;
                    let scores = get_s(18)?;
                    let realized_return = get_f(11)?;
                    Ok(Outcome {
                        source: get_s(0)?.into(),
                        kind: SignalKind::parse(&kind).ok_or_else(|| {
                            sqlx::Error::Decode(format!("unknown kind {kind:?}").into())
                        })?,
                        symbol: get_s(2)?.into(),
                        time_ms: get_i(3)?,
                        direction: match direction.as_str() {
                            "long" => Direction::Long,
                            "short" => Direction::Short,
                            _ => {
                                return Err(sqlx::Error::Decode(
                                    format!("unknown direction {direction:?}").into(),
                                ));
                            }
                        },
                        strength: get_f(5)?,
                        confidence: get_f(6)?,
                        horizon_ms: u64::try_from(get_i(7)?).unwrap_or(0),
                        entry_price: get_f(8)?,
                        exit_price: get_f(9)?,
                        exit_time_ms: get_i(10)?,
                        realized_return,
                        hit: get_i(12)? != 0,
                        max_adverse: get_f(13)?,
                        max_favourable: get_f(14)?,
                        path: [get_f(15)?, get_f(16)?, get_f(17)?, realized_return],
                        scores: serde_json::from_str::<Vec<(Arc<str>, f64)>>(&scores)
                            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    })
                };
                out.push(read().map_err(|e| corrupt(e.to_string()))?);
            }
            Ok(out)
        })
    }
}
