//! The exchange simulator as a test exchange: trading accounts from the command line and
//! Binance's signed-request authentication, checked with our own signatures and with Binance's
//! own Python client (`binance-sdk-spot` from PyPI) pointed at the simulator.

mod common;

use common::service::Process;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::process::{Command, Stdio};

const KEY: &str = "sim-key-a";
const SECRET: &str = "sim-secret-a";

/// The simulator with the accounts `accounts` (its command-line flags); it and its base URL.
fn start_with(accounts: &[&std::ffi::OsStr]) -> (Process, String) {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args([
            "exchange-sim",
            "--listen",
            "127.0.0.1:0",
            "--candles",
            "2000",
        ])
        .args(accounts)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = common::announced(&mut sim, "exchange-sim listening on http://");
    (Process(sim), format!("http://{addr}"))
}

/// The simulator with two HMAC accounts: `KEY` (USDT and BTC) and `sim-key-b` (ETH).
fn start() -> (Process, String) {
    let flags = [
        "--api-key",
        KEY,
        "--api-secret",
        SECRET,
        "--balances",
        "USDT=10000,BTC=1",
        "--api-key",
        "sim-key-b",
        "--api-secret",
        "sim-secret-b",
        "--balances",
        "ETH=5",
    ];
    start_with(&flags.map(std::ffi::OsStr::new))
}

fn sign(secret: &str, text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn now_ms() -> i64 {
    stratbox::model::time::wall_clock_ms()
}

/// `GET base+path?query&signature=...` with `key`: status and body.
fn signed_get(base: &str, path: &str, key: &str, secret: &str, query: &str) -> (u16, Value) {
    let (status, _, body) = signed(reqwest::Method::GET, base, path, key, secret, query);
    (status, body)
}

/// A signed request: `query` and its signature in the query string, `key` in the header.
/// Status, the ORDERS counts (10 s, day) when given, and the body.
fn signed(
    method: reqwest::Method,
    base: &str,
    path: &str,
    key: &str,
    secret: &str,
    query: &str,
) -> (u16, Option<(u64, u64)>, Value) {
    let url = format!("{base}{path}?{query}&signature={}", sign(secret, query));
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let r = reqwest::Client::new()
            .request(method, url)
            .header("X-MBX-APIKEY", key)
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap())
        };
        let counts = header("x-mbx-order-count-10s").zip(header("x-mbx-order-count-1d"));
        (r.status().as_u16(), counts, r.json().await.unwrap())
    })
}

#[test]
fn accounts_answer_signed_requests_and_refuse_what_binance_refuses() {
    let (_sim, base) = start();
    let (status, account) = signed_get(
        &base,
        "/api/v3/account",
        KEY,
        SECRET,
        &format!("timestamp={}", now_ms()),
    );
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["accountType"], "SPOT");
    let balances: Vec<(&str, &str)> = account["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["asset"].as_str().unwrap(), b["free"].as_str().unwrap()))
        .collect();
    assert_eq!(
        balances,
        [("BTC", "1.00000000"), ("USDT", "10000.00000000")]
    );
    // The second account is its own.
    let (_, other) = signed_get(
        &base,
        "/api/v3/account",
        "sim-key-b",
        "sim-secret-b",
        &format!("timestamp={}", now_ms()),
    );
    assert_eq!(other["balances"][0]["asset"], "ETH");
    assert_ne!(other["uid"], account["uid"]);

    let refused = |key: &str, secret: &str, query: String| {
        let (status, body) = signed_get(&base, "/api/v3/account", key, secret, &query);
        (status, body["code"].as_i64().unwrap())
    };
    let ts = || format!("timestamp={}", now_ms());
    assert_eq!(refused("nobody", SECRET, ts()), (401, -2015));
    assert_eq!(refused(KEY, "wrong-secret", ts()), (400, -1022));
    assert_eq!(
        refused(KEY, SECRET, format!("timestamp={}", now_ms() - 10_000)),
        (400, -1021)
    );
    assert_eq!(
        refused(
            KEY,
            SECRET,
            format!("recvWindow=60001&timestamp={}", now_ms())
        ),
        (400, -1131)
    );
    assert_eq!(refused(KEY, SECRET, "recvWindow=5000".into()), (400, -1102));
    // A longer window takes an older timestamp.
    let (status, _) = signed_get(
        &base,
        "/api/v3/account",
        KEY,
        SECRET,
        &format!("recvWindow=20000&timestamp={}", now_ms() - 10_000),
    );
    assert_eq!(status, 200);
}

#[test]
fn binance_sdk_spot_reads_the_account_unchanged() {
    let (_sim, base) = start();
    let account = client(
        "sdk_account.py",
        &[base.as_ref(), KEY.as_ref(), SECRET.as_ref()],
    );
    assert_eq!(account["account_type"], "SPOT");
    assert_eq!(account["can_trade"], true);
    assert_eq!(account["balances"]["USDT"][0], "10000.00000000");
    assert_eq!(account["balances"]["BTC"][0], "1.00000000");
}

#[test]
fn accounts_on_the_command_line_must_be_whole() {
    for (args, says) in [
        (
            vec!["--api-key", "k"],
            "give each account an --api-key, then an --api-secret",
        ),
        (
            vec!["--api-secret", "s", "--api-key", "k"],
            "--api-secret must follow the --api-key",
        ),
        (
            vec!["--api-key", "k", "--api-secret", "s"],
            "has no --balances",
        ),
        (
            vec![
                "--api-key",
                "k",
                "--ed25519-key",
                "/nonexistent.pem",
                "--balances",
                "USDT=1",
            ],
            "--ed25519-key /nonexistent.pem",
        ),
        (
            vec!["--api-key", "k", "--api-secret", "s", "--balances", "USDT"],
            "ASSET=AMOUNT",
        ),
        (
            vec![
                "--api-key",
                "k",
                "--api-secret",
                "s",
                "--balances",
                "USDT=1",
                "--api-key",
                "k",
                "--api-secret",
                "t",
                "--balances",
                "BTC=1",
            ],
            "two accounts have the API key",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["exchange-sim", "--listen", "127.0.0.1:0"])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn binance_sdk_spot_signs_with_ed25519_and_the_simulator_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    ed25519_keys(dir.path());
    let public = dir.path().join("public.pem");
    let flags = [
        "--api-key".as_ref(),
        "ed-key".as_ref(),
        "--ed25519-key".as_ref(),
        public.as_os_str(),
        "--balances".as_ref(),
        "USDT=250".as_ref(),
        // The HMAC account, its flags in another order.
        "--api-key".as_ref(),
        KEY.as_ref(),
        "--balances".as_ref(),
        "BTC=1".as_ref(),
        "--api-secret".as_ref(),
        SECRET.as_ref(),
    ];
    let (_sim, base) = start_with(&flags);
    let private = dir.path().join("private.pem");
    let args = |key: &'static str| {
        [
            std::ffi::OsStr::new(&base),
            key.as_ref(),
            "--ed25519".as_ref(),
            private.as_os_str(),
        ]
    };
    let account = client("sdk_account.py", &args("ed-key"));
    assert_eq!(account["balances"]["USDT"][0], "250.00000000");
    // The Ed25519 key signs for its own account only: the HMAC account refuses it.
    assert!(!python("sdk_account.py", &args(KEY)).status.success());
    // The HMAC account, its flags in another order, still answers its own signatures.
    let (status, _) = signed_get(
        &base,
        "/api/v3/account",
        KEY,
        SECRET,
        &format!("timestamp={}", now_ms()),
    );
    assert_eq!(status, 200);
}

