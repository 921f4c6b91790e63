//! `market`: what the host has seen of the market, in event time. The reads that involve more
//! than a lookup (features, which may have to be started) are shared by every contract version.

use super::{FeatureHandles, GuestCtx, HostResult};
use crate::market::{FeatureRef, HISTORY};
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::{market, types};
use crate::sandbox::convert::v0_2 as convert;

/// Most feature handles one guest may hold.
const MAX_HANDLES: usize = 4096;

impl GuestCtx {
    /// A named feature's value for `symbol`, starting it for the symbol if nothing read it yet.
    pub(crate) fn named_feature(&mut self, symbol: u32, name: &str) -> Result<Option<f64>, String> {
        if let Some(value) = self.env.market().started_feature(symbol, name) {
            return value;
        }
        // A feature read for the first time is started for the symbol: that writes.
        self.env.market_mut().feature(symbol, name)
    }

    /// A resolved feature's value for `symbol` (starting it if need be).
    fn handle_value(&self, symbol: u32, feature: &FeatureRef) -> Option<f64> {
        if let Some(value) = self.env.market().read_started(symbol, feature) {
            return value;
        }
        self.env.market_mut().read_feature(symbol, feature)
    }
}

impl FeatureHandles {
    fn get(&self, handle: u32) -> Option<&FeatureRef> {
        self.0.get(handle as usize)
    }
}

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

    fn symbol_info(&mut self, symbol: u32) -> HostResult<Option<types::Instrument>> {
        let market = self.env.market();
        let Some(instrument) = market.instrument(symbol) else {
            return Ok(None);
        };
        let fees = self.env.orders().fees(symbol, &market);
        let names = &market.instruments;
        Ok(Some(convert::instrument(
            symbol,
            instrument,
            names.asset_name(instrument.base),
            names.asset_name(instrument.quote),
            fees,
        )))
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
        Ok(self
            .env
            .market()
            .top(symbol)
            .as_ref()
            .map(convert::top_of_book))
    }

    fn book(&mut self, symbol: u32, depth: u32) -> HostResult<Option<types::BookLevels>> {
        Ok(self
            .env
            .market()
            .book(symbol)
            .map(|b| convert::book_levels(b, depth as usize)))
    }

    fn feature(&mut self, symbol: u32, name: String) -> HostResult<Result<Option<f64>, String>> {
        Ok(self.named_feature(symbol, &name))
    }

    fn resolve_feature(&mut self, name: String) -> HostResult<Result<u32, String>> {
        let feature = match self.env.market().resolve_feature(&name) {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(i) = self.features.0.iter().position(|f| *f == feature) {
            return Ok(Ok(i as u32));
        }
        if self.features.0.len() >= MAX_HANDLES {
            return Err(self.trap(format!("asked for more than {MAX_HANDLES} feature handles")));
        }
        self.features.0.push(feature);
        Ok(Ok(self.features.0.len() as u32 - 1))
    }

    fn read_feature(&mut self, symbol: u32, handle: u32) -> HostResult<Option<f64>> {
        Ok(self
            .features
            .get(handle)
            .and_then(|f| self.handle_value(symbol, f)))
    }

    fn read_features(&mut self, symbol: u32, handles: Vec<u32>) -> HostResult<Vec<Option<f64>>> {
        Ok(handles
            .iter()
            .map(|&h| {
                self.features
                    .get(h)
                    .and_then(|f| self.handle_value(symbol, f))
            })
            .collect())
    }

    fn predict(&mut self, symbol: u32) -> HostResult<Option<types::Prediction>> {
        Ok(self
            .env
            .market()
            .prediction(symbol)
            .map(convert::prediction))
    }
}
