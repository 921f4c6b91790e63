//! The host's view of the market: symbols and their instruments, the recent closed bars of
//! each, books, the latest price and the average price. Guests read it through the WIT `market`
//! interface, risk checks and venues read it on the order path; the engine writes it once per
//! event.
//!
//! Named features come from the [`FeatureEngine`], which sees every event recorded here.

mod average;
mod marks;

pub use average::AveragePrice;
pub use marks::Marks;

use crate::book::OrderBook;
use crate::features::{FeatureEngine, WindowInput};
use crate::feeds::binance::ws::BOOK_LEVELS;
use crate::feeds::sources::SourceEvent;
use crate::feeds::{BookTop, BookUpdate, BookUpdateKind, TradePrint};
use crate::inference::PredictionEvent;
use crate::model::{
    AssetId, Bar, Fixed, Instrument, Instruments, Side, SymbolId, SymbolTable, TimestampMs,
};
use std::collections::VecDeque;
use std::sync::Arc;

/// How many closed bars are kept per symbol (more if `[features].history` asks for more).
pub const HISTORY: usize = 1_000;

/// Symbols, recent bars and marks.
#[derive(Debug)]
pub struct MarketData {
    symbols: SymbolTable,
    /// Each symbol's assets and exchange filters.
    pub instruments: Instruments,
    averages: Vec<AveragePrice>,
    history: Vec<VecDeque<Bar>>,
    /// Bars kept per symbol: [`HISTORY`], or the feature engine's rows of history if more (an
    /// indicator started late is warmed over them).
    kept: usize,
    books: Vec<Option<Book>>,
    /// Latest close of each symbol.
    pub marks: Marks,
    /// Every named feature of every symbol.
    pub features: FeatureEngine,
    predictions: Vec<Option<PredictionEvent>>,
}

/// The best bid and ask of a symbol, each (price, quantity).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Top {
    /// The symbol.
    pub symbol: SymbolId,
    /// When the book (or bar) it comes from was last updated.
    pub time: TimestampMs,
    /// Best bid.
    pub bid: (f64, f64),
    /// Best ask.
    pub ask: (f64, f64),
}

/// A feature resolved once by name: a catalog column (or a transform of one), or a polled
/// source's series.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureRef {
    /// A catalog feature, possibly transformed.
    Input(WindowInput),
    /// A source's series, `source.series`.
    Source(Arc<str>),
}

/// A symbol's full book and its best levels in f64.
#[derive(Debug)]
struct Book {
    depth: OrderBook,
    view: BookTop,
}

/// Market summary handed to signal optimizers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conditions {
    /// The symbol.
    pub symbol: SymbolId,
    /// Event time.
    pub time: TimestampMs,
    /// Realised volatility of the last 20 bars (root of summed squared log returns).
    pub volatility: f64,
    /// Return over the last 20 bars.
    pub trend: f64,
    /// Last volume over the 20-bar average volume.
    pub volume_ratio: f64,
}

impl Default for MarketData {
    fn default() -> Self {
        Self::new(FeatureEngine::default())
    }
}

impl MarketData {
    /// Market data whose features are computed by `features`.
    pub fn new(features: FeatureEngine) -> Self {
        Self {
            symbols: SymbolTable::default(),
            instruments: Instruments::default(),
            averages: Vec::new(),
            history: Vec::new(),
            kept: HISTORY.max(features.history_len()),
            books: Vec::new(),
            marks: Marks::default(),
            features,
            predictions: Vec::new(),
        }
    }

    /// Names and ids of the symbols.
    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    /// The id of symbol `name`, adding it (with its instrument) if it is new.
    pub fn add_symbol(&mut self, name: &str) -> SymbolId {
        let id = self.symbols.intern(name);
        self.instruments.register(id, name);
        if self.averages.len() <= id as usize {
            self.averages
                .resize_with(id as usize + 1, AveragePrice::default);
        }
        id
    }

    /// The instrument of `symbol`.
    pub fn instrument(&self, symbol: SymbolId) -> Option<&Arc<Instrument>> {
        self.instruments.get(symbol)
    }

    /// The price an order on `side` would meet first: the best ask for a buy, the best bid for
    /// a sell, or the last price without a book.
    pub fn touch(&self, symbol: SymbolId, side: Side) -> Option<Fixed> {
        let from_book = self.depth(symbol).and_then(|b| match side {
            Side::Buy => b.best_ask(),
            Side::Sell => b.best_bid(),
        });
        from_book.map(|(p, _)| p).or_else(|| self.marks.get(symbol))
    }

