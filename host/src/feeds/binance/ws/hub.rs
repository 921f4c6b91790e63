//! Connections shared by many symbols' feeds. Each symbol's streams live on one connection;
//! a connection carries at most `max_streams` of them (Binance allows 1024), and a symbol that
//! fits on no open connection gets a new one. Streams are added and removed on the open
//! connection with SUBSCRIBE / UNSUBSCRIBE, batched, and remembered for the next connection.
//!
//! Each message is routed by its stream name to the feed of the symbol it belongs to, and
//! only while that stream is subscribed on the connection that delivered it. A connection that
//! errors, closes, or stays silent is replaced with jittered backoff and its symbols are told,
//! so they rebuild their books and backfill bars; one that reaches `max_connection_age` (or is
//! announced to end by `serverShutdown`) is replaced with an overlap, so that each stream's
//! messages arrive in order with nothing missing: the new one is opened first and its messages
//! are held back while the old one goes on delivering; a second after the new one has confirmed
//! every subscription, the old one is unsubscribed from all its streams, and once it has answered
//! (so everything it sent before is in) it is closed and the held messages follow. The seam
//! repeats some messages: the symbols' feeds drop repeated trades, klines, depth diffs and
//! book tickers. A rotation that cannot finish that way (the old connection
//! lost, or no answer within 30 s) tells its symbols they may have missed messages. Messages
//! that name no stream are counted as malformed on their connection.
//!
//! The hub never waits on a symbol: a symbol whose queue is full misses messages until it has
//! room again, and is then told it fell behind, so it backfills its bars and rebuilds its book
//! (the other symbols go on undisturbed). The messages held during a rotation (up to 65,536)
//! are the exception: released all at once they could overflow a busy symbol's queue, so they
//! go into per-symbol backlogs (at most 16,384 messages each) handed over as the queues have
//! room, and a symbol's later messages queue behind its backlog.

use super::connection::{self, Incoming, backoff};
use crate::feeds::binance::rest::RestClient;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Binance's limit of streams on one connection.
pub const MAX_STREAMS_PER_CONNECTION: usize = 1024;

/// How the hub's connections behave.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// WebSocket base URL, e.g. `wss://stream.binance.com:9443`.
    pub ws: String,
    /// Streams per connection, at most [`MAX_STREAMS_PER_CONNECTION`].
    pub max_streams: usize,
    /// Replace a connection before this age (Binance closes them at 24 h).
    pub max_connection_age: Duration,
    /// Reconnect when nothing (not even a ping) arrives for this long.
    pub silence_timeout: Duration,
}

impl HubConfig {
    /// Defaults for `ws`: 1024 streams a connection, rotate at 23 h, silence after 60 s.
    pub fn new(ws: &str) -> Self {
        HubConfig {
            ws: ws.trim_end_matches('/').to_string(),
            max_streams: MAX_STREAMS_PER_CONNECTION,
            max_connection_age: Duration::from_secs(23 * 3600),
            silence_timeout: Duration::from_secs(60),
        }
    }
}

/// What the hub hands a symbol's feed.
#[derive(Debug)]
pub(super) enum Routed {
    /// A message of one of the symbol's streams.
    Text { text: String, receive_ms: i64 },
    /// The symbol's connection was lost and a new one opened: messages may have been missed.
    Reconnected,
    /// The symbol's connection is being replaced (its age, or a shutdown notice), with an
    /// overlap.
    Rotated,
    /// The symbol moved to another connection to make room for its streams.
    Moved,
    /// The symbol's queue was full and messages for it were dropped.
    Lagged,
}

/// One connection's counters, for the operator API.
#[derive(
    utoipa::ToSchema, Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
pub struct ConnectionCounters {
    /// The connection slot's number (kept across its reconnects and rotations).
    pub id: u64,
    /// Symbols on it.
    pub symbols: usize,
    /// Streams subscribed on it.
    pub streams: usize,
    /// Messages read.
    pub messages: u64,
    /// Messages that named no stream and were no reply either.
    pub malformed: u64,
    /// Connections lost, or given up on before they delivered all they had (and replaced).
    pub reconnects: u64,
    /// Connections replaced because of their age or a shutdown notice.
    pub rotations: u64,
    /// Messages dropped because their symbol's queue was full.
    pub dropped: u64,
}

/// Why the hub refused a change.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The symbol is already on the hub.
    #[error("{0} already has a feed on this hub")]
    Duplicate(String),
    /// The symbol is not on the hub.
    #[error("{0} has no feed on this hub")]
    Unknown(String),
    /// More streams than one connection may carry.
    #[error("{symbol}: {count} streams do not fit one connection (at most {max})")]
    TooManyStreams {
        /// The symbol.
        symbol: String,
        /// Streams asked for.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The hub's task has ended.
    #[error("the stream hub has stopped")]
    Stopped,
}

