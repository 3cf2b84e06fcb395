//! Per-node clocks: each node sees only its own local time, never the global virtual time.
//!
//! Fault model (inside ZooKeeper's model: ZAB's safety must not depend on clocks; its timeouts
//! may misfire, which costs liveness only):
//!
//! * Every node has a **monotonic** clock (Java's `System.nanoTime`, which ZooKeeper's
//!   `Time.currentElapsedTime()` reads for ticks, `initLimit`/`syncLimit`, session expiry and
//!   election timeouts) and a **wall** clock (`System.currentTimeMillis`, `Time.currentWallTime()`,
//!   used for znode `ctime`/`mtime`). Both run at the node's rate, `1 + drift_ppm / 10^6` times
//!   global time. Drift can change at any moment; the clock stays continuous when it does.
//! * `wall = monotonic + wall_offset`. A **wall jump** (NTP step, operator `date -s`) moves
//!   `wall_offset` forward or backward; the monotonic clock does not move.
//! * A **monotonic jump** can only be forward (a VM suspended and resumed, a hypervisor catching
//!   up); a monotonic clock that goes backward is not a clock, and is refused.
//!
//! Timers are armed at a local deadline on one of the two clocks ([`ClockKind`]). The kernel
//! converts the deadline to the first global instant at which that clock reads at least the
//! deadline, and re-converts every pending timer of a node whenever its clock changes:
//!
//! * forward jump: timers whose deadline is now in the past fire at once (in arming order);
//! * backward wall jump: wall timers fire later, when the wall clock reaches their deadline
//!   again (a timer armed for 10:00:05 that sees the clock stepped back to 09:59:00 waits the
//!   extra 65 s); monotonic timers are unaffected;
//! * drift change: pending timers are re-converted at the new rate.

use serde::{Deserialize, Serialize};

use super::time::{LocalTime, SimTime, NS_PER_MS};

/// Which local clock a reading or a timer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClockKind {
    /// Never goes backward; jumps only forward; drifts.
    Monotonic,
    /// Monotonic plus an offset that steps forward and backward; drifts.
    Wall,
}

/// Largest accepted drift magnitude, in parts per million (real quartz is within ~100 ppm).
pub const MAX_DRIFT_PPM: i32 = 100_000;

/// The initial state of one node's clocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    /// Rate error: positive runs fast, negative runs slow. At most [`MAX_DRIFT_PPM`] in magnitude.
    #[serde(default)]
    pub drift_ppm: i32,
    /// Wall clock error at the start of the run, in milliseconds (added to the wall epoch).
    #[serde(default)]
    pub wall_offset_ms: i64,
    /// The monotonic clock's reading at the start of the run (machine uptime), in milliseconds.
    #[serde(default)]
    pub uptime_ms: u64,
}

impl ClockSpec {
    /// Checks the drift bound.
    pub fn validate(&self) -> Result<(), ClockError> {
        check_drift(i64::from(self.drift_ppm))
    }
}

/// Run-wide clock configuration: how the per-node clocks are drawn from the clocks stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// Each node's drift is drawn uniformly from `-max_drift_ppm..=max_drift_ppm`.
    #[serde(default)]
    pub max_drift_ppm: u32,
    /// Each node's initial wall offset is drawn uniformly from `±max_wall_offset_ms`.
    #[serde(default)]
    pub max_wall_offset_ms: u64,
    /// What every wall clock reads at the start of the run, before offsets (ms since 1970).
    #[serde(default = "default_wall_epoch_ms")]
    pub wall_epoch_ms: u64,
}

fn default_wall_epoch_ms() -> u64 {
    // 2023-11-14T22:13:20Z: a fixed, recognisable start for ctime/mtime values.
    1_700_000_000_000
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            max_drift_ppm: 0,
            max_wall_offset_ms: 0,
            wall_epoch_ms: default_wall_epoch_ms(),
        }
    }
}

