//! Instruments: a symbol's base and quote assets and its exchange filters, read from Binance's
//! `exchangeInfo` (or a file holding it, for replays), and the registry that interns assets.
//!
//! A symbol nobody described gets no filters and assets split off its name by the usual quote
//! suffixes (`BTCUSDT` → `BTC` / `USDT`), so replays of bare candle files keep working.

use super::{Fixed, SymbolId};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A small id for an asset (`BTC`, `USDT`), dense and never reused.
pub type AssetId = u32;

/// `PRICE_FILTER`: zero disables a bound or the tick check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PriceFilter {
    /// Lowest price.
    pub min_price: Fixed,
    /// Highest price.
    pub max_price: Fixed,
    /// Prices are `min_price` plus a multiple of this.
    pub tick_size: Fixed,
}

/// `LOT_SIZE` and `MARKET_LOT_SIZE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LotSize {
    /// Smallest quantity.
    pub min_qty: Fixed,
    /// Largest quantity.
    pub max_qty: Fixed,
    /// Quantities are `min_qty` plus a multiple of this (zero: any).
    pub step_size: Fixed,
}

/// `NOTIONAL`, and the legacy `MIN_NOTIONAL` (which has no maximum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct NotionalFilter {
    /// Smallest `price * quantity`.
    pub min_notional: Fixed,
    /// Whether the minimum applies to market orders (at the average price).
    pub apply_min_to_market: bool,
    /// Largest `price * quantity`, if any.
    pub max_notional: Option<Fixed>,
    /// Whether the maximum applies to market orders.
    pub apply_max_to_market: bool,
    /// Minutes of the average price market orders are valued at (0: the last price).
    pub avg_price_mins: u32,
}

/// `PERCENT_PRICE_BY_SIDE` (and `PERCENT_PRICE`, the same multipliers on both sides).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PercentPriceBySide {
    /// A buy's price at most `avg * bid_up`.
    pub bid_multiplier_up: Fixed,
    /// A buy's price at least `avg * bid_down`.
    pub bid_multiplier_down: Fixed,
    /// A sell's price at most `avg * ask_up`.
    pub ask_multiplier_up: Fixed,
    /// A sell's price at least `avg * ask_down`.
    pub ask_multiplier_down: Fixed,
    /// Minutes of the average price (0: the last price).
    pub avg_price_mins: u32,
}

/// `TRAILING_DELTA`, in basis points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TrailingDeltaFilter {
    /// Smallest delta of orders that trigger above the market.
    pub min_above: u32,
    /// Largest delta of orders that trigger above the market.
    pub max_above: u32,
    /// Smallest delta of orders that trigger below the market.
    pub min_below: u32,
    /// Largest delta of orders that trigger below the market.
    pub max_below: u32,
}

/// Every filter a symbol may carry; absent ones do not apply.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Filters {
    /// `PRICE_FILTER`.
    pub price: Option<PriceFilter>,
    /// `PERCENT_PRICE`, as by-side multipliers.
    pub percent_price: Option<PercentPriceBySide>,
    /// `PERCENT_PRICE_BY_SIDE`.
    pub percent_price_by_side: Option<PercentPriceBySide>,
    /// `LOT_SIZE`.
    pub lot_size: Option<LotSize>,
    /// `MARKET_LOT_SIZE`.
    pub market_lot_size: Option<LotSize>,
    /// `MIN_NOTIONAL`.
    pub min_notional: Option<NotionalFilter>,
    /// `NOTIONAL`.
    pub notional: Option<NotionalFilter>,
    /// `ICEBERG_PARTS` limit.
    pub iceberg_parts: Option<u32>,
    /// `MAX_NUM_ORDERS`.
    pub max_num_orders: Option<u32>,
    /// `MAX_NUM_ALGO_ORDERS`.
    pub max_num_algo_orders: Option<u32>,
    /// `MAX_NUM_ICEBERG_ORDERS`.
    pub max_num_iceberg_orders: Option<u32>,
    /// `MAX_POSITION`.
    pub max_position: Option<Fixed>,
    /// `TRAILING_DELTA`.
    pub trailing_delta: Option<TrailingDeltaFilter>,
}

