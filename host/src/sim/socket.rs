//! The simulator's WebSocket endpoints: combined streams (`/stream?streams=a/b/...`) and raw
//! ones (`/ws/<stream>`) over any of the served symbols, SUBSCRIBE / UNSUBSCRIBE /
//! LIST_SUBSCRIPTIONS at run time, a ping every 20 s, at most 1024 streams a connection, and
//! the WebSocket faults (dropped connections, skipped update ids, garbage, server shutdown).

use super::Faults;
use super::live::Published;
use axum::extract::ws::{Message, WebSocket};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Binance's limit of streams on one connection.
pub const MAX_STREAMS: usize = 1024;

/// The stream names the exchange serves: each symbol (lower case) and its kline interval.
#[derive(Clone, Debug, Default)]
pub struct StreamCatalog {
    intervals: BTreeMap<Arc<str>, String>,
}

impl StreamCatalog {
    /// Serves `symbol` (any case) with klines at `interval`.
    pub fn add(&mut self, symbol: &str, interval: &str) {
        self.intervals
            .insert(symbol.to_ascii_lowercase().into(), interval.to_string());
    }

    /// The symbol and event kind a stream name carries, if the exchange serves it.
    pub fn resolve(&self, name: &str) -> Option<(Arc<str>, &'static str)> {
        let (symbol, rest) = name.split_once('@')?;
        let (symbol, interval) = self.intervals.get_key_value(symbol)?;
        let kind = match rest {
            "depth" | "depth@100ms" => "depth",
            "trade" => "trade",
            "aggTrade" => "aggTrade",
            "bookTicker" => "bookTicker",
            r if r.strip_prefix("kline_") == Some(interval.as_str()) => "kline",
            _ => return None,
        };
        Some((symbol.clone(), kind))
    }
}

/// One connection's subscriptions: stream name by (symbol, kind).
#[derive(Default)]
struct Subscriptions {
    by_event: HashMap<(Arc<str>, &'static str), String>,
}

impl Subscriptions {
    fn len(&self) -> usize {
        self.by_event.len()
    }

