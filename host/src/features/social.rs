//! Social features per symbol and social source (`social.<source>.<name>`), from the posts the
//! source has delivered: how much a symbol is talked about, how fast that changes, its share of
//! the talk, the mood of what is said and by how many people. A post counts from the moment this
//! host received it, never earlier.
//!
//! A post mentions a symbol when it names the symbol (`BTCUSDT`, `$BTCUSDT`) or its base asset
//! (BTC for BTCUSDT and BTCEUR): its cashtag (`$BTC`, any case, `$SOL🚀` too), its ticker in
//! capitals (`BTC`), a well-known asset's unambiguous name or lower-case ticker (`bitcoin`,
//! `btc`), or an alias configured for it. A ticker of one or two letters, or one that is an
//! English word (ONE, NOT, GAS, NEAR), counts only as a cashtag, and capitals count not at all
//! in a post written mostly in capitals.
//!
//! A post the source says was written more than a window before it was received (a backlog
//! after a restart or an outage) is not counted: it would tell the present about the past. The
//! share of voice counts each post once per base asset it names, however many of the asset's
//! pairs are followed. Engagement is as the source reported it when the post was first seen.
//!
//! A source that has not answered within the window (no successful poll, no post) gives NaN
//! for every feature: its mentions are unknown, not zero, while it is down or rate limited.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use super::lexicon;
use crate::feeds::sources::Post;
use crate::model::{SymbolId, SymbolTable};

/// Which social sources are features and how mentions are found.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocialConfig {
    /// Social sources (their poller names) published as features; the service adds every
    /// configured Reddit, Telegram and X source.
    pub sources: Vec<String>,
    /// How far back mentions count, minutes.
    pub window_minutes: u64,
    /// More single-word names of a base asset (`BTC = ["sats", "₿"]`), matched in any case.
    pub aliases: BTreeMap<String, Vec<String>>,
}

impl Default for SocialConfig {
    fn default() -> Self {
        SocialConfig {
            sources: Vec::new(),
            window_minutes: 60,
            aliases: BTreeMap::new(),
        }
    }
}

/// Feature names (after `social.<source>.`) with descriptions.
pub const SOCIAL_FEATURES: [(&str, &str); 7] = [
    (
        "mentions",
        "posts mentioning the symbol received in the window",
    ),
    (
        "mention_velocity",
        "mentions in the window less mentions in the window before it",
    ),
    (
        "share_of_voice",
        "the symbol's share of every symbol's mentions in the window (0..1)",
    ),
    (
        "sentiment",
        "mean lexicon score of the window's mentions (-1..1)",
    ),
    (
        "weighted_sentiment",
        "mean score weighted by engagement: each mention weighs 1 + ln(1 + engagement)",
    ),
    ("authors", "distinct authors of the window's mentions"),
    (
        "author_diversity",
        "distinct authors per mention in the window (0..1)",
    ),
];

/// Quote assets stripped from a symbol to find its base asset, longest first.
const QUOTES: [&str; 27] = [
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "USD1", "USD", "DAI", "EUR", "TRY", "BRL",
    "GBP", "JPY", "AUD", "RUB", "PLN", "MXN", "ARS", "ZAR", "UAH", "IDR", "COP", "CZK", "BTC",
    "ETH", "BNB",
];

/// Unambiguous names of well-known assets matched in any case, their lower-case ticker among
/// them (names that are English words, such as stellar or ripple, are left out).
const KNOWN: [(&str, &[&str]); 16] = [
    ("BTC", &["btc", "bitcoin", "₿"]),
    ("ETH", &["eth", "ethereum"]),
    ("BNB", &["bnb"]),
    ("SOL", &["sol", "solana"]),
    ("XRP", &["xrp"]),
    ("ADA", &["cardano"]),
    ("DOGE", &["doge", "dogecoin"]),
    ("XLM", &["xlm"]),
    ("LTC", &["ltc", "litecoin"]),
    ("DOT", &["polkadot"]),
    ("AVAX", &["avax"]),
    ("LINK", &["chainlink"]),
    ("TRX", &["trx"]),
    ("SHIB", &["shib"]),
    ("TON", &["toncoin"]),
    ("UNI", &["uniswap"]),
];

