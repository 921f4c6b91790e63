//! What the signal stage shows the guests through the contract's `conditions` interface: each
//! symbol's latest regimes and the latest quality of each source x kind x symbol, written by
//! the engine as bars and outcomes arrive and read by host functions during callbacks.

use super::per_symbol::PerSymbol;
use super::quality::Quality;
use super::regime::Regime;
use crate::model::{SignalKind, SymbolId};
use std::collections::HashMap;
use std::sync::Arc;

/// One source's quality by kind and symbol name.
type ByKindAndSymbol = HashMap<SignalKind, HashMap<Arc<str>, Quality>>;

/// The regimes and signal quality guests may read.
#[derive(Debug, Default)]
pub struct SignalsView {
    regimes: PerSymbol<Regime>,
    /// By source, kind and symbol name.
    quality: HashMap<Arc<str>, ByKindAndSymbol>,
}

impl SignalsView {
    /// `symbol`'s regimes from now on (a copy; the symbol's name is shared, its reference
    /// count touched only when the name changes).
    pub fn set_regime(&mut self, symbol: SymbolId, regime: &Regime) {
        let name = match self.regimes.take(symbol) {
            Some(held) if Arc::ptr_eq(&held.symbol, &regime.symbol) => held.symbol,
            _ => regime.symbol.clone(),
        };
        self.regimes.set(
            symbol,
            Regime {
                symbol: name,
                ..*regime
            },
        );
    }

    /// `symbol`'s latest regimes.
    pub fn regime(&self, symbol: SymbolId) -> Option<&Regime> {
        self.regimes.get(symbol)
    }

    /// The quality of `quality`'s source x kind x symbol from now on.
    pub fn set_quality(&mut self, quality: Quality) {
        self.quality
            .entry(quality.source.clone())
            .or_default()
            .entry(quality.kind)
            .or_default()
            .insert(quality.symbol.clone(), quality);
    }

    /// Forgets the quality of `key`'s source x kind x symbol.
    pub fn remove_quality(&mut self, key: &super::quality::Key) {
        let (source, kind, symbol) = key;
        if let Some(kinds) = self.quality.get_mut(source) {
            if let Some(symbols) = kinds.get_mut(kind) {
                symbols.remove(symbol);
                if symbols.is_empty() {
                    kinds.remove(kind);
                }
            }
            if kinds.is_empty() {
                self.quality.remove(source);
            }
        }
    }

    /// The latest quality of `source`'s `kind` signals on `symbol` (by name).
    pub fn quality(&self, source: &str, kind: SignalKind, symbol: &str) -> Option<&Quality> {
        self.quality.get(source)?.get(&kind)?.get(symbol)
    }
}
