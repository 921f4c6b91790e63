//! The model registry: every training run `stratbox model train --db` wrote, with its data
//! range, settings (features, label, split, each model's hyperparameters and seed), scores,
//! the ensemble it made, its weights' hashes, the code version and the run before it.

use super::{Store, StoreError, db, wall_ms};
use serde::{Deserialize, Serialize};

/// A training run to register.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewModelVersion {
    /// The directory its files were written to.
    pub directory: String,
    /// The symbols it learnt from.
    pub symbols: Vec<String>,
    /// Its first sample's time.
    pub data_from_ms: i64,
    /// Its last sample's time.
    pub data_to_ms: i64,
    /// `train.toml` as it ran.
    pub config: String,
    /// `report.json`.
    pub report: serde_json::Value,
    /// `inference.json`, when a model passed its control.
    pub ensemble: Option<serde_json::Value>,
    /// Hex SHA-256 of each written model's weights, by model name, and of its manifest, by
    /// `<name>.json`.
    pub weights_sha256: std::collections::BTreeMap<String, String>,
    /// The host's version that trained it.
    pub code_version: String,
}

/// A registered training run.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// Its number, in registration order.
    pub id: i64,
    /// Wall-clock registration time.
    pub created_at_ms: i64,
    /// The run registered before it, if any.
    pub parent_id: Option<i64>,
    /// The directory its files were written to.
    pub directory: String,
    /// The symbols it learnt from.
    pub symbols: Vec<String>,
    /// Its first sample's time.
    pub data_from_ms: i64,
    /// Its last sample's time.
    pub data_to_ms: i64,
    /// `train.toml` as it ran: features, label, split, each model's hyperparameters and seed.
    pub config: String,
    /// `report.json`: each model's out-of-sample scores and control.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// `inference.json`: the ensemble it made (absent when no model passed its control).
    #[schema(value_type = Option<Object>)]
    pub ensemble: Option<serde_json::Value>,
    /// Hex SHA-256 of each written model's weights, by model name, and of its manifest, by
    /// `<name>.json`.
    pub weights_sha256: std::collections::BTreeMap<String, String>,
    /// The host's version that trained it.
    pub code_version: String,
}

type Row = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
);

/// The columns a [`Row`] reads, as a literal for `concat!`.
macro_rules! columns {
    () => {
        "id, created_at_ms, parent_id, directory, symbols, data_from_ms, data_to_ms, config, report, ensemble, weights_sha256, code_version"
    };
}

fn decode(row: Row) -> Result<ModelVersion, StoreError> {
    let (
        id,
        created_at_ms,
        parent_id,
        directory,
        symbols,
        from,
        to,
        config,
        report,
        ensemble,
        sha,
        code,
    ) = row;
    let bad = |what: &str, e: serde_json::Error| {
        StoreError::Schema(format!("model version {id}: unreadable {what}: {e}"))
    };
    Ok(ModelVersion {
        id,
        created_at_ms,
        parent_id,
        directory,
        symbols: serde_json::from_str(&symbols).map_err(|e| bad("symbols", e))?,
        data_from_ms: from,
        data_to_ms: to,
        config,
        report: serde_json::from_str(&report).map_err(|e| bad("report", e))?,
        ensemble: ensemble
            .map(|e| serde_json::from_str(&e))
            .transpose()
            .map_err(|e| bad("ensemble", e))?,
        weights_sha256: serde_json::from_str(&sha).map_err(|e| bad("hashes", e))?,
        code_version: code,
    })
}

impl Store {
    /// Registers a training run after the latest one; returns its number.
    pub async fn register_model_version(&self, v: &NewModelVersion) -> Result<i64, StoreError> {
        let json = |value: &serde_json::Value| value.to_string();
        let id: (i64,) = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO model_versions (created_at_ms, parent_id, directory, symbols, data_from_ms, data_to_ms, config, report, ensemble, weights_sha256, code_version) VALUES ($1, (SELECT MAX(id) FROM model_versions), $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(wall_ms())
            .bind(&v.directory)
            .bind(serde_json::to_string(&v.symbols).expect("strings serialise"))
            .bind(v.data_from_ms)
            .bind(v.data_to_ms)
            .bind(&v.config)
            .bind(json(&v.report))
            .bind(v.ensemble.as_ref().map(json))
            .bind(serde_json::to_string(&v.weights_sha256).expect("strings serialise"))
            .bind(&v.code_version)
            .fetch_one(pool)
            .await
        })
        .map_err(db("registering a model version"))?;
        Ok(id.0)
    }

    /// Every registered training run, oldest first.
    pub async fn model_versions(&self) -> Result<Vec<ModelVersion>, StoreError> {
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                columns!(),
                " FROM model_versions ORDER BY id"
            ))
            .fetch_all(pool)
            .await
        })
        .map_err(db("reading the model registry"))?;
        rows.into_iter().map(decode).collect()
    }

    /// Registered training run `id`, if there is one.
    pub async fn model_version(&self, id: i64) -> Result<Option<ModelVersion>, StoreError> {
        let row: Option<Row> = on_pool!(self, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                columns!(),
                " FROM model_versions WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await
        })
        .map_err(db("reading the model registry"))?;
        row.map(decode).transpose()
    }
}
