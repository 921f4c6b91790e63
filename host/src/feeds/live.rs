//! Live market sources feeding the engine: one Binance feed per symbol (many sharing the
//! connections of a [`StreamHub`]), its bars, trades and books (the local depth book, or the
//! `bookTicker` top when there is none) turned into the same [`MarketEvent`]s the replay
//! produces.

use super::binance::ws::{self, FeedEvent, FeedStats, LiveFeedConfig, StreamHub, StreamRequest};
use super::{BookUpdate, BookUpdateKind, MarketEvent, TradePrint};
use crate::engine::service::EventSender;
use crate::model::{Side, SymbolId};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A task that ends when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the feed of `config` on `hub` for engine symbol `symbol`, forwarding its events to
/// `events` until `shutdown` fires or the engine stops; its streams change by `control`.
pub async fn run(
    hub: StreamHub,
    config: LiveFeedConfig,
    symbol: SymbolId,
    events: EventSender,
    stats: Arc<FeedStats>,
    shutdown: oneshot::Receiver<()>,
    control: mpsc::Receiver<StreamRequest>,
) {
    let interval_ms = config.interval_ms as u32;
    // With a local depth book its 20 levels are the book; otherwise the ticker's top is.
    let mut depth_book = config.book;
    let (tx, mut rx) = mpsc::channel(1024);
    // Aborted with this task too (an operator's unfollow gives up waiting after a while).
    let feed = AbortOnDrop(tokio::spawn(async move {
        ws::run_on(&hub, config, tx, stats, shutdown, control).await
    }));
    while let Some(event) = rx.recv().await {
        let event = match event {
            FeedEvent::Bar(candle, _) => MarketEvent::Bar(candle.to_bar(symbol, interval_ms)),
            FeedEvent::Trade(tick, _) => MarketEvent::Trade(TradePrint {
                symbol,
                time: tick.time,
                trade_id: tick.id,
                price: tick.price.to_f64(),
                quantity: tick.quantity.to_f64(),
                aggressor: if tick.buyer_is_maker {
                    Side::Sell
                } else {
                    Side::Buy
                },
            }),
            FeedEvent::Book { change, stamp, .. } => MarketEvent::Book(BookUpdate {
                symbol,
                time: stamp.exchange_ms,
                kind: change.kind,
                bids: change.bids,
                asks: change.asks,
            }),
            FeedEvent::Streams(streams) => {
                depth_book = streams.iter().any(|s| s.contains("@depth"));
                continue;
            }
            FeedEvent::Ticker(_, _) if depth_book => continue,
            FeedEvent::Ticker(ticker, stamp) => MarketEvent::Book(BookUpdate {
                symbol,
                time: stamp.receive_ms,
                kind: BookUpdateKind::Top,
                bids: vec![ticker.bid],
                asks: vec![ticker.ask],
            }),
        };
        if !events.send(event) {
            break;
        }
    }
    drop(feed);
}
