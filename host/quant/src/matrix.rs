//! A dense row-major matrix of `f64`, as much of one as the risk code needs.

use crate::QuantError;

/// A dense matrix, row-major: returns are one row a bar and one column an asset.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A matrix from its rows, in order; every value must be finite.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Matrix, QuantError> {
        if rows * cols != data.len() {
            return Err(QuantError::Shape(format!(
                "{rows} x {cols} matrix given {} values",
                data.len()
            )));
        }
        if data.iter().any(|v| !v.is_finite()) {
            return Err(QuantError::NotFinite("the matrix"));
        }
        Ok(Matrix { rows, cols, data })
    }

    /// A matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// A matrix from equally long rows.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Matrix, QuantError> {
        let cols = rows.first().map_or(0, Vec::len);
        if rows.iter().any(|r| r.len() != cols) {
            return Err(QuantError::Shape("rows of different lengths".into()));
        }
        Matrix::new(rows.len(), cols, rows.concat())
    }

    /// Rows (bars).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (assets).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The value at row `i`, column `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    /// Sets the value at row `i`, column `j`.
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.cols + j] = v;
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Column `j`, copied.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.rows).map(|i| self.get(i, j)).collect()
    }

    /// Each row's dot product with `w` (a portfolio's returns).
    pub fn times(&self, w: &[f64]) -> Result<Vec<f64>, QuantError> {
        if w.len() != self.cols {
            return Err(QuantError::Shape(format!(
                "{} weights for {} assets",
                w.len(),
                self.cols
            )));
        }
        Ok((0..self.rows).map(|i| dot(self.row(i), w)).collect())
    }

    /// `w' M w` for a square matrix.
    pub fn quadratic(&self, w: &[f64]) -> f64 {
        (0..self.rows).map(|i| w[i] * dot(self.row(i), w)).sum()
    }

    /// Column means.
    pub fn column_means(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.cols];
        for i in 0..self.rows {
            for (acc, v) in m.iter_mut().zip(self.row(i)) {
                *acc += v;
            }
        }
        m.iter_mut().for_each(|v| *v /= self.rows as f64);
        m
    }

    /// The rows `from..to`.
    pub fn slice_rows(&self, from: usize, to: usize) -> Matrix {
        Matrix {
            rows: to - from,
            cols: self.cols,
            data: self.data[from * self.cols..to * self.cols].to_vec(),
        }
    }

    /// The lower-triangular Cholesky factor `L` of a symmetric positive-definite matrix
    /// (`M = L L'`); `None` if the matrix is not positive definite.
    pub fn cholesky(&self) -> Option<Matrix> {
        let n = self.rows;
        let mut l = Matrix::zeros(n, n);
        for i in 0..n {
            for j in 0..=i {
                let s: f64 = (0..j).map(|k| l.get(i, k) * l.get(j, k)).sum();
                if i == j {
                    let d = self.get(i, i) - s;
                    if d <= 0.0 || !d.is_finite() {
                        return None;
                    }
                    l.set(i, i, d.sqrt());
                } else {
                    l.set(i, j, (self.get(i, j) - s) / l.get(j, j));
                }
            }
        }
        Some(l)
    }
}

/// The dot product of two equally long slices.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix_and_refuses_an_indefinite_one() {
        let m = Matrix::from_rows(&[
            vec![4.0, 2.0, 0.4],
            vec![2.0, 3.0, 0.5],
            vec![0.4, 0.5, 1.0],
        ])
        .unwrap();
        let l = m.cholesky().unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l.get(i, k) * l.get(j, k)).sum();
                assert!((v - m.get(i, j)).abs() < 1e-12);
            }
        }
        let bad = Matrix::from_rows(&[vec![1.0, 2.0], vec![2.0, 1.0]]).unwrap();
        assert!(bad.cholesky().is_none());
        assert!(Matrix::new(1, 2, vec![1.0, f64::NAN]).is_err());
        assert!(Matrix::new(1, 2, vec![1.0]).is_err());
    }
}
