//! Sentiment and macro features: the Fear & Greed index, a headline sentiment score and macro
//! series, each as of the moment its value became known to the host (never earlier).

use std::collections::{HashMap, VecDeque};

use crate::feeds::sources::{Headline, Observation, SourceEvent};

/// How far back headlines count towards the news features.
pub const NEWS_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Words that read as good or bad news for a market, with their weights.
const LEXICON: &[(&str, f64)] = &[
    ("surge", 1.0),
    ("surges", 1.0),
    ("soar", 1.0),
    ("soars", 1.0),
    ("rally", 1.0),
    ("rallies", 1.0),
    ("gain", 0.5),
    ("gains", 0.5),
    ("rise", 0.5),
    ("rises", 0.5),
    ("record", 0.5),
    ("high", 0.3),
    ("bull", 1.0),
    ("bullish", 1.0),
    ("approve", 1.0),
    ("approves", 1.0),
    ("approval", 1.0),
    ("adopt", 0.5),
    ("adoption", 0.5),
    ("upgrade", 0.5),
    ("growth", 0.5),
    ("boost", 0.5),
    ("beat", 0.5),
    ("beats", 0.5),
    ("recover", 0.5),
    ("recovers", 0.5),
    ("partnership", 0.5),
    ("inflows", 0.7),
    ("breakout", 0.7),
    ("crash", -1.0),
    ("crashes", -1.0),
    ("plunge", -1.0),
    ("plunges", -1.0),
    ("slump", -1.0),
    ("fall", -0.5),
    ("falls", -0.5),
    ("drop", -0.5),
    ("drops", -0.5),
    ("loss", -0.5),
    ("losses", -0.5),
    ("bear", -1.0),
    ("bearish", -1.0),
    ("hack", -1.0),
    ("hacked", -1.0),
    ("exploit", -1.0),
    ("ban", -1.0),
    ("bans", -1.0),
    ("lawsuit", -0.7),
    ("sues", -0.7),
    ("fraud", -1.0),
    ("bankrupt", -1.0),
    ("bankruptcy", -1.0),
    ("liquidation", -0.7),
    ("liquidations", -0.7),
    ("outflows", -0.7),
    ("sell-off", -1.0),
    ("selloff", -1.0),
    ("fear", -0.5),
    ("recession", -0.7),
    ("inflation", -0.3),
    ("downgrade", -0.5),
    ("reject", -0.7),
    ("rejects", -0.7),
    ("delay", -0.3),
    ("delays", -0.3),
    ("warning", -0.5),
];

/// Words that flip the sign of the next scored word.
const NEGATIONS: &[&str] = &["no", "not", "never", "without", "fails", "fail"];

/// A headline's score: the mean weight of its scored words (negations flip the next one),
/// within -1..=1; 0 when no word is scored.
pub fn headline_score(title: &str) -> f64 {
    let (mut total, mut scored, mut negate) = (0.0, 0u32, false);
    for word in title
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if NEGATIONS.contains(&word.as_str()) {
            negate = true;
            continue;
        }
        if let Some((_, w)) = LEXICON.iter().find(|(k, _)| *k == word) {
            total += if negate { -w } else { *w };
            scored += 1;
        }
        negate = false;
    }
    if scored == 0 {
        0.0
    } else {
        (total / f64::from(scored)).clamp(-1.0, 1.0)
    }
}

/// Feature names this module publishes besides the macro series, with descriptions.
pub const SENTIMENT_FEATURES: [(&str, &str); 4] = [
    (
        "sentiment.fear_greed",
        "Crypto Fear & Greed index (0 extreme fear .. 100 extreme greed)",
    ),
    (
        "sentiment.fear_greed_change",
        "change of the Fear & Greed index from its previous value",
    ),
    (
        "sentiment.news_score",
        "mean lexicon score of headlines known in the last 24 h (-1..1)",
    ),
    ("sentiment.news_count", "headlines known in the last 24 h"),
];

/// The latest and previous value of one series, by period.
#[derive(Clone, Copy, Debug)]
struct Latest {
    observed_at: i64,
    value: f64,
    previous: Option<f64>,
}

