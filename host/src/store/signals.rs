//! The signals' stored outcomes, read back for `stratbox signals report`.

use super::{Store, StoreError, db};
use crate::model::SignalKind;
use crate::signals::quality::{QualityReport, Scored, tally};
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
