//! A poller: fetches one source every `every_s` seconds, parses the answer in the configured
//! format, and emits each value, headline or post once.
//!
//! Social sources page on: Telegram's next request asks for updates after the last one
//! (`offset`), X's for tweets after the newest (`since_id`), following the search's further
//! pages (`pagination_token`) before moving on; a Reddit listing is followed to older pages
//! (`after`) until a post seen before turns up (the first poll takes the first page only). A
//! source that says it is rate limited (429, or no requests left, with `Retry-After` in seconds
//! or as a date, X's `x-rate-limit-reset` epoch or Reddit's `x-ratelimit-reset` seconds, or
//! Telegram's `retry_after`) is not asked again before it said (an hour at most); any failure
//! (a 5xx, a malformed answer) is logged with the start of the answer, nothing emitted from it,
//! and the source asked again after a backoff that doubles with each failure in a row (15
//! minutes at most). Tokens come from the environment and never appear in errors or logs. A
//! social source's successful poll ends with a [`super::SourceEvent::Polled`], so that the
//! features tell a quiet source from one that could not be read.

use super::social::{self, RedditPage, TelegramPage, XPage};
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
    /// The token itself, given by the caller rather than read from `token_env` (never from a
    /// configuration file).
    #[serde(skip)]
    pub token: Option<String>,
    /// The `User-Agent` sent (Reddit asks for `<platform>:<app id>:<version> (by /u/<name>)`).
    #[serde(default)]
    pub user_agent: Option<String>,
}

/// Pages one poll follows at most (Reddit's listings, X's search).
const MAX_PAGES: usize = 10;

/// How long one request to a source may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest wait a source's rate-limit headers are obeyed for.
const MAX_ASKED_WAIT: Duration = Duration::from_secs(3600);

/// The longest backoff after failures in a row.
const MAX_BACKOFF: Duration = Duration::from_secs(900);

