//! Latency distributions for messages, connection setup, failure detection and disk operations.
//!
//! Contract: sampling uses integer arithmetic only (no `ln`/`exp`, whose results may differ
//! between platforms' `libm`), so a sample is a pure function of the stream state. The long tail
//! is described the way engineers describe latency, by percentiles: the inverse CDF is piecewise
//! linear through `min`, `p50`, `p90`, `p99`, `p999` and `max`, which approximates a lognormal
//! or Pareto body-and-tail shape closely enough to make rare slow messages happen, while keeping
//! a hard cap.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::rng::SimRng;
use super::time::NS_PER_US;

/// A latency distribution, configured in microseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LatencyDist {
    /// Always the same latency.
    Fixed {
        /// The latency.
        us: u64,
    },
    /// Uniform between two bounds, inclusive.
    Uniform {
        /// Smallest latency.
        min_us: u64,
        /// Largest latency.
        max_us: u64,
    },
    /// A long-tailed distribution given by its percentiles (piecewise-linear inverse CDF).
    LongTail {
        /// The fastest possible sample (the 0th percentile).
        min_us: u64,
        /// The median.
        p50_us: u64,
        /// The 90th percentile.
        p90_us: u64,
        /// The 99th percentile.
        p99_us: u64,
        /// The 99.9th percentile.
        p999_us: u64,
        /// The slowest possible sample (the 100th percentile).
        max_us: u64,
    },
}

/// Cumulative probabilities, in parts per million, of the `LongTail` knots.
const KNOTS_PPM: [u64; 6] = [0, 500_000, 900_000, 990_000, 999_000, 1_000_000];

impl LatencyDist {
    /// A fixed latency of `ms` milliseconds.
    pub const fn fixed_ms(ms: u64) -> LatencyDist {
        LatencyDist::Fixed { us: ms * 1000 }
    }

    /// Checks the parameters: bounds in order, percentiles non-decreasing.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            LatencyDist::Fixed { .. } => Ok(()),
            LatencyDist::Uniform { min_us, max_us } => {
                if min_us <= max_us {
                    Ok(())
                } else {
                    Err(format!("Uniform: min_us {min_us} > max_us {max_us}"))
                }
            }
            LatencyDist::LongTail { .. } => {
                let k = self.knots_us();
                if k.windows(2).all(|w| w[0] <= w[1]) {
                    Ok(())
                } else {
                    Err(format!(
                        "LongTail: percentiles must not decrease (min, p50, p90, p99, p999, max = {k:?})"
                    ))
                }
            }
        }
    }

    fn knots_us(&self) -> [u64; 6] {
        match *self {
            LatencyDist::Fixed { us } => [us; 6],
            LatencyDist::Uniform { min_us, max_us } => {
                let d = max_us.saturating_sub(min_us);
                // Linear through the knots reproduces a uniform distribution exactly.
                let at = |ppm: u64| min_us + (u128::from(d) * u128::from(ppm) / 1_000_000) as u64;
                [
                    min_us,
                    at(500_000),
                    at(900_000),
                    at(990_000),
                    at(999_000),
                    max_us,
                ]
            }
            LatencyDist::LongTail {
                min_us,
                p50_us,
                p90_us,
                p99_us,
                p999_us,
                max_us,
            } => [min_us, p50_us, p90_us, p99_us, p999_us, max_us],
        }
    }

    /// The smallest possible sample, in nanoseconds.
    pub fn min_ns(&self) -> u64 {
        self.knots_us()[0] * NS_PER_US
    }

    /// The largest possible sample, in nanoseconds.
    pub fn max_ns(&self) -> u64 {
        self.knots_us()[5] * NS_PER_US
    }

    /// One sample, in nanoseconds.
    pub fn sample_ns(&self, rng: &mut SimRng) -> u64 {
        match *self {
            LatencyDist::Fixed { us } => us * NS_PER_US,
            LatencyDist::Uniform { min_us, max_us } => {
                assert!(min_us <= max_us, "invalid Uniform latency");
                rng.range_inclusive(min_us * NS_PER_US, max_us * NS_PER_US)
            }
            LatencyDist::LongTail { .. } => {
                let knots = self.knots_us();
                // A position on the CDF in parts per billion, for a smooth interpolation.
                let u = rng.below(1_000_000_000);
                let v = interpolate_ns(&knots, u);
                debug_assert!(v >= self.min_ns() && v <= self.max_ns());
                v
            }
        }
    }
}

/// The piecewise-linear inverse CDF at `u_ppb` (parts per billion).
fn interpolate_ns(knots_us: &[u64; 6], u_ppb: u64) -> u64 {
    assert!(u_ppb < 1_000_000_000);
    for i in 0..5 {
        let lo = KNOTS_PPM[i] * 1000;
        let hi = KNOTS_PPM[i + 1] * 1000;
        if u_ppb < hi {
            let a = knots_us[i] * NS_PER_US;
            let b = knots_us[i + 1] * NS_PER_US;
            let frac = u128::from(u_ppb - lo);
            let span = u128::from(hi - lo);
            return a + (u128::from(b - a) * frac / span) as u64;
        }
    }
    unreachable!("u_ppb {u_ppb} is below one billion")
}

impl fmt::Display for LatencyDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LatencyDist::Fixed { us } => write!(f, "fixed {us}us"),
            LatencyDist::Uniform { min_us, max_us } => write!(f, "uniform {min_us}..={max_us}us"),
            LatencyDist::LongTail { .. } => {
                let k = self.knots_us();
                write!(
                    f,
                    "long-tail min {}us p50 {}us p90 {}us p99 {}us p999 {}us max {}us",
                    k[0], k[1], k[2], k[3], k[4], k[5]
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::rng::Stream;

    fn tail() -> LatencyDist {
        LatencyDist::LongTail {
            min_us: 100,
            p50_us: 200,
            p90_us: 400,
            p99_us: 2_000,
            p999_us: 20_000,
            max_us: 200_000,
        }
    }

    #[test]
    fn long_tail_respects_its_percentiles() {
        let d = tail();
        d.validate().unwrap();
        let mut r = SimRng::new(1, Stream::Network);
        let mut xs: Vec<u64> = (0..20_000).map(|_| d.sample_ns(&mut r)).collect();
        xs.sort_unstable();
        assert!(xs[0] >= 100_000);
        assert!(*xs.last().unwrap() <= 200_000_000);
        // The sample median lies near p50 and the 99th percentile near p99.
        let median = xs[10_000];
        assert!((180_000..=220_000).contains(&median), "median {median}");
        let p99 = xs[19_800];
        assert!((1_500_000..=2_600_000).contains(&p99), "p99 {p99}");
    }

    #[test]
    fn interpolation_hits_the_knots() {
        let k = [1, 2, 3, 4, 5, 6];
        assert_eq!(interpolate_ns(&k, 0), 1_000);
        assert_eq!(interpolate_ns(&k, 500_000_000), 2_000);
        assert_eq!(interpolate_ns(&k, 999_000_000), 5_000);
    }

    #[test]
    fn invalid_parameters_are_reported() {
        let bad = LatencyDist::Uniform {
            min_us: 5,
            max_us: 1,
        };
        assert!(bad.validate().unwrap_err().contains("min_us"));
        let bad = LatencyDist::LongTail {
            min_us: 1,
            p50_us: 9,
            p90_us: 3,
            p99_us: 4,
            p999_us: 5,
            max_us: 6,
        };
        assert!(bad.validate().is_err());
    }
}
