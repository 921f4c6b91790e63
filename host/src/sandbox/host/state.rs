//! `state`: the deployment's private key-value store, journaled so it survives swaps and restarts.

use super::{GuestCtx, HostResult, lock};
use crate::journal::JournalEntry;
use crate::sandbox::bindings::strategy::stratbox::strategy::state;

impl state::Host for GuestCtx {
    fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        Ok(lock(&self.deployment).state.get(&key).map(<[u8]>::to_vec))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), String>> {
        let result = lock(&self.deployment).state.set(&key, &value);
        if result.is_ok() {
            self.journal(JournalEntry::StateSet {
                deployment: self.name.clone(),
                key,
                value,
            });
        }
        Ok(result)
    }

    fn delete(&mut self, key: String) -> HostResult<bool> {
        let existed = lock(&self.deployment).state.delete(&key);
        if existed {
            self.journal(JournalEntry::StateDelete {
                deployment: self.name.clone(),
                key,
            });
        }
        Ok(existed)
    }

    fn keys(&mut self) -> HostResult<Vec<String>> {
        Ok(lock(&self.deployment).state.keys().cloned().collect())
    }
}
