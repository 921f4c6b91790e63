//! Faults the simulator injects, from a spec such as `429=5,malformed=7,slow=20`.

/// Which faults to inject.
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// Answer every k-th request with 429 and `Retry-After`.
    pub http429_every: Option<u64>,
    /// Seconds in the `Retry-After` of an injected 429.
    pub retry_after_s: u64,
    /// Truncate the JSON body of every k-th request.
    pub malformed_every: Option<u64>,
    /// Delay every answer by this many milliseconds.
    pub slow_ms: Option<u64>,
    /// Close each WebSocket connection after this many messages.
    pub drop_after: Option<u64>,
    /// Leave out every k-th depth diff (a skipped update id range).
    pub skip_every: Option<u64>,
    /// Replace every k-th WebSocket message with malformed JSON.
    pub garbage_every: Option<u64>,
    /// Announce `serverShutdown` after this many messages on a connection, then close it a
    /// second later.
    pub shutdown_after: Option<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            http429_every: None,
            retry_after_s: 1,
            malformed_every: None,
            slow_ms: None,
            drop_after: None,
            skip_every: None,
            garbage_every: None,
            shutdown_after: None,
        }
    }
}

/// A fault spec that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "fault {item:?}: {why}; accepted: 429=<every k-th request>, retry_after=<seconds>, malformed=<every k-th request>, slow=<ms>"
)]
pub struct FaultError {
    item: String,
    why: &'static str,
}

impl std::str::FromStr for Faults {
    type Err = FaultError;

    fn from_str(spec: &str) -> Result<Self, FaultError> {
        let mut faults = Faults::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let err = |why| FaultError {
                item: item.to_string(),
                why,
            };
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| err("expected name=value"))?;
            let value: u64 = value
                .parse()
                .map_err(|_| err("the value must be a whole number"))?;
            match name {
                "429" | "malformed" if value == 0 => {
                    return Err(err("every 0th request makes no sense"));
                }
                "429" => faults.http429_every = Some(value),
                "retry_after" => faults.retry_after_s = value,
                "malformed" => faults.malformed_every = Some(value),
                "slow" => faults.slow_ms = Some(value),
                "drop" => faults.drop_after = Some(value),
                "skip" => faults.skip_every = Some(value),
                "garbage" => faults.garbage_every = Some(value),
                "shutdown" => faults.shutdown_after = Some(value),
                _ => return Err(err("unknown fault")),
            }
        }
        Ok(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs_and_names_mistakes() {
        let f: Faults = "429=5, malformed=7,slow=20,retry_after=2".parse().unwrap();
        assert_eq!(
            f,
            Faults {
                http429_every: Some(5),
                retry_after_s: 2,
                malformed_every: Some(7),
                slow_ms: Some(20),
                ..Faults::default()
            }
        );
        let f: Faults = "drop=100,skip=7,garbage=9".parse().unwrap();
        assert_eq!(
            (f.drop_after, f.skip_every, f.garbage_every),
            (Some(100), Some(7), Some(9))
        );
        assert!(
            "explode=1"
                .parse::<Faults>()
                .unwrap_err()
                .to_string()
                .contains("unknown fault")
        );
        assert!(
            "429=x"
                .parse::<Faults>()
                .unwrap_err()
                .to_string()
                .contains("whole number")
        );
        assert_eq!("".parse::<Faults>().unwrap(), Faults::default());
    }
}
