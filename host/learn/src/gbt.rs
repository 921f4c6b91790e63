//! Gradient-boosted trees for several classes, trained by second-order boosting (the method of
//! XGBoost: each round fits one regression tree per class to the softmax loss's gradients and
//! Hessians, with an L2 penalty `lambda` on leaf values; the Hessian here is `p(1-p)`, half
//! XGBoost's `2p(1-p)`) over features binned at evenly spaced ranks of their distinct training
//! values, deterministically.
//!
//! - A split's gain is `½ [G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)] − γ`; the best split of the
//!   first feature and lowest threshold wins ties. A node splits only when the gain is positive
//!   and both children hold `min_child_weight` of Hessian.
//! - A leaf's value is `−η G/(H+λ)`.
//! - Training starts from the classes' log shares (the prior) and stops after `rounds`.
//!
//! Trees are kept flat, as the host's inference reads them: per node its feature (−1 for a
//! leaf), threshold (go left when `x ≤ threshold`), children and value.

use crate::LearnError;
use crate::metrics::softmax_rows;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use std::path::Path;
use stratbox_infer::Manifest;
use stratbox_infer::manifest::GbtSpec as GbtManifest;
use stratbox_infer::tensors::write_tensors;

/// Training settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GbtSpec {
    /// Boosting rounds (one tree per class each).
    pub rounds: usize,
    /// Shrinkage of each tree (η).
    pub learning_rate: f64,
    /// Deepest split level (a tree has at most 2^depth leaves).
    pub max_depth: usize,
    /// Least Hessian a child may hold.
    pub min_child_weight: f64,
    /// L2 penalty on leaf values (λ).
    pub lambda: f64,
    /// Least gain a split must bring (γ).
    pub gamma: f64,
    /// Bins per feature (evenly spaced ranks of the distinct training values), 2 to 256.
    pub bins: usize,
}

impl Default for GbtSpec {
    fn default() -> Self {
        GbtSpec {
            rounds: 100,
            learning_rate: 0.1,
            max_depth: 3,
            min_child_weight: 1.0,
            lambda: 1.0,
            gamma: 0.0,
            bins: 64,
        }
    }
}

/// One tree, flat.
#[derive(Clone, Debug, PartialEq)]
pub struct Tree {
    /// The feature a node splits on; −1 for a leaf.
    pub feature: Vec<i32>,
    /// Go left when the feature is at most this.
    pub threshold: Vec<f64>,
    /// Left child's index.
    pub left: Vec<u32>,
    /// Right child's index.
    pub right: Vec<u32>,
    /// A leaf's value (0 for a split).
    pub value: Vec<f64>,
}

impl Tree {
    /// The value of the leaf `x` falls in.
    pub fn eval(&self, x: &[f64]) -> f64 {
        let mut node = 0usize;
        while self.feature[node] >= 0 {
            node = if x[self.feature[node] as usize] <= self.threshold[node] {
                self.left[node] as usize
            } else {
                self.right[node] as usize
            };
        }
        self.value[node]
    }
}

/// A trained model: `trees[round * classes + k]` adds to class `k`'s logit.
#[derive(Clone, Debug, PartialEq)]
pub struct Gbt {
    /// Logits before any tree: the classes' log shares.
    pub base: Vec<f64>,
    /// The trees, round by round, one per class.
    pub trees: Vec<Tree>,
    /// Classes.
    pub classes: usize,
    /// Features.
    pub features: usize,
}

