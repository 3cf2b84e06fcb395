//! Deterministic hash containers for the search: a Fx-style hasher, an open-addressing map
//! (state interning, transition memo) and the memo set of configurations
//! (linearized bitset, interned state). Lookup-only: nothing here is ever iterated in hash
//! order, so results never depend on hashing.

use std::hash::{Hash, Hasher};

/// A fast, deterministic (unseeded) multiplicative hasher in the style of rustc's FxHasher.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_u8(&mut self, byte: u8) {
        self.write_u64(u64::from(byte));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        // A final avalanche so that low bits (used for the slot index) depend on every bit.
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

/// Hashes a value with [`FxHasher`].
pub fn fx_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = FxHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

const EMPTY: u32 = u32::MAX;

/// An insert-only open-addressing hash map with linear probing and a deterministic hasher.
#[derive(Debug, Clone)]
pub struct DetMap<K, V> {
    slots: Vec<u32>,
    entries: Vec<(u64, K, V)>,
}

impl<K: Hash + Eq, V: Copy> Default for DetMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq, V: Copy> DetMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        DetMap {
            slots: vec![EMPTY; 16],
            entries: Vec::new(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        let hash = fx_hash(key);
        let mask = self.slots.len() - 1;
        let mut slot = (hash as usize) & mask;
        loop {
            let index = self.slots[slot];
            if index == EMPTY {
                return None;
            }
            let (h, k, v) = &self.entries[index as usize];
            if *h == hash && k == key {
                return Some(*v);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Inserts `key` with the value `make(len)` unless present; returns the stored value.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce(usize) -> V) -> V {
        let hash = fx_hash(&key);
        let mask = self.slots.len() - 1;
        let mut slot = (hash as usize) & mask;
        loop {
            let index = self.slots[slot];
            if index == EMPTY {
                break;
            }
            let (h, k, v) = &self.entries[index as usize];
            if *h == hash && *k == key {
                return *v;
            }
            slot = (slot + 1) & mask;
        }
        let value = make(self.entries.len());
        assert!(self.entries.len() < EMPTY as usize, "DetMap overflow");
        self.slots[slot] = self.entries.len() as u32;
        self.entries.push((hash, key, value));
        if self.entries.len() * 2 > self.slots.len() {
            self.grow();
        }
        value
    }

    /// Entry `index` (insertion order) as (key, value).
    pub fn entry(&self, index: usize) -> Option<(&K, V)> {
        self.entries.get(index).map(|(_, k, v)| (k, *v))
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        let mask = size - 1;
        for (index, (hash, _, _)) in self.entries.iter().enumerate() {
            let mut slot = (*hash as usize) & mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = index as u32;
        }
    }
}

/// The memo of visited configurations: (linearized bitset, interned state id), keyed by an
/// incrementally maintained hash. Bitsets live in one flat arena of `words` words each.
#[derive(Debug, Clone)]
pub struct ConfigSet {
    words: usize,
    slots: Vec<u32>,
    hashes: Vec<u64>,
    states: Vec<u32>,
    arena: Vec<u64>,
}

impl ConfigSet {
    /// An empty set for bitsets of `words` 64-bit words.
    pub fn new(words: usize) -> Self {
        ConfigSet {
            words,
            slots: vec![EMPTY; 1024],
            hashes: Vec::new(),
            states: Vec::new(),
            arena: Vec::new(),
        }
    }

    /// Number of configurations stored.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether no configuration is stored.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Inserts the configuration; `true` if it was not there before.
    pub fn insert(&mut self, hash: u64, bits: &[u64], state: u32) -> bool {
        assert_eq!(bits.len(), self.words, "bitset width");
        let hash = hash ^ u64::from(state).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mask = self.slots.len() - 1;
        let mut slot = (mix(hash) as usize) & mask;
        loop {
            let index = self.slots[slot];
            if index == EMPTY {
                break;
            }
            let i = index as usize;
            if self.hashes[i] == hash
                && self.states[i] == state
                && self.arena[i * self.words..(i + 1) * self.words] == *bits
            {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        assert!(self.states.len() < EMPTY as usize, "ConfigSet overflow");
        self.slots[slot] = self.states.len() as u32;
        self.hashes.push(hash);
        self.states.push(state);
        self.arena.extend_from_slice(bits);
        if self.states.len() * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        let mask = size - 1;
        for (index, hash) in self.hashes.iter().enumerate() {
            let mut slot = (mix(*hash) as usize) & mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = index as u32;
        }
    }
}

fn mix(mut h: u64) -> u64 {
    h ^= h >> 31;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn det_map_interns_in_insertion_order() {
        let mut map: DetMap<String, u32> = DetMap::new();
        for i in 0..100u32 {
            assert_eq!(map.get_or_insert_with(format!("k{i}"), |n| n as u32), i);
        }
        assert_eq!(map.get_or_insert_with("k7".to_string(), |_| 999), 7);
        assert_eq!(map.get(&"k42".to_string()), Some(42));
        assert_eq!(map.get(&"absent".to_string()), None);
        assert_eq!(map.len(), 100);
    }

    #[test]
    fn config_set_distinguishes_bits_and_states() {
        let mut set = ConfigSet::new(2);
        assert!(set.insert(1, &[1, 0], 0));
        assert!(!set.insert(1, &[1, 0], 0));
        assert!(set.insert(1, &[1, 0], 1));
        assert!(set.insert(1, &[0, 1], 0));
        for i in 0..5000u64 {
            assert!(set.insert(i.wrapping_mul(7), &[i, !i], 3));
        }
        assert!(!set.insert(7, &[1, !1], 3));
        assert_eq!(set.len(), 5003);
    }
}
