//! A fixed-size ring buffer of the most recent values.

/// The last `capacity` values pushed, oldest first.
#[derive(Clone, Debug)]
pub struct Window {
    values: Vec<f64>,
    head: usize,
    len: usize,
}

impl Window {
    /// An empty window holding up to `capacity` values (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            values: vec![0.0; capacity.max(1)],
            head: 0,
            len: 0,
        }
    }

    /// Pushes `x`; returns the value that fell out when the window was full.
    #[inline(always)]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        let cap = self.values.len();
        if self.len < cap {
            // Until the window is full `head` stays 0, so the next slot is `len`.
            self.values[self.len] = x;
            self.len += 1;
            None
        } else {
            let old = std::mem::replace(&mut self.values[self.head], x);
            self.head += 1;
            if self.head == cap {
                self.head = 0;
            }
            Some(old)
        }
    }

    /// Pushes the last `capacity` of `values` (all of them if fewer): the window then holds
    /// what pushing every one of them would leave.
    pub fn push_all(&mut self, values: &[f64]) {
        let from = values.len().saturating_sub(self.values.len());
        for &x in &values[from..] {
            self.push(x);
        }
    }

    /// The `i`-th oldest value held (0 = oldest).
    #[inline(always)]
    pub fn get(&self, i: usize) -> f64 {
        let mut slot = self.head + i;
        if slot >= self.values.len() {
            slot -= self.values.len();
        }
        self.values[slot]
    }

    /// The value pushed `ago` pushes before the last one (0 = the last).
    #[inline(always)]
    pub fn back(&self, ago: usize) -> f64 {
        self.get(self.len - 1 - ago)
    }

    /// The values held, oldest first, as two runs: the older one then the newer one.
    #[inline]
    pub fn as_slices(&self) -> (&[f64], &[f64]) {
        if self.len < self.values.len() {
            (&self.values[..self.len], &[])
        } else {
            let (newer, older) = self.values.split_at(self.head);
            (older, newer)
        }
    }

    /// Number of values held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first push.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True once `capacity` values are held.
    pub fn is_full(&self) -> bool {
        self.len == self.values.len()
    }

    /// The capacity given at construction.
    pub fn capacity(&self) -> usize {
        self.values.len()
    }

    /// Values oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (older, newer) = self.as_slices();
        older.iter().chain(newer).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_values_in_order() {
        let mut w = Window::new(3);
        assert_eq!(w.push(1.0), None);
        w.push(2.0);
        w.push(3.0);
        assert_eq!(w.push(4.0), Some(1.0));
        assert_eq!(w.iter().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0]);
        assert_eq!(w.back(0), 4.0);
        assert_eq!(w.back(2), 2.0);
        assert_eq!(w.as_slices(), (&[2.0, 3.0][..], &[4.0][..]));
        w.push_all(&[5.0, 6.0, 7.0, 8.0, 9.0]);
        assert_eq!(w.iter().collect::<Vec<_>>(), vec![7.0, 8.0, 9.0]);
    }
}