/// Runs `tests/exchange_sim/<script>` with `args` in Python (with binance-sdk-spot, which
/// scripts/test installs).
fn python(script: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new("python3")
        .arg(common::repo_root().join("tests/exchange_sim").join(script))
        .args(args)
        .output()
        .expect("python3 runs")
}

/// What a client script that must succeed printed, as JSON.
fn client(script: &str, args: &[&std::ffi::OsStr]) -> Value {
    let out = python(script, args);
    assert!(
        out.status.success(),
        "{script}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An Ed25519 key pair in `dir` (`private.pem`, `public.pem`), made as the client makes them.
fn ed25519_keys(dir: &std::path::Path) {
    assert!(
        python("ed25519_keys.py", &[dir.as_os_str()])
            .status
            .success()
    );
}

/// Account `KEY`'s signed calls on the simulator at `base`.
struct Trader<'a>(&'a str);

impl Trader<'_> {
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &str,
    ) -> (u16, Option<(u64, u64)>, Value) {
        let query = match params {
            "" => format!("timestamp={}", now_ms()),
            _ => format!("{params}&timestamp={}", now_ms()),
        };
        signed(method, self.0, path, KEY, SECRET, &query)
    }

    fn post(&self, path: &str, params: &str) -> (u16, Option<(u64, u64)>, Value) {
        self.call(reqwest::Method::POST, path, params)
    }

    fn get(&self, path: &str, params: &str) -> Value {
        let (status, _, body) = self.call(reqwest::Method::GET, path, params);
        assert_eq!(status, 200, "{path}?{params}: {body}");
        body
    }

    fn delete(&self, path: &str, params: &str) -> (u16, Value) {
        let (status, _, body) = self.call(reqwest::Method::DELETE, path, params);
        (status, body)
    }

    /// The refusal's status, code and message.
    fn refused(&self, path: &str, params: &str) -> (u16, i64, String) {
        let (status, _, body) = self.post(path, params);
        (
            status,
            body["code"].as_i64().unwrap_or(0),
            body["msg"].as_str().unwrap_or("").to_string(),
        )
    }

    /// Free and locked of `asset`.
    fn balance(&self, asset: &str) -> (Fixed, Fixed) {
        let account = self.get("/api/v3/account", "omitZeroBalances=false");
        let b = account["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == asset)
            .unwrap_or_else(|| panic!("no {asset} in {account}"));
        (fixed(&b["free"]), fixed(&b["locked"]))
    }
}

use stratbox::model::Fixed;

fn fixed(v: &Value) -> Fixed {
    v.as_str().unwrap().parse().unwrap()
}

/// The best bid and ask of BTCUSDT on the simulator.
fn touch(base: &str) -> (f64, f64) {
    let url = format!("{base}/api/v3/depth?symbol=BTCUSDT&limit=5");
    let book: Value = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
    let price = |side: &str| book[side][0][0].as_str().unwrap().parse::<f64>().unwrap();
    (price("bids"), price("asks"))
}

