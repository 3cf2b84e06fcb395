//! Seeded randomness: one master `u64` seed, one independent ChaCha8 stream per purpose.
//!
//! Contract: every random decision in a run comes from a [`SimRng`] made here, so a run is a pure
//! function of (code, configuration, seed). The 32-byte ChaCha key is expanded from the master
//! seed by our own fixed function ([`splitmix64`]), and each purpose ([`Stream`]) selects its own
//! ChaCha stream with `set_stream`: an extra draw in the workload stream can never shift the
//! fault schedule. Only `next_u64` of the generator is used; uniform sampling, chances, choice,
//! shuffling and latency sampling are our own integer code, so a `rand` upgrade cannot change a
//! run (and the golden trace hash would catch one that tried). No floating point is used, so
//! results do not depend on the platform's `libm`.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

use super::latency::LatencyDist;
use super::process::NodeId;

/// One step of SplitMix64 (Steele, Lea and Flood), our fixed seed-expansion function.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 32-byte ChaCha key derived from a master seed.
pub fn expand_seed(master: u64) -> [u8; 32] {
    let mut state = master;
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    key
}

/// The purpose of a random stream. Each purpose draws from its own ChaCha stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    /// Message latency, detection delays, out-of-model message faults.
    Network,
    /// Disk latencies and crash tearing.
    Disk,
    /// Initial clock offsets and drifts.
    Clocks,
    /// Fault target resolution, the random nemesis and swarm parameters.
    Faults,
    /// The workload generator (client operations).
    Workload,
    /// One stream per node, for non-protocol actors that need randomness (workload clients).
    Node(NodeId),
    /// A caller-defined stream (the runner or glue), numbered from zero.
    Custom(u32),
}

impl Stream {
    /// The ChaCha stream number. Fixed forever: changing it changes every run.
    pub fn id(self) -> u64 {
        match self {
            Stream::Network => 1,
            Stream::Disk => 2,
            Stream::Clocks => 3,
            Stream::Faults => 4,
            Stream::Workload => 5,
            Stream::Node(n) => (1 << 32) | u64::from(n.0),
            Stream::Custom(c) => (2 << 32) | u64::from(c),
        }
    }
}

/// A probability as a fraction `numerator / denominator` (no floating point).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ratio {
    /// Favourable outcomes.
    pub numerator: u32,
    /// All outcomes; never zero.
    pub denominator: u32,
}

impl Ratio {
    /// Never.
    pub const NEVER: Ratio = Ratio {
        numerator: 0,
        denominator: 1,
    };
    /// Always.
    pub const ALWAYS: Ratio = Ratio {
        numerator: 1,
        denominator: 1,
    };

    /// `numerator / denominator`; panics if the denominator is zero or the ratio exceeds one.
    pub fn new(numerator: u32, denominator: u32) -> Ratio {
        let r = Ratio {
            numerator,
            denominator,
        };
        assert!(r.is_valid(), "invalid ratio {numerator}/{denominator}");
        r
    }

    /// A denominator above zero and a numerator at most the denominator.
    pub fn is_valid(self) -> bool {
        self.denominator > 0 && self.numerator <= self.denominator
    }
}

impl Default for Ratio {
    /// Never.
    fn default() -> Self {
        Ratio::NEVER
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

/// Our thin random API over ChaCha8, built on `next_u64` only.
#[derive(Clone, Debug)]
pub struct SimRng {
    inner: ChaCha8Rng,
    draws: u64,
}

impl SimRng {
    /// The stream `stream` of the run seeded with `master_seed`.
    pub fn new(master_seed: u64, stream: Stream) -> SimRng {
        let mut inner = ChaCha8Rng::from_seed(expand_seed(master_seed));
        inner.set_stream(stream.id());
        SimRng { inner, draws: 0 }
    }

    /// How many 64-bit words this stream has produced (for diagnostics).
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// A uniform 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        self.draws += 1;
        self.inner.next_u64()
    }

    /// A uniform integer in `0..n`, without modulo bias (Lemire's multiply-and-reject).
    /// Panics if `n` is zero.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no values");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                let v = (m >> 64) as u64;
                debug_assert!(v < n);
                return v;
            }
        }
    }

    /// A uniform integer in `lo..=hi`. Panics if `lo > hi`.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// A uniform signed integer in `lo..=hi`. Panics if `lo > hi`.
    pub fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        let span = hi.abs_diff(lo);
        let off = self.range_inclusive(0, span);
        lo.wrapping_add(off as i64)
    }

    /// True with probability `ratio`.
    pub fn chance(&mut self, ratio: Ratio) -> bool {
        assert!(ratio.is_valid(), "invalid ratio {ratio}");
        if ratio.numerator == 0 {
            return false;
        }
        self.below(u64::from(ratio.denominator)) < u64::from(ratio.numerator)
    }

    /// A uniformly chosen element, or `None` for an empty slice.
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        let i = self.below(items.len() as u64) as usize;
        items.get(i)
    }

    /// An index chosen with probability proportional to its weight, or `None` if all are zero.
    pub fn weighted(&mut self, weights: &[u32]) -> Option<usize> {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        if total == 0 {
            return None;
        }
        let mut pick = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if pick < u64::from(w) {
                return Some(i);
            }
            pick -= u64::from(w);
        }
        unreachable!("weighted pick {pick} beyond total {total}")
    }

    /// Fisher-Yates shuffle in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// A latency sample, in nanoseconds, from a (possibly long-tailed) distribution.
    pub fn latency_ns(&mut self, dist: &LatencyDist) -> u64 {
        dist.sample_ns(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let mut a = SimRng::new(7, Stream::Network);
        let mut b = SimRng::new(7, Stream::Network);
        let mut c = SimRng::new(7, Stream::Disk);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn an_extra_draw_in_one_stream_does_not_shift_another() {
        let mut net = SimRng::new(1, Stream::Network);
        let mut faults = SimRng::new(1, Stream::Faults);
        let before = faults.clone().next_u64();
        for _ in 0..100 {
            net.next_u64();
        }
        assert_eq!(faults.next_u64(), before);
    }

    #[test]
    fn below_stays_in_range_and_hits_every_value() {
        let mut r = SimRng::new(3, Stream::Workload);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = r.below(7);
            assert!(v < 7);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.range_inclusive(5, 5), 5);
        let x = r.range_i64(-3, 3);
        assert!((-3..=3).contains(&x));
    }

    #[test]
    fn chance_extremes_and_weighted() {
        let mut r = SimRng::new(9, Stream::Faults);
        assert!((0..100).all(|_| !r.chance(Ratio::NEVER)));
        assert!((0..100).all(|_| r.chance(Ratio::ALWAYS)));
        assert_eq!(r.weighted(&[0, 0]), None);
        assert_eq!(r.weighted(&[0, 5, 0]), Some(1));
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut r = SimRng::new(11, Stream::Custom(0));
        let mut v: Vec<u32> = (0..50).collect();
        r.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(
            v, sorted,
            "50 elements shuffle to the identity with negligible chance"
        );
    }
}