impl Gbt {
    /// Fits `classes` classes to features `x` (samples, features), labels `y` (each below
    /// `classes`, every class present) and positive sample weights `w`.
    pub fn fit(
        x: ArrayView2<f64>,
        y: &[usize],
        w: Option<&[f64]>,
        classes: usize,
        spec: &GbtSpec,
    ) -> Result<Gbt, LearnError> {
        check(x, y, w, classes, spec)?;
        let (n, f) = x.dim();
        let weight = |i: usize| w.map_or(1.0, |w| w[i]);
        let (binned, edges) = bin(x, spec.bins);
        let mut share = vec![0.0; classes];
        for (i, &k) in y.iter().enumerate() {
            share[k] += weight(i);
        }
        let total: f64 = share.iter().sum();
        let base: Vec<f64> = share.iter().map(|s| (s / total).ln()).collect();
        let mut scores = Array2::<f64>::zeros((n, classes));
        for mut row in scores.rows_mut() {
            row.assign(&ndarray::ArrayView1::from(&base));
        }
        let mut trees = Vec::with_capacity(spec.rounds * classes);
        let rows: Vec<u32> = (0..n as u32).collect();
        for _ in 0..spec.rounds {
            let p = softmax_rows(&scores);
            for k in 0..classes {
                let (g, h): (Vec<f64>, Vec<f64>) = (0..n)
                    .map(|i| {
                        let target = f64::from(u8::from(y[i] == k));
                        let pk = p[[i, k]];
                        (
                            weight(i) * (pk - target),
                            weight(i) * (pk * (1.0 - pk)).max(1e-16),
                        )
                    })
                    .unzip();
                let mut grower = Grower {
                    binned: &binned,
                    edges: &edges,
                    g: &g,
                    h: &h,
                    spec,
                    tree: Tree {
                        feature: Vec::new(),
                        threshold: Vec::new(),
                        left: Vec::new(),
                        right: Vec::new(),
                        value: Vec::new(),
                    },
                    features: f,
                    leaf_of: vec![0.0; n],
                };
                grower.grow(rows.clone(), 0);
                for (i, v) in grower.leaf_of.iter().enumerate() {
                    scores[[i, k]] += v;
                }
                trees.push(grower.tree);
            }
        }
        Ok(Gbt {
            base,
            trees,
            classes,
            features: f,
        })
    }

    /// Logits (samples, classes) of raw features `x`.
    pub fn logits(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = Array2::<f64>::zeros((x.nrows(), self.classes));
        for (i, row) in x.rows().into_iter().enumerate() {
            let row = row.to_vec();
            for k in 0..self.classes {
                out[[i, k]] = self.base[k];
            }
            for (t, tree) in self.trees.iter().enumerate() {
                out[[i, t % self.classes]] += tree.eval(&row);
            }
        }
        out
    }

    /// Class probabilities (samples, classes) of raw features `x`.
    pub fn probabilities(&self, x: ArrayView2<f64>) -> Array2<f64> {
        softmax_rows(&self.logits(x))
    }

    /// Divides the logits by temperature `t` (calibration), in the base and the leaves.
    pub fn set_temperature(&mut self, t: f64) {
        self.base.iter_mut().for_each(|b| *b /= t);
        for tree in &mut self.trees {
            tree.value.iter_mut().for_each(|v| *v /= t);
        }
    }

    /// Writes `<stem>.json` (`"arch": "gbt"`) and `<stem>.safetensors`: `base` (classes), and
    /// every tree's nodes one after the other, `roots` (trees) giving each tree's first node;
    /// per node `feature` (−1 for a leaf), `threshold`, `left`, `right` (indices within all
    /// nodes) and `value`, all float32.
    pub fn export(&self, stem: &Path) -> Result<(), LearnError> {
        let io = |e: String| LearnError::Data(e);
        let with = |ext: &str| stem.with_extension(ext);
        let nodes: usize = self.trees.iter().map(|t| t.feature.len()).sum();
        // Node indices are stored as float32, exact up to 2^24.
        if nodes > 1 << 24 {
            return Err(io(format!(
                "{nodes} nodes: more than the 16,777,216 a model file can index exactly"
            )));
        }
        let manifest = Manifest::Gbt(GbtManifest {
            n_features: self.features,
            n_out: self.classes,
            trees: self.trees.len(),
            nodes,
        });
        let json = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
        std::fs::write(with("json"), json)
            .map_err(|e| io(format!("writing {}: {e}", with("json").display())))?;
        let (mut feature, mut threshold, mut left, mut right, mut value, mut roots) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for tree in &self.trees {
            let offset = feature.len() as u32;
            roots.push(offset as f32);
            feature.extend(tree.feature.iter().map(|&v| v as f32));
            threshold.extend(tree.threshold.iter().map(|&v| v as f32));
            left.extend(tree.left.iter().map(|&v| (v + offset) as f32));
            right.extend(tree.right.iter().map(|&v| (v + offset) as f32));
            value.extend(tree.value.iter().map(|&v| v as f32));
        }
        let base: Vec<f32> = self.base.iter().map(|&v| v as f32).collect();
        let tensors = [
            ("base", vec![self.classes], base),
            ("roots", vec![self.trees.len()], roots),
            ("feature", vec![nodes], feature),
            ("threshold", vec![nodes], threshold),
            ("left", vec![nodes], left),
            ("right", vec![nodes], right),
            ("value", vec![nodes], value),
        ];
        write_tensors(&with("safetensors"), &tensors).map_err(|e| io(e.to_string()))
    }
}

