//! Binance payloads, parsed exactly: prices and quantities arrive as decimal strings.

use crate::feeds::candles::Candle;
use crate::model::{Decimal, Fixed};
use serde::Deserialize;

/// One row of `GET /api/v3/klines`: open time, OHLCV as strings, close time, quote volume,
/// trade count, taker buy volumes, and an ignored field.
pub type KlineRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    u64,
    String,
    String,
    String,
);

/// Converts a klines row to a candle, naming the field that is not a decimal.
pub fn kline_row(row: &KlineRow) -> Result<Candle, String> {
    let d = |name: &str, s: &str| {
        s.parse::<Decimal>()
            .map_err(|_| format!("kline {}: {name} {s:?} is not a decimal", row.0))
    };
    Ok(Candle {
        open_time: row.0,
        open: d("open", &row.1)?,
        high: d("high", &row.2)?,
        low: d("low", &row.3)?,
        close: d("close", &row.4)?,
        volume: d("volume", &row.5)?,
    })
}

/// The trading rules of one symbol from `exchangeInfo`.
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolFilters {
    /// The symbol, e.g. BTCUSDT.
    pub symbol: String,
    /// TRADING, BREAK, ...
    pub status: String,
    /// Base asset.
    pub base_asset: String,
    /// Quote asset.
    pub quote_asset: String,
    /// PRICE_FILTER tickSize.
    pub tick_size: Fixed,
    /// LOT_SIZE stepSize.
    pub step_size: Fixed,
    /// NOTIONAL (or legacy MIN_NOTIONAL) minNotional.
    pub min_notional: Fixed,
}