/// Why a clock change was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockError {
    /// Drift beyond [`MAX_DRIFT_PPM`].
    DriftOutOfRange(i64),
    /// A negative jump of the monotonic clock.
    MonotonicBackward(i64),
}

impl std::fmt::Display for ClockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockError::DriftOutOfRange(p) => {
                write!(f, "drift {p} ppm is beyond ±{MAX_DRIFT_PPM} ppm")
            }
            ClockError::MonotonicBackward(d) => write!(
                f,
                "monotonic clocks only jump forward (got {d} ns); jump the Wall clock instead"
            ),
        }
    }
}

impl std::error::Error for ClockError {}

const PPM: i128 = 1_000_000;

/// One node's clocks: a piecewise-linear map from global time to local time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeClock {
    base_global: u64,
    base_mono: u64,
    drift_ppm: i32,
    /// `wall - monotonic`, in nanoseconds.
    wall_offset_ns: i128,
}

impl NodeClock {
    /// A clock that starts at global time zero in state `spec`, with wall epoch `wall_epoch_ms`.
    pub fn new(spec: ClockSpec, wall_epoch_ms: u64) -> Result<NodeClock, ClockError> {
        check_drift(i64::from(spec.drift_ppm))?;
        let uptime_ns = spec.uptime_ms.saturating_mul(NS_PER_MS);
        let wall_start = i128::from(wall_epoch_ms) * i128::from(NS_PER_MS)
            + i128::from(spec.wall_offset_ms) * 1_000_000;
        Ok(NodeClock {
            base_global: 0,
            base_mono: uptime_ns,
            drift_ppm: spec.drift_ppm,
            wall_offset_ns: wall_start - i128::from(uptime_ns),
        })
    }

    /// A perfect clock: no drift, monotonic starts at zero, wall at `wall_epoch_ms`.
    pub fn ideal(wall_epoch_ms: u64) -> NodeClock {
        match NodeClock::new(ClockSpec::default(), wall_epoch_ms) {
            Ok(c) => c,
            Err(e) => unreachable!("the default spec is valid: {e}"),
        }
    }

    /// The current drift.
    pub fn drift_ppm(&self) -> i32 {
        self.drift_ppm
    }

    /// The monotonic reading at global time `at`.
    pub fn monotonic(&self, at: SimTime) -> LocalTime {
        assert!(
            at.0 >= self.base_global,
            "clock read before its last change"
        );
        let elapsed = i128::from(at.0 - self.base_global);
        let local = elapsed * (PPM + i128::from(self.drift_ppm)) / PPM;
        LocalTime(self.base_mono + local as u64)
    }

