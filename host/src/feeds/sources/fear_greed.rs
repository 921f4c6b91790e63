//! alternative.me's Crypto Fear & Greed index: `{"data": [{"value": "40", "value_classification":
//! "Fear", "timestamp": "1551157200", ...}], "metadata": {"error": null}}`.

use super::Observation;
use serde::Deserialize;

#[derive(Deserialize)]
struct Response {
    data: Vec<Entry>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    error: Option<String>,
}

#[derive(Deserialize)]
struct Entry {
    value: String,
    value_classification: Option<String>,
    timestamp: String,
}

/// Parses the index's JSON into observations of series `value`, received at `known_at`.
pub fn parse_fear_greed(body: &str, known_at: i64) -> Result<Vec<Observation>, String> {
    let response: Response =
        serde_json::from_str(body).map_err(|e| format!("fear & greed: {e}"))?;
    if let Some(error) = response.metadata.and_then(|m| m.error) {
        return Err(format!("fear & greed: the source reports {error:?}"));
    }
    response
        .data
        .into_iter()
        .map(|e| {
            let value: f64 = e
                .value
                .parse()
                .map_err(|_| format!("fear & greed: value {:?} is not a number", e.value))?;
            if !(0.0..=100.0).contains(&value) {
                return Err(format!("fear & greed: value {value} is outside 0..100"));
            }
            let seconds: i64 = e.timestamp.parse().map_err(|_| {
                format!(
                    "fear & greed: timestamp {:?} is not an integer",
                    e.timestamp
                )
            })?;
            Ok(Observation {
                source: "fear_greed".into(),
                series: "value".into(),
                observed_at: seconds * 1000,
                known_at,
                value,
                label: e.value_classification,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let body = r#"{"name":"Fear and Greed Index","data":[{"value":"40","value_classification":"Fear","timestamp":"1551157200","time_until_update":"68499"},{"value":"47","value_classification":"Neutral","timestamp":"1551070800"}],"metadata":{"error":null}}"#;
        let obs = parse_fear_greed(body, 1_551_200_000_000).unwrap();
        assert_eq!(obs.len(), 2);
        assert_eq!(
            (obs[0].value, obs[0].observed_at, obs[0].label.as_deref()),
            (40.0, 1_551_157_200_000, Some("Fear"))
        );
        assert!(obs.iter().all(|o| o.known_at == 1_551_200_000_000));
        assert!(
            parse_fear_greed(r#"{"data":[],"metadata":{"error":"rate limited"}}"#, 0)
                .unwrap_err()
                .contains("rate limited")
        );
        assert!(
            parse_fear_greed(r#"{"data":[{"value":"x","timestamp":"1"}]}"#, 0)
                .unwrap_err()
                .contains("not a number")
        );
    }
}
