//! Which samples a model may learn from for each window it is tested on.
//!
//! Sample `i` is made at bar `start[i]` and its label completes at bar `end[i]`: it uses the
//! returns of bars `start[i] + 1 ..= end[i]`. A test window is a run of consecutive samples;
//! it spans bars `start[first] ..= max end` of its samples.
//!
//! - **Walk-forward**: test windows of `test` samples one after the other; each trains on the
//!   samples before its window (all of them when `expanding`, else the last `train`).
//! - **Purged k-fold**: `k` consecutive test windows; each trains on every other sample.
//! - **Purging** drops a training sample whose label span meets the test window's span; the
//!   **embargo** also drops those made within `embargo` bars after the window's end (their
//!   inputs reach back into it). Together: nothing a model is trained on has seen the future of
//!   the window it is judged on (López de Prado, *Advances in Financial Machine Learning*, 7.4).
//! - **Uniqueness** weights a sample by how much of its label it shares with no other sample
//!   (4.4): the average over its bars of one over the number of labels spanning each.

use crate::LearnError;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// When each sample is made and when its label completes (bar indices, `end > start`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The bar the sample is made at.
    pub start: usize,
    /// The bar whose close completes its label.
    pub end: usize,
}

/// How samples are split: how test windows follow each other, and the embargo after each.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case", deny_unknown_fields)]
pub enum SplitSpec {
    /// Windows of `test` samples after a first `train` samples; each trains on what came
    /// before it: everything when `expanding`, else the latest `train` samples.
    WalkForward {
        /// Samples in the first training set (and in every one, when rolling).
        train: usize,
        /// Samples in each test window.
        test: usize,
        /// Whether training sets grow (true) or roll (false).
        #[serde(default)]
        expanding: bool,
        /// Bars after each test window whose samples are not trained on.
        #[serde(default)]
        embargo: usize,
    },
    /// `k` consecutive windows; each trains on all other samples.
    PurgedKFold {
        /// Windows.
        k: usize,
        /// Bars after each test window whose samples are not trained on.
        #[serde(default)]
        embargo: usize,
    },
}

/// One test window and the samples trained for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    /// Indices of the training samples, ascending.
    pub train: Vec<usize>,
    /// The test window's samples.
    pub test: Range<usize>,
}

impl SplitSpec {
    /// Bars after each test window whose samples are not trained on.
    pub fn embargo(&self) -> usize {
        match *self {
            SplitSpec::WalkForward { embargo, .. } | SplitSpec::PurgedKFold { embargo, .. } => {
                embargo
            }
        }
    }

    /// The folds over samples with `spans` (in order of their start), or why there are none.
    pub fn folds(&self, spans: &[Span]) -> Result<Vec<Fold>, LearnError> {
        let n = spans.len();
        if let Some(w) = spans.windows(2).find(|w| w[1].start < w[0].start) {
            return Err(LearnError::Data(format!(
                "samples out of order: one at bar {} after one at bar {}",
                w[1].start, w[0].start
            )));
        }
        if let Some(s) = spans.iter().find(|s| s.end <= s.start) {
            return Err(LearnError::Data(format!(
                "a label ending at bar {} does not follow its sample at bar {}",
                s.end, s.start
            )));
        }
        let windows: Vec<(Range<usize>, Vec<usize>)> = match *self {
            SplitSpec::WalkForward {
                train,
                test,
                expanding,
                ..
            } => {
                if train == 0 || test == 0 {
                    return Err(LearnError::Config(
                        "walk-forward train and test must be at least 1 sample".into(),
                    ));
                }
                (0..)
                    .map(|k| train + k * test)
                    .take_while(|&a| a < n)
                    .map(|a| {
                        let first = if expanding {
                            0
                        } else {
                            a.saturating_sub(train)
                        };
                        (a..(a + test).min(n), (first..a).collect())
                    })
                    .collect()
            }
            SplitSpec::PurgedKFold { k, .. } => {
                if k < 2 || k > n {
                    return Err(LearnError::Config(format!(
                        "purged k-fold needs 2 to {n} folds (one sample each at least), not {k}"
                    )));
                }
                (0..k)
                    .map(|f| {
                        let test = f * n / k..(f + 1) * n / k;
                        let others = (0..n).filter(|i| !test.contains(i)).collect();
                        (test, others)
                    })
                    .collect()
            }
        };
        let folds: Vec<Fold> = windows
            .into_iter()
            .map(|(test, candidates)| Fold {
                train: purge(spans, &test, candidates, self.embargo()),
                test,
            })
            .filter(|f| !f.train.is_empty() && !f.test.is_empty())
            .collect();
        if folds.is_empty() {
            return Err(LearnError::Data(format!(
                "{n} samples make no fold with training samples left after purging"
            )));
        }
        Ok(folds)
    }
}

/// The bars test window `test` spans, from its first sample's bar to its last label's end.
pub fn window_bars(spans: &[Span], test: &Range<usize>) -> (usize, usize) {
    let first = spans[test.start].start;
    let last = spans[test.clone()]
        .iter()
        .map(|s| s.end)
        .max()
        .unwrap_or(first);
    (first, last)
}