    /// The last price of `symbol`, or before it has one its book's mid.
    fn mark_or_mid(&self, symbol: SymbolId) -> Option<Fixed> {
        self.marks.get(symbol).or_else(|| {
            let book = self.depth(symbol)?;
            let (bid, ask) = (book.best_bid()?.0, book.best_ask()?.0);
            Some(Fixed::from_raw(
                bid.raw() / 2 + ask.raw() / 2 + (bid.raw() % 2 + ask.raw() % 2) / 2,
            ))
        })
    }

    /// The price of one unit of asset `from` in asset `to`: through the symbol trading them
    /// (either way round; its last price, or its book's mid before it has traded) or, failing
    /// that, through one other asset.
    pub fn price_of(&self, from: AssetId, to: AssetId) -> Option<Fixed> {
        if from == to {
            return Some(Fixed::from_int(1));
        }
        let direct = |a: AssetId, b: AssetId| -> Option<Fixed> {
            if let Some(s) = self.instruments.pair(a, b) {
                return self.mark_or_mid(s);
            }
            let inverse = self.mark_or_mid(self.instruments.pair(b, a)?)?;
            Fixed::from_int(1).checked_div(inverse)
        };
        direct(from, to).or_else(|| {
            (0..self.instruments.asset_count() as AssetId)
                .filter(|&via| via != from && via != to)
                .find_map(|via| direct(from, via)?.checked_mul(direct(via, to)?))
        })
    }

    /// `amount` of asset `from` in asset `to` at the last prices.
    pub fn convert(&self, amount: Fixed, from: AssetId, to: AssetId) -> Option<Fixed> {
        if from == to || amount.raw() == 0 {
            return Some(amount);
        }
        Some(amount.saturating_mul(self.price_of(from, to)?))
    }

    /// Binance's average price of `symbol` over the `minutes` before `now` (the last price for
    /// zero minutes, or when nothing traded in the window).
    pub fn average_price(&self, symbol: SymbolId, minutes: u32, now: TimestampMs) -> Option<Fixed> {
        let last = self.marks.get(symbol);
        if minutes == 0 {
            return last;
        }
        let bars = self.history.get(symbol as usize).into_iter().flatten();
        self.averages
            .get(symbol as usize)
            .and_then(|a| a.over(minutes, now, bars))
            .and_then(|p| Fixed::from_f64(p).ok())
            .or(last)
    }

    /// Records a closed bar.
    pub fn push_bar(&mut self, bar: Bar) {
        let i = bar.symbol as usize;
        if self.history.len() <= i {
            self.history.resize_with(i + 1, VecDeque::new);
        }
        let h = &mut self.history[i];
        if h.len() >= self.kept {
            h.pop_front();
        }
        h.push_back(bar);
        if let Ok(close) = Fixed::from_f64(bar.close) {
            self.marks.set(bar.symbol, close);
        }
        self.features.on_bar(&bar, &self.symbols);
    }

    /// Records a public trade: the symbol's last price and average price move with it.
    pub fn push_trade(&mut self, trade: &TradePrint) {
        if let Ok(price) = Fixed::from_f64(trade.price) {
            self.marks.set(trade.symbol, price);
        }
        if let Some(average) = self.averages.get_mut(trade.symbol as usize) {
            average.record(trade.time, trade.price, trade.quantity);
        }
        self.features.on_trade(trade);
    }

    /// Applies a change of a symbol's book; its best levels and the book features follow.
    pub fn apply_book(&mut self, update: &BookUpdate) {
        let i = update.symbol as usize;
        if self.books.len() <= i {
            self.books.resize_with(i + 1, || None);
        }
        let book = self.books[i].get_or_insert_with(|| Book {
            depth: OrderBook::default(),
            view: BookTop::default(),
        });
        match update.kind {
            BookUpdateKind::Snapshot => {
                book.depth.clear();
                book.depth.apply(&update.bids, &update.asks);
            }
            BookUpdateKind::Diff => book.depth.apply(&update.bids, &update.asks),
            BookUpdateKind::Top => book
                .depth
                .apply_top(update.bids.first().copied(), update.asks.first().copied()),
        }
        let view = &mut book.view;
        view.symbol = update.symbol;
        view.time = update.time;
        view.bids.clear();
        view.asks.clear();
        let f = |(p, q): (Fixed, Fixed)| (p.to_f64(), q.to_f64());
        view.bids.extend(book.depth.bids(BOOK_LEVELS).map(f));
        view.asks.extend(book.depth.asks(BOOK_LEVELS).map(f));
        self.features.on_book(view);
    }

