//! Orders on the exchange simulator over loopback, as a client on this machine sees them:
//!
//! 1. Round trip through REST: a limit order placed (`POST /api/v3/order`, ACK) and cancelled
//!    (`DELETE /api/v3/order`), signed with HMAC-SHA256, one after another on one kept-alive
//!    connection; against `GET /api/v3/ping` on the same connection in the same run.
//! 2. The same through the WebSocket API (`order.place`, `order.cancel`, signed per request), on
//!    one connection; against its `ping` method.
//! 3. Sustained rate: `EXCHANGE_CONNECTIONS` WebSocket API connections (one account each) placing
//!    and cancelling as fast as answers come for `EXCHANGE_SECONDS`: orders and requests per
//!    second, and how many were refused.
//!
//! Binance's limits (6000 request weight a minute, 100 new orders per 10 s per account) are
//! lifted, so this measures the simulator and the client, not the rules.
//!
//! `cargo bench -p stratbox --bench exchange` (`EXCHANGE_ROUND_TRIPS`, `EXCHANGE_CONNECTIONS`,
//! `EXCHANGE_SECONDS` change the load).

use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[path = "support/sim.rs"]
mod sim;
#[path = "support/stats.rs"]
mod stats;

use sim::{SECRET, start};
use stats::{env_or, quantiles, report};

