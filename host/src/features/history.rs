//! A symbol's kept feature rows, for transforms and model windows. A row holds only the
//! columns the symbol computes: every column but the TA-Lib ones, and the TA-Lib indicators it
//! runs (in lazy mode most are not, and their columns are missing in every row). Copying a
//! bar's whole catalog row, most of it missing, into history that was last touched hundreds of
//! bars ago cost more than any one feature family; a dense row is a fraction of it.

use std::collections::VecDeque;

/// A column no row holds.
const ABSENT: u32 = u32::MAX;

/// The rows of one symbol, oldest first.
pub(super) struct History {
    rows: VecDeque<Vec<f64>>,
    /// Each catalog column's place in a row, or [`ABSENT`].
    place: Vec<u32>,
    /// The column ranges (first, width) a new row copies from the catalog row, in row order.
    ranges: Vec<(usize, usize)>,
    /// Values in a row.
    width: usize,
    /// Rows kept.
    capacity: usize,
}

impl History {
    /// An empty history of up to `capacity` rows of a `columns`-wide catalog, holding every
    /// column outside `technical` (the TA-Lib columns' range); TA-Lib columns join by
    /// [`History::hold`].
    pub(super) fn new(columns: usize, technical: std::ops::Range<usize>, capacity: usize) -> Self {
        let mut history = History {
            rows: VecDeque::with_capacity(capacity + 1),
            place: vec![ABSENT; columns],
            ranges: Vec::new(),
            width: 0,
            capacity,
        };
        history.hold(0, technical.start);
        history.hold(technical.end, columns - technical.end);
        history
    }

    /// Holds columns `first..first + width` from now on (missing in the rows kept so far; a
    /// range already held is left as it is).
    pub(super) fn hold(&mut self, first: usize, width: usize) {
        if width == 0 || self.place[first] != ABSENT {
            return;
        }
        for (k, place) in self.place[first..first + width].iter_mut().enumerate() {
            *place = (self.width + k) as u32;
        }
        // Ranges that follow one another are copied as one (in eager mode, every indicator).
        match self.ranges.last_mut() {
            Some((last, held)) if *last + *held == first => *held += width,
            _ => self.ranges.push((first, width)),
        }
        self.width += width;
        for row in &mut self.rows {
            row.resize(self.width, f64::NAN);
        }
    }

    /// Keeps the held columns of `values` (a catalog row) as the newest row, the oldest
    /// leaving once `capacity` are kept.
    pub(super) fn push(&mut self, values: &[f64]) {
        // Reuse the oldest row's allocation once the history is full.
        let mut row = if self.rows.len() >= self.capacity {
            self.rows.pop_front().unwrap_or_default()
        } else {
            Vec::with_capacity(self.width)
        };
        row.clear();
        for &(first, width) in &self.ranges {
            row.extend_from_slice(&values[first..first + width]);
        }
        self.rows.push_back(row);
    }

    /// Rows kept.
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Column `column` of row `row` (missing where the column is not held).
    pub(super) fn value(&self, row: usize, column: usize) -> f64 {
        held(&self.rows[row], self.place[column])
    }

    /// Column `column` of rows `rows`, oldest first.
    pub(super) fn column(
        &self,
        column: usize,
        rows: std::ops::Range<usize>,
    ) -> impl Iterator<Item = f64> + '_ {
        let place = self.place[column];
        self.rows.range(rows).map(move |row| held(row, place))
    }

    /// The values of held columns `first..first + width` in row `row`, to fill in.
    pub(super) fn columns_mut(&mut self, row: usize, first: usize, width: usize) -> &mut [f64] {
        let place = self.place[first] as usize;
        &mut self.rows[row][place..place + width]
    }
}

/// The value at `place` in `row`, NaN for a column not held.
#[inline]
fn held(row: &[f64], place: u32) -> f64 {
    match place {
        ABSENT => f64::NAN,
        place => row[place as usize],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_hold_the_columns_outside_the_technical_range_and_those_added() {
        // Columns 0..2 and 6..8 are always held; 2..6 are technical.
        let mut history = History::new(8, 2..6, 3);
        let row = |k: f64| -> Vec<f64> { (0..8).map(|c| k * 10.0 + c as f64).collect() };
        history.push(&row(1.0));
        assert_eq!(history.value(0, 1), 11.0);
        assert_eq!(history.value(0, 7), 17.0);
        assert!(history.value(0, 3).is_nan());
        history.hold(3, 2);
        history.hold(3, 2);
        assert!(
            history.value(0, 3).is_nan(),
            "missing in the rows kept before"
        );
        history.columns_mut(0, 3, 2).copy_from_slice(&[-3.0, -4.0]);
        assert_eq!(history.value(0, 4), -4.0);
        for k in 2..=4 {
            history.push(&row(k as f64));
        }
        assert_eq!(history.len(), 3, "the oldest left");
        assert_eq!(
            history.column(3, 0..3).collect::<Vec<_>>(),
            [23.0, 33.0, 43.0]
        );
        assert!(history.column(5, 1..3).all(f64::is_nan));
        assert_eq!(history.value(2, 6), 46.0);
        history.hold(5, 1);
        assert_eq!(
            history.ranges,
            [(0, 2), (6, 2), (3, 3)],
            "3..5 and 5..6 merged"
        );
        history.push(&row(5.0));
        assert_eq!(history.column(5, 2..3).collect::<Vec<_>>(), [55.0]);
    }
}