    /// Records an event of a non-market source: a value, a headline, a social post or poll (the
    /// features keep what they need: each series' latest period, the last day of headlines,
    /// the social windows' mentions and answers).
    pub fn record(&mut self, event: SourceEvent) {
        self.features.on_source(&event, &self.symbols);
    }

    /// The best levels of `symbol`'s book, if a feed keeps one.
    pub fn book(&self, symbol: SymbolId) -> Option<&BookTop> {
        self.books.get(symbol as usize)?.as_ref().map(|b| &b.view)
    }

    /// The whole book of `symbol`, if a feed keeps one.
    pub fn depth(&self, symbol: SymbolId) -> Option<&OrderBook> {
        self.books.get(symbol as usize)?.as_ref().map(|b| &b.depth)
    }

    /// The best bid and ask of `symbol`: from its book, or without one the last close standing
    /// for both sides with unknown size (zero).
    pub fn top(&self, symbol: SymbolId) -> Option<Top> {
        if let Some(book) = self.book(symbol)
            && let (Some(&bid), Some(&ask)) = (book.bids.first(), book.asks.first())
        {
            return Some(Top {
                symbol,
                time: book.time,
                bid,
                ask,
            });
        }
        self.last_bar(symbol).map(|bar| Top {
            symbol,
            time: bar.close_time(),
            bid: (bar.close, 0.0),
            ask: (bar.close, 0.0),
        })
    }

    /// The most recent `count` bars of `symbol`, oldest first.
    pub fn recent_bars(&self, symbol: SymbolId, count: usize) -> impl Iterator<Item = &Bar> {
        let h = self.history.get(symbol as usize);
        let len = h.map_or(0, VecDeque::len);
        h.into_iter()
            .flat_map(|h| h.iter())
            .skip(len.saturating_sub(count))
    }

    /// Records a prediction unless a newer one for the symbol is already there.
    pub fn set_prediction(&mut self, prediction: PredictionEvent) {
        let i = prediction.symbol as usize;
        if self.predictions.len() <= i {
            self.predictions.resize_with(i + 1, || None);
        }
        let slot = &mut self.predictions[i];
        if slot.as_ref().is_none_or(|p| p.as_of <= prediction.as_of) {
            *slot = Some(prediction);
        }
    }

    /// The latest prediction for `symbol`.
    pub fn prediction(&self, symbol: SymbolId) -> Option<&PredictionEvent> {
        self.predictions.get(symbol as usize)?.as_ref()
    }

    /// The last bar of `symbol`.
    pub fn last_bar(&self, symbol: SymbolId) -> Option<&Bar> {
        self.history.get(symbol as usize)?.back()
    }

    /// A named feature of `symbol` (`Ok(None)` while it has no value): any name of the feature
    /// catalog, `transform:name`, or `source.series` for a polled source's latest value. A TA-Lib
    /// feature the symbol does not compute yet is started here, over its kept bars, and
    /// computed on every bar from then on.
    pub fn feature(&mut self, symbol: SymbolId, name: &str) -> Result<Option<f64>, String> {
        let feature = self.resolve_feature(name)?;
        Ok(self.read_feature(symbol, &feature))
    }

    /// [`MarketData::feature`] without starting anything, so a shared borrow will do: `None`
    /// when the feature must first be started for the symbol (call `feature`).
    pub fn started_feature(
        &self,
        symbol: SymbolId,
        name: &str,
    ) -> Option<Result<Option<f64>, String>> {
        match self.resolve_feature(name) {
            Ok(feature) => self.read_started(symbol, &feature).map(Ok),
            Err(e) => Some(Err(e)),
        }
    }

    /// Resolves a feature name once, for reading it by [`MarketData::read_feature`].
    pub fn resolve_feature(&self, name: &str) -> Result<FeatureRef, String> {
        Ok(match self.resolve(name)? {
            Some(input) => FeatureRef::Input(input),
            None => FeatureRef::Source(name.into()),
        })
    }

    /// A resolved feature's value for `symbol`, or `None` when it must first be started for the
    /// symbol (which [`MarketData::read_feature`] does).
    pub fn read_started(&self, symbol: SymbolId, feature: &FeatureRef) -> Option<Option<f64>> {
        match feature {
            FeatureRef::Source(name) => Some(self.features.source_value(name)),
            FeatureRef::Input(input) => {
                if self.symbols.name(symbol).is_some()
                    && self.features.needs_start(symbol, input.column())
                {
                    return None;
                }
                Some(self.features.value_of(symbol, *input))
            }
        }
    }

