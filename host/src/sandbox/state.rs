//! A deployment's private key-value store, bounded in key length, value size and total bytes.
//! It belongs to the deployment, not to one version, so it survives hot swap; the journal
//! persists every change so it survives a host restart.

use std::collections::BTreeMap;

/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Most bytes (keys and values) one deployment may store.
pub const MAX_TOTAL_BYTES: usize = 4 * 1024 * 1024;

/// Keys to byte values, with a running size.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateStore {
    entries: BTreeMap<String, Vec<u8>>,
    bytes: usize,
}

impl StateStore {
    /// A store holding `entries` (as loaded from the database).
    pub fn from_entries(entries: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        let mut store = StateStore::default();
        for (k, v) in entries {
            store.bytes += k.len() + v.len();
            store.entries.insert(k, v);
        }
        store
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    /// Stores `value` under `key`, or says which bound it would break.
    pub fn set(&mut self, key: &str, value: &[u8]) -> Result<(), String> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(format!(
                "state key must be 1 to {MAX_KEY_BYTES} bytes, got {}",
                key.len()
            ));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(format!(
                "state value for {key:?} is {} bytes, above the {MAX_VALUE_BYTES}-byte limit",
                value.len()
            ));
        }
        let old = self.entries.get(key).map_or(0, |v| key.len() + v.len());
        let total = self.bytes - old + key.len() + value.len();
        if total > MAX_TOTAL_BYTES {
            return Err(format!(
                "state would hold {total} bytes, above the {MAX_TOTAL_BYTES}-byte limit"
            ));
        }
        self.bytes = total;
        match self.entries.get_mut(key) {
            Some(slot) => {
                slot.clear();
                slot.extend_from_slice(value);
            }
            None => {
                self.entries.insert(key.to_string(), value.to_vec());
            }
        }
        Ok(())
    }

    /// Removes `key`; whether it existed.
    pub fn delete(&mut self, key: &str) -> bool {
        match self.entries.remove(key) {
            Some(v) => {
                self.bytes -= key.len() + v.len();
                true
            }
            None => false,
        }
    }

    /// Every key, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.keys()
    }

    /// Every entry, sorted by key.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_bounds_and_tracks_size() {
        let mut s = StateStore::default();
        s.set("a", b"123").unwrap();
        s.set("a", b"1").unwrap();
        assert_eq!(s.get("a"), Some(&b"1"[..]));
        assert!(s.set("", b"x").is_err());
        assert!(
            s.set("big", &vec![0; MAX_VALUE_BYTES + 1])
                .unwrap_err()
                .contains("limit")
        );
        for i in 0..(MAX_TOTAL_BYTES / MAX_VALUE_BYTES) - 1 {
            s.set(&format!("k{i}"), &vec![0; MAX_VALUE_BYTES]).unwrap();
        }
        assert!(
            s.set("one-more", &vec![0; MAX_VALUE_BYTES])
                .unwrap_err()
                .contains("4194304")
        );
        assert!(s.delete("a"));
        assert!(!s.delete("a"));
        assert_eq!(
            s,
            StateStore::from_entries(s.entries().map(|(k, v)| (k.clone(), v.clone())))
        );
    }
}
