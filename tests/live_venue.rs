//! The host trading on an exchange through the live Binance venue (`[venue] kind = "binance"`),
//! against `stratbox exchange-sim` with its trading faults on: lost acknowledgements, a user
//! data stream that drops, duplicates and reorders its reports. Whatever the faults, every
//! trade the exchange made is one fill in the host's books, and the host's balances are the
//! exchange's.

mod common;

use common::api::Api;
use common::service::{Process, Server, TOKEN, market_maker_service, start_exchange_sim_with};
use serde_json::Value;
use std::collections::BTreeMap;
use stratbox::model::Fixed;

const KEY: &str = "live-key";
const SECRET: &str = "live-secret";

/// The simulator for BTCUSDT with one account holding the market maker's budget, and `faults`.
fn exchange(faults: &str) -> (Process, String) {
    let account = [
        "--api-key",
        KEY,
        "--api-secret",
        SECRET,
        "--balances",
        "USDT=1000000,BTC=1",
        "--faults",
        faults,
        // A candle a second: the book walks with them gently under the market maker.
        "--bars-per-second",
        "1",
    ];
    start_exchange_sim_with("BTCUSDT", &account)
}

/// A signed `GET path?query` of the account on the simulator at `addr`.
fn signed_get(addr: &str, path: &str, query: &str) -> Value {
    common::exchange::signed_get(addr, path, query, KEY, SECRET)
}

/// The exchange's trades of the account: (price, quantity, commission valued in USDT, as the
/// host values fees) by trade id.
fn exchange_trades(addr: &str) -> BTreeMap<i64, (Fixed, Fixed, Fixed)> {
    common::exchange::my_trades(addr, KEY, SECRET)
        .into_iter()
        .map(|(id, price, quantity, fee)| (id, (price, quantity, fee)))
        .collect()
}

/// Sorted (price, quantity, fee) of a list of trades or fills.
fn sorted(rows: impl Iterator<Item = (Fixed, Fixed, Fixed)>) -> Vec<(Fixed, Fixed, Fixed)> {
    let mut v: Vec<_> = rows.collect();
    v.sort();
    v
}

/// The market maker's service on the simulator's market at `addr`, trading on its account
/// through the live venue (keys from `LIVE_TEST_KEY` and `LIVE_TEST_SECRET`).
fn live_config(dir: &std::path::Path, addr: &str) -> std::path::PathBuf {
    let config = market_maker_service(dir, addr, "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[[deploy]]",
        &format!(
            "[venue]\nkind = \"binance\"\nrest = \"http://{addr}\"\nws_api = \"ws://{addr}/ws-api/v3\"\n\
             api_key_env = \"LIVE_TEST_KEY\"\napi_secret_env = \"LIVE_TEST_SECRET\"\nreconcile_seconds = 2\n\
             [[deploy]]"
        ),
    );
    std::fs::write(&config, text).unwrap();
    config
}

const ENV: [(&str, &str); 2] = [("LIVE_TEST_KEY", KEY), ("LIVE_TEST_SECRET", SECRET)];

/// Waits for `what`: the fills of `mm` to number at least `n`.
fn fills_at_least(api: &Api, n: usize, seconds: u64) {
    api.wait_for(
        "/v1/deployments/mm/fills?limit=1000",
        &format!("{n} fills"),
        seconds,
        |page| page["items"].as_array().unwrap().len() >= n,
    );
}

