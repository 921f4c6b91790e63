//! Sentiment and macro features: the Fear & Greed index, a headline sentiment score and macro
//! series, each as of the moment its value became known to the host (never earlier).

use std::collections::{HashMap, VecDeque};

use super::lexicon;
use crate::feeds::sources::{Headline, Observation, SourceEvent};

/// How far back headlines count towards the news features.
pub const NEWS_WINDOW_MS: i64 = 24 * 3600 * 1000;

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
            // Posts and polls are the social features' ([`super::social`]).
            SourceEvent::Post(_) | SourceEvent::Polled(_) => {}
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
            .push_back((h.known_at, lexicon::score(&h.title)));
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
        use super::lexicon;
        assert_eq!(lexicon::score("Bitcoin surges to record"), 0.75);
        assert_eq!(lexicon::score("Exchange hacked; prices plunge"), -1.0);
        assert_eq!(lexicon::score("SEC does not approve ETF"), -1.0);
        assert_eq!(lexicon::score("Weekly market wrap"), 0.0);
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