enum Command {
    Add {
        symbol: String,
        streams: Vec<String>,
        sink: mpsc::Sender<Routed>,
        reply: oneshot::Sender<Result<(), HubError>>,
    },
    SetStreams {
        symbol: String,
        streams: Vec<String>,
        reply: oneshot::Sender<Result<(), HubError>>,
    },
    Remove {
        symbol: String,
    },
    Counters {
        reply: oneshot::Sender<Vec<ConnectionCounters>>,
    },
}

/// A handle on the connections shared by many symbols' feeds; clones share them. The hub runs
/// until every handle is gone. Feeds on one hub also share one REST client per base URL, so
/// their snapshots and backfills draw on one request-weight budget.
#[derive(Clone)]
pub struct StreamHub {
    commands: mpsc::Sender<Command>,
    rest: Arc<Mutex<HashMap<String, Arc<RestClient>>>>,
}

impl StreamHub {
    /// Starts the hub's task (call inside a tokio runtime).
    pub fn start(mut config: HubConfig) -> StreamHub {
        config.max_streams = config.max_streams.clamp(1, MAX_STREAMS_PER_CONNECTION);
        let (commands, rx) = mpsc::channel(256);
        let (incoming_tx, incoming) = mpsc::channel(4096);
        let hub = Hub {
            config,
            shards: BTreeMap::new(),
            members: BTreeMap::new(),
            next_shard: 0,
            next_conn: 0,
            request_id: 0,
            incoming_tx,
            pump_at: None,
        };
        tokio::spawn(hub.run(rx, incoming));
        StreamHub {
            commands,
            rest: Arc::default(),
        }
    }

    /// The REST client the hub's feeds share for `base`.
    pub fn rest(&self, base: &str) -> Arc<RestClient> {
        self.rest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(base.to_string())
            .or_insert_with(|| Arc::new(RestClient::new(base)))
            .clone()
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, HubError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)
    }

    /// Puts `symbol` (lower case, as in stream names) with `streams` on a connection; its
    /// messages go to `sink`.
    pub(super) async fn add(
        &self,
        symbol: &str,
        streams: Vec<String>,
        sink: mpsc::Sender<Routed>,
    ) -> Result<(), HubError> {
        self.ask(|reply| Command::Add {
            symbol: symbol.to_string(),
            streams,
            sink,
            reply,
        })
        .await?
    }

    /// Replaces `symbol`'s streams with `streams` (SUBSCRIBE / UNSUBSCRIBE the difference,
    /// or move the symbol to a connection with room).
    pub(super) async fn set_streams(
        &self,
        symbol: &str,
        streams: Vec<String>,
    ) -> Result<(), HubError> {
        self.ask(|reply| Command::SetStreams {
            symbol: symbol.to_string(),
            streams,
            reply,
        })
        .await?
    }

    /// Takes `symbol` off its connection (closing the connection when it was the last).
    pub(super) async fn remove(&self, symbol: &str) {
        let _ = self
            .commands
            .send(Command::Remove {
                symbol: symbol.to_string(),
            })
            .await;
    }

    /// Every connection's counters.
    pub async fn counters(&self) -> Vec<ConnectionCounters> {
        self.ask(|reply| Command::Counters { reply })
            .await
            .unwrap_or_default()
    }
}

/// One open (or opening) connection.
struct Conn {
    id: u64,
    stop: oneshot::Sender<()>,
    requests: mpsc::Sender<String>,
    opened: Instant,
    /// Ids of the SUBSCRIBE requests not yet confirmed.
    unconfirmed: BTreeSet<u64>,
    /// It replaces a lost connection: its symbols are told once it delivers.
    replaces_lost: bool,
    /// Once a replaced connection is being unsubscribed: the ids of the UNSUBSCRIBE requests
    /// it has not answered yet.
    draining: Option<BTreeSet<u64>>,
}

/// A connection slot: its streams, its live connection (and the one it is replacing), and
/// the changes not yet sent.
struct Shard {
    streams: BTreeSet<String>,
    active: Option<Conn>,
    retiring: Option<Conn>,
    /// When to start unsubscribing `retiring`, once its replacement carries every stream.
    retire_at: Option<Instant>,
    /// The replacement's stream messages (text, receive time), held back until `retiring`
    /// has delivered everything it will.
    held: VecDeque<(String, i64)>,
    /// When to (re)open the connection, while there is none.
    connect_at: Option<Instant>,
    failures: u32,
    shutdown_announced: bool,
    subscribe: BTreeSet<String>,
    unsubscribe: BTreeSet<String>,
    /// When to send the batched changes.
    flush_at: Option<Instant>,
    counters: ConnectionCounters,
}

