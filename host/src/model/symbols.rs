//! Interning of symbol names to the small ids that cross the guest boundary.

use std::collections::HashMap;
use std::sync::Arc;

/// A host-assigned instrument id.
pub type SymbolId = u32;

/// Names to ids and back; ids are dense and never reused.
#[derive(Debug, Default, Clone)]
pub struct SymbolTable {
    by_name: HashMap<Arc<str>, SymbolId>,
    names: Vec<Arc<str>>,
}

impl SymbolTable {
    /// The id of `name`, assigning the next one if it is new. Names are upper-cased.
    pub fn intern(&mut self, name: &str) -> SymbolId {
        let upper = name.to_ascii_uppercase();
        if let Some(&id) = self.by_name.get(upper.as_str()) {
            return id;
        }
        let id = self.names.len() as SymbolId;
        let name: Arc<str> = upper.into();
        self.names.push(name.clone());
        self.by_name.insert(name, id);
        id
    }

    /// Symbols interned (ids run from 0 to this, exclusive).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no symbol is interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The id of a known name.
    pub fn id(&self, name: &str) -> Option<SymbolId> {
        self.by_name
            .get(name.to_ascii_uppercase().as_str())
            .copied()
    }

    /// The name of a known id.
    pub fn name(&self, id: SymbolId) -> Option<&Arc<str>> {
        self.names.get(id as usize)
    }

    /// The name of `id`, or `#id` for an id the table does not know (for reports).
    pub fn label(&self, id: SymbolId) -> Arc<str> {
        self.name(id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}").into())
    }
}