#[test]
fn orders_match_on_the_simulators_book_and_answer_as_binance_does() {
    let (_sim, base) = start();
    let t = Trader(&base);

    // A market buy takes the asks: FULL answer with its fills, fees at 0.1 % in USDT.
    let (bid, _) = touch(&base);
    let (status, counts, bought) = t.post(
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01",
    );
    assert_eq!(status, 200, "{bought}");
    assert_eq!(counts, Some((1, 1)));
    assert_eq!(bought["status"], "FILLED");
    assert_eq!(bought["type"], "MARKET");
    assert_eq!(bought["executedQty"], "0.01000000");
    let fills = bought["fills"].as_array().unwrap();
    assert!(!fills.is_empty(), "{bought}");
    let (mut qty, mut quote, mut fees) = (Fixed::ZERO, Fixed::ZERO, Fixed::ZERO);
    for f in fills {
        let (p, q) = (fixed(&f["price"]), fixed(&f["qty"]));
        assert!(p.to_f64() > bid, "a buy fills at the asks: {f} (bid {bid})");
        // As on Binance (no BNB): a buyer's commission is kept out of the base bought.
        assert_eq!(f["commissionAsset"], "BTC");
        qty = qty.saturating_add(q);
        quote = quote.saturating_add(p.saturating_mul(q));
        fees = fees.saturating_add(fixed(&f["commission"]));
    }
    assert_eq!(qty, "0.01".parse().unwrap());
    assert_eq!(fixed(&bought["cummulativeQuoteQty"]), quote);
    assert!((fees.to_f64() - 0.01 * 0.001).abs() < 1e-12, "{bought}");
    // The account moved by exactly that: 0.01 BTC less the commission, the quote and no more.
    let btc = "1.01".parse::<Fixed>().unwrap().saturating_sub(fees);
    assert_eq!(t.balance("BTC"), (btc, Fixed::ZERO));
    let usdt = "10000".parse::<Fixed>().unwrap().saturating_sub(quote);
    assert_eq!(t.balance("USDT"), (usdt, Fixed::ZERO));

    // A limit buy below the book rests, locking its cost; it can be found and cancelled.
    let price = format!("{:.2}", bid * 0.95);
    let (status, _, resting) = t.post(
        "/api/v3/order",
        &format!("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.02&price={price}&newClientOrderId=rest-1&newOrderRespType=RESULT"),
    );
    assert_eq!(status, 200, "{resting}");
    assert_eq!(resting["status"], "NEW");
    assert_eq!(resting["clientOrderId"], "rest-1");
    assert!(resting.get("fills").is_none());
    let id = resting["orderId"].as_u64().unwrap();
    let (free, locked) = t.balance("USDT");
    assert!(
        locked.to_f64() >= price.parse::<f64>().unwrap() * 0.02,
        "{locked}"
    );
    assert_eq!(free.saturating_add(locked), usdt);
    let queried = t.get("/api/v3/order", &format!("symbol=BTCUSDT&orderId={id}"));
    assert_eq!(queried["status"], "NEW");
    assert_eq!(queried["isWorking"], true);
    assert_eq!(fixed(&queried["price"]), price.parse().unwrap());
    let by_client = t.get("/api/v3/order", "symbol=BTCUSDT&origClientOrderId=rest-1");
    assert_eq!(by_client["orderId"], id);
    let open = t.get("/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(
        t.refused(
            "/api/v3/order",
            &format!("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.02&price={price}&newClientOrderId=rest-1")
        ),
        (400, -2010, "Duplicate order sent.".into())
    );
    let (status, cancelled) = t.delete(
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=rest-1&newClientOrderId=cxl-1",
    );
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELED");
    assert_eq!(cancelled["origClientOrderId"], "rest-1");
    assert_eq!(cancelled["clientOrderId"], "cxl-1");
    assert_eq!(t.balance("USDT"), (usdt, Fixed::ZERO));
    let (status, again) = t.delete("/api/v3/order", &format!("symbol=BTCUSDT&orderId={id}"));
    assert_eq!((status, again["code"].as_i64()), (400, Some(-2011)));
    let (status, _, unknown) = t.call(
        reqwest::Method::GET,
        "/api/v3/order",
        "symbol=BTCUSDT&orderId=987654",
    );
    assert_eq!((status, unknown["code"].as_i64()), (400, Some(-2013)));

    // Refusals by the symbol's filters, the balance and the book, with Binance's codes.
    let order = "/api/v3/order";
    assert_eq!(
        t.refused(
            order,
            "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.000001"
        ),
        (400, -1013, "Filter failure: LOT_SIZE".into())
    );
    assert_eq!(
        t.refused(order, "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=5"),
        (
            400,
            -2010,
            "Account has insufficient balance for requested action.".into()
        )
    );
    let (_, ask) = touch(&base);
    assert_eq!(
        t.refused(
            order,
            &format!(
                "symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.001&price={:.2}",
                ask * 1.01
            )
        ),
        (400, -2010, "Order would immediately match and take.".into())
    );
    assert_eq!(
        t.refused(order, "symbol=DOGEUSDT&side=BUY&type=MARKET&quantity=1"),
        (400, -1121, "Invalid symbol.".into())
    );
    assert_eq!(
        t.refused(
            order,
            "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=1"
        )
        .1,
        -1102
    );

    // A test order is checked, not placed nor counted.
    let (status, counts, tested) = t.post(
        "/api/v3/order/test",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01",
    );
    assert_eq!((status, counts, tested), (200, None, serde_json::json!({})));
    let (_, _, rates) = t.post(
        "/api/v3/order/test",
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&computeCommissionRates=true",
    );
    assert_eq!(rates["standardCommissionForOrder"]["taker"], "0.00100000");
    assert_eq!(
        t.refused(
            "/api/v3/order/test",
            "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.000001"
        )
        .1,
        -1013
    );

    // The account's orders and trades.
    let all = t.get("/api/v3/allOrders", "symbol=BTCUSDT");
    let statuses: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["FILLED", "CANCELED"]);
    let trades = t.get("/api/v3/myTrades", "symbol=BTCUSDT");
    let trades = trades.as_array().unwrap();
    assert_eq!(trades.len(), fills.len());
    for (trade, fill) in trades.iter().zip(fills) {
        assert_eq!(trade["id"], fill["tradeId"]);
        assert_eq!(trade["orderId"], bought["orderId"]);
        assert_eq!(
            (&trade["isBuyer"], &trade["isMaker"]),
            (&Value::Bool(true), &Value::Bool(false))
        );
        assert_eq!(trade["price"], fill["price"]);
    }

    // Cancel-replace: both halves, a failed cancel stopping the placement, or not.
    let limit = |client: &str| {
        format!(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price={price}&newClientOrderId={client}"
        )
    };
    let (_, _, a) = t.post(order, &limit("a"));
    let a = a["orderId"].as_u64().unwrap();
    let replace = "/api/v3/order/cancelReplace";
    let (status, _, replaced) = t.post(
        replace,
        &format!(
            "{}&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId={a}",
            limit("b")
        ),
    );
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["cancelResult"], "SUCCESS");
    assert_eq!(replaced["cancelResponse"]["status"], "CANCELED");
    assert_eq!(replaced["newOrderResponse"]["status"], "NEW");
    let (status, _, failed) = t.post(
        replace,
        &format!(
            "{}&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId={a}",
            limit("c")
        ),
    );
    assert_eq!(
        (status, failed["code"].as_i64()),
        (400, Some(-2022)),
        "{failed}"
    );
    assert_eq!(failed["data"]["cancelResult"], "FAILURE");
    assert_eq!(failed["data"]["newOrderResult"], "NOT_ATTEMPTED");
    let (status, _, partly) = t.post(
        replace,
        &format!(
            "{}&cancelReplaceMode=ALLOW_FAILURE&cancelOrderId={a}",
            limit("c")
        ),
    );
    assert_eq!(
        (status, partly["code"].as_i64()),
        (409, Some(-2021)),
        "{partly}"
    );
    assert_eq!(partly["data"]["newOrderResult"], "SUCCESS");

    // Cancel all of a symbol.
    let (status, all_cancelled) = t.delete("/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(status, 200, "{all_cancelled}");
    assert_eq!(all_cancelled.as_array().unwrap().len(), 2);
    assert_eq!(t.get("/api/v3/openOrders", ""), serde_json::json!([]));
    assert_eq!(t.balance("USDT"), (usdt, Fixed::ZERO));
}