struct Member {
    shard: u64,
    streams: BTreeSet<String>,
    sink: mpsc::Sender<Routed>,
    /// Messages were dropped since it was last told so.
    lagging: bool,
    /// Messages released at the end of a rotation that its queue had no room for yet, oldest
    /// first; later messages queue behind them.
    backlog: VecDeque<Routed>,
}

/// What delivering to a member came to.
enum Delivery {
    /// Handed over, or queued behind its backlog.
    Sent,
    /// Its queue was full: this many messages were dropped.
    Full(u64),
    Gone,
}

/// Most messages a member's backlog holds: past this the backlog is dropped and the member told
/// it fell behind, as a full queue is.
const MAX_BACKLOG: usize = 1 << 14;

/// How often members' backlogs are offered to their queues again.
const PUMP_EVERY: Duration = Duration::from_millis(2);

impl Member {
    /// Hands `message` over without waiting (behind the backlog, if there is one); a member that
    /// fell behind is told first.
    fn deliver(&mut self, message: Routed) -> Delivery {
        use mpsc::error::TrySendError;
        if !self.backlog.is_empty() {
            return self.hold(message);
        }
        if self.lagging {
            match self.sink.try_send(Routed::Lagged) {
                Ok(()) => self.lagging = false,
                Err(TrySendError::Full(_)) => return Delivery::Full(1),
                Err(TrySendError::Closed(_)) => return Delivery::Gone,
            }
        }
        match self.sink.try_send(message) {
            Ok(()) => Delivery::Sent,
            Err(TrySendError::Full(_)) => {
                self.lagging = true;
                Delivery::Full(1)
            }
            Err(TrySendError::Closed(_)) => Delivery::Gone,
        }
    }

    /// Queues `message` behind the backlog, to be handed over as the member's queue has room;
    /// a backlog already at its bound is dropped and the member marked as fallen behind.
    fn hold(&mut self, message: Routed) -> Delivery {
        if self.backlog.len() >= MAX_BACKLOG {
            let dropped = self.backlog.len() as u64 + 1;
            self.backlog.clear();
            self.lagging = true;
            return Delivery::Full(dropped);
        }
        self.backlog.push_back(message);
        Delivery::Sent
    }

    /// Hands over as much of the backlog as the member's queue has room for; false when the
    /// member is gone.
    fn pump(&mut self) -> bool {
        use mpsc::error::TrySendError;
        while !self.backlog.is_empty() {
            if self.lagging {
                match self.sink.try_send(Routed::Lagged) {
                    Ok(()) => self.lagging = false,
                    Err(TrySendError::Full(_)) => return true,
                    Err(TrySendError::Closed(_)) => return false,
                }
            }
            match self.sink.try_reserve() {
                Ok(permit) => permit.send(self.backlog.pop_front().expect("not empty")),
                Err(TrySendError::Full(())) => break,
                Err(TrySendError::Closed(())) => return false,
            }
        }
        true
    }
}

struct Hub {
    config: HubConfig,
    shards: BTreeMap<u64, Shard>,
    members: BTreeMap<String, Member>,
    next_shard: u64,
    next_conn: u64,
    request_id: u64,
    incoming_tx: mpsc::Sender<Incoming>,
    /// When to offer members' backlogs to their queues again, while one has a backlog.
    pump_at: Option<Instant>,
}

/// Changes arriving within this long are sent as one request.
const BATCH: Duration = Duration::from_millis(20);

/// Longest URL a new connection is opened with: the streams that do not fit are subscribed
/// right after it opens (front ends refuse very long request lines; 1024 names are ~25 KB).
const URL_BUDGET: usize = 4000;

/// The longest a replaced connection is kept once its replacement is open.
const RETIRE_AFTER: Duration = Duration::from_secs(30);

/// How long the old connection stays subscribed once the replacement carries every stream,
/// so that the exchange has sent on it whatever it was behind with.
const OVERLAP: Duration = Duration::from_secs(1);

/// Most messages held back from a replacement: past this the old connection is closed at once
/// and the held messages delivered.
const MAX_HELD: usize = 1 << 16;

/// Streams named in one SUBSCRIBE or UNSUBSCRIBE request.
const PER_REQUEST: usize = 200;

/// The stream a combined-stream message belongs to, read without parsing its data when it is
/// in Binance's usual form.
fn stream_name(text: &str) -> Option<std::borrow::Cow<'_, str>> {
    if let Some(rest) = text.strip_prefix("{\"stream\":\"") {
        return rest.split_once('"').map(|(name, _)| name.into());
    }
    #[derive(serde::Deserialize)]
    struct Named<'a> {
        #[serde(borrow)]
        stream: std::borrow::Cow<'a, str>,
    }
    serde_json::from_str::<Named>(text).ok().map(|n| n.stream)
}