/// Maker and taker fee rates, as fractions of notional (a negative maker rate is a rebate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeeRates {
    /// Fee of executions that rested in the book.
    pub maker: Fixed,
    /// Fee of executions that took liquidity.
    pub taker: Fixed,
}

impl Default for FeeRates {
    /// Binance spot's standard 0.1 % on both sides.
    fn default() -> Self {
        FeeRates {
            maker: Fixed::from_raw(100_000),
            taker: Fixed::from_raw(100_000),
        }
    }
}

/// One tradable symbol: its assets and rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instrument {
    /// The symbol's name, e.g. `BTCUSDT`.
    pub symbol: Arc<str>,
    /// The asset bought and sold.
    pub base: AssetId,
    /// The asset prices are in.
    pub quote: AssetId,
    /// The exchange filters.
    pub filters: Filters,
    /// Whether iceberg orders are allowed (`icebergAllowed`).
    pub iceberg_allowed: bool,
    /// The order types allowed (Binance names); `None`: all.
    pub order_types: Option<Vec<String>>,
    /// Fee rates for this symbol, when the file gives them; the venue's otherwise.
    pub fees: Option<FeeRates>,
}

impl Instrument {
    /// The price grid of the symbol: its tick size, or 1e-8 without a price filter.
    pub fn tick(&self) -> Fixed {
        self.filters
            .price
            .map(|p| p.tick_size)
            .filter(|t| t.is_positive())
            .unwrap_or(Fixed::from_raw(1))
    }

    /// The quantity grid of the symbol: its lot step, or 1e-8 without a lot filter.
    pub fn step(&self) -> Fixed {
        self.filters
            .lot_size
            .map(|l| l.step_size)
            .filter(|s| s.is_positive())
            .unwrap_or(Fixed::from_raw(1))
    }

    /// The smallest quantity of an order (`LOT_SIZE`'s `minQty`; zero without one).
    pub fn min_qty(&self) -> Fixed {
        self.filters.lot_size.map_or(Fixed::ZERO, |l| l.min_qty)
    }

    /// The smallest `price * quantity` of an order (`NOTIONAL`, else the legacy
    /// `MIN_NOTIONAL`; zero without either).
    pub fn min_notional(&self) -> Fixed {
        self.filters
            .notional
            .or(self.filters.min_notional)
            .map_or(Fixed::ZERO, |n| n.min_notional)
    }

    /// Whether the symbol allows an order type (Binance name).
    pub fn allows(&self, order_type: &str) -> bool {
        self.order_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == order_type))
    }
}

/// Why an instrument description could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{symbol}: {detail}")]
pub struct InstrumentError {
    /// The symbol being read.
    pub symbol: String,
    /// What is wrong.
    pub detail: String,
}

/// Quote assets recognised at the end of a symbol's name, longest first.
const QUOTES: [&str; 16] = [
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "DAI", "EUR", "TRY", "BRL", "GBP", "JPY", "BTC",
    "ETH", "BNB", "XRP", "USD",
];

/// Every known instrument, by symbol id, and the assets they trade.
#[derive(Clone, Debug, Default)]
pub struct Instruments {
    by_symbol: Vec<Option<Arc<Instrument>>>,
    described: HashMap<Arc<str>, Arc<Instrument>>,
    asset_ids: HashMap<Arc<str>, AssetId>,
    assets: Vec<Arc<str>>,
    /// Registered symbols by (base, quote).
    pairs: HashMap<(AssetId, AssetId), SymbolId>,
}

impl Instruments {
    /// The id of asset `name`, assigning one if it is new.
    pub fn asset(&mut self, name: &str) -> AssetId {
        let upper = name.to_ascii_uppercase();
        if let Some(&id) = self.asset_ids.get(upper.as_str()) {
            return id;
        }
        let id = self.assets.len() as AssetId;
        let name: Arc<str> = upper.into();
        self.assets.push(name.clone());
        self.asset_ids.insert(name, id);
        id
    }

