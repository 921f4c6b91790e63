//! Every conversion between the contract's WIT types and the host's domain types, one module
//! per contract version. Nothing else in the host names a generated binding type but the host
//! interfaces that receive them.
//!
//! Values a guest sends are checked here: prices and quantities must be finite and positive,
//! and become exact [`Fixed`] values; anything else is refused with the field named.

pub mod v0_1;
pub mod v0_2;

use crate::model::{Fixed, Rejection};

/// A positive exact value from a guest's f64, or a refusal naming `what`.
pub(crate) fn positive(what: &str, x: f64) -> Result<Fixed, Rejection> {
    let v = Fixed::from_f64(x).map_err(|e| Rejection::invalid(format!("{what}: {e}")))?;
    if !v.is_positive() {
        return Err(Rejection::invalid(format!(
            "{what} must be positive, got {x}"
        )));
    }
    Ok(v)
}

/// The conversions of records every version of the contract has in the same shape (bars,
/// trades, book levels, signals, market conditions, predictions), for the version whose
/// generated `types` module is `$wit`.
macro_rules! shared_conversions {
    ($wit:path) => {
        pub use $wit as wit;

        /// A bar.
        pub fn bar(bar: &crate::model::Bar) -> wit::Bar {
            wit::Bar {
                symbol: bar.symbol,
                interval_ms: bar.interval_ms,
                open_time: bar.open_time,
                open: bar.open,
                high: bar.high,
                low: bar.low,
                close: bar.close,
                volume: bar.volume,
            }
        }

        /// A side.
        pub fn side(side: crate::model::Side) -> wit::Side {
            match side {
                crate::model::Side::Buy => wit::Side::Buy,
                crate::model::Side::Sell => wit::Side::Sell,
            }
        }

        /// A guest's side.
        pub fn side_in(side: wit::Side) -> crate::model::Side {
            match side {
                wit::Side::Buy => crate::model::Side::Buy,
                wit::Side::Sell => crate::model::Side::Sell,
            }
        }

        /// A public trade.
        pub fn trade(trade: &crate::feeds::TradePrint) -> wit::Trade {
            wit::Trade {
                symbol: trade.symbol,
                time: trade.time,
                trade_id: trade.trade_id,
                price: trade.price,
                quantity: trade.quantity,
                aggressor: side(trade.aggressor),
            }
        }

        /// A book level.
        pub fn level(&(price, quantity): &(f64, f64)) -> wit::BookLevel {
            wit::BookLevel { price, quantity }
        }

        /// The best levels of a book.
        pub fn top_of_book(top: &crate::market::Top) -> wit::TopOfBook {
            wit::TopOfBook {
                symbol: top.symbol,
                time: top.time,
                bid: level(&top.bid),
                ask: level(&top.ask),
            }
        }

        /// The best `depth` levels of a book.
        pub fn book_levels(book: &crate::feeds::BookTop, depth: usize) -> wit::BookLevels {
            wit::BookLevels {
                symbol: book.symbol,
                time: book.time,
                bids: book.bids.iter().take(depth).map(level).collect(),
                asks: book.asks.iter().take(depth).map(level).collect(),
            }
        }

        /// A signal the guest emitted, as the host keeps it (`source` names who made it).
        pub fn signal_in(
            signal: &wit::Signal,
            source: &std::sync::Arc<str>,
        ) -> crate::model::Signal {
            use crate::model::{Direction, SignalKind};
            crate::model::Signal {
                symbol: signal.symbol,
                time: signal.time,
                direction: match signal.direction {
                    wit::Direction::Long => Direction::Long,
                    wit::Direction::Short => Direction::Short,
                    wit::Direction::Neutral => Direction::Neutral,
                },
                strength: signal.strength,
                confidence: signal.confidence,
                kind: match signal.kind {
                    wit::SignalKind::Trend => SignalKind::Trend,
                    wit::SignalKind::Reversal => SignalKind::Reversal,
                    wit::SignalKind::Breakout => SignalKind::Breakout,
                    wit::SignalKind::Arbitrage => SignalKind::Arbitrage,
                },
                horizon_ms: signal.horizon_ms,
                source: source.clone(),
            }
        }

        /// A signal for a guest.
        pub fn signal_out(signal: &crate::model::Signal) -> wit::Signal {
            use crate::model::{Direction, SignalKind};
            wit::Signal {
                symbol: signal.symbol,
                time: signal.time,
                direction: match signal.direction {
                    Direction::Long => wit::Direction::Long,
                    Direction::Short => wit::Direction::Short,
                    Direction::Neutral => wit::Direction::Neutral,
                },
                strength: signal.strength,
                confidence: signal.confidence,
                kind: match signal.kind {
                    SignalKind::Trend => wit::SignalKind::Trend,
                    SignalKind::Reversal => wit::SignalKind::Reversal,
                    SignalKind::Breakout => wit::SignalKind::Breakout,
                    SignalKind::Arbitrage => wit::SignalKind::Arbitrage,
                },
                horizon_ms: signal.horizon_ms,
                source: signal.source.to_string(),
            }
        }

        /// Market conditions for an optimizer.
        pub fn conditions(c: &crate::market::Conditions) -> wit::MarketConditions {
            wit::MarketConditions {
                symbol: c.symbol,
                time: c.time,
                volatility: c.volatility,
                trend: c.trend,
                volume_ratio: c.volume_ratio,
            }
        }

        /// The ensemble's latest prediction.
        pub fn prediction(p: &crate::inference::PredictionEvent) -> wit::Prediction {
            wit::Prediction {
                symbol: p.symbol,
                time: p.as_of,
                model: format!("ensemble v{}", p.version),
                probabilities: p.probabilities.clone(),
                expected_return: p.expected_return,
                confidence: p.confidence,
            }
        }

        /// A guest's log level.
        pub fn level_in(level: wit::Level) -> tracing::Level {
            match level {
                wit::Level::Trace => tracing::Level::TRACE,
                wit::Level::Debug => tracing::Level::DEBUG,
                wit::Level::Info => tracing::Level::INFO,
                wit::Level::Warn => tracing::Level::WARN,
                wit::Level::Error => tracing::Level::ERROR,
            }
        }
    };
}
use shared_conversions;
