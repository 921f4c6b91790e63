//! The simulator's market: recorded candles, or a seeded price process with volatility
//! clustering (GARCH(1,1) returns), and an L2 book around the last price.

use crate::feeds::candles::Candle;
use crate::model::Decimal;
use crate::rng::Rng;

/// One symbol's candles at one interval.
#[derive(Clone, Debug)]
pub struct SimMarket {
    /// The symbol served.
    pub symbol: String,
    /// The interval served, e.g. `1m`.
    pub interval: String,
    interval_ms: i64,
    candles: Vec<Candle>,
    /// Whether the candles were recorded (else generated).
    recorded: bool,
}

fn decimal(x: f64, places: usize) -> Decimal {
    format!("{x:.places$}").parse().expect("formatted number")
}

/// Binance's string form: at least eight fractional digits.
fn binance_text(d: &Decimal) -> String {
    let s = d.as_str();
    let frac = s.split_once('.').map_or(0, |(_, f)| f.len());
    if frac >= 8 {
        s.to_string()
    } else if frac == 0 {
        format!("{s}.00000000")
    } else {
        format!("{s}{}", "0".repeat(8 - frac))
    }
}

impl SimMarket {
    /// Serves recorded candles.
    pub fn recorded(symbol: &str, interval: &str, interval_ms: i64, candles: Vec<Candle>) -> Self {
        SimMarket {
            symbol: symbol.to_ascii_uppercase(),
            interval: interval.to_string(),
            interval_ms,
            candles,
            recorded: true,
        }
    }

    /// Whether it serves recorded candles (not a generated market).
    pub fn is_recorded(&self) -> bool {
        self.recorded
    }

    /// A generated market for each of `symbols`, `count` candles each from 2024-01-01, the
    /// n-th seeded with `seed + n`: what `stratbox exchange-sim` and the service's built-in
    /// simulator serve.
    pub fn generated_set(
        symbols: &[String],
        interval: &str,
        interval_ms: i64,
        count: usize,
        seed: u64,
    ) -> Vec<Self> {
        symbols
            .iter()
            .enumerate()
            .map(|(i, symbol)| {
                Self::generated(
                    symbol,
                    interval,
                    interval_ms,
                    1_704_067_200_000,
                    count,
                    seed.wrapping_add(i as u64),
                )
            })
            .collect()
    }

    /// A seeded market of `count` candles from `start`: GARCH(1,1) log returns around a price of
    /// 40,000 with per-candle volatility near 0.1%, prices to the cent, volumes to 1e-5.
    pub fn generated(
        symbol: &str,
        interval: &str,
        interval_ms: i64,
        start: i64,
        count: usize,
        seed: u64,
    ) -> Self {
        let mut rng = Rng(seed);
        let (omega, alpha, beta): (f64, f64, f64) = (2e-8, 0.08, 0.9);
        let mut variance = omega / (1.0 - alpha - beta);
        let mut price = 40_000.0f64;
        let mut candles = Vec::with_capacity(count);
        for i in 0..count {
            let open = price;
            let (mut high, mut low) = (open, open);
            for _ in 0..4 {
                let r = variance.sqrt() / 2.0 * rng.normal();
                variance = omega + alpha * r * r * 4.0 + beta * variance;
                price *= r.exp();
                high = high.max(price);
                low = low.min(price);
            }
            let volume = 5.0 * (1.0 + 200.0 * variance.sqrt()) * (0.5 + rng.uniform());
            let (o, h, l, c) = (
                decimal(open, 2),
                decimal(high, 2),
                decimal(low, 2),
                decimal(price, 2),
            );
            let (h, l) = (
                h.max(o.clone()).max(c.clone()),
                l.min(o.clone()).min(c.clone()),
            );
            candles.push(Candle {
                open_time: start + i as i64 * interval_ms,
                open: o,
                high: pick(h, &c, true),
                low: pick(l, &c, false),
                close: c,
                volume: decimal(volume, 5),
            });
        }
        SimMarket {
            symbol: symbol.to_ascii_uppercase(),
            interval: interval.to_string(),
            interval_ms,
            candles,
            recorded: false,
        }
    }

    /// The candles served.
    pub fn candles(&self) -> &[Candle] {
        &self.candles
    }

