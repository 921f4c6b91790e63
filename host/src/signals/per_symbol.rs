//! Detector state kept for each symbol, by the symbol's id (ids are dense, from the market's
//! symbol table): an index instead of a hash on every bar.

use super::prefetch;
use crate::model::SymbolId;

/// A `T` for each symbol seen, indexed by its id.
#[derive(Debug)]
pub struct PerSymbol<T>(Vec<Option<T>>);

impl<T> Default for PerSymbol<T> {
    fn default() -> Self {
        PerSymbol(Vec::new())
    }
}

impl<T> PerSymbol<T> {
    /// `symbol`'s state, made by `make` at its first call.
    pub fn get_or_insert_with(&mut self, symbol: SymbolId, make: impl FnOnce() -> T) -> &mut T {
        self.slot(symbol).get_or_insert_with(make)
    }

    /// `symbol`'s state from now on.
    pub fn set(&mut self, symbol: SymbolId, value: T) {
        *self.slot(symbol) = Some(value);
    }

    fn slot(&mut self, symbol: SymbolId) -> &mut Option<T> {
        let i = symbol as usize;
        if i >= self.0.len() {
            self.0.resize_with(i + 1, || None);
        }
        &mut self.0[i]
    }

    /// `symbol`'s state, taken out.
    pub fn take(&mut self, symbol: SymbolId) -> Option<T> {
        self.0.get_mut(symbol as usize)?.take()
    }

    /// `symbol`'s state, if it has one.
    pub fn get(&self, symbol: SymbolId) -> Option<&T> {
        self.0.get(symbol as usize)?.as_ref()
    }

    /// Requests `symbol`'s state from memory ahead of its use (see [`prefetch`]).
    #[inline]
    pub fn prefetch(&self, symbol: SymbolId) {
        if let Some(slot) = self.0.get(symbol as usize) {
            prefetch::value(slot);
        }
    }

    /// Every symbol's state, by id.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().flatten()
    }
}

impl<T: Default> PerSymbol<T> {
    /// `symbol`'s state, a default one at its first call.
    pub fn get_or_default(&mut self, symbol: SymbolId) -> &mut T {
        self.get_or_insert_with(symbol, T::default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_symbol_keeps_its_own_state() {
        let mut states: PerSymbol<u32> = PerSymbol::default();
        *states.get_or_default(3) += 5;
        *states.get_or_insert_with(0, || 7) += 1;
        *states.get_or_default(3) += 1;
        states.set(5, 1);
        states.set(5, 2);
        assert_eq!(states.get(3), Some(&6));
        assert_eq!(states.get(0), Some(&8));
        assert_eq!(states.get(1), None);
        assert_eq!(states.get(99), None);
        assert_eq!(states.get(5), Some(&2));
        assert_eq!(states.take(5), Some(2));
        assert_eq!(states.take(5), None);
        assert_eq!(states.take(77), None);
        states.set(5, 2);
        assert_eq!(states.values().copied().collect::<Vec<_>>(), [8, 6, 2]);
    }
}
