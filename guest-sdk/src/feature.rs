//! Features read by handle: the name is resolved once (in `init`, say) and each read passes a
//! number instead of a string, which is what a strategy reading features on every event wants.

use crate::SymbolId;
use crate::bindings::stratbox::strategy::market;

/// A feature resolved once by name (`Feature::new("RSI_14")`, `"zscore_32:ret_1"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Feature(u32);

impl Feature {
    /// Resolves `name`; the error names the problem with an unknown feature.
    pub fn new(name: &str) -> Result<Self, String> {
        market::resolve_feature(name).map(Feature)
    }

    /// The feature's latest value for `symbol` (`None` while it has too little history).
    pub fn read(self, symbol: SymbolId) -> Option<f64> {
        market::read_feature(symbol, self.0)
    }
}

/// Several features of `symbol` in one host call, in the order given.
pub fn read_features(symbol: SymbolId, features: &[Feature]) -> Vec<Option<f64>> {
    let handles: Vec<u32> = features.iter().map(|f| f.0).collect();
    market::read_features(symbol, &handles)
}