fn check(
    x: ArrayView2<f64>,
    y: &[usize],
    w: Option<&[f64]>,
    classes: usize,
    spec: &GbtSpec,
) -> Result<(), LearnError> {
    let config = |m: String| Err(LearnError::Config(m));
    if spec.rounds == 0 || !(1..=64).contains(&spec.max_depth) {
        return config("gbt rounds must be at least 1 and max_depth 1 to 64".into());
    }
    if !(2..=256).contains(&spec.bins) {
        return config(format!("gbt bins {} must be 2 to 256", spec.bins));
    }
    let finite_positive = |v: f64| v.is_finite() && v > 0.0;
    if !finite_positive(spec.learning_rate)
        || !(spec.lambda.is_finite() && spec.lambda >= 0.0)
        || !(spec.gamma.is_finite() && spec.gamma >= 0.0)
        || !(spec.min_child_weight.is_finite() && spec.min_child_weight >= 0.0)
    {
        return config(
            "gbt learning_rate must be positive; lambda, gamma and min_child_weight 0 or more"
                .into(),
        );
    }
    crate::logistic::check_data(x, y, w, classes)
}

/// Each feature's values as bin numbers, and each bin's upper edge (the largest training value
/// in it): a split "bin ≤ b" is "value ≤ edge[b]".
fn bin(x: ArrayView2<f64>, bins: usize) -> (Vec<Vec<u8>>, Vec<Vec<f64>>) {
    let (n, f) = x.dim();
    let mut binned = Vec::with_capacity(f);
    let mut edges = Vec::with_capacity(f);
    for j in 0..f {
        let mut sorted: Vec<f64> = x.column(j).to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        // Upper edges at evenly spaced ranks of the distinct values.
        let count = sorted.len().min(bins);
        let feature_edges: Vec<f64> = (1..=count)
            .map(|b| sorted[(b * sorted.len()).div_ceil(count) - 1])
            .collect();
        let column: Vec<u8> = (0..n)
            .map(|i| feature_edges.partition_point(|&e| e < x[[i, j]]) as u8)
            .collect();
        binned.push(column);
        edges.push(feature_edges);
    }
    (binned, edges)
}

/// Grows one tree on gradients `g` and Hessians `h`.
struct Grower<'a> {
    binned: &'a [Vec<u8>],
    edges: &'a [Vec<f64>],
    g: &'a [f64],
    h: &'a [f64],
    spec: &'a GbtSpec,
    tree: Tree,
    features: usize,
    /// The value of the leaf each training row ends in.
    leaf_of: Vec<f64>,
}