#[test]
fn a_resting_order_fills_as_maker_when_trades_pass_its_queue() {
    let (_sim, base) = start();
    let t = Trader(&base);
    let (bid, _) = touch(&base);
    let price = format!("{bid:.8}");
    let (status, _, placed) = t.post(
        "/api/v3/order",
        &format!("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price={price}&newOrderRespType=RESULT"),
    );
    assert_eq!(status, 200, "{placed}");
    let id = placed["orderId"].as_u64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let order = t.get("/api/v3/order", &format!("symbol=BTCUSDT&orderId={id}"));
        if order["status"] == "FILLED" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {order} after a minute of trades"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let trades = t.get("/api/v3/myTrades", &format!("symbol=BTCUSDT&orderId={id}"));
    for trade in trades.as_array().unwrap() {
        assert_eq!(trade["isMaker"], true, "{trade}");
        assert_eq!(fixed(&trade["price"]), price.parse().unwrap());
    }
    // 0.001 bought as maker, its 0.1 % commission kept in BTC.
    assert_eq!(t.balance("BTC").0, "1.000999".parse().unwrap());
}

#[test]
fn recorded_trades_give_the_last_price_a_stop_is_checked_against() {
    let data = common::data_dir();
    let (candles, trades) = (data.join("XRP_ETH_1m.csv"), data.join("XRP_ETH_trades.csv"));
    let (_sim, addr) = common::service::start_exchange_sim_with(
        "XRPETH",
        &[
            "--data",
            candles.to_str().unwrap(),
            "--trades",
            trades.to_str().unwrap(),
            "--bars-per-second",
            "0",
            "--api-key",
            KEY,
            "--api-secret",
            SECRET,
            "--balances",
            "ETH=10,XRP=1000",
        ],
    );
    let base = format!("http://{addr}");
    let t = Trader(&base);
    // The last recorded trade was at 0.00152787: a sell stop above it has already triggered.
    let stop = |price: &str| {
        format!(
            "symbol=XRPETH&side=SELL&type=STOP_LOSS&quantity=10&stopPrice={price}&newOrderRespType=RESULT"
        )
    };
    assert_eq!(
        t.refused("/api/v3/order", &stop("0.00160000")),
        (400, -2010, "Order would trigger immediately.".into())
    );
    let (status, _, placed) = t.post("/api/v3/order", &stop("0.00140000"));
    assert_eq!(status, 200, "{placed}");
    assert_eq!(placed["status"], "NEW", "{placed}");
}

#[test]
fn new_orders_past_binance_limits_get_429() {
    let (_sim, base) = start();
    let t = Trader(&base);
    let (bid, _) = touch(&base);
    let order = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price={:.2}&newOrderRespType=ACK",
        bid * 0.9
    );
    for n in 1..=100u64 {
        let (status, counts, body) = t.post("/api/v3/order", &order);
        assert_eq!(status, 200, "{body}");
        assert_eq!(counts.unwrap().0, n);
    }
    let (status, counts, body) = t.post("/api/v3/order", &order);
    assert_eq!(status, 429);
    assert_eq!(body["code"], -1015, "{body}");
    assert_eq!(counts, Some((100, 100)));
    // Cancels are not new orders.
    let (status, _) = t.delete("/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(status, 200);
}

#[test]
fn binance_sdk_spot_trades_on_the_simulator_unchanged() {
    let (_sim, base) = start();
    let r = client(
        "sdk_trading.py",
        &[base.as_ref(), KEY.as_ref(), SECRET.as_ref()],
    );
    assert_eq!(r["bought"]["status"], "FILLED", "{r}");
    assert_eq!(r["bought"]["executed"], "0.01000000");
    let fills = r["bought"]["fills"].as_array().unwrap();
    assert!(!fills.is_empty());
    assert_eq!(r["resting"]["status"], "NEW");
    assert_eq!(r["resting"]["client_order_id"], "sdk-rest-1");
    assert_eq!(r["queried"]["status"], "NEW");
    assert_eq!(r["open"], serde_json::json!([r["queried"]["order_id"]]));
    assert_eq!(r["cancelled"]["status"], "CANCELED");
    let trades = r["trades"].as_array().unwrap();
    assert_eq!(trades.len(), fills.len());
    assert!(trades.iter().all(|t| t[1] == true && t[2] == false));
    // 0.01 bought, 0.1 % of it kept as the commission (in BTC, as Binance does).
    assert_eq!(r["balances"]["BTC"][0], "1.00999000");
    assert_eq!(r["balances"]["USDT"][1], "0.00000000");
    // Its rates, and no BNB discount (the simulator's accounts pay in BNB with --bnb-burn).
    assert_eq!(r["commission"]["taker"], "0.00100000", "{r}");
    assert_eq!(
        r["commission"]["discount"],
        serde_json::json!([false, "BNB", "0.75000000"])
    );
}

/// A WebSocket API connection: requests answered by id, user data events kept as they come.
struct WsApi {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
    events: Vec<Value>,
}

impl WsApi {
    async fn connect(base: &str) -> WsApi {
        let url = format!("{}/ws-api/v3", base.replacen("http://", "ws://", 1));
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        WsApi {
            socket,
            next_id: 0,
            events: Vec::new(),
        }
    }

    /// Sends `text` and returns the answer, keeping the user data events that come first.
    async fn send_text(&mut self, text: String) -> Value {
        use futures_util::SinkExt;
        self.socket
            .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await
            .unwrap();
        let mut frame = self.next_frame().await;
        while frame.get("event").is_some() {
            self.events.push(frame);
            frame = self.next_frame().await;
        }
        frame
    }

    async fn next_frame(&mut self) -> Value {
        use futures_util::StreamExt;
        loop {
            let frame =
                tokio::time::timeout(std::time::Duration::from_secs(10), self.socket.next())
                    .await
                    .expect("the simulator answers within 10 s")
                    .expect("the connection stays open")
                    .unwrap();
            if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }

    /// Sends `method` with `params` and returns its answer.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        let request = serde_json::json!({"id": id, "method": method, "params": params});
        let frame = self.send_text(request.to_string()).await;
        assert_eq!(frame["id"], id.as_str(), "{frame}");
        frame
    }

    /// Waits for the next user data event of type `kind`, skipping others.
    async fn event(&mut self, kind: &str) -> Value {
        loop {
            let event = if self.events.is_empty() {
                self.next_frame().await
            } else {
                self.events.remove(0)
            };
            if event["event"]["e"] == kind {
                return event;
            }
        }
    }
}

/// `params` with `apiKey` and `timestamp`, signed as the WebSocket API signs: HMAC-SHA256 of the
/// parameters sorted by name.
fn ws_signed(params: Value, key: &str, secret: &str) -> Value {
    let mut map = params.as_object().unwrap().clone();
    map.insert("apiKey".into(), key.into());
    map.insert("timestamp".into(), now_ms().into());
    let payload = stratbox::execution::binance::ws_payload(&map);
    map.insert("signature".into(), sign(secret, &payload).into());
    Value::Object(map)
}

