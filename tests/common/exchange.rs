//! Reading an account on `stratbox exchange-sim` as a Binance client does: signed requests and
//! the account's trades.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use stratbox::model::Fixed;

/// A signed (HMAC-SHA256) `GET path?query` of the account `key`/`secret` on the simulator at
/// `addr`.
pub fn signed_get(addr: &str, path: &str, query: &str, key: &str, secret: &str) -> Value {
    let query = format!(
        "{query}&timestamp={}",
        stratbox::model::time::wall_clock_ms()
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(query.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let url = format!("http://{addr}{path}?{query}&signature={signature}");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::Client::new()
            .get(url)
            .header("X-MBX-APIKEY", key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

/// The account's BTCUSDT trades: (trade id, price, quantity, commission valued in USDT, as the
/// host values fees: a buyer's commission is in BTC, kept out of the BTC bought).
pub fn my_trades(addr: &str, key: &str, secret: &str) -> Vec<(i64, Fixed, Fixed, Fixed)> {
    let trades = signed_get(
        addr,
        "/api/v3/myTrades",
        "symbol=BTCUSDT&limit=1000",
        key,
        secret,
    );
    let fx = |v: &Value| v.as_str().unwrap().parse::<Fixed>().unwrap();
    trades
        .as_array()
        .unwrap_or_else(|| panic!("myTrades: {trades}"))
        .iter()
        .map(|t| {
            let (price, commission) = (fx(&t["price"]), fx(&t["commission"]));
            let fee = if t["commissionAsset"] == "BTC" {
                commission.saturating_mul(price)
            } else {
                commission
            };
            (t["id"].as_i64().unwrap(), price, fx(&t["qty"]), fee)
        })
        .collect()
}