impl Grower<'_> {
    /// Adds the node over `rows` at `depth` (and its subtree); its index.
    fn grow(&mut self, rows: Vec<u32>, depth: usize) -> u32 {
        let index = self.tree.feature.len() as u32;
        self.tree.feature.push(-1);
        self.tree.threshold.push(0.0);
        self.tree.left.push(0);
        self.tree.right.push(0);
        let (g, h) = rows.iter().fold((0.0, 0.0), |(g, h), &i| {
            (g + self.g[i as usize], h + self.h[i as usize])
        });
        let leaf = -self.spec.learning_rate * g / (h + self.spec.lambda);
        self.tree.value.push(leaf);
        let split = if depth < self.spec.max_depth {
            self.best_split(&rows, g, h)
        } else {
            None
        };
        let Some((feature, bin)) = split else {
            for &i in &rows {
                self.leaf_of[i as usize] = leaf;
            }
            return index;
        };
        let column = &self.binned[feature];
        let (left, right): (Vec<u32>, Vec<u32>) =
            rows.into_iter().partition(|&i| column[i as usize] <= bin);
        let at = index as usize;
        self.tree.feature[at] = feature as i32;
        self.tree.threshold[at] = self.edges[feature][bin as usize];
        self.tree.value[at] = 0.0;
        let l = self.grow(left, depth + 1);
        let r = self.grow(right, depth + 1);
        self.tree.left[at] = l;
        self.tree.right[at] = r;
        index
    }

    /// The split of `rows` with the highest positive gain: (feature, last bin going left).
    fn best_split(&self, rows: &[u32], g: f64, h: f64) -> Option<(usize, u8)> {
        let lambda = self.spec.lambda;
        let score = |g: f64, h: f64| g * g / (h + lambda);
        let parent = score(g, h);
        let mut best: Option<(f64, usize, u8)> = None;
        for feature in 0..self.features {
            let bins = self.edges[feature].len();
            if bins < 2 {
                continue;
            }
            let mut hist = vec![(0.0f64, 0.0f64); bins];
            let column = &self.binned[feature];
            for &i in rows {
                let cell = &mut hist[column[i as usize] as usize];
                cell.0 += self.g[i as usize];
                cell.1 += self.h[i as usize];
            }
            let (mut gl, mut hl) = (0.0, 0.0);
            for (b, &(gb, hb)) in hist.iter().enumerate().take(bins - 1) {
                gl += gb;
                hl += hb;
                let (gr, hr) = (g - gl, h - hl);
                if hl < self.spec.min_child_weight || hr < self.spec.min_child_weight {
                    continue;
                }
                let gain = 0.5 * (score(gl, hl) + score(gr, hr) - parent) - self.spec.gamma;
                if gain > 0.0 && best.is_none_or(|(g, ..)| gain > g) {
                    best = Some((gain, feature, b as u8));
                }
            }
        }
        best.map(|(_, feature, bin)| (feature, bin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    /// Two classes by the sign of x·y: no line separates them.
    fn xor(n: usize) -> (Array2<f64>, Vec<usize>) {
        let mut rng = 12345u64;
        let mut next = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut x = Array2::zeros((n, 2));
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let (a, b) = (next(), next());
            x[[i, 0]] = a;
            x[[i, 1]] = b;
            y.push(usize::from(a * b > 0.0));
        }
        (x, y)
    }

    #[test]
    fn a_pattern_no_line_separates_is_learnt_and_training_is_reproducible() {
        let (x, y) = xor(600);
        let spec = GbtSpec {
            rounds: 40,
            max_depth: 2,
            learning_rate: 0.3,
            ..GbtSpec::default()
        };
        let model = Gbt::fit(x.view(), &y, None, 2, &spec).unwrap();
        let (test, truth) = xor(300);
        let p = model.probabilities(test.view());
        let right = truth
            .iter()
            .enumerate()
            .filter(|&(i, &k)| p[[i, k]] > 0.5)
            .count();
        assert!(right > 280, "{right} of 300 right");
        assert_eq!(model, Gbt::fit(x.view(), &y, None, 2, &spec).unwrap());
    }

    #[test]
    fn a_first_tree_by_hand() {
        // Two classes, shares ½: the prior logits are equal, p = ½, g = p − y, h = ¼.
        // Feature 0 separates the classes at 1: gain ½ [1²/(½+1) + 1²/(½+1) − 0] = 2/3.
        let x = array![[0.0, 5.0], [1.0, 3.0], [2.0, 4.0], [3.0, 3.0]];
        let y = [0, 0, 1, 1];
        let spec = GbtSpec {
            rounds: 1,
            max_depth: 1,
            learning_rate: 1.0,
            min_child_weight: 0.0,
            ..GbtSpec::default()
        };
        let model = Gbt::fit(x.view(), &y, None, 2, &spec).unwrap();
        let tree = &model.trees[1]; // class 1's
        assert_eq!(tree.feature, vec![0, -1, -1]);
        assert_eq!(tree.threshold[0], 1.0);
        // Left: G = ½ + ½ = 1, H = ½: −1 / 1.5. Right: −(−1) / 1.5.
        assert!((tree.value[1] + 2.0 / 3.0).abs() < 1e-15);
        assert!((tree.value[2] - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(model.base, vec![0.5f64.ln(), 0.5f64.ln()]);
    }

    #[test]
    fn unusable_settings_are_named() {
        let (x, y) = xor(10);
        let bins = GbtSpec {
            bins: 1,
            ..GbtSpec::default()
        };
        let e = Gbt::fit(x.view(), &y, None, 2, &bins).unwrap_err();
        assert!(e.to_string().contains("bins"), "{e}");
    }
}