    /// The id of a known asset.
    pub fn asset_id(&self, name: &str) -> Option<AssetId> {
        self.asset_ids
            .get(name.to_ascii_uppercase().as_str())
            .copied()
    }

    /// The name of an asset id.
    pub fn asset_name(&self, id: AssetId) -> &str {
        self.assets.get(id as usize).map_or("?", |a| a)
    }

    /// Reads every symbol of an `exchangeInfo` answer (or a file holding one, or just its
    /// `symbols` array); they apply to symbols of those names from now on.
    pub fn describe(&mut self, exchange_info: &str) -> Result<usize, InstrumentError> {
        let value: Value = serde_json::from_str(exchange_info).map_err(|e| InstrumentError {
            symbol: "exchangeInfo".into(),
            detail: format!("not JSON: {e}"),
        })?;
        let symbols = match &value {
            Value::Array(list) => list,
            Value::Object(map) => match map.get("symbols") {
                Some(Value::Array(list)) => list,
                _ => {
                    return Err(InstrumentError {
                        symbol: "exchangeInfo".into(),
                        detail: "no \"symbols\" array".into(),
                    });
                }
            },
            _ => {
                return Err(InstrumentError {
                    symbol: "exchangeInfo".into(),
                    detail: "expected an object with \"symbols\" or an array of symbols".into(),
                });
            }
        };
        for symbol in symbols {
            let instrument = self.parse_symbol(symbol)?;
            self.described
                .insert(instrument.symbol.clone(), Arc::new(instrument));
        }
        let described = self.described.clone();
        for slot in self.by_symbol.iter_mut().flatten() {
            if let Some(d) = described.get(&slot.symbol) {
                *slot = d.clone();
            }
        }
        self.pairs = self.iter().map(|(id, i)| ((i.base, i.quote), id)).collect();
        Ok(symbols.len())
    }

    /// Registers symbol `id` named `name`: its description if one was read, otherwise one made
    /// from its name with no filters.
    pub fn register(&mut self, id: SymbolId, name: &str) -> Arc<Instrument> {
        let i = id as usize;
        if self.by_symbol.len() <= i {
            self.by_symbol.resize(i + 1, None);
        }
        if let Some(existing) = &self.by_symbol[i] {
            return existing.clone();
        }
        let upper = name.to_ascii_uppercase();
        let instrument = match self.described.get(upper.as_str()) {
            Some(d) => d.clone(),
            None => {
                let (base, quote) = split_symbol(&upper);
                Arc::new(Instrument {
                    symbol: upper.as_str().into(),
                    base: self.asset(base),
                    quote: self.asset(quote),
                    filters: Filters::default(),
                    iceberg_allowed: true,
                    order_types: None,
                    fees: None,
                })
            }
        };
        self.by_symbol[i] = Some(instrument.clone());
        self.pairs.insert((instrument.base, instrument.quote), id);
        instrument
    }

    /// The registered symbol trading `base` against `quote`.
    pub fn pair(&self, base: AssetId, quote: AssetId) -> Option<SymbolId> {
        self.pairs.get(&(base, quote)).copied()
    }

    /// How many assets are known.
    pub fn asset_count(&self) -> usize {
        self.assets.len()
    }

    /// The instrument of symbol `id`.
    pub fn get(&self, id: SymbolId) -> Option<&Arc<Instrument>> {
        self.by_symbol.get(id as usize)?.as_ref()
    }

