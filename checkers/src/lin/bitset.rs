//! A fixed-width bitset of linearized operations with an incrementally maintained Zobrist
//! hash: every operation has a pseudo-random 64-bit key and the hash is the XOR of the keys of
//! the set bits, so setting or clearing a bit costs O(1).

/// The linearized set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitset {
    words: Vec<u64>,
    keys: Vec<u64>,
    hash: u64,
    len: usize,
}

impl Bitset {
    /// An empty set over `n` operations.
    pub fn new(n: usize) -> Self {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let keys = (0..n).map(|_| splitmix(&mut state)).collect();
        Bitset {
            words: vec![0; n.div_ceil(64).max(1)],
            keys,
            hash: 0,
            len: 0,
        }
    }

    /// Sets bit `i` (it must be clear).
    pub fn set(&mut self, i: usize) {
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        assert_eq!(self.words[word] & bit, 0, "bit {i} already set");
        self.words[word] |= bit;
        self.hash ^= self.keys[i];
        self.len += 1;
    }

    /// Clears bit `i` (it must be set).
    pub fn clear(&mut self, i: usize) {
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        assert_ne!(self.words[word] & bit, 0, "bit {i} not set");
        self.words[word] &= !bit;
        self.hash ^= self.keys[i];
        self.len -= 1;
    }

    /// Whether bit `i` is set.
    pub fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1u64 << (i % 64)) != 0
    }

    /// The Zobrist hash of the set.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The words.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Number of set bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::Bitset;

    #[test]
    fn hash_is_order_independent_and_reverts() {
        let mut a = Bitset::new(130);
        let mut b = Bitset::new(130);
        a.set(3);
        a.set(129);
        b.set(129);
        b.set(3);
        assert_eq!(a, b);
        assert_eq!(a.hash(), b.hash());
        a.clear(129);
        a.clear(3);
        assert_eq!(a.hash(), 0);
        assert!(a.is_empty());
        assert!(b.contains(129) && !b.contains(128));
    }
}