fn sign(text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn now_ms() -> i64 {
    stratbox::model::time::wall_clock_ms()
}

/// A price far under the book, so orders rest until cancelled.
async fn resting_price(addr: &str) -> String {
    let book: Value = reqwest::get(format!("http://{addr}/api/v3/depth?symbol=BTCUSDT&limit=5"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bid: f64 = book["bids"][0][0].as_str().unwrap().parse().unwrap();
    format!("{:.2}", bid * 0.5)
}

async fn rest_round_trips(addr: &str, n: usize) -> (Vec<Duration>, Vec<Duration>, Vec<Duration>) {
    let http = reqwest::Client::new();
    let price = resting_price(addr).await;
    let signed = |method: reqwest::Method, params: String| {
        let query = format!("{params}&timestamp={}", now_ms());
        let url = format!(
            "http://{addr}/api/v3/order?{query}&signature={}",
            sign(&query)
        );
        http.request(method, url).header("X-MBX-APIKEY", "bench-0")
    };
    let (mut ping, mut place, mut cancel) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n + n / 10 {
        let warm = i >= n / 10;
        let t = Instant::now();
        let r = http
            .get(format!("http://{addr}/api/v3/ping"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
        let pinged = t.elapsed();
        let t = Instant::now();
        let r = signed(
            reqwest::Method::POST,
            format!(
                "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price={price}&newOrderRespType=ACK"
            ),
        )
        .send()
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let placed: Value = r.json().await.unwrap();
        let placed_in = t.elapsed();
        let id = placed["orderId"].as_u64().unwrap();
        let t = Instant::now();
        let r = signed(
            reqwest::Method::DELETE,
            format!("symbol=BTCUSDT&orderId={id}"),
        )
        .send()
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        r.bytes().await.unwrap();
        let cancelled_in = t.elapsed();
        if warm {
            ping.push(pinged);
            place.push(placed_in);
            cancel.push(cancelled_in);
        }
    }
    (ping, place, cancel)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends one WebSocket API request and waits for its answer.
async fn call(socket: &mut Socket, id: u64, method: &str, params: Value) -> Value {
    let request = serde_json::json!({"id": id, "method": method, "params": params});
    socket
        .send(Message::Text(request.to_string().into()))
        .await
        .unwrap();
    loop {
        if let Message::Text(t) = socket.next().await.unwrap().unwrap() {
            let answer: Value = serde_json::from_str(t.as_str()).unwrap();
            if answer["id"] == id {
                return answer;
            }
        }
    }
}

/// `params` signed for account `key` as the WebSocket API signs.
fn ws_signed(mut params: serde_json::Map<String, Value>, key: &str) -> Value {
    params.insert("apiKey".into(), key.into());
    params.insert("timestamp".into(), now_ms().into());
    let payload = stratbox::execution::binance::ws_payload(&params);
    params.insert("signature".into(), sign(&payload).into());
    Value::Object(params)
}

fn order(price: &str) -> serde_json::Map<String, Value> {
    serde_json::json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.001", "price": price, "newOrderRespType": "ACK"})
    .as_object()
    .unwrap()
    .clone()
}

async fn connect(addr: &str) -> Socket {
    tokio_tungstenite::connect_async(format!("ws://{addr}/ws-api/v3"))
        .await
        .unwrap()
        .0
}

async fn ws_round_trips(addr: &str, n: usize) -> (Vec<Duration>, Vec<Duration>, Vec<Duration>) {
    let price = resting_price(addr).await;
    let mut socket = connect(addr).await;
    let (mut ping, mut place, mut cancel) = (Vec::new(), Vec::new(), Vec::new());
    let mut id = 0;
    for i in 0..n + n / 10 {
        let warm = i >= n / 10;
        id += 1;
        let t = Instant::now();
        call(&mut socket, id, "ping", serde_json::json!({})).await;
        let pinged = t.elapsed();
        id += 1;
        let t = Instant::now();
        let placed = call(
            &mut socket,
            id,
            "order.place",
            ws_signed(order(&price), "bench-0"),
        )
        .await;
        let placed_in = t.elapsed();
        assert_eq!(placed["status"], 200, "{placed}");
        let mut cancel_params = serde_json::Map::new();
        cancel_params.insert("symbol".into(), "BTCUSDT".into());
        cancel_params.insert("orderId".into(), placed["result"]["orderId"].clone());
        id += 1;
        let t = Instant::now();
        let cancelled = call(
            &mut socket,
            id,
            "order.cancel",
            ws_signed(cancel_params, "bench-0"),
        )
        .await;
        let cancelled_in = t.elapsed();
        assert_eq!(cancelled["status"], 200, "{cancelled}");
        if warm {
            ping.push(pinged);
            place.push(placed_in);
            cancel.push(cancelled_in);
        }
    }
    (ping, place, cancel)
}

/// Orders placed, requests answered and refusals of `connections` connections placing and
/// cancelling for `seconds`.
async fn sustained(addr: &str, connections: usize, seconds: f64) -> (u64, u64, u64) {
    let price = resting_price(addr).await;
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (addr, price) = (addr.to_string(), price.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("bench-{}", c + 1);
            let mut socket = connect(&addr).await;
            let (mut orders, mut requests, mut refused, mut id) = (0u64, 0u64, 0u64, 0u64);
            while Instant::now() < end {
                id += 1;
                let placed = call(
                    &mut socket,
                    id,
                    "order.place",
                    ws_signed(order(&price), &key),
                )
                .await;
                requests += 1;
                if placed["status"] != 200 {
                    refused += 1;
                    continue;
                }
                orders += 1;
                let mut cancel = serde_json::Map::new();
                cancel.insert("symbol".into(), "BTCUSDT".into());
                cancel.insert("orderId".into(), placed["result"]["orderId"].clone());
                id += 1;
                let cancelled =
                    call(&mut socket, id, "order.cancel", ws_signed(cancel, &key)).await;
                requests += 1;
                if cancelled["status"] != 200 {
                    refused += 1;
                }
            }
            (orders, requests, refused)
        }));
    }
    let mut total = (0, 0, 0);
    for t in tasks {
        let (o, r, f) = t.await.unwrap();
        total = (total.0 + o, total.1 + r, total.2 + f);
    }
    total
}

fn main() {
    let n: usize = env_or("EXCHANGE_ROUND_TRIPS", 2_000);
    let connections: usize = env_or("EXCHANGE_CONNECTIONS", 4);
    let seconds: f64 = env_or("EXCHANGE_SECONDS", 5.0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let addr = start(connections + 1).await;
        println!("| round trip over loopback, {n} each | p50 | p99 | max | p50 / ping |");
        println!("|---|---|---|---|---|");
        let (mut ping, mut place, mut cancel) = rest_round_trips(&addr, n).await;
        let (base, _, _) = quantiles(&mut ping);
        report("REST `GET /api/v3/ping` (baseline)", &mut ping, base);
        report("REST place (`POST /api/v3/order`, ACK)", &mut place, base);
        report("REST cancel (`DELETE /api/v3/order`)", &mut cancel, base);
        let (mut ping, mut place, mut cancel) = ws_round_trips(&addr, n).await;
        let (base, _, _) = quantiles(&mut ping);
        report("WebSocket API `ping` (baseline)", &mut ping, base);
        report("WebSocket API `order.place` (ACK)", &mut place, base);
        report("WebSocket API `order.cancel`", &mut cancel, base);
        let (orders, requests, refused) = sustained(&addr, connections, seconds).await;
        println!(
            "\nsustained, {connections} WebSocket API connections for {seconds} s: {:.0} orders/s, {:.0} requests/s (place + cancel), {refused} refused",
            orders as f64 / seconds,
            requests as f64 / seconds
        );
    });
}