/// `GET /api/v3/exchangeInfo`, reduced to what the host uses.
#[derive(Clone, Debug, PartialEq)]
pub struct ExchangeInfo {
    /// Server time of the answer.
    pub server_time: i64,
    /// Every symbol's rules.
    pub symbols: Vec<SymbolFilters>,
    /// The answer as received, for [`crate::model::Instruments::describe`].
    pub raw: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawInfo {
    server_time: i64,
    symbols: Vec<RawSymbol>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSymbol {
    symbol: String,
    status: String,
    base_asset: String,
    quote_asset: String,
    filters: Vec<serde_json::Value>,
}

impl ExchangeInfo {
    /// Parses the JSON body, naming what is missing or malformed.
    pub fn parse(body: &str) -> Result<Self, String> {
        let raw: RawInfo = serde_json::from_str(body).map_err(|e| format!("exchangeInfo: {e}"))?;
        let symbols = raw
            .symbols
            .into_iter()
            .map(|s| {
                let filter = |kind: &str, field: &str| -> Result<Option<Fixed>, String> {
                    let Some(f) = s.filters.iter().find(|f| f["filterType"] == kind) else {
                        return Ok(None);
                    };
                    let text = f[field]
                        .as_str()
                        .ok_or_else(|| format!("{}: {kind}.{field} missing", s.symbol))?;
                    text.parse::<Fixed>()
                        .map(Some)
                        .map_err(|e| format!("{}: {kind}.{field}: {e}", s.symbol))
                };
                Ok(SymbolFilters {
                    tick_size: filter("PRICE_FILTER", "tickSize")?
                        .ok_or_else(|| format!("{}: no PRICE_FILTER", s.symbol))?,
                    step_size: filter("LOT_SIZE", "stepSize")?
                        .ok_or_else(|| format!("{}: no LOT_SIZE", s.symbol))?,
                    min_notional: filter("NOTIONAL", "minNotional")?
                        .or(filter("MIN_NOTIONAL", "minNotional")?)
                        .unwrap_or(Fixed::ZERO),
                    symbol: s.symbol,
                    status: s.status,
                    base_asset: s.base_asset,
                    quote_asset: s.quote_asset,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(ExchangeInfo {
            server_time: raw.server_time,
            symbols,
            raw: body.to_string(),
        })
    }
}

/// `GET /api/v3/depth`.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthSnapshot {
    /// The book's update id at the snapshot.
    pub last_update_id: u64,
    /// Bids, best first: (price, quantity).
    pub bids: Vec<(Fixed, Fixed)>,
    /// Asks, best first.
    pub asks: Vec<(Fixed, Fixed)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDepth {
    last_update_id: u64,
    bids: Vec<(String, String)>,
    asks: Vec<(String, String)>,
}

impl DepthSnapshot {
    /// Parses the JSON body.
    pub fn parse(body: &str) -> Result<Self, String> {
        let raw: RawDepth = serde_json::from_str(body).map_err(|e| format!("depth: {e}"))?;
        let side = |levels: Vec<(String, String)>| -> Result<Vec<(Fixed, Fixed)>, String> {
            levels
                .into_iter()
                .map(|(p, q)| {
                    Ok((
                        p.parse::<Fixed>()
                            .map_err(|e| format!("depth price: {e}"))?,
                        q.parse::<Fixed>()
                            .map_err(|e| format!("depth quantity: {e}"))?,
                    ))
                })
                .collect()
        };
        Ok(DepthSnapshot {
            last_update_id: raw.last_update_id,
            bids: side(raw.bids)?,
            asks: side(raw.asks)?,
        })
    }
}

/// One trade from `/api/v3/trades`, `/api/v3/aggTrades` or the `aggTrade` stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TradeTick {
    /// Trade id (aggregate trade id for aggregated trades).
    pub id: u64,
    /// Price.
    pub price: Fixed,
    /// Base quantity.
    pub quantity: Fixed,
    /// Trade time, ms.
    pub time: i64,
    /// The buyer was the maker: the taker sold.
    pub buyer_is_maker: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTrade<'a> {
    id: u64,
    price: &'a str,
    qty: &'a str,
    time: i64,
    is_buyer_maker: bool,
}

/// A single trade as the `<symbol>@trade` stream sends it (`t`, `p`, `q`, `T`, `m`).
#[derive(Deserialize)]
pub(crate) struct RawStreamTrade<'a> {
    t: u64,
    p: &'a str,
    q: &'a str,
    #[serde(rename = "T")]
    time: i64,
    m: bool,
}

impl RawStreamTrade<'_> {
    /// Parses prices and quantities exactly.
    pub(crate) fn tick(&self) -> Result<TradeTick, String> {
        Ok(TradeTick {
            id: self.t,
            price: self
                .p
                .parse()
                .map_err(|e| format!("trade {} price: {e}", self.t))?,
            quantity: self
                .q
                .parse()
                .map_err(|e| format!("trade {} quantity: {e}", self.t))?,
            time: self.time,
            buyer_is_maker: self.m,
        })
    }
}

/// Best bid and ask as the `<symbol>@bookTicker` stream sends them (`u`, `b`, `B`, `a`, `A`).
#[derive(Deserialize)]
pub(crate) struct RawBookTicker<'a> {
    u: u64,
    b: &'a str,
    #[serde(rename = "B")]
    bid_qty: &'a str,
    a: &'a str,
    #[serde(rename = "A")]
    ask_qty: &'a str,
}

/// The best bid and ask of a book, exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookTicker {
    /// The book's update id.
    pub update_id: u64,
    /// Best bid (price, quantity).
    pub bid: (Fixed, Fixed),
    /// Best ask (price, quantity).
    pub ask: (Fixed, Fixed),
}

impl RawBookTicker<'_> {
    /// Parses the four decimals exactly.
    pub(crate) fn ticker(&self) -> Result<BookTicker, String> {
        let parse = |what: &str, text: &str| {
            text.parse::<Fixed>()
                .map_err(|e| format!("bookTicker {} {what}: {e}", self.u))
        };
        Ok(BookTicker {
            update_id: self.u,
            bid: (parse("bid", self.b)?, parse("bid quantity", self.bid_qty)?),
            ask: (parse("ask", self.a)?, parse("ask quantity", self.ask_qty)?),
        })
    }
}

/// An aggregate trade as REST and the stream send it (`a`, `p`, `q`, `T`, `m`).
#[derive(Deserialize)]
pub(crate) struct RawAggTrade<'a> {
    a: u64,
    p: &'a str,
    q: &'a str,
    #[serde(rename = "T")]
    t: i64,
    m: bool,
}