#[test]
fn the_websocket_api_trades_and_streams_the_accounts_events() {
    let (_sim, base) = start();
    let (bid, _) = touch(&base);
    let price = format!("{:.2}", bid * 0.95);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut ws = WsApi::connect(&base).await;
        let signed = |params: Value| ws_signed(params, KEY, SECRET);

        // Without a session the stream needs a signature; an HMAC key cannot log on.
        let refused = ws.call("userDataStream.subscribe", serde_json::json!({})).await;
        assert_eq!((refused["status"].as_u64(), refused["error"]["code"].as_i64()), (Some(401), Some(-2015)));
        let refused = ws.call("session.logon", signed(serde_json::json!({}))).await;
        assert_eq!(refused["error"]["code"], -4056, "{refused}");
        let subscribed = ws
            .call("userDataStream.subscribe.signature", signed(serde_json::json!({})))
            .await;
        assert_eq!(subscribed["status"], 200, "{subscribed}");
        assert_eq!(subscribed["result"]["subscriptionId"], 0);

        // A limit buy placed over the WebSocket API; its events follow.
        let placed = ws
            .call(
                "order.place",
                signed(serde_json::json!({
                    "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                    "quantity": "0.01", "price": price, "newClientOrderId": "ws-1"
                })),
            )
            .await;
        assert_eq!(placed["status"], 200, "{placed}");
        assert_eq!(placed["result"]["status"], "NEW");
        let limits = placed["rateLimits"].as_array().unwrap();
        assert!(limits.iter().any(|l| l["rateLimitType"] == "ORDERS" && l["count"] == 1), "{placed}");
        let id = placed["result"]["orderId"].as_u64().unwrap();
        let report = ws.event("executionReport").await;
        assert_eq!(report["subscriptionId"], 0);
        let e = &report["event"];
        assert_eq!((e["x"].as_str(), e["X"].as_str(), e["i"].as_u64()), (Some("NEW"), Some("NEW"), Some(id)));
        assert_eq!(e["c"], "ws-1");
        let position = ws.event("outboundAccountPosition").await;
        let usdt = position["event"]["B"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["a"] == "USDT")
            .unwrap()
            .clone();
        assert!(fixed(&usdt["l"]).is_positive(), "{position}");

        let status = ws
            .call("order.status", signed(serde_json::json!({"symbol": "BTCUSDT", "orderId": id})))
            .await;
        assert_eq!(status["result"]["status"], "NEW", "{status}");
        let cancelled = ws
            .call("order.cancel", signed(serde_json::json!({"symbol": "BTCUSDT", "origClientOrderId": "ws-1"})))
            .await;
        assert_eq!(cancelled["result"]["status"], "CANCELED", "{cancelled}");
        let report = ws.event("executionReport").await;
        assert_eq!(report["event"]["x"], "CANCELED");

        // A market buy through REST reaches this stream as trades.
        let rest = base.clone();
        let (status, _, bought) = std::thread::spawn(move || {
            Trader(&rest).post(
                "/api/v3/order",
                "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01",
            )
        })
        .join()
        .unwrap();
        assert_eq!(status, 200, "{bought}");
        let mut filled = Fixed::ZERO;
        loop {
            let report = ws.event("executionReport").await;
            let e = &report["event"];
            if e["x"] == "NEW" {
                // Binance announces a market order before its trades too.
                continue;
            }
            assert_eq!(e["x"], "TRADE", "{e}");
            assert_eq!(e["N"], "BTC");
            assert_eq!(e["m"], false);
            filled = filled.saturating_add(fixed(&e["l"]));
            assert_eq!(fixed(&e["z"]), filled);
            if e["X"] == "FILLED" {
                break;
            }
        }
        assert_eq!(filled, "0.01".parse().unwrap());

        // Refusals.
        let mut forged = signed(serde_json::json!({"symbol": "BTCUSDT"}));
        forged["symbol"] = "ETHUSDT".into();
        let refused = ws.call("openOrders.status", forged).await;
        assert_eq!(refused["error"]["code"], -1022, "{refused}");
        let refused = ws.call("order.fly", serde_json::json!({})).await;
        assert_eq!(refused["status"], 400);
        let malformed = ws.send_text("{not json".into()).await;
        assert_eq!((malformed["id"].clone(), malformed["status"].as_u64()), (Value::Null, Some(400)));
        let refused = ws
            .call(
                "order.place",
                signed(serde_json::json!({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.000001"})),
            )
            .await;
        assert_eq!(refused["error"]["msg"], "Filter failure: LOT_SIZE");
    });
}

#[test]
fn an_ed25519_session_logs_on_once_and_trades_without_signatures() {
    use ed25519_dalek::pkcs8::EncodePublicKey;
    use ed25519_dalek::{Signer, SigningKey};
    let signing = SigningKey::from_bytes(&[7; 32]);
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("public.pem");
    std::fs::write(
        &public,
        signing
            .verifying_key()
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap(),
    )
    .unwrap();
    let flags = [
        "--api-key".as_ref(),
        "ed-key".as_ref(),
        "--ed25519-key".as_ref(),
        public.as_os_str(),
        "--balances".as_ref(),
        "USDT=1000".as_ref(),
    ];
    let (_sim, base) = start_with(&flags);
    let (bid, _) = touch(&base);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use base64::Engine as _;
        let mut ws = WsApi::connect(&base).await;
        let mut logon = serde_json::Map::new();
        logon.insert("apiKey".into(), "ed-key".into());
        logon.insert("timestamp".into(), now_ms().into());
        let payload = stratbox::execution::binance::ws_payload(&logon);
        let signature = signing.sign(payload.as_bytes());
        logon.insert(
            "signature".into(),
            base64::engine::general_purpose::STANDARD
                .encode(signature.to_bytes())
                .into(),
        );
        let session = ws.call("session.logon", Value::Object(logon)).await;
        assert_eq!(session["status"], 200, "{session}");
        assert_eq!(session["result"]["apiKey"], "ed-key");
        let subscribed = ws
            .call("userDataStream.subscribe", serde_json::json!({}))
            .await;
        assert_eq!(subscribed["result"]["subscriptionId"], 0, "{subscribed}");
        let placed = ws
            .call(
                "order.place",
                serde_json::json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                    "timeInForce": "GTC", "quantity": 0.001, "price": format!("{:.2}", bid * 0.9)}),
            )
            .await;
        assert_eq!(placed["result"]["status"], "NEW", "{placed}");
        let report = ws.event("executionReport").await;
        assert_eq!(report["event"]["i"], placed["result"]["orderId"]);
        let status = ws.call("session.status", serde_json::json!({})).await;
        assert_eq!(status["result"]["userDataStream"], true);
        let account = ws.call("account.status", serde_json::json!({})).await;
        assert_eq!(account["result"]["accountType"], "SPOT", "{account}");
        // After logout, requests need their own signatures again.
        ws.call("session.logout", serde_json::json!({})).await;
        let refused = ws.call("account.status", serde_json::json!({})).await;
        assert_eq!(refused["error"]["code"], -2015, "{refused}");
    });
}