/// Halts the market maker, waits for the venue to be quiet and reconciled after that, then
/// checks the host's books against the exchange's: nothing unknown, balances equal to the last
/// unit, one fill per trade. Returns the venue's state.
fn settled_books_match(api: &Api, addr: &str) -> Value {
    let (status, halted) = api.call("POST", "/v1/deployments/mm/halt", TOKEN, None);
    assert_eq!(status, 200, "{halted}");
    let quiet = api.wait_for("/v1/venue", "the venue quiet", 60, |v| {
        let live = &v["live"];
        live["in_flight"] == 0 && live["open_orders"] == 0 && live["in_doubt"] == 0
    });
    let after = quiet["live"]["reconciliations"].as_u64().unwrap();
    let venue = api.wait_for("/v1/venue", "a reconciliation when quiet", 60, |v| {
        v["live"]["reconciliations"].as_u64() > Some(after + 1)
    });
    let live = &venue["live"];
    assert_eq!(live["unknown_orders"], serde_json::json!([]), "{venue}");
    assert_eq!(live["unknown_trades"], 0, "{venue}");
    for check in venue["balances"].as_array().unwrap() {
        assert_eq!(
            check["difference"]
                .as_str()
                .unwrap()
                .parse::<Fixed>()
                .unwrap(),
            Fixed::ZERO,
            "{check} in {venue}"
        );
    }
    let trades = exchange_trades(addr);
    let fills = api.wait_for(
        "/v1/deployments/mm/fills?limit=1000",
        "every trade stored",
        30,
        |page| page["items"].as_array().unwrap().len() >= trades.len(),
    );
    let fx = |v: &Value| v.as_str().unwrap().parse::<Fixed>().unwrap();
    let host = sorted(
        fills["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (fx(&f["price"]), fx(&f["quantity"]), fx(&f["fee"]))),
    );
    assert_eq!(host, sorted(trades.into_values()), "fills against trades");
    venue
}

#[test]
fn every_trade_on_the_exchange_is_one_fill_in_the_host_whatever_the_faults() {
    let (_sim, addr) = exchange("ack_drop=4,dup=3,swap=5,stream_drop=15");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(&live_config(dir.path(), &addr), &ENV);
    let api = Api::new(&server);
    assert_eq!(api.get("/v1/venue", TOKEN)["kind"], "binance");
    // Trade through the faults until the stream has dropped.
    fills_at_least(&api, 40, 120);
    api.wait_for("/v1/venue", "a reconnected user stream", 60, |v| {
        v["live"]["reconnects"].as_u64() >= Some(1)
    });
    let venue = settled_books_match(&api, &addr);
    let live = &venue["live"];
    assert!(live["weight_used"].as_u64().unwrap() > 0, "{venue}");
    assert!(live["orders_day"].as_u64().unwrap() >= 40, "{venue}");
    assert!(live["recovered_fills"].as_u64().unwrap() > 0, "{venue}");
    let (_, metrics) = api.call("GET", "/metrics", TOKEN, None);
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert!(
        metrics.contains("stratbox_venue_connected{venue=\"binance\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("stratbox_venue_recovered_fills_total"),
        "{metrics}"
    );
    eprintln!(
        "{} trades, {} recovered by queries or reconciliation, {} reconnects",
        exchange_trades(&addr).len(),
        live["recovered_fills"],
        live["reconnects"]
    );
    assert!(server.log_tail().lines().all(|l| !l.contains(SECRET)));
    // The deposit's announcement can be lost with a dropped stream, as on Binance: the balance
    // still shows the difference (the account's position, reconciliation).
    deposit_shows_and_overdraft_is_refused(&api, &addr, false);
}

/// A deposit of 1000 USDT on the exchange account shows as what the host does not manage (and,
/// with `announced`, in the venue's transfers from its balanceUpdate); a withdrawal past what is
/// free is refused.
fn deposit_shows_and_overdraft_is_refused(api: &Api, addr: &str, announced: bool) {
    let transfer = |amount: &str| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let r = reqwest::Client::new()
                .post(format!(
                    "http://{addr}/sim/transfer?apiKey={KEY}&asset=USDT&amount={amount}"
                ))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        })
    };
    let (status, deposited) = transfer("1000");
    assert_eq!(status, 200, "{deposited}");
    let venue = api.wait_for("/v1/venue", "the deposit seen", 30, |v| {
        let usdt = v["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == "USDT")
            .cloned()
            .unwrap_or_default();
        (!announced || !v["live"]["transfers"].as_array().unwrap().is_empty())
            && usdt["difference"]
                .as_str()
                .and_then(|d| d.parse::<Fixed>().ok())
                == Some("1000".parse().unwrap())
    });
    if announced {
        assert_eq!(venue["live"]["transfers"][0]["asset"], "USDT", "{venue}");
    }
    let (status, refused) = transfer("-100000000");
    assert_eq!(
        (status, refused["code"].as_i64()),
        (400, Some(-2010)),
        "{refused}"
    );
}

