//! Virtual time: the global simulated instant, in nanoseconds since the run started.
//!
//! Contract: only the kernel reads global time. A process sees its node's *local* clock
//! ([`LocalTime`], from `clock.rs`); durations are plain `u64` nanoseconds with the unit in the
//! name (`*_ns`), or `*_ms`/`*_us` in configuration.

pub use zabsim_protocol::types::LocalTime;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Nanoseconds per microsecond.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// A global virtual instant: nanoseconds since the start of the run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable instant ("never").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// An instant `ms` milliseconds after the start.
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms * NS_PER_MS)
    }

    /// An instant `us` microseconds after the start.
    pub const fn from_micros(us: u64) -> SimTime {
        SimTime(us * NS_PER_US)
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole milliseconds since the start.
    pub const fn as_millis(self) -> u64 {
        self.0 / NS_PER_MS
    }

    /// This instant plus `ns` nanoseconds, saturating at [`SimTime::MAX`].
    pub const fn plus_ns(self, ns: u64) -> SimTime {
        SimTime(self.0.saturating_add(ns))
    }

    /// Nanoseconds from `earlier` to `self` (zero if `earlier` is later).
    pub const fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for SimTime {
    /// Seconds with nanosecond precision: `12.000345678s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}s", self.0 / NS_PER_SEC, self.0 % NS_PER_SEC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_seconds_with_nanoseconds() {
        assert_eq!(SimTime(1_000_000_001).to_string(), "1.000000001s");
        assert_eq!(SimTime::from_millis(12).to_string(), "0.012000000s");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(SimTime::MAX.plus_ns(5), SimTime::MAX);
        assert_eq!(SimTime(3).since(SimTime(5)), 0);
        assert_eq!(SimTime(8).since(SimTime(5)), 3);
    }
}