#[test]
fn binance_sdk_spot_trades_over_the_websocket_api_with_its_user_stream() {
    let dir = tempfile::tempdir().unwrap();
    ed25519_keys(dir.path());
    let public = dir.path().join("public.pem");
    let flags = [
        "--api-key".as_ref(),
        "ed-key".as_ref(),
        "--ed25519-key".as_ref(),
        public.as_os_str(),
        "--balances".as_ref(),
        "USDT=1000".as_ref(),
    ];
    let (_sim, base) = start_with(&flags);
    let url = format!("{}/ws-api/v3", base.replacen("http://", "ws://", 1));
    let private = dir.path().join("private.pem");
    let r = client(
        "sdk_ws_trading.py",
        &[url.as_ref(), "ed-key".as_ref(), private.as_os_str()],
    );
    assert_eq!(r["logon_key"], "ed-key");
    assert_eq!(r["placed"]["status"], "FILLED", "{r}");
    assert_eq!(r["status"], "FILLED");
    // The client parsed the stream's events: the order's NEW and its trades, and the balances.
    let events = r["events"].as_array().unwrap();
    let executions: Vec<&str> = events.iter().filter_map(|e| e["x"].as_str()).collect();
    assert_eq!(executions.first(), Some(&"NEW"), "{r}");
    assert!(executions[1..].iter().all(|x| *x == "TRADE"), "{r}");
    assert!(events.iter().any(|e| e["B"].is_array()), "{r}");
    let btc = events
        .iter()
        .rev()
        .find_map(|e| e["B"].as_array())
        .and_then(|b| b.iter().find(|a| a["a"] == "BTC"))
        .unwrap();
    // 0.001 bought less its 0.1 % commission.
    assert_eq!(btc["f"], "0.00099900");
}

/// The simulator with account `KEY` and `faults`.
fn start_faulty(faults: &str) -> (Process, String) {
    let flags = [
        "--api-key",
        KEY,
        "--api-secret",
        SECRET,
        "--balances",
        "USDT=10000,BTC=1",
        "--faults",
        faults,
    ];
    start_with(&flags.map(std::ffi::OsStr::new))
}

#[test]
fn a_drifting_clock_and_lost_acknowledgements_are_what_clients_must_survive() {
    let (_sim, base) = start_faulty("ack_drop=2,drift=30000");
    // The server's clock is 30 s ahead: a client's own timestamp is outside the window.
    let time: Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::get(format!("{base}/api/v3/time"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let offset = time["serverTime"].as_i64().unwrap() - now_ms();
    assert!((28_000..32_000).contains(&offset), "offset {offset}");
    let (bid, _) = touch(&base);
    let order = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price={:.2}",
        bid * 0.9
    );
    let at = |offset: i64, params: &str| {
        let query = format!("{params}&timestamp={}", now_ms() + offset);
        signed(
            reqwest::Method::POST,
            &base,
            "/api/v3/order",
            KEY,
            SECRET,
            &query,
        )
    };
    let (status, _, refused) = at(0, &order);
    assert_eq!((status, refused["code"].as_i64()), (400, Some(-1021)));
    // Synchronised with the server's time, the first order is acknowledged, the second's
    // acknowledgement is lost (503, -1007) though the order was placed.
    let (status, _, first) = at(offset, &order);
    assert_eq!(status, 200, "{first}");
    let (status, _, lost) = at(offset, &order);
    assert_eq!(
        (status, lost["code"].as_i64()),
        (503, Some(-1007)),
        "{lost}"
    );
    let query = format!("symbol=BTCUSDT&timestamp={}", now_ms() + offset);
    let (status, _, open) = signed(
        reqwest::Method::GET,
        &base,
        "/api/v3/openOrders",
        KEY,
        SECRET,
        &query,
    );
    assert_eq!(status, 200, "{open}");
    assert_eq!(open.as_array().unwrap().len(), 2, "{open}");
}

#[test]
fn the_user_stream_is_duplicated_reordered_late_and_dropped_on_demand() {
    let (_sim, base) = start_faulty("ack_delay=300,dup=3,swap=4,stream_drop=9");
    let (bid, _) = touch(&base);
    let price = format!("{:.2}", bid * 0.9);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut ws = WsApi::connect(&base).await;
        let signed = |params: Value| ws_signed(params, KEY, SECRET);
        let subscribed = ws
            .call(
                "userDataStream.subscribe.signature",
                signed(serde_json::json!({})),
            )
            .await;
        assert_eq!(subscribed["status"], 200, "{subscribed}");
        // Each placement's answer comes 300 ms late, after the events it caused.
        let mut ids = Vec::new();
        for n in 0..3 {
            let started = std::time::Instant::now();
            let before = ws.events.len();
            let placed = ws
                .call(
                    "order.place",
                    signed(serde_json::json!({"symbol": "BTCUSDT", "side": "BUY",
                        "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
                        "price": price, "newClientOrderId": format!("f-{n}")})),
                )
                .await;
            assert_eq!(placed["status"], 200, "{placed}");
            assert!(started.elapsed() >= std::time::Duration::from_millis(300));
            assert!(
                ws.events.len() > before,
                "the events came before the answer"
            );
            ids.push(placed["result"]["orderId"].as_u64().unwrap());
        }
        // Each order sent NEW then the balances: events 1..6 in order. The 3rd came twice, the
        // 4th after the 5th.
        let kinds: Vec<(String, Option<u64>)> = ws
            .events
            .iter()
            .map(|e| {
                (
                    e["event"]["e"].as_str().unwrap().to_string(),
                    e["event"]["i"].as_u64(),
                )
            })
            .collect();
        let report = |i: usize| ("executionReport".to_string(), Some(ids[i]));
        let position = || ("outboundAccountPosition".to_string(), None);
        assert_eq!(
            kinds[..6],
            [
                report(0),
                position(),
                report(1),
                report(1),
                report(2),
                position()
            ],
            "{kinds:?}"
        );
        // Cancelling the three makes events 7 to 12: the 9th closes the connection, before the
        // (late) answer.
        use futures_util::{SinkExt, StreamExt};
        let cancel = serde_json::json!({"id": "cancel", "method": "openOrders.cancelAll",
            "params": signed(serde_json::json!({"symbol": "BTCUSDT"}))});
        ws.socket
            .send(tokio_tungstenite::tungstenite::Message::Text(
                cancel.to_string().into(),
            ))
            .await
            .unwrap();
        let mut closed = false;
        while let Ok(Some(frame)) =
            tokio::time::timeout(std::time::Duration::from_secs(5), ws.socket.next()).await
        {
            if matches!(
                frame,
                Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_)
            ) {
                closed = true;
                break;
            }
        }
        assert!(closed, "the stream drop fault closes the connection");
    });
}

