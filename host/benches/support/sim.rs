//! The exchange simulator for benchmarks: accounts `bench-0`, `bench-1`, ... (HMAC secret
//! [`SECRET`]) on a loopback port, with Binance's limits lifted so that the rules do not
//! throttle the measurement.

use stratbox::sim::{Credential, OrderLimits, SimAccounts, SimConfig, SimMarket};

/// Every account's HMAC secret.
pub const SECRET: &str = "bench-secret";

/// The simulator with `accounts` accounts (`bench-0`, `bench-1`, ...) on a loopback port.
pub async fn start(accounts: usize) -> String {
    let mut book = SimAccounts::default();
    for n in 0..accounts {
        book.open(
            &format!("bench-{n}"),
            Credential::Hmac(SECRET.as_bytes().to_vec()),
            [("USDT".to_string(), 1e9), ("BTC".to_string(), 1e4)].into(),
        )
        .unwrap();
    }
    let market = SimMarket::generated("BTCUSDT", "1m", 60_000, 1_704_067_200_000, 2_000, 1);
    let config = SimConfig {
        order_limits: OrderLimits {
            per_10s: usize::MAX,
            per_day: u64::MAX,
        },
        weight_limit: u64::MAX,
        ..SimConfig::default()
    };
    let app = stratbox::sim::router_with_accounts(vec![market], config, book);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("127.0.0.1:{}", addr.port())
}