impl Hub {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut incoming: mpsc::Receiver<Incoming>,
    ) {
        loop {
            let due = self.next_due();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                Some(message) = incoming.recv() => self.on_incoming(message),
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    self.on_due();
                }
            }
        }
        for shard in self.shards.into_values() {
            for conn in [shard.active, shard.retiring].into_iter().flatten() {
                let _ = conn.stop.send(());
            }
        }
    }

    /// The earliest moment something must happen on a connection.
    fn next_due(&self) -> Option<Instant> {
        self.shards
            .values()
            .flat_map(|s| {
                let rotate = match (&s.active, &s.retiring) {
                    (Some(conn), Some(_)) => {
                        Some(s.retire_at.unwrap_or(conn.opened + RETIRE_AFTER))
                    }
                    (Some(_), None) if s.shutdown_announced => Some(Instant::now()),
                    (Some(conn), None) => Some(conn.opened + self.config.max_connection_age),
                    (None, _) => None,
                };
                [s.connect_at, rotate, s.flush_at]
            })
            .chain([self.pump_at])
            .flatten()
            .min()
    }

    fn open(&mut self, shard_id: u64, replaces_lost: bool) {
        let shard = self.shards.get_mut(&shard_id).expect("shard");
        let (stop, stop_rx) = oneshot::channel();
        let (requests, outgoing) = mpsc::channel(64);
        self.next_conn += 1;
        let mut url = format!("{}/stream?streams=", self.config.ws);
        let mut later = BTreeSet::new();
        for (i, name) in shard.streams.iter().enumerate() {
            if i == 0 {
                url.push_str(name);
            } else if url.len() + 1 + name.len() <= URL_BUDGET {
                url.push('/');
                url.push_str(name);
            } else {
                later.insert(name.clone());
            }
        }
        tokio::spawn(connection::run(
            self.next_conn,
            url,
            self.config.silence_timeout,
            self.incoming_tx.clone(),
            stop_rx,
            outgoing,
        ));
        // The new connection subscribes from its URL, and to the rest as soon as it is open
        // (requests wait in its queue until then).
        shard.unsubscribe.clear();
        shard.flush_at = (!later.is_empty()).then(Instant::now);
        shard.subscribe = later;
        shard.connect_at = None;
        shard.active = Some(Conn {
            id: self.next_conn,
            stop,
            requests,
            opened: Instant::now(),
            // Until its first requests are sent, it is waiting for them (0 is no request's id).
            unconfirmed: if shard.subscribe.is_empty() {
                BTreeSet::new()
            } else {
                BTreeSet::from([0])
            },
            replaces_lost,
            draining: None,
        });
    }

    /// Tells every symbol on `shard_id` what happened to its connection.
    fn notify(&mut self, shard_id: u64, what: fn() -> Routed) {
        let mut gone = Vec::new();
        let mut dropped = 0;
        for (symbol, member) in &mut self.members {
            if member.shard != shard_id {
                continue;
            }
            match member.deliver(what()) {
                Delivery::Sent => {}
                Delivery::Full(n) => dropped += n,
                Delivery::Gone => gone.push(symbol.clone()),
            }
        }
        self.count_dropped(shard_id, dropped);
        for symbol in gone {
            self.remove(&symbol);
        }
    }

    /// Counts messages dropped for symbols of `shard_id` whose queues were full.
    fn count_dropped(&mut self, shard_id: u64, dropped: u64) {
        if let Some(shard) = self.shards.get_mut(&shard_id) {
            shard.counters.dropped += dropped;
        }
    }

    fn on_due(&mut self) {
        let now = Instant::now();
        if self.pump_at.is_some_and(|t| t <= now) {
            self.pump();
        }
        let ids: Vec<u64> = self.shards.keys().copied().collect();
        for id in ids {
            // Releasing held messages can remove symbols, and with its last one a shard.
            let Some(shard) = self.shards.get(&id) else {
                continue;
            };
            if shard.connect_at.is_some_and(|t| t <= now) {
                // Only a shard's first connection is opened before it ever lost one; a connection
                // still being replaced (and not yet unsubscribed) covers every stream meanwhile.
                let covered = shard
                    .retiring
                    .as_ref()
                    .is_some_and(|c| c.draining.is_none());
                let reconnect = shard.counters.reconnects > 0 && !covered;
                self.open(id, reconnect);
                continue;
            }
            let shard = self.shards.get_mut(&id).expect("shard");
            let age_reached = shard.active.as_ref().is_some_and(|c| {
                shard.shutdown_announced || c.opened + self.config.max_connection_age <= now
            });
            if age_reached && shard.retiring.is_none() {
                // Overlap: open the replacement first; retire the old one when it delivers.
                shard.shutdown_announced = false;
                shard.counters.rotations += 1;
                shard.retiring = shard.active.take();
                shard.retire_at = None;
                self.open(id, false);
                self.notify(id, || Routed::Rotated);
                continue;
            }
            // A replacement whose subscriptions are never confirmed, or an old connection that
            // never answers its unsubscription, still ends the rotation.
            let give_up = shard.retiring.is_some()
                && shard
                    .active
                    .as_ref()
                    .is_some_and(|c| c.opened + RETIRE_AFTER <= now);
            if give_up {
                // The old one did not deliver all it had: its symbols may have missed messages.
                shard.counters.reconnects += 1;
                self.notify(id, || Routed::Reconnected);
                self.end_rotation(id);
            } else if shard.retire_at.is_some_and(|t| t <= now) {
                shard.retire_at = None;
                self.drain(id);
            }
            // Held messages released above may have removed the last symbol, and the shard.
            if self
                .shards
                .get(&id)
                .is_some_and(|s| s.flush_at.is_some_and(|t| t <= now))
            {
                self.flush(id);
            }
        }
    }

    /// Unsubscribes the connection `shard_id` is replacing from every stream; it is closed once
    /// it has answered (or at once, if it cannot take the requests).
    fn drain(&mut self, shard_id: u64) {
        let shard = self.shards.get_mut(&shard_id).expect("shard");
        let Some(old) = &mut shard.retiring else {
            return;
        };
        let names: Vec<&String> = shard.streams.iter().collect();
        let mut waiting = BTreeSet::new();
        for chunk in names.chunks(PER_REQUEST) {
            self.request_id += 1;
            let request = serde_json::json!({"method": "UNSUBSCRIBE", "params": chunk, "id": self.request_id});
            if old.requests.try_send(request.to_string()).is_err() {
                return self.end_rotation(shard_id);
            }
            waiting.insert(self.request_id);
        }
        if waiting.is_empty() {
            return self.end_rotation(shard_id);
        }
        old.draining = Some(waiting);
    }

    /// Closes the connection `shard_id` was replacing and delivers what its replacement held.
    fn end_rotation(&mut self, shard_id: u64) {
        // Telling its symbols of a lost connection can have removed the last one, and the shard.
        let Some(shard) = self.shards.get_mut(&shard_id) else {
            return;
        };
        shard.retire_at = None;
        if let Some(old) = shard.retiring.take() {
            let _ = old.stop.send(());
        }
        // Released into the members' backlogs and handed over as their queues have room, so a
        // burst of held messages does not overflow a busy symbol's queue.
        for (text, receive_ms) in std::mem::take(&mut shard.held) {
            self.route(shard_id, text, receive_ms, Member::hold);
        }
        self.pump();
    }

    /// Offers every member's backlog to its queue; comes back while one is left.
    fn pump(&mut self) {
        let mut gone = Vec::new();
        let mut left = false;
        for (symbol, member) in &mut self.members {
            if !member.pump() {
                gone.push(symbol.clone());
            }
            left |= !member.backlog.is_empty();
        }
        for symbol in gone {
            self.remove(&symbol);
        }
        self.pump_at = left.then(|| Instant::now() + PUMP_EVERY);
    }

    /// Sends the batched SUBSCRIBE and UNSUBSCRIBE of `shard_id` on its open connection.
    fn flush(&mut self, shard_id: u64) {
        let shard = self.shards.get_mut(&shard_id).expect("shard");
        shard.flush_at = None;
        let Some(conn) = &mut shard.active else {
            return; // the next connection's URL carries the current streams
        };
        for (method, names) in [
            ("UNSUBSCRIBE", std::mem::take(&mut shard.unsubscribe)),
            ("SUBSCRIBE", std::mem::take(&mut shard.subscribe)),
        ] {
            let names: Vec<String> = names.into_iter().collect();
            for chunk in names.chunks(PER_REQUEST) {
                self.request_id += 1;
                let request =
                    serde_json::json!({"method": method, "params": chunk, "id": self.request_id});
                if conn.requests.try_send(request.to_string()).is_ok() {
                    if method == "SUBSCRIBE" {
                        conn.unconfirmed.insert(self.request_id);
                    }
                    continue;
                }
                // The connection is not taking requests now: keep them for the next flush.
                tracing::warn!(
                    connection = shard_id,
                    "{method} delayed: the connection's queue is full"
                );
                let pending = if method == "SUBSCRIBE" {
                    &mut shard.subscribe
                } else {
                    &mut shard.unsubscribe
                };
                pending.extend(chunk.iter().cloned());
                shard.flush_at = Some(Instant::now() + Duration::from_millis(500));
            }
        }
        if shard.subscribe.is_empty() {
            conn.unconfirmed.remove(&0);
        }
    }

    fn schedule_flush(shard: &mut Shard) {
        if shard.flush_at.is_none() {
            shard.flush_at = Some(Instant::now() + BATCH);
        }
    }

    /// A connection with room for `count` more streams, opening a new one if none has.
    fn place(&mut self, count: usize) -> u64 {
        let max = self.config.max_streams;
        if let Some((&id, _)) = self
            .shards
            .iter()
            .find(|(_, s)| s.streams.len() + count <= max)
        {
            return id;
        }
        self.next_shard += 1;
        let id = self.next_shard;
        self.shards.insert(
            id,
            Shard {
                streams: BTreeSet::new(),
                active: None,
                retiring: None,
                retire_at: None,
                held: VecDeque::new(),
                // Opened after the current burst of additions, so its URL carries them all.
                connect_at: Some(Instant::now() + BATCH),
                failures: 0,
                shutdown_announced: false,
                subscribe: BTreeSet::new(),
                unsubscribe: BTreeSet::new(),
                flush_at: None,
                counters: ConnectionCounters {
                    id,
                    ..Default::default()
                },
            },
        );
        id
    }

    /// Adds `streams` to `shard_id`.
    fn subscribe(&mut self, shard_id: u64, streams: &BTreeSet<String>) {
        let shard = self.shards.get_mut(&shard_id).expect("shard");
        for name in streams {
            shard.streams.insert(name.clone());
            shard.unsubscribe.remove(name);
            if shard.active.is_some() {
                shard.subscribe.insert(name.clone());
            }
        }
        if !shard.subscribe.is_empty() {
            Self::schedule_flush(shard);
        }
    }

    /// Removes `streams` from `shard_id`, closing it when nothing is left on it.
    fn unsubscribe(&mut self, shard_id: u64, streams: &BTreeSet<String>) {
        let shard = self.shards.get_mut(&shard_id).expect("shard");
        for name in streams {
            shard.streams.remove(name);
            shard.subscribe.remove(name);
            if shard.active.is_some() {
                shard.unsubscribe.insert(name.clone());
            }
        }
        if shard.streams.is_empty() {
            let shard = self.shards.remove(&shard_id).expect("shard");
            for conn in [shard.active, shard.retiring].into_iter().flatten() {
                let _ = conn.stop.send(());
            }
        } else if !shard.unsubscribe.is_empty() {
            Self::schedule_flush(shard);
        }
    }

    fn remove(&mut self, symbol: &str) {
        if let Some(member) = self.members.remove(symbol) {
            self.unsubscribe(member.shard, &member.streams);
        }
    }

    fn check_count(&self, symbol: &str, count: usize) -> Result<(), HubError> {
        if count > self.config.max_streams {
            return Err(HubError::TooManyStreams {
                symbol: symbol.to_string(),
                count,
                max: self.config.max_streams,
            });
        }
        Ok(())
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Add {
                symbol,
                streams,
                sink,
                reply,
            } => {
                let streams: BTreeSet<String> = streams.into_iter().collect();
                let result = if self.members.contains_key(&symbol) {
                    Err(HubError::Duplicate(symbol))
                } else {
                    self.check_count(&symbol, streams.len()).map(|()| {
                        let shard = self.place(streams.len());
                        self.subscribe(shard, &streams);
                        self.members.insert(
                            symbol,
                            Member {
                                shard,
                                streams,
                                sink,
                                lagging: false,
                                backlog: VecDeque::new(),
                            },
                        );
                    })
                };
                let _ = reply.send(result);
            }
            Command::SetStreams {
                symbol,
                streams,
                reply,
            } => {
                let result = self.set_streams(&symbol, streams.into_iter().collect());
                if let Ok(true) = result
                    && let Some(member) = self.members.get_mut(&symbol)
                {
                    let shard = member.shard;
                    match member.deliver(Routed::Moved) {
                        Delivery::Sent => {}
                        Delivery::Full(n) => self.count_dropped(shard, n),
                        Delivery::Gone => self.remove(&symbol),
                    }
                }
                let _ = reply.send(result.map(|_| ()));
            }
            Command::Remove { symbol } => self.remove(&symbol),
            Command::Counters { reply } => {
                let mut all: Vec<ConnectionCounters> = self
                    .shards
                    .iter()
                    .map(|(id, s)| ConnectionCounters {
                        symbols: self.members.values().filter(|m| m.shard == *id).count(),
                        streams: s.streams.len(),
                        ..s.counters.clone()
                    })
                    .collect();
                all.sort_by_key(|c| c.id);
                let _ = reply.send(all);
            }
        }
    }

    /// Replaces a member's streams; true when it had to move to another connection.
    fn set_streams(&mut self, symbol: &str, streams: BTreeSet<String>) -> Result<bool, HubError> {
        self.check_count(symbol, streams.len())?;
        let member = self
            .members
            .get(symbol)
            .ok_or_else(|| HubError::Unknown(symbol.to_string()))?;
        let (shard_id, old) = (member.shard, member.streams.clone());
        let added: BTreeSet<String> = streams.difference(&old).cloned().collect();
        let removed: BTreeSet<String> = old.difference(&streams).cloned().collect();
        let room = self.config.max_streams - self.shards[&shard_id].streams.len();
        let moved = added.len() > room + removed.len();
        if moved {
            // Off the full connection, onto one with room for all of its streams.
            self.unsubscribe(shard_id, &old);
            let shard = self.place(streams.len());
            self.subscribe(shard, &streams);
            self.members.get_mut(symbol).expect("member").shard = shard;
        } else {
            self.unsubscribe(shard_id, &removed);
            self.subscribe(shard_id, &added);
        }
        self.members.get_mut(symbol).expect("member").streams = streams;
        Ok(moved)
    }

    fn on_incoming(&mut self, message: Incoming) {
        match message {
            Incoming::Text {
                conn,
                text,
                receive_ms,
            } => self.on_text(conn, text, receive_ms),
            Incoming::Closed { conn, reason } => self.on_closed(conn, &reason),
        }
    }

    fn on_closed(&mut self, conn: u64, reason: &str) {
        let owner = |c: &Option<Conn>| c.as_ref().is_some_and(|c| c.id == conn);
        if let Some((&id, shard)) = self.shards.iter_mut().find(|(_, s)| owner(&s.retiring)) {
            // Lost before it had delivered all it would: its symbols may have missed messages.
            tracing::warn!(
                connection = id,
                "replaced stream connection lost ({reason})"
            );
            shard.counters.reconnects += 1;
            self.notify(id, || Routed::Reconnected);
            return self.end_rotation(id);
        }
        let Some((&id, shard)) = self.shards.iter_mut().find(|(_, s)| owner(&s.active)) else {
            return;
        };
        tracing::warn!(
            connection = id,
            streams = shard.streams.len(),
            "stream connection lost ({reason}); reconnecting"
        );
        shard.active = None;
        shard.retire_at = None;
        shard.shutdown_announced = false;
        shard.connect_at = Some(Instant::now() + backoff(shard.failures));
        shard.failures += 1;
        shard.counters.reconnects += 1;
        // A connection it was replacing keeps delivering until the next one and covers what
        // the lost one held, unless it is already unsubscribed: then the held messages are
        // all there is.
        if shard
            .retiring
            .as_ref()
            .is_some_and(|c| c.draining.is_some())
        {
            self.end_rotation(id);
        } else {
            shard.held.clear();
        }
    }

    fn on_text(&mut self, conn: u64, text: String, receive_ms: i64) {
        let Some((&shard_id, shard)) = self.shards.iter_mut().find(|(_, s)| {
            [&s.active, &s.retiring]
                .into_iter()
                .flatten()
                .any(|c| c.id == conn)
        }) else {
            return; // a closed connection's last words
        };
        shard.counters.messages += 1;
        let name = stream_name(&text);
        let reply = if name.is_none() && (text.contains("\"result\"") || text.contains("\"error\""))
        {
            reply_id(&text)
        } else {
            None
        };
        let from_active = shard.active.as_ref().is_some_and(|c| c.id == conn);
        let mut reconnected = false;
        let mut drained = false;
        if let Some(active) = shard.active.as_mut().filter(|c| c.id == conn) {
            shard.failures = 0;
            // A refused SUBSCRIBE is not waited for either (it is logged below).
            if let Some(id) = reply {
                active.unconfirmed.remove(&id);
            }
            reconnected = std::mem::take(&mut active.replaces_lost);
            // The old connection is unsubscribed shortly after the new one carries everything.
            if active.unconfirmed.is_empty()
                && shard
                    .retiring
                    .as_ref()
                    .is_some_and(|c| c.draining.is_none())
                && shard.retire_at.is_none()
            {
                shard.retire_at = Some(Instant::now() + OVERLAP);
            }
        } else if let (Some(old), Some(id)) = (shard.retiring.as_mut(), reply)
            && let Some(waiting) = &mut old.draining
        {
            // The old connection answers its unsubscription: all it sent before is in.
            drained = waiting.remove(&id) && waiting.is_empty();
        }
        if name.is_none() && text.contains("\"serverShutdown\"") {
            // Binance announces the end of a connection: replace it now, with an overlap.
            if from_active {
                shard.shutdown_announced = true;
            }
        } else if name.is_none() {
            if text.contains("\"error\"") {
                tracing::error!(
                    connection = shard_id,
                    "the exchange refused a request: {text:.200}"
                );
            } else if !text.contains("\"result\"") {
                shard.counters.malformed += 1;
                tracing::warn!(
                    connection = shard_id,
                    "malformed message skipped: {text:.120}"
                );
            }
        }
        if reconnected {
            // The replacement of a lost connection delivers: its symbols may have missed
            // messages while it was down.
            self.notify(shard_id, || Routed::Reconnected);
        }
        if drained {
            self.end_rotation(shard_id);
        }
        if name.is_none() {
            return;
        }
        if from_active
            && let Some(shard) = self.shards.get_mut(&shard_id)
            && shard.retiring.is_some()
        {
            // Held back until the old connection has delivered all it will, so that each
            // stream's messages arrive in order.
            if shard.held.len() < MAX_HELD {
                shard.held.push_back((text, receive_ms));
                return;
            }
            self.end_rotation(shard_id);
        }
        self.route(shard_id, text, receive_ms, Member::deliver);
    }

    /// Hands a stream message that arrived on `shard_id` to its symbol with `deliver`, if that
    /// stream is the symbol's on this connection.
    fn route(
        &mut self,
        shard_id: u64,
        text: String,
        receive_ms: i64,
        deliver: fn(&mut Member, Routed) -> Delivery,
    ) {
        let Some(name) = stream_name(&text) else {
            return;
        };
        let symbol = name.split('@').next().unwrap_or_default();
        let Some(member) = self.members.get_mut(symbol) else {
            return; // unsubscribed, still in flight
        };
        if member.shard != shard_id || !member.streams.contains(name.as_ref()) {
            return;
        }
        let symbol = symbol.to_string();
        match deliver(member, Routed::Text { text, receive_ms }) {
            Delivery::Sent => {}
            Delivery::Full(dropped) => self.count_dropped(shard_id, dropped),
            Delivery::Gone => self.remove(&symbol),
        }
    }
}