impl PollerConfig {
    /// Checks what can be checked before the first poll: a source that needs a token names
    /// the variable holding it.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        if name.is_empty() || self.url.is_empty() {
            return Err("sources: every source needs a name and a url".into());
        }
        if self.format == Format::Telegram
            && (!self.url.contains("{token}") || self.token_env.is_none())
        {
            return Err(format!(
                "sources.{name}: write {{token}} in the Telegram URL and name the variable holding the bot's token in token_env, so the token is never in a file or a log"
            ));
        }
        if self.token_env.is_some()
            && !matches!(self.format, Format::Telegram | Format::XRecentSearch)
        {
            return Err(format!(
                "sources.{name}: token_env is read for telegram and x_recent_search sources only"
            ));
        }
        if matches!(self.format, Format::Reddit | Format::XRecentSearch) && self.every_s < 10 {
            return Err(format!(
                "sources.{name}: every_s must be at least 10 for {:?} (its rate limits)",
                self.format
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
    fn contains(&self, key: &str) -> bool {
        self.set.contains(key)
    }

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
    /// Polls failed in a row.
    failures: u32,
}

fn now_ms() -> i64 {
    crate::model::time::wall_clock_ms()
}

impl Poller {
    /// A poller for `config`.
    pub fn new(config: PollerConfig) -> Self {
        Poller {
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .user_agent(config.user_agent.clone().unwrap_or_else(|| {
                    concat!("stratbox:market-research:", env!("CARGO_PKG_VERSION")).into()
                }))
                .build()
                .expect("HTTP client"),
            config,
            seen: Seen::default(),
            cursor: None,
            retry_after: None,
            failures: 0,
        }
    }

    /// How long the source asked to wait after the last poll (a 429's), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The source's token, given or from the environment, when it has one.
    fn token(&self) -> Result<Option<String>, String> {
        if let Some(t) = &self.config.token {
            return Ok(Some(t.clone()));
        }
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

    /// The request for a page of the next poll (`page`: Reddit's `after`, X's
    /// `pagination_token`).
    fn request(&self, page: Option<&str>) -> Result<reqwest::RequestBuilder, String> {
        let token = self.token()?;
        let mut url = self.config.url.clone();
        if let Some(t) = &token
            && self.config.format == Format::Telegram
        {
            url = url.replace("{token}", t);
        }
        let mut request = self.http.get(url);
        match self.config.format {
            Format::Telegram => {
                if let Some(offset) = &self.cursor {
                    request = request.query(&[("offset", offset)]);
                }
            }
            Format::XRecentSearch => {
                if let Some(since) = &self.cursor {
                    request = request.query(&[("since_id", since)]);
                }
                if let Some(page) = page {
                    request = request.query(&[("pagination_token", page)]);
                }
                if let Some(t) = &token {
                    request = request.bearer_auth(t);
                }
            }
            Format::Reddit => {
                if let Some(after) = page {
                    request = request.query(&[("after", after)]);
                }
            }
            _ => {}
        }
        Ok(request)
    }

    /// One page's answer, or an error naming the source (a rate limit's wait recorded).
    async fn fetch(&mut self, page: Option<&str>) -> Result<String, String> {
        let name = self.config.name.clone();
        // Errors drop the URL: a Telegram URL holds the bot's token.
        let response = self
            .request(page)?
            .send()
            .await
            .map_err(|e| format!("{name}: {}", e.without_url()))?;
        let status = response.status();
        let limited = status == reqwest::StatusCode::TOO_MANY_REQUESTS;
        let wait = wait_asked(response.headers(), limited);
        let body = response
            .text()
            .await
            .map_err(|e| format!("{name}: {}", e.without_url()))?;
        if limited {
            let wait = wait
                .or_else(|| social::telegram_retry_after(&body).map(Duration::from_secs))
                .map(|w| w.min(MAX_ASKED_WAIT));
            self.retry_after = wait;
            return Err(match wait {
                Some(w) => format!("{name}: HTTP {status}; asked to wait {} s", w.as_secs()),
                None => format!("{name}: HTTP {status}"),
            });
        }
        // No requests left in the window: the next poll waits for it.
        self.retry_after = wait.map(|w| w.min(MAX_ASKED_WAIT));
        if !status.is_success() {
            // X refuses a since_id older than its seven days: start the search over.
            if self.config.format == Format::XRecentSearch
                && status == reqwest::StatusCode::BAD_REQUEST
                && body.contains("since_id")
            {
                self.cursor = None;
            }
            return Err(format!("{name}: HTTP {status}: {}", snippet(&body)));
        }
        Ok(body)
    }

    /// Fetches and parses once (following pages where the source has them); returns only what
    /// was not emitted before.
    pub async fn poll(&mut self) -> Result<Vec<SourceEvent>, String> {
        let result = self.poll_pages().await;
        self.failures = if result.is_ok() {
            0
        } else {
            self.failures.saturating_add(1)
        };
        result
    }

    async fn poll_pages(&mut self) -> Result<Vec<SourceEvent>, String> {
        self.retry_after = None;
        let name = self.config.name.clone();
        let mut events: Vec<SourceEvent> = Vec::new();
        let mut page: Option<String> = None;
        let mut newest: Option<String> = None;
        let first_poll = self.seen.order.is_empty();
        for n in 0..MAX_PAGES {
            let body = self.fetch(page.as_deref()).await?;
            let known_at = now_ms();
            let next = match self.config.format {
                Format::FearGreed => {
                    events.extend(
                        fear_greed::parse_fear_greed(&body, known_at)?
                            .into_iter()
                            .map(SourceEvent::Observation),
                    );
                    None
                }
                Format::FredCsv => {
                    events.extend(
                        fred::parse_fred_csv(&body, known_at)?
                            .into_iter()
                            .map(SourceEvent::Observation),
                    );
                    None
                }
                Format::Feed => {
                    events.extend(
                        news::parse_feed(&body, &name, known_at)?
                            .into_iter()
                            .map(SourceEvent::Headline),
                    );
                    None
                }
                Format::Reddit => {
                    let RedditPage { posts, after } = social::parse_reddit(&body, &name, known_at)?;
                    // Older pages only while every post is new (and never on the first poll,
                    // which does not reach into the past).
                    let all_new = posts
                        .iter()
                        .all(|p| !self.seen.contains(&format!("{}/{}", p.source, p.id)));
                    events.extend(posts.into_iter().map(SourceEvent::Post));
                    after.filter(|_| all_new && !first_poll)
                }
                Format::Telegram => {
                    let TelegramPage { posts, next_offset } =
                        social::parse_telegram(&body, &name, known_at)?;
                    if let Some(offset) = next_offset {
                        self.cursor = Some(offset.to_string());
                    }
                    events.extend(posts.into_iter().map(SourceEvent::Post));
                    None
                }
                Format::XRecentSearch => {
                    let XPage {
                        posts,
                        newest_id,
                        next_token,
                    } = social::parse_x_search(&body, &name, known_at)?;
                    if n == 0 {
                        newest = newest_id;
                    }
                    events.extend(posts.into_iter().map(SourceEvent::Post));
                    next_token
                }
            };
            match next {
                Some(next) if n + 1 < MAX_PAGES => page = Some(next),
                Some(_) => {
                    tracing::warn!(
                        "{name}: more than {MAX_PAGES} pages new since the last poll; the rest are skipped (poll more often)"
                    );
                    break;
                }
                None => break,
            }
        }
        // The search moves on only once all its pages are in.
        if newest.is_some() {
            self.cursor = newest;
        }
        let mut fresh: Vec<SourceEvent> = events
            .into_iter()
            .filter(|e| {
                let key = match e {
                    SourceEvent::Observation(o) => {
                        format!("{}/{}/{}", o.source, o.series, o.observed_at)
                    }
                    SourceEvent::Headline(h) => format!("{}/{}", h.source, h.id),
                    SourceEvent::Post(p) => format!("{}/{}", p.source, p.id),
                    // Parsers give no polls (the mark is added below); none to deduplicate.
                    SourceEvent::Polled(_) => return true,
                };
                self.seen.insert(key)
            })
            .collect();
        // A social source's silence means something only while it answers.
        if self.config.format.is_social() {
            fresh.push(SourceEvent::Polled(super::Poll {
                source: name,
                known_at: now_ms(),
            }));
        }
        Ok(fresh)
    }

    /// How long to wait before the next poll: the period, longer when the source asked for it,
    /// doubled with each failure in a row up to [`MAX_BACKOFF`].
    pub fn next_wait(&self, period: Duration) -> Duration {
        let backoff = if self.failures == 0 {
            period
        } else {
            (period * 2u32.saturating_pow(self.failures.min(16))).min(MAX_BACKOFF.max(period))
        };
        self.retry_after.map_or(backoff, |w| w.max(backoff))
    }

    /// Polls every `every_s` seconds (longer when the source asked to wait, or after failures:
    /// [`Poller::next_wait`], with a tenth of jitter) until `out` is dropped; failures are logged.
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
            let wait = self.next_wait(period);
            let jitter = (now_ms().rem_euclid(1000) as u32) * wait / 10_000;
            tokio::time::sleep(wait + jitter).await;
        }
    }
}

/// The start of an answer, on one line, for an error.
fn snippet(body: &str) -> String {
    let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line,
    }
}

