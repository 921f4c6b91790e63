//! The latest traded price of each symbol: a bar's close, or a later trade's price.

use crate::model::{Fixed, SymbolId};

/// The latest price of each symbol, indexed by symbol id.
#[derive(Clone, Debug, Default)]
pub struct Marks(Vec<Option<Fixed>>);

impl Marks {
    /// The latest price of `symbol`.
    pub fn get(&self, symbol: SymbolId) -> Option<Fixed> {
        self.0.get(symbol as usize).copied().flatten()
    }

    /// Records the latest price of `symbol`.
    pub fn set(&mut self, symbol: SymbolId, price: Fixed) {
        let i = symbol as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i] = Some(price);
    }
}