    /// A resolved feature's value for `symbol`, starting it for the symbol over its kept bars
    /// if nothing read it before.
    pub fn read_feature(&mut self, symbol: SymbolId, feature: &FeatureRef) -> Option<f64> {
        if let Some(value) = self.read_started(symbol, feature) {
            return value;
        }
        let FeatureRef::Input(input) = feature else {
            return None;
        };
        let none = VecDeque::new();
        let bars = self.history.get(symbol as usize).unwrap_or(&none);
        self.features.require(symbol, input.column(), bars);
        self.features.value_of(symbol, *input)
    }

    /// What `name` reads: a catalog feature (or a transform of one), or `None` for a polled
    /// source's series. A plain catalog name is found with one lookup.
    fn resolve(&self, name: &str) -> Result<Option<WindowInput>, String> {
        if !name.contains(':')
            && let Some(column) = self.features.catalog().column(name)
        {
            return Ok(Some(WindowInput::plain(column)));
        }
        if is_source_series(name) {
            return Ok(None);
        }
        self.features.input(name).map(Some)
    }

    /// Makes every symbol compute a model's `inputs` from now on, starting them over the kept
    /// bars of the symbols seen so far.
    pub fn require_everywhere(&mut self, inputs: &[WindowInput]) {
        self.features.require_everywhere(inputs, &self.history);
    }

    /// The conditions of `symbol` at its last bar, if it has one.
    pub fn conditions(&self, symbol: SymbolId) -> Option<Conditions> {
        let last = self.last_bar(symbol)?;
        let f = |name: &str| self.features.value(symbol, name).ok().flatten();
        let volumes: Vec<f64> = self.recent_bars(symbol, 20).map(|b| b.volume).collect();
        let average = volumes.iter().sum::<f64>() / volumes.len() as f64;
        let volume_ratio = if volumes.len() == 20 && average > 0.0 {
            last.volume / average
        } else {
            1.0
        };
        Some(Conditions {
            symbol,
            time: last.close_time(),
            volatility: f("rv_20").unwrap_or(0.0),
            trend: f("ret_20").unwrap_or(0.0),
            volume_ratio,
        })
    }
}