    /// The interval in milliseconds.
    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// This symbol's entry in `exchangeInfo`, with its filters.
    pub fn symbol_info(&self) -> serde_json::Value {
        let (base, quote) = self.symbol.split_at(
            self.symbol
                .len()
                .saturating_sub(4)
                .max(self.symbol.len() / 2),
        );
        serde_json::json!({
            "symbol": self.symbol,
            "status": "TRADING",
            "baseAsset": base,
            "baseAssetPrecision": 8,
            "quoteAsset": quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": true,
            "ocoAllowed": false,
            "otoAllowed": false,
            "quoteOrderQtyMarketAllowed": true,
            "allowTrailingStop": true,
            "cancelReplaceAllowed": true,
            "amendAllowed": false,
            "isSpotTradingAllowed": true,
            "isMarginTradingAllowed": false,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.00000001", "maxPrice": "1000000.00000000", "tickSize": "0.00000001"},
                {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000", "stepSize": "0.00000000"},
                {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
                {"filterType": "NOTIONAL", "minNotional": "0.00010000", "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5}
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "NONE",
            "allowedSelfTradePreventionModes": ["NONE"]
        })
    }

    /// `GET /api/v3/klines` rows: from `start` (or, without it, the last `limit` up to `end`).
    pub fn klines_json(
        &self,
        released: usize,
        start: Option<i64>,
        end: Option<i64>,
        limit: usize,
    ) -> String {
        let end = end.unwrap_or(i64::MAX);
        let candles = &self.candles[..released.min(self.candles.len())];
        let in_range: Vec<&Candle> = match start {
            Some(s) => candles
                .iter()
                .filter(|c| c.open_time >= s && c.open_time <= end)
                .take(limit)
                .collect(),
            None => {
                let upto: Vec<&Candle> = candles.iter().filter(|c| c.open_time <= end).collect();
                upto[upto.len().saturating_sub(limit)..].to_vec()
            }
        };
        let rows: Vec<serde_json::Value> = in_range
            .into_iter()
            .map(|c| {
                serde_json::json!([
                    c.open_time,
                    binance_text(&c.open),
                    binance_text(&c.high),
                    binance_text(&c.low),
                    binance_text(&c.close),
                    binance_text(&c.volume),
                    c.open_time + self.interval_ms - 1,
                    "0.00000000",
                    0,
                    "0.00000000",
                    "0.00000000",
                    "0"
                ])
            })
            .collect();
        serde_json::Value::Array(rows).to_string()
    }
}

/// Keeps `bound` unless it would cross `close` (rounding can do that); then `close`.
fn pick(bound: Decimal, close: &Decimal, is_high: bool) -> Decimal {
    let crosses = if is_high {
        bound.to_f64() < close.to_f64()
    } else {
        bound.to_f64() > close.to_f64()
    };
    if crosses { close.clone() } else { bound }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_candles_are_consistent_and_seeded() {
        let a = SimMarket::generated("BTCUSDT", "1m", 60_000, 0, 2_000, 7);
        let b = SimMarket::generated("BTCUSDT", "1m", 60_000, 0, 2_000, 7);
        let c = SimMarket::generated("BTCUSDT", "1m", 60_000, 0, 2_000, 8);
        assert_eq!(a.candles(), b.candles());
        assert_ne!(a.candles(), c.candles());
        for k in a.candles() {
            let (o, h, l, cl) = (
                k.open.to_f64(),
                k.high.to_f64(),
                k.low.to_f64(),
                k.close.to_f64(),
            );
            assert!(h >= o.max(cl) && l <= o.min(cl) && l > 0.0, "{k:?}");
        }
        // Volatility clustering: absolute returns are autocorrelated.
        let r: Vec<f64> = a
            .candles()
            .windows(2)
            .map(|w| (w[1].close.to_f64() / w[0].close.to_f64()).ln().abs())
            .collect();
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        let cov: f64 = r
            .windows(2)
            .map(|w| (w[0] - mean) * (w[1] - mean))
            .sum::<f64>()
            / r.len() as f64;
        assert!(
            cov > 0.0,
            "absolute returns should be positively autocorrelated"
        );
    }

    #[test]
    fn binance_text_pads_to_eight_places() {
        assert_eq!(binance_text(&"0.001".parse().unwrap()), "0.00100000");
        assert_eq!(binance_text(&"42".parse().unwrap()), "42.00000000");
        assert_eq!(binance_text(&"0.123456789".parse().unwrap()), "0.123456789");
    }
}
