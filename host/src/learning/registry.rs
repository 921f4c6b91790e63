//! A training run as the model registry records it: read back from the directory `train`
//! wrote (its ensemble's table, the SHA-256 of every file the table names).

use super::train::TrainReport;
use crate::store::NewModelVersion;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The registry's record of the run `train` wrote to `output` with settings `config`
/// (`train.toml`'s text) and `report`; `report_json` is what the registry keeps as its report
/// (the report, with anything a caller adds).
pub fn version_of(
    output: &Path,
    config: &str,
    report: &TrainReport,
    report_json: serde_json::Value,
) -> Result<NewModelVersion, String> {
    // The ensemble's table, when a model passed its control (train removes an older one).
    let table = output.join("inference.json");
    let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", table.display());
    let ensemble: Option<serde_json::Value> = match std::fs::read_to_string(&table) {
        Ok(text) => Some(serde_json::from_str(&text).map_err(|e| shown(&e))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(shown(&e)),
    };
    let mut weights_sha256 = BTreeMap::new();
    for member in ensemble
        .as_ref()
        .and_then(|e| e["models"].as_array())
        .into_iter()
        .flatten()
    {
        let name = member["name"].as_str().unwrap_or_default().to_string();
        for (key, suffix) in [("weights", ""), ("manifest", ".json")] {
            let path = Path::new(member[key].as_str().unwrap_or_default());
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            weights_sha256.insert(
                format!("{name}{suffix}"),
                hex::encode(Sha256::digest(&bytes)),
            );
        }
    }
    Ok(NewModelVersion {
        directory: output
            .canonicalize()
            .unwrap_or_else(|_| output.to_path_buf())
            .display()
            .to_string(),
        symbols: report.symbols.clone(),
        data_from_ms: report.from_ms,
        data_to_ms: report.to_ms,
        config: config.to_string(),
        report: report_json,
        ensemble,
        weights_sha256,
        code_version: format!("stratbox {}", env!("CARGO_PKG_VERSION")),
    })
}