#[test]
fn a_host_killed_while_trading_takes_up_what_the_exchange_did_meanwhile() {
    let (_sim, addr) = exchange("dup=5");
    let dir = tempfile::tempdir().unwrap();
    let config = live_config(dir.path(), &addr);
    // Whether a quote of ours rests inside the exchange's spread, where its next trade on that
    // side fills it.
    let quote_inside = || {
        let open = signed_get(&addr, "/api/v3/openOrders", "symbol=BTCUSDT");
        let book: Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
            reqwest::get(format!("http://{addr}/api/v3/depth?symbol=BTCUSDT&limit=1"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let fx = |v: &Value| v.as_str().and_then(|s| s.parse::<Fixed>().ok());
        let (bid, ask) = (fx(&book["bids"][0][0]), fx(&book["asks"][0][0]));
        open.as_array().into_iter().flatten().any(|o| {
            let price = fx(&o["price"]);
            match o["side"].as_str() {
                Some("BUY") => price.is_some() && price > bid,
                _ => price.is_some() && ask.is_some() && price < ask,
            }
        })
    };
    // Killed with a quote resting inside the spread, which the exchange goes on trading. The
    // market maker replaces its quotes all the time, and the exchange's touch moves: until a
    // kill catches one there and the exchange trades it within 10 s, the host starts again
    // (taking up its orders as after any restart) and is killed again.
    let mut fills = 0;
    for attempt in 0.. {
        assert!(
            attempt < 8,
            "never killed with a quote the exchange then traded"
        );
        let server = Server::start_with_env(&config, &ENV);
        fills += 10;
        fills_at_least(&Api::new(&server), fills, 120);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !quote_inside() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        server.kill();
        let before = exchange_trades(&addr).len();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while exchange_trades(&addr).len() == before && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        if exchange_trades(&addr).len() > before {
            break;
        }
    }
    let before = exchange_trades(&addr).len();
    let server = Server::start_with_env(&config, &ENV);
    let api = Api::new(&server);
    fills_at_least(&api, before + 5, 120);
    settled_books_match(&api, &addr);
    // No stream drops here: the deposit is announced.
    deposit_shows_and_overdraft_is_refused(&api, &addr, true);
}

/// The net position of `mm` in BTCUSDT, as the host keeps it.
fn position(api: &Api) -> Fixed {
    let account = api.get("/v1/deployments/mm/account", TOKEN);
    account["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["symbol"] == "BTCUSDT")
        .and_then(|p| p["quantity"].as_str())
        .map_or(Fixed::ZERO, |q| q.parse().unwrap())
}

#[test]
fn the_kill_switch_on_an_exchange_cancels_then_flattens_and_a_removal_waits_for_the_cancels() {
    let (_sim, addr) = exchange("dup=5");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(&live_config(dir.path(), &addr), &ENV);
    let api = Api::new(&server);
    fills_at_least(&api, 10, 120);
    api.wait_for("/v1/venue", "a position with quotes resting", 60, |v| {
        v["live"]["open_orders"].as_u64() > Some(0) && position(&api) != Fixed::ZERO
    });
    let (status, killed) = api.call(
        "POST",
        "/v1/kill",
        TOKEN,
        Some(serde_json::json!({"flatten": 0.01, "reason": "test"})),
    );
    assert_eq!(status, 200, "{killed}");
    eprintln!(
        "cancelled {}, flatten pending: {}",
        killed["cancelled"], killed["flatten_pending"]
    );
    // The exchange confirms the cancels first; the flatten goes out after.
    assert!(
        killed["flatten_pending"] == true
            || killed["flatten"].as_array().is_some_and(|f| !f.is_empty()),
        "{killed}"
    );
    // Flat but for less than a lot (0.00001): a closing buy is grossed up by the commission the
    // exchange keeps out of the base it buys (0.1 %).
    let dust = Fixed::from_raw(1_000);
    api.wait_for("/v1/venue", "flat and quiet", 60, |v| {
        let live = &v["live"];
        live["in_flight"] == 0 && live["open_orders"] == 0 && position(&api).abs() < dust
    });
    settled_books_match(&api, &addr);
    // Removed: its account stays until the exchange has ended its orders (none left here),
    // then the host holds nothing.
    let (status, removed) = api.call("DELETE", "/v1/deployments/mm", TOKEN, None);
    assert_eq!(status, 200, "{removed}");
    let account = api.wait("/v1/account", "nothing held", |a| {
        a["balances"].as_array().is_some_and(|b| b.is_empty())
    });
    assert!(
        account["open_orders"].as_array().unwrap().is_empty(),
        "{account}"
    );
}

/// The service with a deployment `q` that never trades on its own, holding what the exchange
/// account holds, trading on it through the live venue; the market (BTCUSDT and BNBUSDT, which
/// prices BNB) read from the simulator at `addr`.
fn quiet_bnb_config(dir: &std::path::Path, addr: &str) -> std::path::PathBuf {
    let config = live_config(dir, addr);
    let text = std::fs::read_to_string(&config).unwrap();
    let (head, _) = text.split_once("[[deploy]]").unwrap();
    let head = head.replace(
        "symbols = [\"BTCUSDT\"]",
        "symbols = [\"BTCUSDT\", \"BNBUSDT\"]",
    );
    let deploy = format!(
        "[[deploy]]\nname = \"q\"\ncomponent = \"{}\"\n\
         budget = {{ balances = {{ USDT = 1000000, BTC = 1, BNB = 10 }}, max_order_notional = 10000000, \
         max_position_notional = 10000000, max_gross_exposure = 100000000, \
         max_orders_per_second = 1000, max_daily_loss = 1000000 }}\n",
        common::guest_path("counter").display(),
    );
    std::fs::write(&config, format!("{head}{deploy}")).unwrap();
    config
}

#[test]
fn commissions_an_exchange_charges_in_bnb_are_booked_as_it_books_them_and_counted_in_pnl() {
    let account = [
        "--api-key",
        KEY,
        "--api-secret",
        SECRET,
        "--balances",
        "USDT=1000000,BTC=1,BNB=10",
        "--bnb-burn",
        // Event time runs 120 times the wall clock: the parents' hour is half a minute.
        "--bars-per-second",
        "2",
    ];
    let (_sim, addr) = start_exchange_sim_with("BTCUSDT,BNBUSDT", &account);
    let discount = signed_get(&addr, "/api/v3/account/commission", "symbol=BTCUSDT");
    assert_eq!(
        (
            &discount["discount"]["enabledForAccount"],
            &discount["discount"]["discount"]
        ),
        (&Value::Bool(true), &Value::from("0.75000000")),
        "{discount}"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(&quiet_bnb_config(dir.path(), &addr), &ENV);
    let api = Api::new(&server);
    let venue = api.wait_for("/v1/venue", "the account read", 60, |v| {
        v["live"]["reconciliations"].as_u64() > Some(0)
    });
    // The host read that the account pays BTCUSDT's fees in BNB (not BNBUSDT's).
    assert_eq!(
        venue["live"]["fee_discounts"],
        serde_json::json!(["BTCUSDT"]),
        "{venue}"
    );
    // BNB has a price once its book is in.
    api.wait_for(
        "/v1/cost?symbol=BNBUSDT&side=buy&quantity=0.01",
        "BNBUSDT's book",
        60,
        |_| true,
    );
    // Bought and sold again, taking liquidity.
    for side in ["buy", "sell"] {
        let order = serde_json::json!({"symbol": "BTCUSDT", "side": side, "quantity": 0.5,
            "style": "twap", "duration_s": 3600, "slices": 1, "urgency": "aggressive",
            "max_slippage_bps": 100});
        let (status, started) = api.call("POST", "/v1/deployments/q/algos", TOKEN, Some(order));
        assert_eq!(status, 201, "{started}");
        let id = started["id"].clone();
        api.wait_for("/v1/algos", "the parent done", 60, |list| {
            list.as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == id && a["state"] == "done")
        });
    }
    // The exchange charged every commission in BNB; the host's fills say the same.
    let fx = |v: &Value| v.as_str().unwrap().parse::<Fixed>().unwrap();
    let trades = signed_get(&addr, "/api/v3/myTrades", "symbol=BTCUSDT&limit=1000");
    let mut charged: Vec<(Fixed, Fixed, Fixed, String)> = trades
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let asset = t["commissionAsset"].as_str().unwrap().to_string();
            (fx(&t["price"]), fx(&t["qty"]), fx(&t["commission"]), asset)
        })
        .collect();
    assert!(!charged.is_empty());
    assert!(
        charged.iter().all(|t| t.3 == "BNB" && t.2.is_positive()),
        "{trades}"
    );
    charged.sort();
    let fills = api.wait_for(
        "/v1/deployments/q/fills?limit=1000",
        "every trade stored",
        30,
        |page| page["items"].as_array().unwrap().len() >= charged.len(),
    );
    let items = fills["items"].as_array().unwrap();
    let mut booked: Vec<(Fixed, Fixed, Fixed, String)> = items
        .iter()
        .map(|f| {
            let asset = f["commission_asset"].as_str().unwrap().to_string();
            (
                fx(&f["price"]),
                fx(&f["quantity"]),
                fx(&f["commission"]),
                asset,
            )
        })
        .collect();
    booked.sort();
    assert_eq!(booked, charged, "fills against trades");
    // Each fee is valued in USDT at the market's BNB price, and realised.
    let fees = items
        .iter()
        .fold(Fixed::ZERO, |sum, f| sum.saturating_add(fx(&f["fee"])));
    assert!(items.iter().all(|f| fx(&f["fee"]).is_positive()), "{fills}");
    let account = api.get("/v1/deployments/q/account", TOKEN);
    let btc = account["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["symbol"] == "BTCUSDT")
        .unwrap_or_else(|| panic!("{account}"));
    // Flat again: what it realised is what the sells brought in less what the buys cost and
    // the fees (to the rounding of the average price).
    assert_eq!(fx(&btc["quantity"]), Fixed::ZERO, "{account}");
    let traded: Fixed = items.iter().fold(Fixed::ZERO, |pnl, f| {
        let quote = fx(&f["quote_quantity"]);
        if f["side"] == "sell" {
            pnl.saturating_add(quote)
        } else {
            pnl.saturating_sub(quote)
        }
    });
    let off = fx(&btc["realized_pnl"]).saturating_sub(traded.saturating_sub(fees));
    assert!(off.abs() <= Fixed::from_raw(100), "{off} in {account}");
    // Balances, BNB included, are the exchange's once reconciled.
    let after = api.get("/v1/venue", TOKEN)["live"]["reconciliations"]
        .as_u64()
        .unwrap();
    let venue = api.wait_for("/v1/venue", "a reconciliation after trading", 60, |v| {
        v["live"]["reconciliations"].as_u64() > Some(after + 1)
    });
    let balances = venue["balances"].as_array().unwrap();
    assert!(balances.iter().any(|b| b["asset"] == "BNB"), "{venue}");
    for check in balances {
        assert_eq!(fx(&check["difference"]), Fixed::ZERO, "{check} in {venue}");
    }
}
