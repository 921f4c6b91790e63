//! Routing between two exchanges (`[venue] kind = "routed"`): two `stratbox exchange-sim`
//! instances with different books and fees stand for two venues, each with its own account.
//! A parent order that takes liquidity is split between them for the best price after fees,
//! from each venue's own book; each exchange fills its share, and the host's books equal the
//! two accounts together. (The split itself is checked to the unit against hand-computed books
//! in the router's unit tests; here the books move, so the test checks what must hold
//! whatever they do at the instant of the split.)

mod common;

use common::api::Api;
use common::service::{Process, Server, TOKEN, start_exchange_sim_with};
use serde_json::{Value, json};
use stratbox::execution::route::split::cost;
use stratbox::model::{Fixed, Side};

/// (name, API key, secret, seed of its book, maker fee, taker fee).
const VENUES: [(&str, &str, &str, &str, &str, &str); 2] = [
    ("dear", "key-a", "secret-a", "1", "0.001", "0.001"),
    ("cheap", "key-b", "secret-b", "2", "0.0008", "0.0008"),
];

/// A simulator of BTCUSDT around 30,000 whose book changes twice a second, with one account
/// of 2,000,000 USDT and 1 BTC.
fn exchange(candles: &std::path::Path, venue: usize) -> (Process, String) {
    let (_, key, secret, seed, maker, taker) = VENUES[venue];
    let candles = candles.to_str().unwrap();
    let flags = [
        "--data",
        candles,
        "--bars-per-second",
        "0",
        "--book-ms",
        "500",
        "--seed",
        seed,
        "--api-key",
        key,
        "--api-secret",
        secret,
        "--balances",
        "USDT=2000000,BTC=1",
        "--maker-fee",
        maker,
        "--taker-fee",
        taker,
    ];
    start_exchange_sim_with("BTCUSDT", &flags)
}

fn get(url: &str) -> Value {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}

/// The account's trades on venue `venue` at `addr`: (price, quantity, commission valued in
/// USDT).
fn trades(addr: &str, venue: usize) -> Vec<(Fixed, Fixed, Fixed)> {
    let (_, key, secret, ..) = VENUES[venue];
    common::exchange::my_trades(addr, key, secret)
        .into_iter()
        .map(|(_, price, quantity, fee)| (price, quantity, fee))
        .collect()
}

/// The asks of the venue at `addr` (its whole book).
fn asks(addr: &str) -> Vec<(Fixed, Fixed)> {
    let book = get(&format!(
        "http://{addr}/api/v3/depth?symbol=BTCUSDT&limit=500"
    ));
    let fx = |v: &Value| v.as_str().unwrap().parse::<Fixed>().unwrap();
    book["asks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (fx(&l[0]), fx(&l[1])))
        .collect()
}

/// The service with a quiet deployment `q` (its strategy never trades here) whose budget is
/// what the two accounts hold together, its orders routed between the two venues, the market
/// read from the first.
/// Starts parent `order` on deployment `q` and waits for it to be done: its view.
fn work(api: &Api, order: Value) -> Value {
    let (status, started) = api.call("POST", "/v1/deployments/q/algos", TOKEN, Some(order));
    assert_eq!(status, 201, "{started}");
    let id = started["id"].as_u64().unwrap();
    let algos = api.wait_for("/v1/algos", "the parent done", 60, |list| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id && a["state"] == "done")
    });
    algos
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
        .clone()
}

fn routed_config(dir: &std::path::Path, addrs: &[String]) -> std::path::PathBuf {
    let legs: String = VENUES
        .iter()
        .zip(addrs)
        .enumerate()
        .map(|(i, ((name, ..), addr))| {
            format!(
                "[[venue.legs]]\nname = \"{name}\"\nrest = \"http://{addr}\"\n\
                 ws_api = \"ws://{addr}/ws-api/v3\"\nstreams = \"ws://{addr}\"\n\
                 api_key_env = \"ROUTE_KEY_{i}\"\napi_secret_env = \"ROUTE_SECRET_{i}\"\n"
            )
        })
        .collect();
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
             [store]\nurl = \"sqlite://{}\"\ncomponent_cache = \"components\"\n\
             [market]\nsource = \"binance\"\nrest = \"http://{a}\"\nws = \"ws://{a}\"\n\
             symbols = [\"BTCUSDT\"]\ninterval = \"1m\"\n\
             [venue]\nkind = \"routed\"\nreconcile_seconds = 2\n{legs}\
             [[deploy]]\nname = \"q\"\ncomponent = \"{}\"\n\
             budget = {{ balances = {{ USDT = 4000000, BTC = 2 }}, max_order_notional = 10000000, \
             max_position_notional = 10000000, max_gross_exposure = 100000000, \
             max_orders_per_second = 1000, max_daily_loss = 1000000 }}\n",
            dir.join("db.sqlite").display(),
            common::guest_path("sma-crossover").display(),
            a = addrs[0],
        ),
    )
    .unwrap();
    config
}