#[test]
fn the_trading_client_keeps_the_exchanges_clock_and_learns_what_it_did_not_hear() {
    use stratbox::execution::binance::{Credentials, Endpoints, TradingClient, TradingError};
    let (_sim, base) = start_faulty("ack_drop=2,drift=-20000");
    let (bid, _) = touch(&base);
    let price = format!("{:.2}", bid * 0.9);
    let ws_api = format!("{}/ws-api/v3", base.replacen("http://", "ws://", 1));
    let order = |client_id: &str| {
        serde_json::json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
            "timeInForce": "GTC", "quantity": "0.001", "price": price,
            "newClientOrderId": client_id})
        .as_object()
        .unwrap()
        .clone()
    };
    let by_client_id = |client_id: &str| {
        serde_json::json!({"symbol": "BTCUSDT", "origClientOrderId": client_id})
            .as_object()
            .unwrap()
            .clone()
    };
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut client = TradingClient::new(
            Endpoints {
                rest: base.clone(),
                ws_api: ws_api.clone(),
            },
            Credentials::hmac(KEY, SECRET),
        );
        client.timeout = std::time::Duration::from_secs(1);
        // The exchange's clock is 20 s behind ours: our own timestamps are refused until the
        // client learns the offset.
        let refused = client.place(order("c-0")).await.unwrap_err();
        assert!(
            matches!(refused, TradingError::Refused { code: -1021, .. }),
            "{refused:?}"
        );
        let offset = client.sync_clock().await.unwrap();
        assert!((-22_000..-18_000).contains(&offset), "offset {offset}");
        let first = client.place(order("c-1")).await.unwrap();
        assert_eq!(first["status"], "NEW", "{first}");
        // The second acknowledgement is lost: the outcome is unknown, and a query finds the
        // order by its client id.
        let lost = client.place(order("c-2")).await.unwrap_err();
        assert!(matches!(lost, TradingError::Unknown { .. }), "{lost:?}");
        let found = client.query(by_client_id("c-2")).await.unwrap();
        assert_eq!(found["status"], "NEW", "{found}");
        // The user data stream reports what the client does.
        let mut events = client.user_data().await.unwrap();
        let cancelled = client.cancel(by_client_id("c-1")).await.unwrap();
        assert_eq!(cancelled["status"], "CANCELED");
        let report = loop {
            let event = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv())
                .await
                .unwrap()
                .unwrap();
            if event["e"] == "executionReport" {
                break event;
            }
        };
        assert_eq!(
            (&report["x"], &report["c"]),
            (&"CANCELED".into(), &"c-1".into())
        );

        // Without the WebSocket API, orders go through REST: the fourth acknowledgement is
        // lost there too (503, -1007), the fifth comes.
        let mut rest_only = TradingClient::new(
            Endpoints {
                rest: base.clone(),
                ws_api: "ws://127.0.0.1:9/ws-api/v3".into(),
            },
            Credentials::hmac(KEY, SECRET),
        );
        rest_only.timeout = std::time::Duration::from_secs(2);
        rest_only.sync_clock().await.unwrap();
        let lost = rest_only.place(order("c-3")).await.unwrap_err();
        assert!(matches!(lost, TradingError::Unknown { .. }), "{lost:?}");
        let found = rest_only.query(by_client_id("c-3")).await.unwrap();
        assert_eq!(found["clientOrderId"], "c-3", "{found}");
        let placed = rest_only.place(order("c-4")).await.unwrap();
        assert_eq!(placed["status"], "NEW", "{placed}");
    });
}

/// The trading client of account `KEY` on the simulator at `base`, over its WebSocket API.
fn trading_client(base: &str) -> stratbox::execution::binance::TradingClient {
    use stratbox::execution::binance::{Credentials, Endpoints, TradingClient};
    TradingClient::new(
        Endpoints {
            rest: base.to_string(),
            ws_api: format!("{}/ws-api/v3", base.replacen("http://", "ws://", 1)),
        },
        Credentials::hmac(KEY, SECRET),
    )
}

/// A request that waits out a 429's Retry-After (longer than the exchange's 5 s recvWindow) is
/// stamped when it goes, not when it was asked for, so the exchange takes it.
#[test]
fn a_request_held_back_by_a_429_is_stamped_when_it_goes() {
    use stratbox::execution::binance::TradingError;
    let (_sim, base) = start_faulty("429=2,retry_after=7");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = trading_client(&base);
        let none = serde_json::Map::new();
        let account = || client.rest(reqwest::Method::GET, "/api/v3/account", &none);
        account().await.unwrap();
        let refused = account().await.unwrap_err();
        assert!(
            matches!(
                refused,
                TradingError::Refused { status: 429, .. } | TradingError::Throttled(_)
            ),
            "{refused:?}"
        );
        let started = std::time::Instant::now();
        let answer = account().await.unwrap();
        assert!(answer["balances"].is_array(), "{answer}");
        assert!(
            started.elapsed() >= std::time::Duration::from_secs(6),
            "it waited out the Retry-After: {:?}",
            started.elapsed()
        );
    });
}