/// Tickers that are English words or common abbreviations: cashtags only.
const WORDS: [&str; 40] = [
    "AI", "ALT", "AND", "ANY", "ARE", "BIG", "CAN", "CAT", "DAY", "FOR", "FUN", "GAS", "GET", "GO",
    "HIGH", "HOT", "ID", "KEY", "LOW", "ME", "MORE", "NEAR", "NEW", "NOT", "NOW", "OK", "ONE",
    "OP", "OUT", "POWER", "REAL", "SUN", "THE", "TOP", "TRUE", "TWO", "USA", "WIN", "YOU", "CEO",
];

/// A symbol's base asset: the symbol less the longest known quote it ends with.
pub fn base_asset(symbol: &str) -> &str {
    QUOTES
        .iter()
        .filter(|q| symbol.len() > q.len() && symbol.ends_with(*q))
        .map(|q| &symbol[..symbol.len() - q.len()])
        .next()
        .unwrap_or(symbol)
}

/// Finds the symbols a post mentions.
#[derive(Debug, Default)]
struct Matcher {
    /// Upper-case tickers and symbols (in capitals or as cashtags) to symbols.
    tickers: HashMap<String, Vec<SymbolId>>,
    /// Tickers that count only as cashtags.
    cashtag_only: HashSet<String>,
    /// Lower-case names and aliases to symbols.
    names: HashMap<String, Vec<SymbolId>>,
    /// Each symbol's base asset, by index.
    base_of: Vec<usize>,
    /// Symbols known when built.
    built_for: usize,
}

impl Matcher {
    fn new(symbols: &SymbolTable, aliases: &BTreeMap<String, Vec<String>>) -> Self {
        let mut m = Matcher {
            built_for: symbols.len(),
            ..Matcher::default()
        };
        let aliases: HashMap<String, &Vec<String>> = aliases
            .iter()
            .map(|(base, names)| (base.to_ascii_uppercase(), names))
            .collect();
        let mut bases: Vec<String> = Vec::new();
        for id in 0..symbols.len() as SymbolId {
            let name = symbols.name(id).map_or("", |n| n);
            let base = base_asset(name).to_string();
            m.base_of.push(match bases.iter().position(|b| *b == base) {
                Some(i) => i,
                None => {
                    bases.push(base.clone());
                    bases.len() - 1
                }
            });
            if name.is_empty() {
                continue;
            }
            let known = KNOWN
                .iter()
                .find(|(t, _)| *t == base)
                .map_or(&[][..], |(_, names)| *names);
            let configured = aliases.get(&base).map_or(&[][..], |v| v.as_slice());
            for n in known
                .iter()
                .map(|s| s.to_string())
                .chain(configured.iter().map(|s| s.to_lowercase()))
            {
                m.names.entry(n).or_default().push(id);
            }
            if base.len() <= 2 || WORDS.contains(&base.as_str()) {
                m.cashtag_only.insert(base.clone());
            }
            m.tickers.entry(base).or_default().push(id);
            if name != base_asset(name) {
                m.tickers.entry(name.to_string()).or_default().push(id);
            }
        }
        m
    }