/// The `id` of a reply such as `{"result":null,"id":7}`.
fn reply_id(text: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Reply {
        id: Option<u64>,
    }
    serde_json::from_str::<Reply>(text).ok()?.id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: i64) -> Routed {
        Routed::Text {
            text: n.to_string(),
            receive_ms: n,
        }
    }

    fn member(capacity: usize) -> (Member, mpsc::Receiver<Routed>) {
        let (sink, rx) = mpsc::channel(capacity);
        let member = Member {
            shard: 0,
            streams: BTreeSet::new(),
            sink,
            lagging: false,
            backlog: VecDeque::new(),
        };
        (member, rx)
    }

    fn received(rx: &mut mpsc::Receiver<Routed>) -> Vec<i64> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|r| match r {
                Routed::Text { receive_ms, .. } => receive_ms,
                Routed::Lagged => -1,
                _ => -2,
            })
            .collect()
    }

    #[test]
    fn a_released_burst_reaches_a_small_queue_whole_and_in_order() {
        let (mut m, mut rx) = member(4);
        for n in 0..10 {
            assert!(matches!(m.hold(text(n)), Delivery::Sent));
        }
        m.pump();
        assert_eq!(received(&mut rx), [0, 1, 2, 3]);
        // Later messages wait behind the backlog instead of overtaking it.
        assert!(matches!(m.deliver(text(10)), Delivery::Sent));
        m.pump();
        assert_eq!(received(&mut rx), [4, 5, 6, 7]);
        m.pump();
        assert_eq!(received(&mut rx), [8, 9, 10]);
        assert!(m.backlog.is_empty());
        assert!(matches!(m.deliver(text(11)), Delivery::Sent));
        assert_eq!(received(&mut rx), [11]);
    }

    #[test]
    fn a_backlog_past_its_bound_is_dropped_and_the_member_told() {
        let (mut m, mut rx) = member(2);
        assert!(matches!(m.deliver(text(0)), Delivery::Sent));
        assert!(matches!(m.deliver(text(1)), Delivery::Sent));
        for n in 2..MAX_BACKLOG as i64 + 2 {
            assert!(matches!(m.hold(text(n)), Delivery::Sent));
        }
        let dropped = match m.deliver(text(-5)) {
            Delivery::Full(n) => n,
            _ => panic!("the bound was passed"),
        };
        assert_eq!(dropped, MAX_BACKLOG as u64 + 1);
        assert_eq!(received(&mut rx), [0, 1]);
        // Told it fell behind before anything else.
        assert!(matches!(m.deliver(text(7)), Delivery::Sent));
        assert_eq!(received(&mut rx), [-1, 7]);
        drop(rx);
        assert!(matches!(m.hold(text(8)), Delivery::Sent));
        assert!(!m.pump(), "gone");
    }

    #[test]
    fn stream_names_are_read_from_either_form() {
        assert_eq!(
            stream_name(r#"{"stream":"btcusdt@trade","data":{"e":"trade"}}"#).as_deref(),
            Some("btcusdt@trade")
        );
        assert_eq!(
            stream_name(r#"{ "data": {"x": 1}, "stream": "ethbtc@kline_1m" }"#).as_deref(),
            Some("ethbtc@kline_1m")
        );
        assert_eq!(stream_name(r#"{"stream": "garbage"#), None);
        assert_eq!(stream_name(r#"{"result":null,"id":3}"#), None);
    }
}