/// `candidates` without those whose label span meets the test window's bars, or made within
/// `embargo` bars after them.
fn purge(
    spans: &[Span],
    test: &Range<usize>,
    candidates: Vec<usize>,
    embargo: usize,
) -> Vec<usize> {
    let (first, last) = window_bars(spans, test);
    let banned_until = last + embargo;
    candidates
        .into_iter()
        .filter(|&i| {
            let s = spans[i];
            // Uses bars start..=end; the window uses first..=last (and the embargo after).
            s.end < first || s.start > banned_until
        })
        .collect()
}

/// Each sample's average uniqueness: over the bars its label spans (`start + 1 ..= end`), the
/// mean of one over how many labels span that bar. 1 for a sample that shares no bar.
pub fn uniqueness(spans: &[Span]) -> Vec<f64> {
    let last = spans.iter().map(|s| s.end).max().unwrap_or(0);
    // Labels spanning each bar, by differences.
    let mut delta = vec![0i64; last + 2];
    for s in spans {
        delta[s.start + 1] += 1;
        delta[s.end + 1] -= 1;
    }
    let mut count = vec![0i64; last + 1];
    let mut running = 0;
    for (bar, d) in delta.iter().take(last + 1).enumerate() {
        running += d;
        count[bar] = running;
    }
    spans
        .iter()
        .map(|s| {
            let bars = s.start + 1..=s.end;
            let len = (s.end - s.start) as f64;
            bars.map(|b| 1.0 / count[b] as f64).sum::<f64>() / len
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spans(horizons: &[usize]) -> Vec<Span> {
        horizons
            .iter()
            .enumerate()
            .map(|(t, h)| Span {
                start: t,
                end: t + h,
            })
            .collect()
    }

    #[test]
    fn walk_forward_trains_on_the_past_only_and_purges_labels_reaching_the_window() {
        // Ten samples, labels three bars long.
        let spans = spans(&[3; 10]);
        let spec = SplitSpec::WalkForward {
            train: 4,
            test: 3,
            expanding: false,
            embargo: 0,
        };
        let folds = spec.folds(&spans).unwrap();
        // Window 4..7 starts at bar 4: samples 1..=3 end at bars 4..=6, inside it.
        assert_eq!(
            folds[0],
            Fold {
                train: vec![0],
                test: 4..7
            }
        );
        // Window 7..10 (bar 7): rolling keeps samples 3..7, of which 3 ends at bar 6 < 7.
        assert_eq!(
            folds[1],
            Fold {
                train: vec![3],
                test: 7..10
            }
        );
        let expanding = SplitSpec::WalkForward {
            train: 4,
            test: 3,
            expanding: true,
            embargo: 0,
        };
        assert_eq!(expanding.folds(&spans).unwrap()[1].train, vec![0, 1, 2, 3]);
    }

    #[test]
    fn k_fold_drops_the_embargo_after_each_window() {
        let spans = spans(&[1; 12]);
        let spec = SplitSpec::PurgedKFold { k: 3, embargo: 2 };
        let folds = spec.folds(&spans).unwrap();
        // Window 4..8 spans bars 4..=8: sample 3 ends at 4 (purged), 8 starts at 8 (purged),
        // 9 and 10 start within two bars after 8 (embargoed).
        assert_eq!(folds[1].test, 4..8);
        assert_eq!(folds[1].train, vec![0, 1, 2, 11]);
    }

    #[test]
    fn uniqueness_is_one_alone_and_shared_where_labels_overlap() {
        // Sample 0 spans bars 1..=2, sample 1 bars 2..=3: bar 2 is shared.
        let u = uniqueness(&[Span { start: 0, end: 2 }, Span { start: 1, end: 3 }]);
        assert_eq!(u, vec![0.75, 0.75]);
        assert_eq!(uniqueness(&[Span { start: 5, end: 6 }]), vec![1.0]);
    }

    #[test]
    fn unusable_splits_are_named() {
        let spans = spans(&[1; 5]);
        let k = SplitSpec::PurgedKFold { k: 9, embargo: 0 };
        assert!(k.folds(&spans).unwrap_err().to_string().contains("folds"));
        let disorder = vec![Span { start: 3, end: 4 }, Span { start: 1, end: 2 }];
        let wf = SplitSpec::WalkForward {
            train: 1,
            test: 1,
            expanding: true,
            embargo: 0,
        };
        assert!(
            wf.folds(&disorder)
                .unwrap_err()
                .to_string()
                .contains("order")
        );
    }

    proptest! {
        /// Whatever the labels' lengths and the scheme, no training label looks into its test
        /// window or its embargo.
        #[test]
        fn no_training_label_reaches_its_test_window(
            horizons in proptest::collection::vec(1usize..12, 20..80),
            train in 1usize..30,
            test in 1usize..15,
            k in 2usize..6,
            embargo in 0usize..6,
            expanding: bool,
            kfold: bool,
        ) {
            let spans = spans(&horizons);
            let spec = if kfold {
                SplitSpec::PurgedKFold { k, embargo }
            } else {
                SplitSpec::WalkForward { train, test, expanding, embargo }
            };
            let Ok(folds) = spec.folds(&spans) else {
                return Ok(());
            };
            for fold in folds {
                let (first, last) = window_bars(&spans, &fold.test);
                for &i in &fold.train {
                    prop_assert!(!fold.test.contains(&i));
                    let s = spans[i];
                    prop_assert!(
                        s.end < first || s.start > last + embargo,
                        "sample {i} {s:?} against window bars {first}..={last} + {embargo}"
                    );
                    if !kfold {
                        prop_assert!(i < fold.test.start, "walk-forward trains on the past");
                    }
                }
            }
        }
    }
}