    /// Every registered instrument with its symbol id.
    pub fn iter(&self) -> impl Iterator<Item = (SymbolId, &Arc<Instrument>)> {
        self.by_symbol
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as SymbolId, s)))
    }

    fn parse_symbol(&mut self, v: &Value) -> Result<Instrument, InstrumentError> {
        let name = v["symbol"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let err = |detail: String| InstrumentError {
            symbol: if name.is_empty() {
                "a symbol".into()
            } else {
                name.clone()
            },
            detail,
        };
        if name.is_empty() {
            return Err(err("no \"symbol\"".into()));
        }
        let asset = |field: &str| -> Result<String, InstrumentError> {
            v[field]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| err(format!("no \"{field}\"")))
        };
        let (base, quote) = (asset("baseAsset")?, asset("quoteAsset")?);
        let mut filters = Filters::default();
        for f in v["filters"].as_array().into_iter().flatten() {
            let kind = f["filterType"].as_str().unwrap_or_default();
            let fixed = |field: &str| -> Result<Fixed, InstrumentError> {
                match &f[field] {
                    Value::String(s) => s.parse::<Fixed>(),
                    Value::Number(n) => n.to_string().parse::<Fixed>(),
                    Value::Null => return Err(err(format!("{kind}.{field} missing"))),
                    other => return Err(err(format!("{kind}.{field}: {other} is not a number"))),
                }
                .map_err(|e| err(format!("{kind}.{field}: {e}")))
            };
            let count = |field: &str| -> Result<u32, InstrumentError> {
                match &f[field] {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                }
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| err(format!("{kind}.{field} is not a whole number")))
            };
            let flag = |field: &str| f[field].as_bool().unwrap_or(false);
            let lot = || -> Result<LotSize, InstrumentError> {
                Ok(LotSize {
                    min_qty: fixed("minQty")?,
                    max_qty: fixed("maxQty")?,
                    step_size: fixed("stepSize")?,
                })
            };
            match kind {
                "PRICE_FILTER" => {
                    filters.price = Some(PriceFilter {
                        min_price: fixed("minPrice")?,
                        max_price: fixed("maxPrice")?,
                        tick_size: fixed("tickSize")?,
                    })
                }
                "PERCENT_PRICE" => {
                    let (up, down) = (fixed("multiplierUp")?, fixed("multiplierDown")?);
                    filters.percent_price = Some(PercentPriceBySide {
                        bid_multiplier_up: up,
                        bid_multiplier_down: down,
                        ask_multiplier_up: up,
                        ask_multiplier_down: down,
                        avg_price_mins: count("avgPriceMins")?,
                    })
                }
                "PERCENT_PRICE_BY_SIDE" => {
                    filters.percent_price_by_side = Some(PercentPriceBySide {
                        bid_multiplier_up: fixed("bidMultiplierUp")?,
                        bid_multiplier_down: fixed("bidMultiplierDown")?,
                        ask_multiplier_up: fixed("askMultiplierUp")?,
                        ask_multiplier_down: fixed("askMultiplierDown")?,
                        avg_price_mins: count("avgPriceMins")?,
                    })
                }
                "LOT_SIZE" => filters.lot_size = Some(lot()?),
                "MARKET_LOT_SIZE" => filters.market_lot_size = Some(lot()?),
                "MIN_NOTIONAL" => {
                    filters.min_notional = Some(NotionalFilter {
                        min_notional: fixed("minNotional")?,
                        apply_min_to_market: flag("applyToMarket"),
                        max_notional: None,
                        apply_max_to_market: false,
                        avg_price_mins: count("avgPriceMins")?,
                    })
                }
                "NOTIONAL" => {
                    filters.notional = Some(NotionalFilter {
                        min_notional: fixed("minNotional")?,
                        apply_min_to_market: flag("applyMinToMarket"),
                        max_notional: Some(fixed("maxNotional")?),
                        apply_max_to_market: flag("applyMaxToMarket"),
                        avg_price_mins: count("avgPriceMins")?,
                    })
                }
                "ICEBERG_PARTS" => filters.iceberg_parts = Some(count("limit")?),
                "MAX_NUM_ORDERS" => filters.max_num_orders = Some(count("maxNumOrders")?),
                "MAX_NUM_ALGO_ORDERS" => {
                    filters.max_num_algo_orders = Some(count("maxNumAlgoOrders")?)
                }
                "MAX_NUM_ICEBERG_ORDERS" => {
                    filters.max_num_iceberg_orders = Some(count("maxNumIcebergOrders")?)
                }
                "MAX_POSITION" => filters.max_position = Some(fixed("maxPosition")?),
                "TRAILING_DELTA" => {
                    filters.trailing_delta = Some(TrailingDeltaFilter {
                        min_above: count("minTrailingAboveDelta")?,
                        max_above: count("maxTrailingAboveDelta")?,
                        min_below: count("minTrailingBelowDelta")?,
                        max_below: count("maxTrailingBelowDelta")?,
                    })
                }
                // Filters that do not constrain a spot order's values (e.g. MAX_NUM_ORDER_LISTS).
                _ => {}
            }
        }
        let order_types = v["orderTypes"].as_array().map(|types| {
            types
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        });
        let fees = match &v["fees"] {
            Value::Null => None,
            f => {
                let rate = |field: &str| -> Result<Fixed, InstrumentError> {
                    let text = match &f[field] {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => return Err(err(format!("fees.{field} missing"))),
                    };
                    text.parse().map_err(|e| err(format!("fees.{field}: {e}")))
                };
                Some(FeeRates {
                    maker: rate("maker")?,
                    taker: rate("taker")?,
                })
            }
        };
        Ok(Instrument {
            symbol: name.as_str().into(),
            base: self.asset(&base),
            quote: self.asset(&quote),
            filters,
            iceberg_allowed: v["icebergAllowed"].as_bool().unwrap_or(true),
            order_types,
            fees,
        })
    }
}

