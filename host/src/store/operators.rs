//! The operators' records: the API's tokens (only the SHA-256 of each secret is stored) and
//! the audit log of every action taken through the API.

use super::history::{HistoryQuery, Page};
use super::{Store, StoreError, db, wall_ms};
use serde::{Deserialize, Serialize};

/// A token as stored: its name, scope and the hash of its secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Its name (who holds it).
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub sha256: String,
    /// `read`, `trade` or `admin`.
    pub scope: String,
    /// The token that created it.
    pub created_by: String,
    /// Wall-clock creation time.
    pub created_at_ms: i64,
    /// Its own request rate, when it has one.
    pub rate_limit: Option<crate::api::RateLimit>,
}

/// One operator action.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Sequence number (the cursor of the log's pages).
    pub id: i64,
    /// Wall-clock time of the answer.
    pub time_ms: i64,
    /// The token's name.
    pub actor: String,
    /// HTTP method.
    pub method: String,
    /// Path, with the query.
    pub path: String,
    /// HTTP status of the answer.
    pub status: i64,
    /// The error, when it failed.
    pub detail: Option<String>,
}

impl Store {
    /// Every token created through the API.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            Option<f64>,
            Option<f64>,
        );
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT name, sha256, scope, created_by, created_at_ms, rate_per_second, rate_burst FROM api_tokens ORDER BY name",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(db("reading tokens"))?;
        Ok(rows
            .into_iter()
            .map(
                |(name, sha256, scope, created_by, created_at_ms, per_second, burst)| TokenRow {
                    name,
                    sha256,
                    scope,
                    created_by,
                    created_at_ms,
                    rate_limit: per_second
                        .zip(burst)
                        .map(|(per_second, burst)| crate::api::RateLimit { per_second, burst }),
                },
            )
            .collect())
    }

    /// Stores a new token; false when its name is taken.
    pub async fn add_token(&self, token: &TokenRow) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO api_tokens (name, sha256, scope, created_by, created_at_ms, rate_per_second, rate_burst) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(&token.name)
            .bind(&token.sha256)
            .bind(&token.scope)
            .bind(&token.created_by)
            .bind(token.created_at_ms)
            .bind(token.rate_limit.map(|r| r.per_second))
            .bind(token.rate_limit.map(|r| r.burst))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(db("storing a token"))?;
        Ok(done == 1)
    }

    /// Deletes token `name`; false when there is none.
    pub async fn remove_token(&self, name: &str) -> Result<bool, StoreError> {
        let done = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM api_tokens WHERE name = $1")
                .bind(name)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(db("deleting a token"))?;
        Ok(done == 1)
    }

    /// Appends an action to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        method: &str,
        path: &str,
        status: u16,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO audit_log (time_ms, actor, method, path, status, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(wall_ms())
            .bind(actor)
            .bind(method)
            .bind(path)
            .bind(i32::from(status))
            .bind(detail)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(db("writing the audit log"))?;
        Ok(())
    }

    /// A page of the audit log, newest first.
    pub async fn audit_page(&self, q: &HistoryQuery) -> Result<Page<AuditRow>, StoreError> {
        let limit = q.page_size().map_err(StoreError::Schema)?;
        type Row = (i64, i64, String, String, String, i32, Option<String>);
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, time_ms, actor, method, path, status, detail FROM audit_log
                 WHERE ($1 IS NULL OR time_ms >= $1) AND ($2 IS NULL OR time_ms < $2) AND ($3 IS NULL OR id < $3)
                 ORDER BY id DESC LIMIT $4",
            )
            .bind(q.since)
            .bind(q.until)
            .bind(q.before)
            .bind(i64::from(limit) + 1)
            .fetch_all(pool)
            .await
        })
        .map_err(db("reading the audit log"))?;
        let rows = rows
            .into_iter()
            .map(|(id, time_ms, actor, method, path, status, detail)| {
                (
                    id,
                    AuditRow {
                        id,
                        time_ms,
                        actor,
                        method,
                        path,
                        status: i64::from(status),
                        detail,
                    },
                )
            })
            .collect();
        Ok(super::history::page(rows, limit))
    }
}
