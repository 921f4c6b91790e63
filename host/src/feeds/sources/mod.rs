//! Non-market sources the feature engine needs, as pollers with one event model: the Crypto
//! Fear & Greed index (alternative.me's JSON), macro series in FRED's CSV format, news
//! headlines from RSS 2.0 or Atom feeds, and social posts from Reddit, Telegram and X.
//!
//! Every value is stamped with `known_at`, the time this host received it: a value is never
//! visible earlier than it became known, whatever date the source puts on it (`observed_at`
//! says which period it describes). Pollers remember what they emitted and emit each value once.

mod fear_greed;
mod fred;
mod news;
mod poller;
pub mod social;

pub use fear_greed::parse_fear_greed;
pub use fred::parse_fred_csv;
pub use news::parse_feed;
pub use poller::{Format, Poller, PollerConfig, REQUEST_TIMEOUT};

/// A numeric value of a series.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observation {
    /// The source, e.g. `fear_greed`, `fred`.
    pub source: String,
    /// The series, e.g. `value`, `CPIAUCSL`.
    pub series: String,
    /// The period the value describes (ms).
    pub observed_at: i64,
    /// When this host received it (ms).
    pub known_at: i64,
    /// The value.
    #[serde(with = "exact")]
    pub value: f64,
    /// A label the source gives it (the index's classification, say).
    pub label: Option<String>,
}

/// A news headline.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Headline {
    /// The feed's name.
    pub source: String,
    /// The item's id (guid, id or link).
    pub id: String,
    /// The title.
    pub title: String,
    /// The publication time the feed gives (ms), if any.
    pub published_at: Option<i64>,
    /// When this host received it (ms).
    pub known_at: i64,
}

/// A social-media post or comment.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Post {
    /// The source's name (its poller's).
    pub source: String,
    /// Its id at the source (Reddit's fullname, Telegram's chat and message ids, the tweet's).
    pub id: String,
    /// Its author, as the source names them.
    pub author: String,
    /// Its text (a Reddit post's title and body).
    pub text: String,
    /// The engagement the source reports: Reddit's score and comments, X's likes, reposts,
    /// replies and quotes (0 where none is given, as by Telegram).
    #[serde(with = "exact")]
    pub engagement: f64,
    /// When the source says it was written (ms), if it does.
    pub created_at: Option<i64>,
    /// When this host received it (ms).
    pub known_at: i64,
}

/// A successful poll of a social source, whether or not it brought anything new: what tells
/// "nobody posted" from "the source could not be read".
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Poll {
    /// The source's name.
    pub source: String,
    /// When the answer arrived (ms).
    pub known_at: i64,
}

/// What a poller produces (recorded in captures as JSON tagged by `kind`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceEvent {
    /// A numeric value.
    Observation(Observation),
    /// A headline.
    Headline(Headline),
    /// A social post.
    Post(Post),
    /// A social source answered.
    Polled(Poll),
}

/// An f64 written as decimal text (Rust's shortest round-trip digits, never an exponent) and
/// read back exactly, NaN and infinities included (a JSON number would go through
/// serde_json's faster parser, which may miss by a unit in the last place).
mod exact {
    /// Writes `x` as text.
    pub fn serialize<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(x)
    }

    /// Reads the text back.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
