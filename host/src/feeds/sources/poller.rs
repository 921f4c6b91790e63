//! A poller: fetches one source every `every_s` seconds, parses the answer in the configured
//! format, and emits each value, headline or post once.
//!
//! Social sources page on: Telegram's next request asks for updates after the last one
//! (`offset`), X's for tweets after the newest (`since_id`). A source that says it is rate
//! limited (429, with `Retry-After`, X's `x-rate-limit-reset` or Telegram's `retry_after`) is
//! not asked again before it said; any failure (a 5xx, a malformed answer) is logged and the
//! source asked again at the next period, nothing emitted from it. Tokens come from the
//! environment and never appear in errors or logs.

use super::social::{self, TelegramPage, XPage};
use super::{SourceEvent, fear_greed, fred, news};
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::mpsc;

/// The format of a source's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// alternative.me's Fear & Greed JSON.
    FearGreed,
    /// A FRED CSV download.
    FredCsv,
    /// An RSS 2.0 or Atom feed.
    Feed,
    /// A Reddit listing (`https://www.reddit.com/r/<sub>/new.json`, or `comments.json`).
    Reddit,
    /// Telegram's Bot API `getUpdates` (`https://api.telegram.org/bot{token}/getUpdates`).
    Telegram,
    /// X's API v2 recent search (`https://api.x.com/2/tweets/search/recent?query=...`).
    XRecentSearch,
}

impl Format {
    /// Whether the source gives social posts.
    pub fn is_social(self) -> bool {
        matches!(
            self,
            Format::Reddit | Format::Telegram | Format::XRecentSearch
        )
    }
}

/// One source to poll.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollerConfig {
    /// A name for logs, headline and post sources, and social features
    /// (`social.<name>.<feature>`).
    pub name: String,
    /// The URL. For Telegram `{token}` stands for the bot's token.
    pub url: String,
    /// Its format.
    pub format: Format,
    /// Seconds between polls.
    pub every_s: u64,
    /// The environment variable holding the source's token: Telegram's bot token (put into
    /// the URL), X's bearer token (sent as `Authorization: Bearer`).
    #[serde(default)]
    pub token_env: Option<String>,
}

impl PollerConfig {
    /// Checks what can be checked before the first poll: a source that needs a token names
    /// the variable holding it.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        if name.is_empty() || self.url.is_empty() {
            return Err("sources: every source needs a name and a url".into());
        }
        if self.format == Format::Telegram
            && self.url.contains("{token}")
            && self.token_env.is_none()
        {
            return Err(format!(
                "sources.{name}: the Telegram URL's {{token}} needs token_env, the variable holding the bot's token"
            ));
        }
        if self.format == Format::XRecentSearch && self.token_env.is_none() {
            return Err(format!(
                "sources.{name}: X's recent search needs token_env, the variable holding the bearer token"
            ));
        }
        Ok(())
    }
}

/// Ids of what was emitted, the oldest forgotten past a bound.
#[derive(Debug, Default)]
struct Seen {
    set: HashSet<String>,
    order: VecDeque<String>,
}

/// Ids remembered per source.
const SEEN_KEPT: usize = 100_000;