#[test]
fn a_parent_order_is_split_between_two_exchanges_for_the_best_price_after_fees() {
    let dir = tempfile::tempdir().unwrap();
    // 200 one-minute candles closing at 30,000: both books sit around the same mid.
    let candles = dir.path().join("candles.csv");
    let start = 1_700_000_040_000_i64;
    let rows: String = (0..200)
        .map(|i| format!("{},30000,30010,29990,30000,5\n", start + i * 60_000))
        .collect();
    std::fs::write(
        &candles,
        format!("open_time_ms,open,high,low,close,volume\n{rows}"),
    )
    .unwrap();
    let (_a, a) = exchange(&candles, 0);
    let (_b, b) = exchange(&candles, 1);
    let addrs = [a.clone(), b.clone()];
    let env = [
        ("ROUTE_KEY_0", VENUES[0].1),
        ("ROUTE_SECRET_0", VENUES[0].2),
        ("ROUTE_KEY_1", VENUES[1].1),
        ("ROUTE_SECRET_1", VENUES[1].2),
    ];
    let server = Server::start_with_env(&routed_config(dir.path(), &addrs), &env);
    let api = Api::new(&server);
    // Both accounts read (fees and balances) and both venues' books in sync.
    let venue = api.wait_for("/v1/venue", "both venues ready", 60, |v| {
        v["accounts"].as_array().is_some_and(|a| {
            a.len() == 2
                && a.iter().all(|a| {
                    a["status"]["reconciliations"].as_u64() > Some(0)
                        && a["status"]["books"] == json!(["BTCUSDT"])
                })
        })
    });
    assert_eq!(venue["kind"], "routed");
    assert_eq!(venue["accounts"][0]["name"], "dear", "{venue}");

    // Taking 60 BTC walks about 6 bps into a book: deeper than the 2 bps between the venues'
    // fees, so after the cheap venue's first levels both venues' levels interleave and both
    // get a share.
    let books: Vec<Vec<(Fixed, Fixed)>> = addrs.iter().map(|a| asks(a)).collect();
    let order = json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 60, "style": "twap",
        "duration_s": 30, "slices": 1, "urgency": "aggressive", "max_slippage_bps": 100});
    let parent = work(&api, order);
    eprintln!("{parent:#}");
    // Each exchange filled what the host sent it, and together the whole parent.
    let mut total = Fixed::ZERO;
    for (leg, addr) in addrs.iter().enumerate() {
        let filled = trades(addr, leg)
            .iter()
            .fold(Fixed::ZERO, |s, t| s.saturating_add(t.1));
        assert!(
            filled.is_positive(),
            "nothing on {}: {parent}",
            VENUES[leg].0
        );
        let by_venue = parent["venues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["venue"] == VENUES[leg].0)
            .unwrap_or_else(|| panic!("{parent}"));
        assert_eq!(
            by_venue["filled"].as_f64(),
            Some(filled.to_f64()),
            "{parent}"
        );
        total = total.saturating_add(filled);
    }
    assert_eq!(total, Fixed::from_int(60));
    // Cheaper after fees than either venue alone, by their books at the start.
    let paid: f64 = (0..2)
        .flat_map(|leg| trades(&addrs[leg], leg))
        .map(|(p, q, fee)| p.to_f64() * q.to_f64() + fee.to_f64())
        .sum();
    for (leg, levels) in books.iter().enumerate() {
        let taker = VENUES[leg].5.parse().unwrap();
        let alone = cost(Side::Buy, levels, taker, Fixed::from_int(60)).unwrap();
        eprintln!("split {paid:.2} USDT, all on {}: {alone:.2}", VENUES[leg].0);
        assert!(paid < alone, "split {paid} against {alone} alone");
    }
    // The host's books equal the two accounts together, once both have been reconciled.
    let after: Vec<u64> = venue["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"]["reconciliations"].as_u64().unwrap())
        .collect();
    let venue = api.wait_for("/v1/venue", "both accounts reconciled again", 60, |v| {
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&after)
            .all(|(a, n)| a["status"]["reconciliations"].as_u64() > Some(n + 1))
            && v["accounts"][0]["status"]["open_orders"] == 0
            && v["accounts"][1]["status"]["open_orders"] == 0
    });
    for check in venue["balances"].as_array().unwrap() {
        assert_eq!(check["difference"], "0", "{check} in {venue}");
    }
    let (_, metrics) = api.call("GET", "/metrics", TOKEN, None);
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    for name in ["dear", "cheap"] {
        let line = format!("stratbox_venue_connected{{venue=\"{name}\"}} 1");
        assert!(metrics.contains(&line), "{metrics}");
    }

    // A parent pinned to the dear venue goes there whole, though the other is cheaper; a pin
    // to a venue the host does not have is refused, naming the ones it has.
    let dear_before = trades(&a, 0).len();
    let pinned = json!({"symbol": "BTCUSDT", "side": "sell", "quantity": 1, "style": "twap",
        "duration_s": 30, "slices": 1, "urgency": "aggressive", "venue": "dear"});
    let parent = work(&api, pinned);
    let venues: Vec<&str> = parent["venues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["venue"].as_str().unwrap())
        .collect();
    assert_eq!(venues, ["dear"], "{parent}");
    assert!(trades(&a, 0).len() > dear_before);
    let elsewhere = json!({"symbol": "BTCUSDT", "side": "sell", "quantity": 1, "style": "twap",
        "duration_s": 30, "venue": "elsewhere"});
    let (status, body) = api.call("POST", "/v1/deployments/q/algos", TOKEN, Some(elsewhere));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("use one of"),
        "{body}"
    );

    // The dashboard's Feeds page shows both accounts (Debian's Chromium through Playwright).
    let shot = common::artifacts("dashboard").join("routed-venues.png");
    common::browser_check(
        "venues.py",
        &[
            server.endpoint.as_ref(),
            TOKEN.as_ref(),
            shot.as_os_str(),
            "dear".as_ref(),
            "cheap".as_ref(),
        ],
    );
}
