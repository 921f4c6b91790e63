//! `state`: the deployment's private key-value store, journaled so it survives swaps and restarts.

use super::{GuestCtx, HostResult, lock};
use crate::journal::JournalEntry;
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::state;

impl GuestCtx {
    /// The value under `key`.
    pub(crate) fn state_get(&self, key: &str) -> Option<Vec<u8>> {
        lock(&self.deployment).state.get(key).map(<[u8]>::to_vec)
    }

    /// Stores `value` under `key` and journals it.
    pub(crate) fn state_set(&mut self, key: String, value: Vec<u8>) -> Result<(), String> {
        let result = lock(&self.deployment).state.set(&key, &value);
        if result.is_ok() {
            self.journal(JournalEntry::StateSet {
                deployment: self.name.clone(),
                key,
                value,
            });
        }
        result
    }

    /// Removes `key` and journals it; whether it existed.
    pub(crate) fn state_delete(&mut self, key: String) -> bool {
        let existed = lock(&self.deployment).state.delete(&key);
        if existed {
            self.journal(JournalEntry::StateDelete {
                deployment: self.name.clone(),
                key,
            });
        }
        existed
    }

    /// Every key, sorted.
    pub(crate) fn state_keys(&self) -> Vec<String> {
        lock(&self.deployment).state.keys().cloned().collect()
    }
}

impl state::Host for GuestCtx {
    fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        Ok(self.state_get(&key))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), String>> {
        Ok(self.state_set(key, value))
    }

    fn delete(&mut self, key: String) -> HostResult<bool> {
        Ok(self.state_delete(key))
    }

    fn keys(&mut self) -> HostResult<Vec<String>> {
        Ok(self.state_keys())
    }
}