    /// The symbols `text` mentions, each once, in id order.
    fn mentions(&self, text: &str) -> Vec<SymbolId> {
        let letters = text.chars().filter(|c| c.is_alphabetic()).count();
        let capitals = text.chars().filter(|c| c.is_uppercase()).count();
        // In a post shouting in capitals, capitals name nothing.
        let shouting = letters >= 12 && capitals * 2 > letters;
        let mut out = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c.is_alphanumeric() {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek()
                    && d.is_alphanumeric()
                {
                    end = j + d.len_utf8();
                    chars.next();
                }
                let word = &text[i..end];
                let cashtag = text[..i].ends_with('$');
                let upper = word.to_uppercase();
                let in_capitals = !shouting
                    && word.chars().any(char::is_uppercase)
                    && !word.chars().any(char::is_lowercase)
                    && !self.cashtag_only.contains(&upper);
                if cashtag || in_capitals {
                    out.extend(self.tickers.get(&upper).into_iter().flatten());
                }
                out.extend(self.names.get(&word.to_lowercase()).into_iter().flatten());
            } else if !c.is_ascii() && !c.is_whitespace() {
                // A symbol of its own, such as ₿.
                out.extend(self.names.get(&c.to_string()).into_iter().flatten());
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Distinct base assets among `symbols`.
    fn bases(&self, symbols: &[SymbolId]) -> usize {
        let mut bases: Vec<usize> = symbols
            .iter()
            .filter_map(|s| self.base_of.get(*s as usize).copied())
            .collect();
        bases.sort_unstable();
        bases.dedup();
        bases.len()
    }
}

/// One mention: when it became known, its score and weight, and who wrote it.
#[derive(Clone, Copy, Debug)]
struct Mention {
    known_at: i64,
    score: f64,
    weight: f64,
    author: u64,
}

/// One source's mentions of the last two windows.
#[derive(Debug, Default)]
struct SourceMentions {
    /// When the source answered (a poll or a post), ms, in order, over the last windows.
    answers: VecDeque<i64>,
    /// Every mention of a base asset (one per asset a post names), by time.
    all: VecDeque<i64>,
    /// Each symbol's, by time.
    by_symbol: Vec<VecDeque<Mention>>,
}

impl SourceMentions {
    /// Notes an answer at `at` (in its place among the others), forgetting those older than
    /// `keep` before it.
    fn answered(&mut self, at: i64, keep: i64) {
        while self.answers.front().is_some_and(|t| *t <= at - keep) {
            self.answers.pop_front();
        }
        let place = self.answers.partition_point(|t| *t <= at);
        self.answers.insert(place, at);
    }
}

/// The social sources' mentions as of the posts seen so far.
#[derive(Debug)]
pub struct SocialState {
    config: SocialConfig,
    window_ms: i64,
    matcher: Matcher,
    sources: Vec<SourceMentions>,
}

impl SocialState {
    /// The state for `config`'s sources.
    pub fn new(config: SocialConfig) -> Self {
        SocialState {
            window_ms: config.window_minutes as i64 * 60_000,
            sources: config
                .sources
                .iter()
                .map(|_| SourceMentions::default())
                .collect(),
            matcher: Matcher::default(),
            config,
        }
    }

    /// Takes a post (in the order the engine sees it, which is when it became known), finding
    /// the mentions among `symbols`.
    pub fn record(&mut self, post: &Post, symbols: &SymbolTable) {
        let Some(k) = self.config.sources.iter().position(|s| *s == post.source) else {
            return;
        };
        if self.matcher.built_for != symbols.len() {
            self.matcher = Matcher::new(symbols, &self.config.aliases);
        }
        let source = &mut self.sources[k];
        source.answered(post.known_at, 3 * self.window_ms);
        // Kept: what a bar up to a window before this post still reads (a bar may be computed
        // after posts received after its close).
        let horizon = post.known_at - 3 * self.window_ms;
        while source.all.front().is_some_and(|t| *t <= horizon) {
            source.all.pop_front();
        }
        if post
            .created_at
            .is_some_and(|at| at < post.known_at - self.window_ms)
        {
            return;
        }
        let mentioned = self.matcher.mentions(&post.text);
        if mentioned.is_empty() {
            return;
        }
        let mut hasher = DefaultHasher::new();
        post.author.hash(&mut hasher);
        let mention = Mention {
            known_at: post.known_at,
            score: lexicon::social_score(&post.text),
            weight: 1.0 + post.engagement.max(0.0).ln_1p(),
            author: hasher.finish(),
        };
        for _ in 0..self.matcher.bases(&mentioned) {
            source.all.push_back(post.known_at);
        }
        for id in mentioned {
            let i = id as usize;
            if source.by_symbol.len() <= i {
                source.by_symbol.resize_with(i + 1, VecDeque::new);
            }
            let mentions = &mut source.by_symbol[i];
            while mentions.front().is_some_and(|m| m.known_at <= horizon) {
                mentions.pop_front();
            }
            mentions.push_back(mention);
        }
    }

    /// Takes a successful poll of `source` at `known_at`.
    pub fn polled(&mut self, source: &str, known_at: i64) {
        if let Some(k) = self.config.sources.iter().position(|s| s == source) {
            self.sources[k].answered(known_at, 3 * self.window_ms);
        }
    }

    /// Writes `symbol`'s features of every source ([`SOCIAL_FEATURES`] each, sources in their
    /// configured order) as of `now` into `out`.
    pub fn features(&self, symbol: SymbolId, now: i64, out: &mut [f64]) {
        let w = self.window_ms;
        // Mentions known in (from, to].
        let span = |times: &VecDeque<i64>, from: i64, to: i64| {
            times.partition_point(|t| *t <= to) - times.partition_point(|t| *t <= from)
        };
        for (k, source) in self.sources.iter().enumerate() {
            let out = &mut out[k * SOCIAL_FEATURES.len()..(k + 1) * SOCIAL_FEATURES.len()];
            // Unknown while the source has not answered within the window.
            if span(&source.answers, now - w, now) == 0 {
                out.fill(f64::NAN);
                continue;
            }
            let empty = VecDeque::new();
            let mentions = source.by_symbol.get(symbol as usize).unwrap_or(&empty);
            let start = mentions.partition_point(|m| m.known_at <= now - w);
            let end = mentions.partition_point(|m| m.known_at <= now);
            let before = start - mentions.partition_point(|m| m.known_at <= now - 2 * w);
            let window = mentions.range(start..end);
            let n = end - start;
            let (mut sum, mut weighted, mut weights) = (0.0, 0.0, 0.0);
            let mut authors = HashSet::new();
            for m in window {
                sum += m.score;
                weighted += m.score * m.weight;
                weights += m.weight;
                authors.insert(m.author);
            }
            let all = span(&source.all, now - w, now);
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
            out[0] = n as f64;
            out[1] = n as f64 - before as f64;
            out[2] = ratio(n as f64, all as f64);
            out[3] = ratio(sum, n as f64);
            out[4] = ratio(weighted, weights);
            out[5] = authors.len() as f64;
            out[6] = ratio(authors.len() as f64, n as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(names: &[&str]) -> SymbolTable {
        let mut t = SymbolTable::default();
        for n in names {
            t.intern(n);
        }
        t
    }

    fn post(source: &str, at: i64, author: &str, text: &str, engagement: f64) -> Post {
        Post {
            source: source.into(),
            id: format!("{at}{author}"),
            author: author.into(),
            text: text.into(),
            engagement,
            created_at: None,
            known_at: at,
        }
    }

    #[test]
    fn base_assets_and_mentions_by_cashtag_capitals_name_and_alias() {
        assert_eq!(base_asset("BTCUSDT"), "BTC");
        assert_eq!(base_asset("ETHBTC"), "ETH");
        assert_eq!(base_asset("BNBFDUSD"), "BNB");
        assert_eq!(base_asset("BTC"), "BTC");
        let symbols = table(&["BTCUSDT", "ETHBTC", "ONEUSDT", "PEPEUSDT", "NOTUSDT"]);
        let aliases = BTreeMap::from([("pepe".to_string(), vec!["Frog".to_string()])]);
        let m = Matcher::new(&symbols, &aliases);
        let none = Vec::<u32>::new();
        assert_eq!(m.mentions("$btc and Ethereum, both!"), vec![0, 1]);
        assert_eq!(m.mentions("BTC."), vec![0]);
        assert_eq!(
            m.mentions("sats, ₿ and ETH"),
            vec![0, 1],
            "₿ is a name of bitcoin"
        );
        assert_eq!(m.mentions("one more time"), none, "a word is not a ticker");
        assert_eq!(m.mentions("ONE to 1$"), none, "nor in capitals");
        assert_eq!(m.mentions("$ONE to 1"), vec![2], "but as a cashtag");
        assert_eq!(m.mentions("NOT financial advice"), none);
        assert_eq!(m.mentions("$NOT pumps"), vec![4]);
        assert_eq!(
            m.mentions("the frog 🐸"),
            vec![3],
            "an alias, its asset in any case"
        );
        assert_eq!(m.mentions("bitcoiner"), none, "whole words only");
        assert_eq!(m.mentions("$PEPE’s run, $BTC🚀"), vec![0, 3]);
        assert_eq!(
            m.mentions("BTCUSDT breaking out"),
            vec![0],
            "the symbol itself"
        );
        assert_eq!(
            m.mentions("HUGE NEWS FOR PEPE TODAY, eth too"),
            vec![1],
            "capitals name nothing in a shouted post; names still do"
        );
    }

    #[test]
    fn a_post_received_after_a_close_changes_nothing_of_that_bars_features() {
        let symbols = table(&["BTCUSDT"]);
        let config = SocialConfig {
            sources: vec!["reddit".into()],
            window_minutes: 60,
            ..SocialConfig::default()
        };
        let hour = 3_600_000;
        let close = 2 * hour;
        let early = post("reddit", 500, "a", "BTC", 0.0);
        let late = post("reddit", close + 800, "b", "BTC", 0.0);
        let mut in_order = SocialState::new(config.clone());
        in_order.record(&early, &symbols);
        in_order.polled("reddit", close - 1_000);
        let mut expected = [0.0; 7];
        in_order.features(0, close, &mut expected);
        // Live, the bar may be computed after a post received after its close.
        let mut live = SocialState::new(config);
        live.record(&early, &symbols);
        live.polled("reddit", close - 1_000);
        live.record(&late, &symbols);
        let mut got = [0.0; 7];
        live.features(0, close, &mut got);
        assert_eq!(
            got.map(f64::to_bits),
            expected.map(f64::to_bits),
            "{got:?} against {expected:?}"
        );
        assert_eq!(
            expected[1], -1.0,
            "none in the window, the one at 0:00:00.5 in the window before"
        );
    }

    #[test]
    fn backlogs_do_not_count_and_each_post_is_one_voice_per_asset() {
        let symbols = table(&["BTCUSDT", "BTCEUR", "ETHUSDT"]);
        let mut s = SocialState::new(SocialConfig {
            sources: vec!["x".into()],
            ..SocialConfig::default()
        });
        let min = 60_000;
        s.record(&post("x", 10 * min, "a", "BTC", 0.0), &symbols);
        s.record(&post("x", 11 * min, "b", "ETH", 0.0), &symbols);
        // Written two hours before it arrived: a restart's backlog.
        let mut old = post("x", 12 * min, "c", "ETH ETH ETH", 0.0);
        old.created_at = Some(12 * min - 120 * min);
        s.record(&old, &symbols);
        let mut out = [0.0; 7];
        s.features(2, 20 * min, &mut out);
        assert_eq!(
            (out[0], out[2]),
            (1.0, 0.5),
            "two pairs of BTC are one voice"
        );
        s.features(1, 20 * min, &mut out);
        assert_eq!((out[0], out[2]), (1.0, 0.5));
    }

    #[test]
    fn window_counts_share_sentiment_and_authors_as_of_each_moment() {
        let symbols = table(&["BTCUSDT", "ETHUSDT"]);
        let mut s = SocialState::new(SocialConfig {
            sources: vec!["reddit".into(), "x".into()],
            window_minutes: 10,
            ..SocialConfig::default()
        });
        let min = 60_000;
        // The window before: one BTC mention. The window: three BTC mentions by two authors
        // and one ETH mention; another source's post and an unconfigured source's are apart.
        s.record(&post("reddit", 2 * min, "a", "BTC dump", 0.0), &symbols);
        s.record(
            &post("reddit", 15 * min, "a", "BTC to the moon 🚀", 0.0),
            &symbols,
        );
        let e = std::f64::consts::E - 1.0;
        s.record(&post("reddit", 16 * min, "b", "bitcoin rug", e), &symbols);
        s.record(
            &post("reddit", 17 * min, "a", "$BTC and $ETH: fud", 0.0),
            &symbols,
        );
        s.record(&post("x", 18 * min, "c", "ETH moon", 0.0), &symbols);
        s.record(&post("telegram", 18 * min, "d", "BTC", 0.0), &symbols);
        let mut out = [0.0; 14];
        s.features(0, 20 * min, &mut out);
        let reddit = &out[..7];
        assert_eq!(reddit[0], 3.0, "mentions");
        assert_eq!(reddit[1], 2.0, "velocity: 3 against 1");
        assert_eq!(reddit[2], 0.75, "share: 3 of the 4 mentions");
        let scores = [1.0, -1.0, -0.7];
        assert!((reddit[3] - scores.iter().sum::<f64>() / 3.0).abs() < 1e-12);
        // The rug post weighs 1 + ln(1 + (e - 1)) = 2.
        assert!((reddit[4] - (1.0 - 2.0 - 0.7) / 4.0).abs() < 1e-12);
        assert_eq!((reddit[5], reddit[6]), (2.0, 2.0 / 3.0));
        assert_eq!(
            &out[7..10],
            &[0.0, 0.0, 0.0],
            "no BTC on x, where ETH was mentioned"
        );
        assert!(
            out[10].is_nan() && out[13].is_nan(),
            "no mood or diversity of nothing"
        );
        // Earlier, the later posts are not seen; long after, all have left the window.
        s.features(0, 15 * min, &mut out);
        assert_eq!((out[0], out[1]), (1.0, 0.0));
        s.features(1, 18 * min, &mut out);
        assert_eq!((out[0], out[7], out[9]), (1.0, 1.0, 1.0));
        s.polled("reddit", 39 * min);
        s.features(0, 40 * min, &mut out);
        assert_eq!((out[0], out[1]), (0.0, 0.0));
        assert!(out[3].is_nan());
    }

    #[test]
    fn a_source_that_has_not_answered_within_the_window_is_unknown_not_quiet() {
        let symbols = table(&["BTCUSDT"]);
        let mut s = SocialState::new(SocialConfig {
            sources: vec!["x".into()],
            window_minutes: 10,
            ..SocialConfig::default()
        });
        let min = 60_000;
        let mut out = [0.0; 7];
        s.features(0, 5 * min, &mut out);
        assert!(out.iter().all(|v| v.is_nan()), "never answered: {out:?}");
        s.polled("x", 6 * min);
        s.features(0, 7 * min, &mut out);
        assert_eq!((out[0], out[1], out[5]), (0.0, 0.0, 0.0), "answered, quiet");
        s.features(0, 5 * min, &mut out);
        assert!(out[0].is_nan(), "the poll after the bar is not known at it");
        s.features(0, 17 * min, &mut out);
        assert!(out[0].is_nan(), "no answer for a window: unknown again");
        s.record(&post("x", 18 * min, "a", "BTC", 0.0), &symbols);
        s.features(0, 18 * min, &mut out);
        assert_eq!(out[0], 1.0, "a post is an answer");
    }
}
