//! Reading numbers and strings from a deployment's JSON configuration without a JSON dependency.
//!
//! Configurations are flat objects such as `{"fast": 10, "slow": 30, "quantity": 0.01}`; these
//! helpers find a top-level key and parse its value. Guests that need nested configuration can
//! depend on `serde_json` themselves.

/// The raw text of the value of top-level `key`, if present.
fn raw_value<'a>(config: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\"");
    let mut search = config;
    loop {
        let at = search.find(&needle)?;
        let rest = search[at + needle.len()..].trim_start();
        if let Some(value) = rest.strip_prefix(':') {
            let value = value.trim_start();
            let end = if let Some(body) = value.strip_prefix('"') {
                body.find('"').map(|i| i + 2)?
            } else {
                value.find([',', '}', '\n']).unwrap_or(value.len())
            };
            return Some(value[..end].trim());
        }
        search = &search[at + needle.len()..];
    }
}

/// The number under `key`, e.g. `number(r#"{"period": 20}"#, "period") == Some(20.0)`.
pub fn number(config: &str, key: &str) -> Option<f64> {
    raw_value(config, key)?.parse().ok()
}

/// The string under `key`, without its quotes.
pub fn string(config: &str, key: &str) -> Option<String> {
    let raw = raw_value(config, key)?;
    Some(raw.strip_prefix('"')?.strip_suffix('"')?.to_string())
}

/// The boolean under `key`, e.g. `flag(r#"{"verbose": true}"#, "verbose") == Some(true)`.
pub fn flag(config: &str, key: &str) -> Option<bool> {
    raw_value(config, key)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_and_strings() {
        let c = r#"{"fast": 10, "slow":30.5, "symbol": "BTCUSDT"}"#;
        assert_eq!(number(c, "fast"), Some(10.0));
        assert_eq!(number(c, "slow"), Some(30.5));
        assert_eq!(string(c, "symbol").as_deref(), Some("BTCUSDT"));
        assert_eq!(number(c, "missing"), None);
        assert_eq!(number("{}", "fast"), None);
        let f = r#"{"report": true, "quiet":false}"#;
        assert_eq!(flag(f, "report"), Some(true));
        assert_eq!(flag(f, "quiet"), Some(false));
        assert_eq!(flag(c, "fast"), None);
    }
}