/// The wait a rate-limited answer's headers ask for (`limited`: it was refused), or any
/// answer's once no request is left in the window: `Retry-After` in seconds or as a date, X's
/// `x-rate-limit-reset` (the epoch second the window resets), Reddit's `x-ratelimit-reset`
/// (seconds until it does).
fn wait_asked(headers: &reqwest::header::HeaderMap, limited: bool) -> Option<Duration> {
    let text = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    let number = |name: &str| text(name)?.parse::<f64>().ok().filter(|n| n.is_finite());
    let seconds = |s: f64| Duration::from_secs_f64(s.max(0.0));
    if let Some(t) = text("retry-after") {
        if let Ok(s) = t.parse::<f64>() {
            return Some(seconds(s));
        }
        if let Some(at) = super::news::parse_date(t) {
            return Some(seconds((at - now_ms()) as f64 / 1e3));
        }
    }
    let exhausted = |name: &str| number(name).is_some_and(|left| left < 1.0);
    if (limited || exhausted("x-rate-limit-remaining"))
        && let Some(reset) = number("x-rate-limit-reset")
    {
        return Some(seconds(reset - now_ms() as f64 / 1e3));
    }
    if (limited || exhausted("x-ratelimit-remaining"))
        && let Some(s) = number("x-ratelimit-reset")
    {
        return Some(seconds(s));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poller(format: Format) -> Poller {
        Poller::new(PollerConfig {
            name: "s".into(),
            url: "http://127.0.0.1:9/".into(),
            format,
            every_s: 60,
            token_env: None,
            token: None,
            user_agent: None,
        })
    }

    #[test]
    fn failures_in_a_row_back_off_and_a_sources_own_wait_wins() {
        let mut p = poller(Format::Reddit);
        let minute = Duration::from_secs(60);
        assert_eq!(p.next_wait(minute), minute);
        p.failures = 3;
        assert_eq!(p.next_wait(minute), 8 * minute);
        p.failures = 30;
        assert_eq!(p.next_wait(minute), MAX_BACKOFF);
        p.retry_after = Some(Duration::from_secs(1_200));
        assert_eq!(p.next_wait(minute), Duration::from_secs(1_200));
        p.failures = 0;
        p.retry_after = Some(Duration::from_secs(5));
        assert_eq!(p.next_wait(minute), minute, "never sooner than the period");
    }

    #[test]
    fn rate_limit_headers_of_each_api_give_their_wait() {
        let headers = |pairs: &[(&'static str, String)]| {
            let mut h = reqwest::header::HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        let secs = |h: &reqwest::header::HeaderMap, limited| {
            wait_asked(h, limited).map(|d| d.as_secs_f64().round() as i64)
        };
        assert_eq!(
            secs(&headers(&[("retry-after", "7".into())]), true),
            Some(7)
        );
        let later = crate::model::time::format_utc(now_ms() + 120_000, true);
        let (date, time) = later.split_once(' ').unwrap();
        let (y, rest) = date.split_once('-').unwrap();
        let (m, d) = rest.split_once('-').unwrap();
        let month = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ][m.parse::<usize>().unwrap() - 1];
        let http_date = format!("Mon, {d} {month} {y} {time} GMT");
        let w = secs(&headers(&[("retry-after", http_date)]), true).unwrap();
        assert!((118..=120).contains(&w), "{w}");
        let reset = (now_ms() / 1000 + 30).to_string();
        let x = headers(&[
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", reset),
        ]);
        let w = secs(&x, false).unwrap();
        assert!(
            (29..=30).contains(&w),
            "X: no request left, even on a 200: {w}"
        );
        let reddit = headers(&[
            ("x-ratelimit-remaining", "0.0".into()),
            ("x-ratelimit-reset", "287".into()),
        ]);
        assert_eq!(secs(&reddit, false), Some(287));
        let fine = headers(&[
            ("x-ratelimit-remaining", "598.0".into()),
            ("x-ratelimit-reset", "287".into()),
        ]);
        assert_eq!(secs(&fine, false), None);
        assert_eq!(secs(&fine, true), Some(287));
    }

    #[test]
    fn configurations_that_would_leak_a_token_or_hammer_a_source_are_refused() {
        let config = |format, url: &str, token_env: Option<&str>, every_s| PollerConfig {
            name: "s".into(),
            url: url.into(),
            format,
            every_s,
            token_env: token_env.map(String::from),
            token: None,
            user_agent: None,
        };
        let tg = "https://api.telegram.org/bot{token}/getUpdates";
        assert!(
            config(Format::Telegram, tg, Some("TG"), 5)
                .validate()
                .is_ok()
        );
        let literal = "https://api.telegram.org/bot123456:AAE-secret/getUpdates";
        let err = config(Format::Telegram, literal, Some("TG"), 5)
            .validate()
            .unwrap_err();
        assert!(err.contains("write {token} in the Telegram URL"), "{err}");
        assert!(config(Format::Telegram, tg, None, 5).validate().is_err());
        let err = config(Format::Feed, "https://x/rss", Some("T"), 60)
            .validate()
            .unwrap_err();
        assert!(err.contains("token_env is read for"), "{err}");
        let err = config(Format::Reddit, "https://r/new.json", None, 2)
            .validate()
            .unwrap_err();
        assert!(err.contains("every_s must be at least 10"), "{err}");
        assert!(
            config(
                Format::XRecentSearch,
                "https://api.x.com/2/tweets/search/recent",
                None,
                60
            )
            .validate()
            .is_err()
        );
    }
}
