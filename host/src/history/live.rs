//! The service's own bars into the history store (`[market] store_candles`): every bar the
//! engine handles is queued (the engine never waits on the database) and stored as a candle of
//! its symbol and interval, a batch per transaction; after each batch commits, its latest close
//! time is reported (retraining follows market time by it, so it never reads a bar before it
//! is stored).

use super::HistoryStore;
use crate::feeds::candles::Candle;
use crate::feeds::replay::interval_name;
use crate::market::MarketData;
use crate::model::{Bar, Decimal};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc::UnboundedReceiver;

/// Most bars stored in one transaction.
const BATCH: usize = 1024;

/// `bar` as a candle with the shortest decimal text of each value, or `None` for a value
/// that is not a finite number.
pub fn candle_of(bar: &Bar) -> Option<Candle> {
    let d = |v: f64| -> Option<Decimal> {
        if v.is_finite() {
            format!("{v}").parse().ok()
        } else {
            None
        }
    };
    Some(Candle {
        open_time: bar.open_time,
        open: d(bar.open)?,
        high: d(bar.high)?,
        low: d(bar.low)?,
        close: d(bar.close)?,
        volume: d(bar.volume)?,
    })
}

/// Stores the bars `bars` receives into `history` until its senders are gone, naming symbols
/// by `market`'s table; calls `committed` with each stored batch's latest close time.
pub async fn store_bars(
    history: Arc<HistoryStore>,
    market: Arc<RwLock<MarketData>>,
    mut bars: UnboundedReceiver<Bar>,
    committed: impl Fn(i64) + Send,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while bars.recv_many(&mut batch, BATCH).await > 0 {
        // By symbol and interval, each in time order as the engine handled them.
        let mut groups: BTreeMap<(String, String), Vec<Candle>> = BTreeMap::new();
        let mut latest = i64::MIN;
        {
            let market = market.read().unwrap_or_else(|p| p.into_inner());
            for bar in batch.drain(..) {
                let Some(name) = market.symbols().name(bar.symbol) else {
                    continue;
                };
                let Some(candle) = candle_of(&bar) else {
                    tracing::warn!(symbol = %name, open_time = bar.open_time, "bar not stored: a value is not a number");
                    continue;
                };
                latest = latest.max(bar.close_time());
                groups
                    .entry((name.to_string(), interval_name(bar.interval_ms)))
                    .or_default()
                    .push(candle);
            }
        }
        let mut stored = true;
        for ((symbol, interval), candles) in &groups {
            if let Err(e) = history.upsert(symbol, interval, candles).await {
                tracing::error!(%symbol, %interval, "bars not stored: {e}");
                stored = false;
            }
        }
        if stored && latest > i64::MIN {
            committed(latest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_becomes_the_candle_it_was_read_from() {
        let bar = Bar {
            symbol: 0,
            interval_ms: 60_000,
            open_time: 1_700_000_000_000,
            open: 43_210.12,
            high: 43_300.5,
            low: 0.00000012,
            close: 43_250.0,
            volume: 12.345678,
        };
        let c = candle_of(&bar).expect("finite");
        assert_eq!(
            [&c.open, &c.high, &c.low, &c.close, &c.volume].map(|d| d.as_str()),
            ["43210.12", "43300.5", "0.00000012", "43250", "12.345678"]
        );
        assert!(
            candle_of(&Bar {
                close: f64::NAN,
                ..bar
            })
            .is_none()
        );
    }
}