impl RawAggTrade<'_> {
    pub(crate) fn tick(&self) -> Result<TradeTick, String> {
        Ok(TradeTick {
            id: self.a,
            price: self
                .p
                .parse()
                .map_err(|e| format!("aggTrade {} price: {e}", self.a))?,
            quantity: self
                .q
                .parse()
                .map_err(|e| format!("aggTrade {} quantity: {e}", self.a))?,
            time: self.t,
            buyer_is_maker: self.m,
        })
    }
}

impl TradeTick {
    /// Parses `/api/v3/trades`.
    pub fn parse_trades(body: &str) -> Result<Vec<TradeTick>, String> {
        let raw: Vec<RawTrade> = serde_json::from_str(body).map_err(|e| format!("trades: {e}"))?;
        raw.iter()
            .map(|t| {
                Ok(TradeTick {
                    id: t.id,
                    price: t
                        .price
                        .parse()
                        .map_err(|e| format!("trade {} price: {e}", t.id))?,
                    quantity: t
                        .qty
                        .parse()
                        .map_err(|e| format!("trade {} quantity: {e}", t.id))?,
                    time: t.time,
                    buyer_is_maker: t.is_buyer_maker,
                })
            })
            .collect()
    }

    /// Parses `/api/v3/aggTrades` (or one `aggTrade` event when given a one-element array).
    pub fn parse_agg_trades(body: &str) -> Result<Vec<TradeTick>, String> {
        let raw: Vec<RawAggTrade> =
            serde_json::from_str(body).map_err(|e| format!("aggTrades: {e}"))?;
        raw.iter().map(RawAggTrade::tick).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exchange_info_filters_exactly() {
        let body = r#"{"timezone":"UTC","serverTime":1565246363776,"rateLimits":[],"exchangeFilters":[],"symbols":[{"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","quoteAsset":"BTC","filters":[{"filterType":"PRICE_FILTER","minPrice":"0.00000100","maxPrice":"922327.00000000","tickSize":"0.00000100"},{"filterType":"LOT_SIZE","minQty":"0.00010000","maxQty":"100000.00000000","stepSize":"0.00010000"},{"filterType":"NOTIONAL","minNotional":"0.00010000","applyMinToMarket":true}]}]}"#;
        let info = ExchangeInfo::parse(body).unwrap();
        let s = &info.symbols[0];
        assert_eq!(
            (s.tick_size.raw(), s.step_size.raw(), s.min_notional.raw()),
            (100, 10_000, 10_000)
        );
        let err = ExchangeInfo::parse(r#"{"serverTime":1,"symbols":[{"symbol":"X","status":"T","baseAsset":"A","quoteAsset":"B","filters":[{"filterType":"PRICE_FILTER","tickSize":"abc"}]}]}"#).unwrap_err();
        assert!(err.contains("X: PRICE_FILTER.tickSize"), "{err}");
    }

    #[test]
    fn parses_trades_and_aggregate_trades() {
        let t = TradeTick::parse_trades(r#"[{"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,"isBuyerMaker":true,"isBestMatch":true}]"#).unwrap();
        assert_eq!(
            (t[0].id, t[0].price.raw(), t[0].buyer_is_maker),
            (28457, 400_000_100, true)
        );
        let a = TradeTick::parse_agg_trades(r#"[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}]"#).unwrap();
        assert_eq!(
            (a[0].id, a[0].time, a[0].quantity.to_string().as_str()),
            (26129, 1498793709153, "4.70443515")
        );
        assert!(
            TradeTick::parse_trades(
                r#"[{"id":1,"price":"x","qty":"1","time":1,"isBuyerMaker":true}]"#
            )
            .unwrap_err()
            .contains("trade 1 price")
        );
    }

    #[test]
    fn parses_klines_and_depth() {
        let rows: Vec<KlineRow> = serde_json::from_str(r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#).unwrap();
        let c = kline_row(&rows[0]).unwrap();
        assert_eq!(
            (c.open.as_str(), c.high.as_str(), c.volume.as_str()),
            ("0.0163479", "0.8", "148976.11427815")
        );
        let d = DepthSnapshot::parse(r#"{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#).unwrap();
        assert_eq!(d.last_update_id, 1027024);
        assert_eq!(d.asks[0].0.raw(), 400_000_200);
    }
}
