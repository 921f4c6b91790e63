//! One WebSocket connection: reads frames into the hub's queue, answers pings, sends the hub's
//! requests, and reports why it ended; everything it sends is paced to Binance's limit.

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// Binance accepts at most this many messages a second from a client (pings, pongs and JSON
/// requests alike) and drops a connection that sends more.
pub const MAX_OUTGOING_PER_SECOND: usize = 5;

/// Paces what a connection sends to at most [`MAX_OUTGOING_PER_SECOND`] in any second.
#[derive(Debug, Default)]
pub struct Pacer {
    sent: std::collections::VecDeque<tokio::time::Instant>,
}

impl Pacer {
    /// Waits until one more message may be sent, and counts it.
    pub async fn ready(&mut self) {
        let second = Duration::from_secs(1);
        if self.sent.len() == MAX_OUTGOING_PER_SECOND {
            let oldest = self.sent.pop_front().expect("full");
            tokio::time::sleep_until(oldest + second).await;
        }
        self.sent.push_back(tokio::time::Instant::now());
    }
}

/// What a connection reports to the hub.
pub(super) enum Incoming {
    /// A text frame.
    Text {
        conn: u64,
        text: String,
        receive_ms: i64,
    },
    /// The connection ended, and why.
    Closed { conn: u64, reason: String },
}

/// Milliseconds since the Unix epoch.
pub(super) fn now_ms() -> i64 {
    crate::model::time::wall_clock_ms()
}

/// Jittered exponential backoff before reconnect attempt `attempt` (0-based): 100 ms doubling
/// to 12.8 s, plus up to half again.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = 100u64 << attempt.min(7);
    let jitter = now_ms().unsigned_abs() % (base / 2 + 1);
    Duration::from_millis(base + jitter)
}

/// Runs connection `conn` to `url` until it fails, goes silent for `silence`, or `stop` fires;
/// forwards text frames to `tx` and sends `outgoing` requests and pongs, paced.
pub(super) async fn run(
    conn: u64,
    url: String,
    silence: Duration,
    tx: mpsc::Sender<Incoming>,
    mut stop: oneshot::Receiver<()>,
    mut outgoing: mpsc::Receiver<String>,
) {
    let mut pacer = Pacer::default();
    // A handshake that stalls counts as silence too.
    let connect = tokio::select! {
        _ = &mut stop => return,
        connect = tokio::time::timeout(silence, tokio_tungstenite::connect_async(&url)) => connect,
    };
    let reason = match connect {
        Err(_) => format!("connect: no answer within {silence:?}"),
        Ok(Err(e)) => format!("connect: {e}"),
        Ok(Ok((mut socket, _))) => loop {
            tokio::select! {
                _ = &mut stop => {
                    let _ = socket.close(None).await;
                    return;
                }
                Some(request) = outgoing.recv() => {
                    pacer.ready().await;
                    if socket.send(Message::Text(request.into())).await.is_err() {
                        break "sending a request failed".to_string();
                    }
                }
                next = tokio::time::timeout(silence, socket.next()) => match next {
                    Err(_) => break format!("silent for {silence:?}"),
                    Ok(None) => break "closed by the server".to_string(),
                    Ok(Some(Err(e))) => break e.to_string(),
                    Ok(Some(Ok(Message::Text(text)))) => {
                        if tx.send(Incoming::Text { conn, text: text.to_string(), receive_ms: now_ms() }).await.is_err() {
                            return;
                        }
                    }
                    Ok(Some(Ok(Message::Ping(payload)))) => {
                        pacer.ready().await;
                        if socket.send(Message::Pong(payload)).await.is_err() {
                            break "pong failed".to_string();
                        }
                    }
                    Ok(Some(Ok(Message::Close(frame)))) => break format!("close frame {frame:?}"),
                    Ok(Some(Ok(_))) => {}
                }
            }
        },
    };
    let _ = tx.send(Incoming::Closed { conn, reason }).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_pacer_sends_at_most_five_a_second() {
        let mut pacer = Pacer::default();
        let start = tokio::time::Instant::now();
        let mut times = Vec::new();
        for _ in 0..12 {
            pacer.ready().await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate().skip(MAX_OUTGOING_PER_SECOND) {
            let window_start = times[i - MAX_OUTGOING_PER_SECOND];
            assert!(
                *t >= window_start + Duration::from_secs(1),
                "message {i} at {t:?}"
            );
        }
        assert!(
            times[4] < Duration::from_millis(1),
            "the first five go at once"
        );
        assert_eq!(times[11], Duration::from_secs(2));
    }
}