#[test]
fn the_trading_client_holds_back_orders_past_binance_limits_before_the_exchange_must() {
    use stratbox::execution::binance::TradingError;
    let (_sim, base) = start();
    let (bid, _) = touch(&base);
    let order = serde_json::json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
        "timeInForce": "GTC", "quantity": "0.001", "price": format!("{:.2}", bid * 0.9),
        "newOrderRespType": "ACK"})
    .as_object()
    .unwrap()
    .clone();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = trading_client(&base);
        client.sync_clock().await.unwrap();
        // The exchange's own limits, from its exchangeInfo (here Binance's).
        let (orders, weight) = client.learn_limits().await.unwrap();
        assert_eq!(
            (orders.per_10s, orders.per_day, weight),
            (100, 200_000, 6000)
        );
        for _ in 0..100 {
            client.place(order.clone()).await.unwrap();
        }
        let held = client.place(order.clone()).await.unwrap_err();
        assert!(
            matches!(&held, TradingError::Throttled(m) if m.contains("100 orders per TEN_SECOND")),
            "{held:?}"
        );
    });
    // The exchange saw 100 orders and never had to refuse one.
    let open = Trader(&base).get("/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(open.as_array().unwrap().len(), 100);
}

#[test]
fn the_trading_client_keeps_the_limits_the_exchange_states() {
    let flags = [
        "--api-key",
        KEY,
        "--api-secret",
        SECRET,
        "--balances",
        "USDT=10000",
        "--orders-per-10s",
        "500",
        "--orders-per-day",
        "9000",
        "--weight-limit",
        "12000",
    ];
    let (_sim, base) = start_with(&flags.map(std::ffi::OsStr::new));
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = trading_client(&base);
        let (orders, weight) = client.learn_limits().await.unwrap();
        assert_eq!((orders.per_10s, orders.per_day, weight), (500, 9000, 12000));
        let usage = client.usage();
        assert_eq!((usage.limits, usage.weight_limit), (orders, 12000));
    });
}

#[test]
fn limits_an_exchange_does_not_state_stay_as_they_were() {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        // An exchange whose exchangeInfo states only the ORDERS limit per 10 s.
        let info = serde_json::json!({"rateLimits": [
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50}
        ]});
        let app = axum::Router::new().route(
            "/api/v3/exchangeInfo",
            axum::routing::get(move || async move { axum::Json(info) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let client = trading_client(&base);
        let before = client.usage();
        let (orders, weight) = client.learn_limits().await.unwrap();
        assert_eq!(orders.per_10s, 50);
        assert_eq!(orders.per_day, before.limits.per_day);
        assert_eq!(weight, before.weight_limit);
        assert_eq!(client.usage().weight_limit, before.weight_limit);
    });
}

#[test]
fn an_account_that_pays_fees_in_bnb_is_charged_75_percent_in_bnb_and_told_so() {
    let flags = [
        "--symbol",
        "BTCUSDT,BNBUSDT",
        "--bnb-burn",
        "--api-key",
        KEY,
        "--api-secret",
        SECRET,
        "--balances",
        "USDT=10000,BTC=1,BNB=5",
    ];
    let (_sim, base) = start_with(&flags.map(std::ffi::OsStr::new));
    let trader = Trader(&base);
    // BNB's price comes from its own trades on the simulator.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let bnb_price = loop {
        let url = format!("{base}/api/v3/trades?symbol=BNBUSDT&limit=1");
        let trades: Value = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
        if let Some(t) = trades.as_array().and_then(|t| t.first()) {
            break fixed(&t["price"]);
        }
        assert!(std::time::Instant::now() < deadline, "no BNBUSDT trade");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let rates = trader.get("/api/v3/account/commission", "symbol=BTCUSDT");
    assert_eq!(rates["discount"]["enabledForAccount"], true, "{rates}");
    assert_eq!(rates["discount"]["enabledForSymbol"], true, "{rates}");
    // Not on the symbols that trade BNB itself: their fees are charged as usual.
    let rates = trader.get("/api/v3/account/commission", "symbol=BNBUSDT");
    assert_eq!(rates["discount"]["enabledForSymbol"], false, "{rates}");
    let (bought, paid, streamed_bnb) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut ws = WsApi::connect(&base).await;
        let subscribed = ws
            .call(
                "userDataStream.subscribe.signature",
                ws_signed(serde_json::json!({}), KEY, SECRET),
            )
            .await;
        assert_eq!(subscribed["status"], 200, "{subscribed}");
        let rest = base.clone();
        let (status, _, bought) = std::thread::spawn(move || {
            Trader(&rest).post(
                "/api/v3/order",
                "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&newOrderRespType=FULL",
            )
        })
        .join()
        .unwrap();
        assert_eq!(status, 200, "{bought}");
        // Every fill: 0.1 % of its quote, 75 % of that, in BNB at about BNB's price.
        let mut paid = Fixed::ZERO;
        for f in bought["fills"].as_array().unwrap() {
            assert_eq!(f["commissionAsset"], "BNB", "{bought}");
            let quote = fixed(&f["price"]).saturating_mul(fixed(&f["qty"]));
            let expected = quote.to_f64() * 0.001 * 0.75 / bnb_price.to_f64();
            let commission = fixed(&f["commission"]);
            assert!(
                (commission.to_f64() / expected - 1.0).abs() < 0.02,
                "{commission} against {expected}: {bought}"
            );
            paid = paid.saturating_add(commission);
        }
        // The user stream says so: the trade's commission asset, and the BNB balance after it.
        loop {
            let e = ws.event("executionReport").await["event"].clone();
            if e["x"] == "TRADE" {
                assert_eq!(e["N"], "BNB", "{e}");
            }
            if e["X"] == "FILLED" {
                break;
            }
        }
        let mut bnb = None;
        while bnb.is_none() {
            let position = ws.event("outboundAccountPosition").await;
            let balances = position["event"]["B"].as_array().unwrap().clone();
            bnb = balances
                .iter()
                .find(|b| b["a"] == "BNB")
                .map(|b| fixed(&b["f"]));
        }
        (bought, paid, bnb.unwrap())
    });
    // Whole BTC bought (nothing kept out of it), the USDT paid without a fee.
    let account = trader.get("/api/v3/account", "omitZeroBalances=true");
    let balance = |asset: &str| {
        account["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == asset)
            .map(|b| fixed(&b["free"]))
            .unwrap()
    };
    assert_eq!(
        balance("BNB"),
        "5".parse::<Fixed>().unwrap().saturating_sub(paid)
    );
    assert_eq!(streamed_bnb, balance("BNB"));
    assert_eq!(balance("BTC"), "1.01".parse().unwrap());
    let spent = fixed(&bought["cummulativeQuoteQty"]);
    assert_eq!(
        balance("USDT"),
        Fixed::from_int(10_000).saturating_sub(spent)
    );
}
