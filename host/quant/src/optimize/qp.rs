//! Convex problems for the optimisers, solved by Clarabel (an interior-point solver in Rust):
//! minimise `x'Px/2 + q'x` subject to linear equalities and inequalities.

use crate::QuantError;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus, ZeroConeT,
};

/// A sparse row: (variable, coefficient) pairs.
pub(super) type Row = Vec<(usize, f64)>;

/// A quadratic program under construction.
pub(super) struct Qp {
    n: usize,
    /// Upper-triangle entries of `P` (row <= column).
    p: Vec<(usize, usize, f64)>,
    q: Vec<f64>,
    eq: Vec<(Row, f64)>,
    le: Vec<(Row, f64)>,
}

impl Qp {
    /// A problem over `n` variables with no objective and no constraint.
    pub(super) fn new(n: usize) -> Qp {
        Qp {
            n,
            p: Vec::new(),
            q: vec![0.0; n],
            eq: Vec::new(),
            le: Vec::new(),
        }
    }

    /// Adds `x' (scale M) x / 2` for the symmetric `m` placed at variables `at..at + m.rows()`.
    pub(super) fn quadratic(&mut self, at: usize, m: &crate::Matrix, scale: f64) {
        for i in 0..m.rows() {
            for j in i..m.cols() {
                self.p.push((at + i, at + j, scale * m.get(i, j)));
            }
        }
    }

    /// Adds `c` to the linear cost of variable `i`.
    pub(super) fn linear(&mut self, i: usize, c: f64) {
        self.q[i] += c;
    }

    /// `row . x == b`.
    pub(super) fn equal(&mut self, row: Row, b: f64) {
        self.eq.push((row, b));
    }

    /// `row . x <= b`.
    pub(super) fn at_most(&mut self, row: Row, b: f64) {
        self.le.push((row, b));
    }

    /// Solves to tight tolerances; the solution or why there is none.
    pub(super) fn solve(self) -> Result<Vec<f64>, QuantError> {
        let n = self.n;
        let p = csc(n, n, self.p.into_iter());
        let rows: Vec<&(Row, f64)> = self.eq.iter().chain(&self.le).collect();
        let entries = rows
            .iter()
            .enumerate()
            .flat_map(|(r, (row, _))| row.iter().map(move |&(c, v)| (r, c, v)));
        let a = csc(rows.len(), n, entries);
        let b: Vec<f64> = rows.iter().map(|(_, b)| *b).collect();
        let cones = [ZeroConeT(self.eq.len()), NonnegativeConeT(self.le.len())];
        let settings = DefaultSettingsBuilder::default()
            .verbose(false)
            .tol_gap_abs(1e-12)
            .tol_gap_rel(1e-12)
            .tol_feas(1e-12)
            .max_iter(200)
            .build()
            .map_err(|e| QuantError::Infeasible(format!("solver settings: {e:?}")))?;
        let mut solver =
            DefaultSolver::new(&p, &self.q, &a, &b, &cones, settings).map_err(|e| {
                QuantError::Infeasible(format!("the solver refused the problem: {e:?}"))
            })?;
        solver.solve();
        match solver.solution.status {
            SolverStatus::Solved | SolverStatus::AlmostSolved => Ok(solver.solution.x.clone()),
            SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => Err(
                QuantError::Infeasible("no weights satisfy the constraints".into()),
            ),
            status => Err(QuantError::Infeasible(format!(
                "the solver stopped without a solution: {status:?}"
            ))),
        }
    }
}

/// A compressed-sparse-column matrix from (row, column, value) entries (duplicates summed).
fn csc(m: usize, n: usize, entries: impl Iterator<Item = (usize, usize, f64)>) -> CscMatrix<f64> {
    let mut cols: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for (r, c, v) in entries {
        cols[c].push((r, v));
    }
    let (mut colptr, mut rowval, mut nzval) = (vec![0], Vec::new(), Vec::new());
    for mut col in cols {
        col.sort_by_key(|e| e.0);
        let mut merged: Vec<(usize, f64)> = Vec::with_capacity(col.len());
        for (r, v) in col {
            match merged.last_mut() {
                Some(last) if last.0 == r => last.1 += v,
                _ => merged.push((r, v)),
            }
        }
        for (r, v) in merged {
            rowval.push(r);
            nzval.push(v);
        }
        colptr.push(rowval.len());
    }
    CscMatrix::new(m, n, colptr, rowval, nzval)
}
