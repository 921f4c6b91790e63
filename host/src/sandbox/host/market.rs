//! `market`: what the host has seen of the market, in event time.

use super::{GuestCtx, HostResult};
use crate::market::HISTORY;
use crate::sandbox::bindings::strategy::stratbox::strategy::{market, types};
use crate::sandbox::convert::v0_1 as convert;

impl market::Host for GuestCtx {
    fn find_symbol(&mut self, name: String) -> HostResult<Option<u32>> {
        Ok(self.env.market().symbols().id(&name))
    }

    fn symbol_name(&mut self, symbol: u32) -> HostResult<Option<String>> {
        Ok(self
            .env
            .market()
            .symbols()
            .name(symbol)
            .map(|n| n.to_string()))
    }

    fn recent_bars(&mut self, symbol: u32, count: u32) -> HostResult<Vec<types::Bar>> {
        let count = (count as usize).min(HISTORY);
        Ok(self
            .env
            .market()
            .recent_bars(symbol, count)
            .map(convert::bar)
            .collect())
    }

    fn best_bid_ask(&mut self, symbol: u32) -> HostResult<Option<types::TopOfBook>> {
        let market = self.env.market();
        if let Some(book) = market.book(symbol)
            && let (Some(bid), Some(ask)) = (book.bids.first(), book.asks.first())
        {
            return Ok(Some(types::TopOfBook {
                symbol,
                time: book.time,
                bid: convert::level(bid),
                ask: convert::level(ask),
            }));
        }
        // Without a live book, the last close stands for both sides, with unknown size.
        Ok(market.last_bar(symbol).map(|bar| {
            let level = convert::level(&(bar.close, 0.0));
            types::TopOfBook {
                symbol,
                time: bar.close_time(),
                bid: level,
                ask: level,
            }
        }))
    }

    fn book(&mut self, symbol: u32, depth: u32) -> HostResult<Option<types::BookLevels>> {
        Ok(self
            .env
            .market()
            .book(symbol)
            .map(|b| convert::book_levels(b, depth as usize)))
    }

    fn feature(&mut self, symbol: u32, name: String) -> HostResult<Result<Option<f64>, String>> {
        if let Some(value) = self.env.market().started_feature(symbol, &name) {
            return Ok(value);
        }
        // A feature read for the first time is started for the symbol: that writes.
        Ok(self.env.market_mut().feature(symbol, &name))
    }

    fn predict(&mut self, symbol: u32) -> HostResult<Option<types::Prediction>> {
        Ok(self
            .env
            .market()
            .prediction(symbol)
            .map(convert::prediction))
    }
}