/// Splits a symbol's name into base and quote by the usual quote suffixes; a name with none of
/// them is split in the middle.
pub fn split_symbol(name: &str) -> (&str, &str) {
    for quote in QUOTES {
        if let Some(base) = name.strip_suffix(quote)
            && !base.is_empty()
        {
            return (base, quote);
        }
    }
    name.split_at(name.len() / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = r#"{"symbols": [{
        "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
        "icebergAllowed": true,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "83.36", "stepSize": "0.00000000"},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5}
        ]}]}"#;

    #[test]
    fn reads_every_filter_of_exchange_info() {
        let mut instruments = Instruments::default();
        assert_eq!(instruments.describe(INFO).unwrap(), 1);
        let btc = instruments.register(0, "btcusdt");
        assert_eq!(instruments.asset_name(btc.base), "BTC");
        assert_eq!(instruments.asset_name(btc.quote), "USDT");
        let f = &btc.filters;
        assert_eq!(f.price.unwrap().tick_size.to_string(), "0.01");
        assert_eq!(f.lot_size.unwrap().min_qty.to_string(), "0.00001");
        assert_eq!(f.market_lot_size.unwrap().max_qty.to_string(), "83.36");
        assert_eq!(f.iceberg_parts, Some(10));
        assert_eq!(f.max_num_orders, Some(200));
        assert_eq!(f.max_num_algo_orders, Some(5));
        assert_eq!(f.trailing_delta.unwrap().max_below, 2000);
        let n = f.notional.unwrap();
        assert!(n.apply_min_to_market && !n.apply_max_to_market);
        assert_eq!(n.avg_price_mins, 5);
        assert_eq!(
            f.percent_price_by_side
                .unwrap()
                .bid_multiplier_down
                .to_string(),
            "0.2"
        );
        assert!(btc.allows("LIMIT_MAKER") && !btc.allows("STOP_LOSS"));
        assert_eq!(btc.tick().to_string(), "0.01");
    }

    #[test]
    fn undescribed_symbols_split_their_names_and_bad_files_name_the_problem() {
        let mut instruments = Instruments::default();
        let eth = instruments.register(3, "ETHBTC");
        assert_eq!(
            (
                instruments.asset_name(eth.base),
                instruments.asset_name(eth.quote)
            ),
            ("ETH", "BTC")
        );
        assert_eq!(eth.filters, Filters::default());
        assert_eq!(split_symbol("XRPFDUSD"), ("XRP", "FDUSD"));
        let err = instruments
            .describe(r#"{"symbols": [{"symbol": "X", "baseAsset": "A", "quoteAsset": "B", "filters": [{"filterType": "LOT_SIZE", "minQty": "1"}]}]}"#)
            .unwrap_err();
        assert_eq!(err.to_string(), "X: LOT_SIZE.maxQty missing");
        assert!(instruments.describe("[").is_err());
    }
}
