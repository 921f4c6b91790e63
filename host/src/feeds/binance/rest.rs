//! The Binance spot REST client: weight-limited, retrying 429/418 after `Retry-After` and
//! server errors with jittered backoff, paging klines over any range exactly once.

use super::KLINES_LIMIT;
use super::types::{DepthSnapshot, ExchangeInfo, KlineRow, TradeTick, kline_row};
use super::weight::WeightLimiter;
use crate::feeds::candles::Candle;
use std::time::Duration;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The server answered with an error (Binance's `{"code": ..., "msg": ...}` when it sent one).
    #[error("{path}: HTTP {status}: {message}")]
    Http {
        /// The endpoint.
        path: String,
        /// HTTP status.
        status: u16,
        /// Binance's message, or the body.
        message: String,
    },
    /// The server could not be reached.
    #[error("{path}: {message}")]
    Transport {
        /// The endpoint.
        path: String,
        /// The cause.
        message: String,
    },
    /// The answer is not what the documentation describes.
    #[error("{path}: malformed answer: {message}")]
    Malformed {
        /// The endpoint.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Still failing after every retry.
    #[error("{path}: gave up after {attempts} attempts; last: {last}")]
    Exhausted {
        /// The endpoint.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// A client for one REST base URL.
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    limiter: WeightLimiter,
    /// Attempts per request before giving up (default 6).
    pub max_attempts: u32,
    /// Retries observed (429/418, server errors, transport failures), for monitoring and tests.
    pub retries: std::sync::atomic::AtomicU64,
}

impl RestClient {
    /// The base URL it talks to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A client for `base` (e.g. `https://api.binance.com` or the simulator's address).
    pub fn new(base: &str) -> Self {
        RestClient {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            base: base.trim_end_matches('/').to_string(),
            limiter: WeightLimiter::new(6000),
            max_attempts: 6,
            retries: Default::default(),
        }
    }

    fn backoff(attempt: u32) -> Duration {
        let base = 200u64 << attempt.min(6);
        let jitter = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos() as u64)
            % (base / 2 + 1);
        Duration::from_millis(base + jitter)
    }

    /// GETs `path` with `query`, spending `weight`; retries what can be retried.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        weight: u32,
    ) -> Result<String, RestError> {
        let mut last = String::new();
        for attempt in 0..self.max_attempts {
            if attempt > 0 {
                self.retries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            // Waiting for the weight budget is not an attempt.
            loop {
                let wait = self.limiter.delay_for(weight);
                if wait.is_zero() {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
            let response = match self
                .http
                .get(format!("{}{path}", self.base))
                .query(query)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    last = e.to_string();
                    tokio::time::sleep(Self::backoff(attempt)).await;
                    continue;
                }
            };
            if let Some(used) = response
                .headers()
                .get("x-mbx-used-weight-1m")
                .and_then(|v| v.to_str().ok()?.parse().ok())
            {
                self.limiter.observe_used(used);
            }
            let status = response.status();
            if status.as_u16() == 429 || status.as_u16() == 418 {
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .map_or_else(|| Self::backoff(attempt), Duration::from_secs);
                tracing::warn!(
                    path,
                    status = status.as_u16(),
                    ?retry_after,
                    "rate limited by the exchange; backing off"
                );
                self.limiter.block_for(retry_after);
                last = format!("HTTP {status}");
                continue;
            }
            let body = match response.text().await {
                Ok(b) => b,
                Err(e) => {
                    last = e.to_string();
                    tokio::time::sleep(Self::backoff(attempt)).await;
                    continue;
                }
            };
            if status.is_server_error() {
                last = format!("HTTP {status}: {body}");
                tokio::time::sleep(Self::backoff(attempt)).await;
                continue;
            }
            if !status.is_success() {
                let message = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| Some(format!("{} (code {})", v["msg"].as_str()?, v["code"])))
                    .unwrap_or(body);
                return Err(RestError::Http {
                    path: path.to_string(),
                    status: status.as_u16(),
                    message,
                });
            }
            return Ok(body);
        }
        Err(RestError::Exhausted {
            path: path.to_string(),
            attempts: self.max_attempts,
            last,
        })
    }

    /// Parses a body, retrying the request once more per attempt when the answer is malformed.
    async fn get_parsed<T>(
        &self,
        path: &str,
        query: &[(&str, String)],
        weight: u32,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, RestError> {
        let mut last = String::new();
        for _ in 0..self.max_attempts {
            let body = self.get(path, query, weight).await?;
            match parse(&body) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    tracing::warn!(path, "malformed answer, asking again: {e}");
                    self.retries
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    last = e;
                }
            }
        }
        Err(RestError::Malformed {
            path: path.to_string(),
            message: last,
        })
    }

    /// Server time in milliseconds.
    pub async fn server_time(&self) -> Result<i64, RestError> {
        self.get_parsed("/api/v3/time", &[], 1, |b| {
            serde_json::from_str::<serde_json::Value>(b)
                .ok()
                .and_then(|v| v["serverTime"].as_i64())
                .ok_or_else(|| format!("no serverTime in {b:?}"))
        })
        .await
    }

    /// Server time minus local time, measured at the midpoint of the request, in milliseconds.
    pub async fn clock_offset_ms(&self) -> Result<i64, RestError> {
        let before = now_ms();
        let server = self.server_time().await?;
        let after = now_ms();
        Ok(server - (before + after) / 2)
    }

    /// Every symbol's trading rules.
    pub async fn exchange_info(&self) -> Result<ExchangeInfo, RestError> {
        self.get_parsed("/api/v3/exchangeInfo", &[], 20, ExchangeInfo::parse)
            .await
    }

    /// A depth snapshot of up to `limit` levels a side.
    pub async fn depth(&self, symbol: &str, limit: u32) -> Result<DepthSnapshot, RestError> {
        let weight = super::depth_weight(limit);
        self.get_parsed(
            "/api/v3/depth",
            &[("symbol", symbol.to_string()), ("limit", limit.to_string())],
            weight,
            DepthSnapshot::parse,
        )
        .await
    }

    /// The most recent `limit` trades (at most 1000).
    pub async fn recent_trades(
        &self,
        symbol: &str,
        limit: u32,
    ) -> Result<Vec<TradeTick>, RestError> {
        self.get_parsed(
            "/api/v3/trades",
            &[("symbol", symbol.to_string()), ("limit", limit.to_string())],
            25,
            TradeTick::parse_trades,
        )
        .await
    }

    /// Trades from id `from_id` on, at most `limit` (1000): `/api/v3/historicalTrades`.
    pub async fn historical_trades(
        &self,
        symbol: &str,
        from_id: u64,
        limit: u32,
    ) -> Result<Vec<TradeTick>, RestError> {
        self.get_parsed(
            "/api/v3/historicalTrades",
            &[
                ("symbol", symbol.to_string()),
                ("limit", limit.to_string()),
                ("fromId", from_id.to_string()),
            ],
            25,
            TradeTick::parse_trades,
        )
        .await
    }

    /// Aggregate trades from id `from_id` (or the most recent), at most `limit` (1000).
    pub async fn agg_trades(
        &self,
        symbol: &str,
        from_id: Option<u64>,
        limit: u32,
    ) -> Result<Vec<TradeTick>, RestError> {
        let mut query = vec![("symbol", symbol.to_string()), ("limit", limit.to_string())];
        if let Some(id) = from_id {
            query.push(("fromId", id.to_string()));
        }
        self.get_parsed("/api/v3/aggTrades", &query, 4, TradeTick::parse_agg_trades)
            .await
    }

    /// One page of klines opening in `start..=end`.
    pub async fn klines(
        &self,
        symbol: &str,
        interval: &str,
        start: i64,
        end: i64,
        limit: u32,
    ) -> Result<Vec<Candle>, RestError> {
        let query = [
            ("symbol", symbol.to_string()),
            ("interval", interval.to_string()),
            ("startTime", start.to_string()),
            ("endTime", end.to_string()),
            ("limit", limit.to_string()),
        ];
        self.get_parsed("/api/v3/klines", &query, 2, |body| {
            let rows: Vec<KlineRow> = serde_json::from_str(body).map_err(|e| e.to_string())?;
            rows.iter().map(kline_row).collect()
        })
        .await
    }

    /// Every kline opening in `from..to`, each exactly once and in order.
    pub async fn klines_between(
        &self,
        symbol: &str,
        interval: &str,
        interval_ms: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<Candle>, RestError> {
        let mut all = Vec::new();
        let mut start = from;
        while start < to {
            let (page, more) = self.klines_page_after(symbol, interval, start, to).await?;
            let Some(last) = page.last() else { break };
            start = last.open_time + interval_ms;
            all.extend(page);
            if !more {
                break;
            }
        }
        Ok(all)
    }

    /// One page of klines opening in `start..to`, checked to be in order, and whether the page
    /// was full (more may follow).
    async fn klines_page_after(
        &self,
        symbol: &str,
        interval: &str,
        start: i64,
        to: i64,
    ) -> Result<(Vec<Candle>, bool), RestError> {
        let page = self
            .klines(symbol, interval, start, to - 1, KLINES_LIMIT)
            .await?;
        // A short page is the end of what the exchange has now; asking again would only chase
        // candles closing meanwhile.
        let more = page.len() >= KLINES_LIMIT as usize;
        let fresh: Vec<Candle> = page
            .into_iter()
            .filter(|c| c.open_time >= start && c.open_time < to)
            .collect();
        if let Some(w) = fresh.windows(2).find(|w| w[1].open_time <= w[0].open_time) {
            return Err(RestError::Malformed {
                path: "/api/v3/klines".into(),
                message: format!(
                    "open times out of order: {} then {}",
                    w[0].open_time, w[1].open_time
                ),
            });
        }
        Ok((fresh, more))
    }

    /// Every kline opening in `from..to`, page by page, each exactly once and in order;
    /// `on_page` sees each page as it arrives (for storage and progress).
    pub async fn klines_range(
        &self,
        symbol: &str,
        interval: &str,
        interval_ms: i64,
        from: i64,
        to: i64,
        mut on_page: impl AsyncFnMut(Vec<Candle>) -> Result<(), RestError>,
    ) -> Result<u64, RestError> {
        let mut start = from;
        let mut total = 0u64;
        while start < to {
            let (fresh, more) = self.klines_page_after(symbol, interval, start, to).await?;
            let Some(last) = fresh.last() else { break };
            start = last.open_time + interval_ms;
            total += fresh.len() as u64;
            on_page(fresh).await?;
            if !more {
                break;
            }
        }
        Ok(total)
    }
}

fn now_ms() -> i64 {
    crate::model::time::wall_clock_ms()
}
