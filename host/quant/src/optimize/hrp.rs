//! Hierarchical risk parity (Lopez de Prado 2016) as PyPortfolioOpt's `HRPOpt` computes it:
//! distances `sqrt((1 - corr) / 2)`, single-linkage clustering as scipy's `linkage` builds it
//! (Prim's minimum spanning tree, merges in order of distance, the lower cluster id on the
//! left), the leaves in the dendrogram's pre-order, then recursive bisection of that order in
//! halves, each half weighted inversely to its inverse-variance portfolio's variance.

use crate::covariance::correlation;
use crate::{Matrix, QuantError};

/// The HRP weights of covariance `cov`.
pub fn hrp(cov: &Matrix) -> Result<Vec<f64>, QuantError> {
    let n = super::square(cov)?;
    if n == 0 {
        return Err(QuantError::Shape("no assets".into()));
    }
    if (0..n).any(|i| cov.get(i, i) <= 0.0) {
        return Err(QuantError::Infeasible(
            "an asset without variance has no correlation to cluster by".into(),
        ));
    }
    let corr = correlation(cov);
    let dist = |i: usize, j: usize| ((1.0 - corr.get(i, j)) / 2.0).clamp(0.0, 1.0).sqrt();
    let order = leaf_order(n, &single_linkage(n, dist));
    Ok(bisect(cov, &order))
}

/// scipy's single linkage: rows (left cluster, right cluster), cluster `n + k` made by row `k`.
fn single_linkage(n: usize, dist: impl Fn(usize, usize) -> f64) -> Vec<(usize, usize)> {
    // Prim's tree as scipy's `mst_single_linkage` walks it.
    let mut merged = vec![false; n];
    let mut nearest = vec![f64::INFINITY; n];
    let mut edges: Vec<(usize, usize, f64)> = Vec::with_capacity(n.saturating_sub(1));
    let mut x = 0;
    for _ in 1..n {
        merged[x] = true;
        let (mut y, mut best) = (x, f64::INFINITY);
        for i in 0..n {
            if merged[i] {
                continue;
            }
            nearest[i] = nearest[i].min(dist(x, i));
            if nearest[i] < best {
                (y, best) = (i, nearest[i]);
            }
        }
        edges.push((x, y, best));
        x = y;
    }
    edges.sort_by(|a, b| a.2.total_cmp(&b.2)); // stable, as scipy's mergesort
    // scipy's `label`: union-find over cluster ids, the lower root on the left.
    let mut parent: Vec<usize> = (0..2 * n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    edges
        .iter()
        .enumerate()
        .map(|(k, &(a, b, _))| {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra] = n + k;
            parent[rb] = n + k;
            (ra.min(rb), ra.max(rb))
        })
        .collect()
}

/// The leaves of the dendrogram, left first (scipy's `to_tree(...).pre_order()`).
fn leaf_order(n: usize, rows: &[(usize, usize)]) -> Vec<usize> {
    let mut order = Vec::with_capacity(n);
    let mut stack = vec![if n == 1 { 0 } else { 2 * n - 2 }];
    while let Some(node) = stack.pop() {
        if node < n {
            order.push(node);
        } else {
            let (left, right) = rows[node - n];
            stack.push(right);
            stack.push(left);
        }
    }
    order
}

/// The variance of the inverse-variance portfolio of `items`.
fn cluster_variance(cov: &Matrix, items: &[usize]) -> f64 {
    let inv: Vec<f64> = items.iter().map(|&i| 1.0 / cov.get(i, i)).collect();
    let s: f64 = inv.iter().sum();
    let w: Vec<f64> = inv.iter().map(|v| v / s).collect();
    let mut var = 0.0;
    for (a, &i) in items.iter().enumerate() {
        for (b, &j) in items.iter().enumerate() {
            var += w[a] * w[b] * cov.get(i, j);
        }
    }
    var
}

/// PyPortfolioOpt's `_raw_hrp_allocation`: split every cluster in halves of the order,
/// level by level, weighting each pair by the other's variance.
fn bisect(cov: &Matrix, order: &[usize]) -> Vec<f64> {
    let mut w = vec![1.0; cov.rows()];
    let mut clusters: Vec<&[usize]> = vec![order];
    while !clusters.is_empty() {
        clusters = clusters
            .iter()
            .filter(|c| c.len() > 1)
            .flat_map(|c| {
                let (a, b) = c.split_at(c.len() / 2);
                [a, b]
            })
            .collect();
        for pair in clusters.chunks(2) {
            let (first, second) = (pair[0], pair[1]);
            let (v1, v2) = (cluster_variance(cov, first), cluster_variance(cov, second));
            let alpha = 1.0 - v1 / (v1 + v2);
            first.iter().for_each(|&i| w[i] *= alpha);
            second.iter().for_each(|&i| w[i] *= 1.0 - alpha);
        }
    }
    w
}