impl Seen {
    /// Whether `key` is new (and remembers it).
    fn insert(&mut self, key: String) -> bool {
        if !self.set.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > SEEN_KEPT
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// Polls one source and remembers what it emitted.
pub struct Poller {
    config: PollerConfig,
    http: reqwest::Client,
    seen: Seen,
    /// Where the next request starts (Telegram's `offset`, X's `since_id`).
    cursor: Option<String>,
    /// How long the source asked to be left alone after its last answer.
    retry_after: Option<Duration>,
}

fn now_ms() -> i64 {
    crate::model::time::wall_clock_ms()
}

impl Poller {
    /// A poller for `config`.
    pub fn new(config: PollerConfig) -> Self {
        Poller {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("stratbox/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("HTTP client"),
            seen: Seen::default(),
            cursor: None,
            retry_after: None,
        }
    }

    /// How long the source asked to wait after the last poll (a 429's), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The source's token, from the environment, when it has one.
    fn token(&self) -> Result<Option<String>, String> {
        let Some(var) = &self.config.token_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(t) if !t.is_empty() => Ok(Some(t)),
            _ => Err(format!(
                "{}: the token variable {var} is not set",
                self.config.name
            )),
        }
    }

    /// The request for the next poll.
    fn request(&self) -> Result<reqwest::RequestBuilder, String> {
        let token = self.token()?;
        let mut url = self.config.url.clone();
        if let Some(t) = &token
            && self.config.format == Format::Telegram
        {
            url = url.replace("{token}", t);
        }
        let mut request = self.http.get(url);
        match (self.config.format, &self.cursor) {
            (Format::Telegram, Some(offset)) => request = request.query(&[("offset", offset)]),
            (Format::XRecentSearch, Some(since)) => {
                request = request.query(&[("since_id", since)]);
            }
            _ => {}
        }
        if let Some(t) = &token
            && self.config.format == Format::XRecentSearch
        {
            request = request.bearer_auth(t);
        }
        Ok(request)
    }

    /// Fetches and parses once; returns only what was not emitted before.
    pub async fn poll(&mut self) -> Result<Vec<SourceEvent>, String> {
        self.retry_after = None;
        let name = self.config.name.clone();
        // Errors drop the URL: a Telegram URL holds the bot's token.
        let response = self
            .request()?
            .send()
            .await
            .map_err(|e| format!("{name}: {}", e.without_url()))?;
        let status = response.status();
        let wait = wait_asked(response.headers());
        let body = response
            .text()
            .await
            .map_err(|e| format!("{name}: {}", e.without_url()))?;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait =
                wait.or_else(|| social::telegram_retry_after(&body).map(Duration::from_secs));
            self.retry_after = wait;
            return Err(match wait {
                Some(w) => format!("{name}: HTTP {status}; asked to wait {} s", w.as_secs()),
                None => format!("{name}: HTTP {status}"),
            });
        }
        if !status.is_success() {
            return Err(format!("{name}: HTTP {status}"));
        }
        let known_at = now_ms();
        let events: Vec<SourceEvent> = match self.config.format {
            Format::FearGreed => fear_greed::parse_fear_greed(&body, known_at)?
                .into_iter()
                .map(SourceEvent::Observation)
                .collect(),
            Format::FredCsv => fred::parse_fred_csv(&body, known_at)?
                .into_iter()
                .map(SourceEvent::Observation)
                .collect(),
            Format::Feed => news::parse_feed(&body, &name, known_at)?
                .into_iter()
                .map(SourceEvent::Headline)
                .collect(),
            Format::Reddit => social::parse_reddit(&body, &name, known_at)?
                .into_iter()
                .map(SourceEvent::Post)
                .collect(),
            Format::Telegram => {
                let TelegramPage { posts, next_offset } =
                    social::parse_telegram(&body, &name, known_at)?;
                if let Some(offset) = next_offset {
                    self.cursor = Some(offset.to_string());
                }
                posts.into_iter().map(SourceEvent::Post).collect()
            }
            Format::XRecentSearch => {
                let XPage { posts, newest_id } = social::parse_x_search(&body, &name, known_at)?;
                if newest_id.is_some() {
                    self.cursor = newest_id;
                }
                posts.into_iter().map(SourceEvent::Post).collect()
            }
        };
        Ok(events
            .into_iter()
            .filter(|e| {
                let key = match e {
                    SourceEvent::Observation(o) => {
                        format!("{}/{}/{}", o.source, o.series, o.observed_at)
                    }
                    SourceEvent::Headline(h) => format!("{}/{}", h.source, h.id),
                    SourceEvent::Post(p) => format!("{}/{}", p.source, p.id),
                };
                self.seen.insert(key)
            })
            .collect())
    }

    /// Polls every `every_s` seconds (longer when the source asked to wait) until `out` is
    /// dropped; failures are logged and retried at the next period.
    pub async fn run(mut self, out: mpsc::Sender<SourceEvent>) {
        let period = Duration::from_secs(self.config.every_s.max(1));
        loop {
            match self.poll().await {
                Ok(events) => {
                    for e in events {
                        if out.send(e).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!("source poll failed: {e}"),
            }
            tokio::time::sleep(self.retry_after.map_or(period, |w| w.max(period))).await;
        }
    }
}

/// The wait a rate-limited answer's headers ask for: `Retry-After` in seconds, or X's
/// `x-rate-limit-reset` (the epoch second the window resets).
fn wait_asked(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
    if let Some(s) = number("retry-after") {
        return Some(Duration::from_secs(s.max(0) as u64));
    }
    let reset = number("x-rate-limit-reset")?;
    Some(Duration::from_secs((reset - now_ms() / 1000).max(0) as u64))
}