    fn name_of(&self, p: &Published) -> Option<&String> {
        self.by_event.get(&(p.symbol.clone(), p.kind))
    }
}

/// One client connection: its socket, what it is subscribed to, and its fault counters.
struct Session {
    socket: WebSocket,
    subscribed: Subscriptions,
    combined: bool,
    faults: Faults,
    sent: u64,
    diffs: u64,
    closing_at: Option<tokio::time::Instant>,
}

impl Session {
    /// Sends `p` if the connection is subscribed to it; false once the connection is over.
    async fn forward(&mut self, p: &Published) -> bool {
        let Some(name) = self.subscribed.name_of(p) else {
            return true;
        };
        if p.kind == "depth" {
            self.diffs += 1;
            if self
                .faults
                .skip_every
                .is_some_and(|k| self.diffs.is_multiple_of(k))
            {
                return true;
            }
        }
        self.sent += 1;
        let text = if self
            .faults
            .garbage_every
            .is_some_and(|k| self.sent.is_multiple_of(k))
        {
            "{\"stream\": \"garbage".to_string()
        } else if self.combined {
            format!("{{\"stream\":\"{name}\",\"data\":{}}}", p.json)
        } else {
            p.json.to_string()
        };
        if self.socket.send(Message::Text(text.into())).await.is_err() {
            return false;
        }
        if self.faults.drop_after.is_some_and(|k| self.sent >= k) {
            return false; // dropped without a close frame, as a network failure would
        }
        if self.closing_at.is_none() && self.faults.shutdown_after.is_some_and(|k| self.sent >= k) {
            let notice = format!("{{\"e\":\"serverShutdown\",\"E\":{}}}", super::now_ms());
            if self
                .socket
                .send(Message::Text(notice.into()))
                .await
                .is_err()
            {
                return false;
            }
            self.closing_at = Some(tokio::time::Instant::now() + Duration::from_secs(1));
        }
        true
    }
}

/// Serves one WebSocket connection subscribed to `streams` (unknown names are ignored, as
/// Binance does), forwarding `events` until the client leaves or a fault ends it.
pub async fn serve(
    socket: WebSocket,
    catalog: Arc<StreamCatalog>,
    mut events: broadcast::Receiver<Published>,
    streams: Vec<String>,
    combined: bool,
    faults: Faults,
) {
    let mut session = Session {
        socket,
        subscribed: Subscriptions::default(),
        combined,
        faults,
        sent: 0,
        diffs: 0,
        closing_at: None,
    };
    for name in streams {
        if let Some(key) = catalog.resolve(&name) {
            session.subscribed.by_event.insert(key, name);
        }
    }
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    ping.tick().await;
    loop {
        if session
            .closing_at
            .is_some_and(|t| t <= tokio::time::Instant::now())
        {
            let _ = session.socket.send(Message::Close(None)).await;
            return;
        }
        tokio::select! {
            published = events.recv() => {
                // A client too slow for the stream is disconnected, as Binance does.
                let Ok(p) = published else { return };
                if !session.forward(&p).await {
                    return;
                }
            }
            incoming = session.socket.recv() => {
                let Some(Ok(message)) = incoming else { return };
                if let Message::Text(text) = message {
                    // What was published before a request is already on its way, as from a
                    // server that queues each connection's messages: it goes first, under the
                    // subscriptions it was published under.
                    for _ in 0..events.len() {
                        match events.try_recv() {
                            Ok(p) => {
                                if !session.forward(&p).await {
                                    return;
                                }
                            }
                            Err(broadcast::error::TryRecvError::Empty) => break,
                            Err(_) => return,
                        }
                    }
                    let reply = control(&catalog, &text, &mut session.subscribed);
                    if session.socket.send(Message::Text(reply.into())).await.is_err() {
                        return;
                    }
                }
            }
            _ = ping.tick() => {
                if session.socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Answers SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS with Binance's reply shapes.
fn control(catalog: &StreamCatalog, text: &str, subscribed: &mut Subscriptions) -> String {
    let Ok(request) = serde_json::from_str::<serde_json::Value>(text) else {
        return serde_json::json!({"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}}).to_string();
    };
    let id = request["id"].clone();
    let params: Vec<String> = request["params"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let error = |msg: String| serde_json::json!({"error": {"code": 2, "msg": msg}, "id": id});
    let reply = match request["method"].as_str() {
        Some("SUBSCRIBE") => {
            let mut keys = Vec::new();
            for p in &params {
                match catalog.resolve(p) {
                    Some(key) => keys.push((key, p.clone())),
                    None => {
                        return error(format!("Invalid request: unknown stream {p}")).to_string();
                    }
                }
            }
            let new = keys
                .iter()
                .filter(|(k, _)| !subscribed.by_event.contains_key(k))
                .count();
            if subscribed.len() + new > MAX_STREAMS {
                return error(format!(
                    "Invalid request: at most {MAX_STREAMS} streams per connection"
                ))
                .to_string();
            }
            subscribed.by_event.extend(keys);
            serde_json::json!({"result": null, "id": id})
        }
        Some("UNSUBSCRIBE") => {
            for p in &params {
                if let Some(key) = catalog.resolve(p)
                    && subscribed.by_event.get(&key) == Some(p)
                {
                    subscribed.by_event.remove(&key);
                }
            }
            serde_json::json!({"result": null, "id": id})
        }
        Some("LIST_SUBSCRIPTIONS") => {
            let mut list: Vec<&String> = subscribed.by_event.values().collect();
            list.sort();
            serde_json::json!({"result": list, "id": id})
        }
        _ => error("Invalid request: unknown method".to_string()),
    };
    reply.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_resolve_to_a_served_symbol_and_kind() {
        let mut catalog = StreamCatalog::default();
        catalog.add("BTCUSDT", "1m");
        catalog.add("ethbtc", "5m");
        let kind = |n: &str| catalog.resolve(n).map(|(s, k)| (s.to_string(), k));
        assert_eq!(
            kind("btcusdt@depth@100ms"),
            Some(("btcusdt".into(), "depth"))
        );
        assert_eq!(kind("ethbtc@kline_5m"), Some(("ethbtc".into(), "kline")));
        assert_eq!(kind("ethbtc@kline_1m"), None, "another interval");
        assert_eq!(kind("ltcbtc@trade"), None, "a symbol not served");
        assert_eq!(
            kind("btcusdt@bookTicker"),
            Some(("btcusdt".into(), "bookTicker"))
        );
        assert_eq!(kind("btcusdt"), None);
    }

    #[test]
    fn subscriptions_are_bounded_and_listed() {
        let mut catalog = StreamCatalog::default();
        for i in 0..300 {
            catalog.add(&format!("S{i}USDT"), "1m");
        }
        let mut subs = Subscriptions::default();
        let request = |method: &str, params: Vec<String>| {
            serde_json::json!({"method": method, "params": params, "id": 7}).to_string()
        };
        let names = |range: std::ops::Range<usize>, kind: &str| -> Vec<String> {
            range.map(|i| format!("s{i}usdt@{kind}")).collect()
        };
        for kind in ["trade", "aggTrade", "bookTicker"] {
            let reply = control(
                &catalog,
                &request("SUBSCRIBE", names(0..300, kind)),
                &mut subs,
            );
            assert!(reply.contains("\"result\":null"), "{reply}");
        }
        let reply = control(
            &catalog,
            &request("SUBSCRIBE", names(0..200, "depth")),
            &mut subs,
        );
        assert!(reply.contains("at most 1024"), "{reply}");
        assert_eq!(subs.len(), 900, "a refused request changes nothing");
        let reply = control(
            &catalog,
            &request("SUBSCRIBE", names(0..124, "depth")),
            &mut subs,
        );
        assert!(reply.contains("\"result\":null"), "{reply}");
        let reply = control(
            &catalog,
            &request("UNSUBSCRIBE", names(0..300, "trade")),
            &mut subs,
        );
        assert!(reply.contains("\"result\":null"), "{reply}");
        let reply = control(&catalog, &request("LIST_SUBSCRIPTIONS", vec![]), &mut subs);
        let listed: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(listed["result"].as_array().unwrap().len(), 724);
        let reply = control(
            &catalog,
            &request("SUBSCRIBE", vec!["nope@trade".into()]),
            &mut subs,
        );
        assert!(reply.contains("unknown stream nope@trade"), "{reply}");
    }
}