/// Values of the non-market sources as of the events seen so far.
#[derive(Clone, Debug, Default)]
pub struct SourceState {
    series: HashMap<String, Latest>,
    headlines: VecDeque<(i64, f64)>,
}

impl SourceState {
    /// Takes a source event (in the order the engine sees it, which is when it became known).
    pub fn record(&mut self, event: &SourceEvent) {
        match event {
            SourceEvent::Observation(o) => self.observe(o),
            SourceEvent::Headline(h) => self.headline(h),
        }
    }

    fn observe(&mut self, o: &Observation) {
        let key = format!("{}.{}", o.source, o.series);
        match self.series.get_mut(&key) {
            Some(latest) if latest.observed_at < o.observed_at => {
                *latest = Latest {
                    observed_at: o.observed_at,
                    value: o.value,
                    previous: Some(latest.value),
                };
            }
            Some(latest) if latest.observed_at == o.observed_at => latest.value = o.value,
            Some(_) => {} // a revision of an older period: the latest period stays
            None => {
                self.series.insert(
                    key,
                    Latest {
                        observed_at: o.observed_at,
                        value: o.value,
                        previous: None,
                    },
                );
            }
        }
    }

    fn headline(&mut self, h: &Headline) {
        while self
            .headlines
            .front()
            .is_some_and(|(t, _)| *t <= h.known_at - NEWS_WINDOW_MS)
        {
            self.headlines.pop_front();
        }
        self.headlines
            .push_back((h.known_at, headline_score(&h.title)));
    }

    /// The latest value of `source.series` and its change from the previous period.
    pub fn series(&self, key: &str) -> (f64, f64) {
        self.series.get(key).map_or((f64::NAN, f64::NAN), |l| {
            (l.value, l.previous.map_or(f64::NAN, |p| l.value - p))
        })
    }

    /// Writes the [`SENTIMENT_FEATURES`] as of `now` into `out`.
    pub fn sentiment(&mut self, now: i64, out: &mut [f64]) {
        let (fg, change) = self.series("fear_greed.value");
        while self
            .headlines
            .front()
            .is_some_and(|(t, _)| *t <= now - NEWS_WINDOW_MS)
        {
            self.headlines.pop_front();
        }
        let (sum, count) = self
            .headlines
            .iter()
            .filter(|(t, _)| *t <= now)
            .fold((0.0, 0usize), |(s, n), (_, score)| (s + score, n + 1));
        out[0] = fg;
        out[1] = change;
        out[2] = if count == 0 {
            f64::NAN
        } else {
            sum / count as f64
        };
        out[3] = count as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_score_by_lexicon_with_negation() {
        assert_eq!(headline_score("Bitcoin surges to record"), 0.75);
        assert_eq!(headline_score("Exchange hacked; prices plunge"), -1.0);
        assert_eq!(headline_score("SEC does not approve ETF"), -1.0);
        assert_eq!(headline_score("Weekly market wrap"), 0.0);
    }

    #[test]
    fn series_keep_the_latest_period_and_its_change() {
        let mut s = SourceState::default();
        let obs = |at: i64, v: f64| {
            SourceEvent::Observation(Observation {
                source: "fred".into(),
                series: "DGS10".into(),
                observed_at: at,
                known_at: at + 10,
                value: v,
                label: None,
            })
        };
        assert!(s.series("fred.DGS10").0.is_nan());
        s.record(&obs(100, 4.0));
        s.record(&obs(200, 4.25));
        s.record(&obs(100, 3.0)); // late revision of an older period
        assert_eq!(s.series("fred.DGS10"), (4.25, 0.25));
    }

    #[test]
    fn news_features_count_only_headlines_known_in_the_window() {
        let mut s = SourceState::default();
        let h = |t: i64, title: &str| {
            SourceEvent::Headline(Headline {
                source: "n".into(),
                id: t.to_string(),
                title: title.into(),
                published_at: None,
                known_at: t,
            })
        };
        s.record(&h(0, "crash"));
        s.record(&h(NEWS_WINDOW_MS, "rally"));
        let mut out = [0.0; 4];
        s.sentiment(NEWS_WINDOW_MS, &mut out);
        assert_eq!((out[2], out[3]), (1.0, 1.0), "the crash left the window");
    }
}
