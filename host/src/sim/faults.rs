//! Faults the simulator injects, from a spec such as `429=5,malformed=7,slow=20`: of its REST
//! answers, of its market streams, and of its trading (late or lost acknowledgements, a dropped,
//! duplicated or reordered user data stream, a drifting clock).

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
    /// Delay the answer to every order placement or cancel by this many milliseconds (the
    /// order acts at once; only its acknowledgement is late).
    pub ack_delay_ms: Option<u64>,
    /// Lose every k-th acknowledgement of an order placement or cancel: REST answers 503 with
    /// -1007 (execution status unknown), the WebSocket API answers nothing; the order acts.
    pub ack_drop_every: Option<u64>,
    /// Close a WebSocket API connection after every k-th user data event it sent.
    pub stream_drop_every: Option<u64>,
    /// Send every k-th user data event twice.
    pub report_dup_every: Option<u64>,
    /// Hold every k-th user data event back and send it after the next one.
    pub report_swap_every: Option<u64>,
    /// The server's clock runs this many milliseconds ahead (behind when negative).
    pub drift_ms: i64,
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
            ack_delay_ms: None,
            ack_drop_every: None,
            stream_drop_every: None,
            report_dup_every: None,
            report_swap_every: None,
            drift_ms: 0,
        }
    }
}

/// A fault spec that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "fault {item:?}: {why}; accepted: 429=<every k-th request>, retry_after=<seconds>, malformed=<every k-th request>, slow=<ms>, drop=<messages>, skip=<every k-th diff>, garbage=<every k-th message>, shutdown=<messages>, ack_delay=<ms>, ack_drop=<every k-th ack>, stream_drop=<every k-th event>, dup=<every k-th event>, swap=<every k-th event>, drift=<ms, may be negative>"
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
            if name == "drift" {
                faults.drift_ms = value
                    .parse()
                    .map_err(|_| err("the value must be a whole number of milliseconds"))?;
                continue;
            }
            let value: u64 = value
                .parse()
                .map_err(|_| err("the value must be a whole number"))?;
            match name {
                "429" | "malformed" | "ack_drop" | "stream_drop" | "dup" | "swap" if value == 0 => {
                    return Err(err("every 0th request makes no sense"));
                }
                "ack_delay" => faults.ack_delay_ms = Some(value),
                "ack_drop" => faults.ack_drop_every = Some(value),
                "stream_drop" => faults.stream_drop_every = Some(value),
                "dup" => faults.report_dup_every = Some(value),
                "swap" => faults.report_swap_every = Some(value),
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
        let f: Faults = "ack_delay=200,ack_drop=3,stream_drop=10,dup=4,swap=5,drift=-1500"
            .parse()
            .unwrap();
        assert_eq!(
            (
                f.ack_delay_ms,
                f.ack_drop_every,
                f.stream_drop_every,
                f.report_dup_every,
                f.report_swap_every,
                f.drift_ms
            ),
            (Some(200), Some(3), Some(10), Some(4), Some(5), -1500)
        );
        assert!("dup=0".parse::<Faults>().is_err());
        assert_eq!("".parse::<Faults>().unwrap(), Faults::default());
    }
}