    /// The wall reading at global time `at` (nanoseconds since 1970, clamped at zero).
    pub fn wall(&self, at: SimTime) -> LocalTime {
        let w = i128::from(self.monotonic(at).0) + self.wall_offset_ns;
        LocalTime(w.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// The reading of clock `kind` at `at`.
    pub fn read(&self, kind: ClockKind, at: SimTime) -> LocalTime {
        match kind {
            ClockKind::Monotonic => self.monotonic(at),
            ClockKind::Wall => self.wall(at),
        }
    }

    /// The first global instant, not before `now`, at which clock `kind` reads `deadline` or
    /// later.
    pub fn global_deadline(&self, kind: ClockKind, deadline: LocalTime, now: SimTime) -> SimTime {
        let mono_target: i128 = match kind {
            ClockKind::Monotonic => i128::from(deadline.0),
            ClockKind::Wall => i128::from(deadline.0) - self.wall_offset_ns,
        };
        if mono_target <= i128::from(self.monotonic(now).0) {
            return now;
        }
        let d = mono_target - i128::from(self.base_mono);
        assert!(d > 0, "a future deadline lies after the clock's base");
        let rate = PPM + i128::from(self.drift_ppm);
        let x = (d * PPM + rate - 1) / rate;
        let g = i128::from(self.base_global) + x;
        let g = SimTime(g.clamp(0, i128::from(u64::MAX)) as u64);
        debug_assert!(i128::from(self.monotonic(g).0) >= mono_target || g == SimTime::MAX);
        debug_assert!(g > now);
        g
    }

    fn rebase(&mut self, now: SimTime) {
        let mono = self.monotonic(now);
        self.base_global = now.0;
        self.base_mono = mono.0;
    }

    /// Changes the drift from `now` on; the clock stays continuous.
    pub fn set_drift(&mut self, drift_ppm: i32, now: SimTime) -> Result<(), ClockError> {
        check_drift(i64::from(drift_ppm))?;
        self.rebase(now);
        self.drift_ppm = drift_ppm;
        Ok(())
    }

    /// Steps clock `kind` by `delta_ns` at `now`. A monotonic step must be forward.
    pub fn jump(&mut self, kind: ClockKind, delta_ns: i64, now: SimTime) -> Result<(), ClockError> {
        match kind {
            ClockKind::Wall => {
                self.wall_offset_ns += i128::from(delta_ns);
                Ok(())
            }
            ClockKind::Monotonic => {
                if delta_ns < 0 {
                    return Err(ClockError::MonotonicBackward(delta_ns));
                }
                let before = self.monotonic(now);
                self.rebase(now);
                self.base_mono += delta_ns as u64;
                // The wall clock is monotonic plus an offset: a VM resume moves both.
                assert!(self.monotonic(now) >= before);
                Ok(())
            }
        }
    }
}

fn check_drift(ppm: i64) -> Result<(), ClockError> {
    if ppm.abs() > i64::from(MAX_DRIFT_PPM) {
        Err(ClockError::DriftOutOfRange(ppm))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(ppm: i32) -> NodeClock {
        NodeClock::new(
            ClockSpec {
                drift_ppm: ppm,
                ..ClockSpec::default()
            },
            0,
        )
        .unwrap()
    }

    #[test]
    fn drift_scales_local_time() {
        let c = clock(100);
        assert_eq!(c.monotonic(SimTime(1_000_000_000)).0, 1_000_100_000);
        let c = clock(-100);
        assert_eq!(c.monotonic(SimTime(1_000_000_000)).0, 999_900_000);
    }

    #[test]
    fn global_deadline_is_the_first_instant_reaching_the_local_deadline() {
        for ppm in [-5000, -1, 0, 1, 37, 5000] {
            let c = clock(ppm);
            for d in [1u64, 999, 1_000_000_007, 5_000_000_000] {
                let g = c.global_deadline(ClockKind::Monotonic, LocalTime(d), SimTime::ZERO);
                assert!(c.monotonic(g).0 >= d, "ppm {ppm} d {d}");
                assert!(c.monotonic(SimTime(g.0 - 1)).0 < d, "ppm {ppm} d {d}");
            }
        }
    }

    #[test]
    fn wall_jumps_move_wall_only_and_monotonic_refuses_backward() {
        let mut c = clock(0);
        let now = SimTime(10);
        c.jump(ClockKind::Wall, -5, now).unwrap();
        assert_eq!(c.monotonic(now).0, 10);
        assert_eq!(c.wall(now).0, 5);
        assert_eq!(
            c.jump(ClockKind::Monotonic, -1, now),
            Err(ClockError::MonotonicBackward(-1))
        );
        c.jump(ClockKind::Monotonic, 100, now).unwrap();
        assert_eq!(c.monotonic(now).0, 110);
        assert_eq!(c.wall(now).0, 105);
    }

    #[test]
    fn drift_change_keeps_the_clock_continuous() {
        let mut c = clock(0);
        let t = SimTime(1_000_000);
        let before = c.monotonic(t);
        c.set_drift(1000, t).unwrap();
        assert_eq!(c.monotonic(t), before);
        assert_eq!(c.monotonic(SimTime(2_000_000)).0, 1_000_000 + 1_001_000);
        assert!(c.set_drift(MAX_DRIFT_PPM + 1, t).is_err());
    }
}