/// Whether `name` names a polled source's series (`fear_greed.value`, `fred.DGS10`) rather than
/// a catalog feature: a feature family's (`micro.spread`) or a TA-Lib function's output
/// (`BBANDS_20_2_2_0.upperband`, `HT_SINE.sine`), which a misspelling must not turn into a
/// series with no value.
fn is_source_series(name: &str) -> bool {
    let Some((source, _)) = name.split_once('.').filter(|_| !name.contains(':')) else {
        return false;
    };
    !["cross", "macro", "micro", "sentiment"].contains(&source)
        && stratbox_ta::registry::find_prefix(source).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(closes: &[f64]) -> MarketData {
        data_with(MarketData::default(), closes)
    }

    fn data_with(mut m: MarketData, closes: &[f64]) -> MarketData {
        let s = m.add_symbol("BTCUSDT");
        for (i, &c) in closes.iter().enumerate() {
            m.push_bar(Bar {
                symbol: s,
                interval_ms: 60_000,
                open_time: i as i64 * 60_000,
                open: c,
                high: c + 1.0,
                low: c - 1.0,
                close: c,
                volume: 10.0 + i as f64,
            });
        }
        m
    }

    #[test]
    fn features_follow_their_definitions() {
        let mut m = data(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            m.feature(0, "SMA_30"),
            Ok(None),
            "30 bars are not there yet"
        );
        assert_eq!(m.feature(0, "ret_1"), Ok(Some(4.0 / 3.0 - 1.0)));
        assert_eq!(m.feature(0, "close"), Ok(Some(4.0)));
        assert_eq!(m.feature(0, "minmax_3:close"), Ok(Some(1.0)));
        let err = m.feature(0, "RSI_7").unwrap_err();
        assert!(err.contains("[features].extra"), "{err}");
        assert!(m.feature(0, "sma_2").unwrap_err().contains("features list"));
        let err = m.feature(0, "BBANDS_5_2_2_0.upperband").unwrap_err();
        assert!(err.contains("[features].extra"), "{err}");
        assert!(
            m.feature(0, "HT_SINE.lead").is_err(),
            "HT_SINE's outputs are sine, leadsine"
        );
        assert!(m.feature(0, "MINUS_DI_3.x").is_err());
        assert!(
            m.feature(0, "SMé.x").is_ok(),
            "not a TA-Lib name: a source's series"
        );
        assert!(m.feature(0, "SMé").is_err());
        assert!(m.feature(0, "micro.nope").is_err());
        assert_eq!(
            m.recent_bars(0, 2).map(|b| b.close).collect::<Vec<_>>(),
            vec![3.0, 4.0]
        );
        assert_eq!(m.feature(7, "close"), Ok(None));
    }

    #[test]
    fn a_feature_first_read_late_has_the_values_of_one_computed_from_the_first_bar() {
        let closes: Vec<f64> = (0..400)
            .map(|i| 100.0 + (i as f64 * 0.37).sin() * 5.0)
            .collect();
        let eager = FeatureEngine::new(crate::features::FeatureConfig {
            eager: true,
            ..Default::default()
        })
        .unwrap();
        let mut eager = data_with(MarketData::new(eager), &closes);
        let mut lazy = data(&closes);
        let row = |m: &MarketData, name: &str| m.features.value(0, name).unwrap();
        assert_eq!(row(&lazy, "EMA_30"), None, "nothing has read it");
        assert_eq!(
            lazy.started_feature(0, "EMA_30"),
            None,
            "must be started first"
        );
        assert_eq!(
            lazy.started_feature(0, "close"),
            Some(Ok(Some(closes[399])))
        );
        assert!(lazy.started_feature(0, "nope").unwrap().is_err());
        assert!(row(&eager, "EMA_30").is_some());
        for name in [
            "EMA_30",
            "zscore_50:RSI_14",
            "MACD_12_26_9.macdsignal",
            "ffill:KAMA_30",
        ] {
            let (a, b) = (
                lazy.feature(0, name).unwrap(),
                eager.feature(0, name).unwrap(),
            );
            assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits), "{name}");
            assert!(a.is_some(), "{name}");
        }
        assert_eq!(
            lazy.started_feature(0, "EMA_30"),
            Some(eager.feature(0, "EMA_30"))
        );
        // Started now, computed from now on.
        let more: Vec<f64> = closes.iter().map(|c| c * 1.01).collect();
        let (mut lazy, mut eager) = (data_with(lazy, &more), data_with(eager, &more));
        for name in ["EMA_30", "zscore_50:RSI_14"] {
            assert_eq!(lazy.feature(0, name), eager.feature(0, name), "{name}");
        }
    }

    #[test]
    fn source_values_are_features_and_the_latest_period_wins() {
        use crate::feeds::sources::Observation;
        let mut m = MarketData::default();
        let obs = |observed_at: i64, value: f64| {
            SourceEvent::Observation(Observation {
                source: "fear_greed".into(),
                series: "value".into(),
                observed_at,
                known_at: 10,
                value,
                label: None,
            })
        };
        assert_eq!(m.feature(0, "fear_greed.value"), Ok(None));
        m.record(obs(2_000, 40.0));
        m.record(obs(1_000, 90.0)); // an older period arriving late does not replace it
        assert_eq!(m.feature(0, "fear_greed.value"), Ok(Some(40.0)));
        m.record(obs(3_000, 55.0));
        assert_eq!(m.feature(7, "fear_greed.value"), Ok(Some(55.0)));
        assert!(
            m.feature(0, "nonsense")
                .unwrap_err()
                .contains("unknown feature")
        );
    }

    #[test]
    fn an_asset_is_priced_at_its_books_mid_until_its_symbol_trades() {
        use crate::feeds::{BookUpdate, BookUpdateKind, TradePrint};
        let fx = |t: &str| t.parse::<Fixed>().unwrap();
        let mut m = MarketData::default();
        let symbol = m.add_symbol("BNBUSDT");
        let (bnb, usdt) = (
            m.instruments.asset_id("BNB").unwrap(),
            m.instruments.asset_id("USDT").unwrap(),
        );
        assert_eq!(m.price_of(bnb, usdt), None);
        m.apply_book(&BookUpdate {
            symbol,
            time: 1,
            kind: BookUpdateKind::Snapshot,
            bids: vec![(fx("599.99"), fx("1"))],
            asks: vec![(fx("600.02"), fx("1"))],
        });
        assert_eq!(m.price_of(bnb, usdt), Some(fx("600.005")));
        assert_eq!(m.convert(fx("2"), usdt, bnb), Some(fx("0.0033333")));
        m.push_trade(&TradePrint {
            symbol,
            time: 2,
            trade_id: 1,
            price: 601.0,
            quantity: 1.0,
            aggressor: crate::model::Side::Buy,
        });
        assert_eq!(m.price_of(bnb, usdt), Some(fx("601")));
    }
}
