//! The random nemesis and swarm mode: faults drawn from the faults stream at random times.
//!
//! Contract. The nemesis runs one fault at a time inside its chaos window
//! `[start_ms, end_ms)`: it waits a random gap, applies a fault of a randomly chosen enabled
//! kind, heals it after a random duration (the fault's inverse: restart, resume, heal the
//! network, clear a stall), then leaves the system alone for at least `stability_ms` before the
//! next gap, so faults cannot starve progress. At `end_ms` it applies `HealAll`. Only in-model
//! kinds exist unless an `OutOfModel*` kind is listed explicitly.
//!
//! Swarm mode (after Groce et al. and TigerBeetle's `options_swarm`): per seed, a
//! [`SwarmConfig`] draws which kinds are on, their weights and the timing ranges from the faults
//! stream, yielding a [`NemesisConfig`] whose `Display` is a one-line description for the
//! runner to print with the seed.

use serde::{Deserialize, Serialize};
use std::fmt::{self, Debug};

use super::clock::ClockKind;
use super::disk::CrashDisk;
use super::fault::{FaultKind, FileSel, OutOfModelFault, RegionSel, Target};
use super::net::MessageFaultKind;
use super::rng::{Ratio, SimRng};

/// A range of milliseconds, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanMs {
    /// Shortest.
    pub min: u64,
    /// Longest.
    pub max: u64,
}

impl SpanMs {
    /// A span; `min` must not exceed `max`.
    pub fn new(min: u64, max: u64) -> SpanMs {
        assert!(min <= max, "empty span {min}..={max}");
        SpanMs { min, max }
    }

    fn draw(self, rng: &mut SimRng) -> u64 {
        rng.range_inclusive(self.min.min(self.max), self.max)
    }

    /// A random sub-span of this span.
    fn draw_sub(self, rng: &mut SimRng) -> SpanMs {
        let a = self.draw(rng);
        let b = rng.range_inclusive(a, self.max.max(a));
        SpanMs { min: a, max: b }
    }
}

/// A kind of fault the nemesis can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NemesisKind {
    /// Machine crash, unsynced writes lost; restart at heal.
    Crash,
    /// Machine crash with a torn prefix of the unsynced writes; restart at heal.
    CrashTorn,
    /// Process kill; restart at heal.
    Kill,
    /// Pause; resume at heal.
    Pause,
    /// Isolate one node.
    Isolate,
    /// Isolate a random minority from the majority.
    MinorityMajority,
    /// Two halves that reach each other only through one bridge node.
    Bridge,
    /// One node cannot send to the others.
    OneWay,
    /// Clog one node's links for the fault's duration.
    Clog,
    /// Swizzle-clog a random minority.
    SwizzleClog,
    /// Break one node's connections.
    BreakConnections,
    /// Slow one node's outgoing links; restored at heal.
    SlowLink,
    /// Step one node's wall clock forward or backward; stepped back at heal.
    ClockJumpWall,
    /// Step one node's monotonic clock forward.
    ClockJumpMonotonic,
    /// Make one node's clock drift; reset at heal.
    ClockDrift,
    /// Stall one node's fsyncs; cleared at heal.
    SlowFsync,
    /// Fill one node's disk; freed at heal.
    DiskFull,
    /// Make one node's disk operations fail with EIO now and then; stopped at heal.
    DiskErrors,
    /// OUTSIDE the model: flip bits in a random file region of one node.
    OutOfModelBitFlip,
    /// OUTSIDE the model: a latent read error in a random file region of one node.
    OutOfModelLatentReadError,
    /// OUTSIDE the model: one node's fsync lies until heal.
    OutOfModelFsyncLies,
    /// OUTSIDE the model: one node's disk is wiped; restart at heal.
    OutOfModelWipe,
    /// OUTSIDE the model: drop single messages from one node.
    OutOfModelDrop,
    /// OUTSIDE the model: duplicate single messages from one node.
    OutOfModelDuplicate,
    /// OUTSIDE the model: reorder single messages from one node.
    OutOfModelReorder,
}

impl NemesisKind {
    /// Every kind inside ZooKeeper's fault model.
    pub const IN_MODEL: [NemesisKind; 18] = [
        NemesisKind::Crash,
        NemesisKind::CrashTorn,
        NemesisKind::Kill,
        NemesisKind::Pause,
        NemesisKind::Isolate,
        NemesisKind::MinorityMajority,
        NemesisKind::Bridge,
        NemesisKind::OneWay,
        NemesisKind::Clog,
        NemesisKind::SwizzleClog,
        NemesisKind::BreakConnections,
        NemesisKind::SlowLink,
        NemesisKind::ClockJumpWall,
        NemesisKind::ClockJumpMonotonic,
        NemesisKind::ClockDrift,
        NemesisKind::SlowFsync,
        NemesisKind::DiskFull,
        NemesisKind::DiskErrors,
    ];

    /// True for the `OutOfModel*` kinds.
    pub fn is_out_of_model(self) -> bool {
        !Self::IN_MODEL.contains(&self)
    }
}

/// A kind and its relative weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weighted {
    /// The kind.
    pub kind: NemesisKind,
    /// Relative frequency (0: off).
    pub weight: u32,
}

/// The random nemesis' parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NemesisConfig<R> {
    /// Start of the chaos window.
    pub start_ms: u64,
    /// End of the chaos window: everything is healed then.
    pub end_ms: u64,
    /// Quiet time before each fault (after the stability window).
    pub gap_ms: SpanMs,
    /// How long each fault lasts before its heal.
    pub fault_ms: SpanMs,
    /// Minimum quiet time after each heal.
    pub stability_ms: u64,
    /// The kinds and their weights.
    pub kinds: Vec<Weighted>,
    /// Roles single-node faults may target (half the time, when non-empty), e.g. the leader.
    #[serde(default = "Vec::new")]
    pub roles: Vec<R>,
}

impl<R> NemesisConfig<R> {
    /// Checks the spans, the window and that some kind has weight.
    pub fn validate(&self) -> Result<(), String> {
        if self.start_ms > self.end_ms {
            return Err(format!(
                "start_ms {} > end_ms {}",
                self.start_ms, self.end_ms
            ));
        }
        for (name, s) in [("gap_ms", self.gap_ms), ("fault_ms", self.fault_ms)] {
            if s.min > s.max {
                return Err(format!("{name}: min {} > max {}", s.min, s.max));
            }
        }
        if self.kinds.iter().all(|k| k.weight == 0) {
            return Err("kinds: no kind has a weight above zero".into());
        }
        Ok(())
    }
}

impl<R: Debug> fmt::Display for NemesisConfig<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nemesis {}..{}ms gap {}..{}ms fault {}..{}ms stability {}ms kinds:",
            self.start_ms,
            self.end_ms,
            self.gap_ms.min,
            self.gap_ms.max,
            self.fault_ms.min,
            self.fault_ms.max,
            self.stability_ms
        )?;
        for k in self.kinds.iter().filter(|k| k.weight > 0) {
            write!(f, " {:?}x{}", k.kind, k.weight)?;
        }
        if !self.roles.is_empty() {
            write!(f, " roles: {:?}", self.roles)?;
        }
        Ok(())
    }
}

/// Swarm mode: the ranges from which each seed draws its own nemesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwarmConfig<R> {
    /// Start of the chaos window.
    pub start_ms: u64,
    /// End of the chaos window.
    pub end_ms: u64,
    /// The candidate kinds (default: every in-model kind).
    #[serde(default = "in_model_kinds")]
    pub kinds: Vec<NemesisKind>,
    /// Bounds for the per-seed gap span.
    pub gap_ms: SpanMs,
    /// Bounds for the per-seed fault-duration span.
    pub fault_ms: SpanMs,
    /// Bounds for the per-seed stability window.
    pub stability_ms: SpanMs,
    /// Roles single-node faults may target.
    #[serde(default = "Vec::new")]
    pub roles: Vec<R>,
}

fn in_model_kinds() -> Vec<NemesisKind> {
    NemesisKind::IN_MODEL.to_vec()
}

impl<R> SwarmConfig<R> {
    /// Checks the window, the spans and that some kind is a candidate.
    pub fn validate(&self) -> Result<(), String> {
        if self.start_ms > self.end_ms {
            return Err(format!(
                "start_ms {} > end_ms {}",
                self.start_ms, self.end_ms
            ));
        }
        let spans = [
            ("gap_ms", self.gap_ms),
            ("fault_ms", self.fault_ms),
            ("stability_ms", self.stability_ms),
        ];
        for (name, s) in spans {
            if s.min > s.max {
                return Err(format!("{name}: min {} > max {}", s.min, s.max));
            }
        }
        if self.kinds.is_empty() {
            return Err("kinds: no candidate kind".into());
        }
        Ok(())
    }
}

impl<R: Clone> SwarmConfig<R> {
    /// Draws this seed's nemesis: each candidate kind is on with probability 1/2 (at least one
    /// always is), with a weight in 1..=10; spans are drawn inside the bounds.
    pub fn derive(&self, rng: &mut SimRng) -> NemesisConfig<R> {
        let mut kinds: Vec<Weighted> = self
            .kinds
            .iter()
            .map(|&kind| Weighted {
                kind,
                weight: if rng.chance(Ratio::new(1, 2)) {
                    rng.range_inclusive(1, 10) as u32
                } else {
                    0
                },
            })
            .collect();
        if kinds.iter().all(|k| k.weight == 0) && !kinds.is_empty() {
            let i = rng.below(kinds.len() as u64) as usize;
            kinds[i].weight = rng.range_inclusive(1, 10) as u32;
        }
        NemesisConfig {
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            gap_ms: self.gap_ms.draw_sub(rng),
            fault_ms: self.fault_ms.draw_sub(rng),
            stability_ms: self.stability_ms.draw(rng),
            kinds,
            roles: self.roles.clone(),
        }
    }
}

impl<R: Clone> NemesisConfig<R> {
    /// A single-node target: a role holder half the time when roles are configured.
    fn one(&self, rng: &mut SimRng) -> Target<R> {
        match rng.choose(&self.roles) {
            Some(r) if rng.chance(Ratio::new(1, 2)) => Target::OneOfRole(r.clone()),
            _ => Target::Random,
        }
    }

    /// Draws the next fault and its duration in milliseconds (`None` if no kind is enabled).
    pub fn draw_fault(&self, rng: &mut SimRng) -> Option<(FaultKind<R>, u64)> {
        let weights: Vec<u32> = self.kinds.iter().map(|k| k.weight).collect();
        let kind = self.kinds.get(rng.weighted(&weights)?)?.kind;
        let dur = self.fault_ms.draw(rng);
        Some((self.fault_of(kind, dur, rng), dur))
    }

    fn fault_of(&self, kind: NemesisKind, dur: u64, rng: &mut SimRng) -> FaultKind<R> {
        let target = self.one(rng);
        if kind.is_out_of_model() {
            FaultKind::OutOfModel(out_of_model_fault(kind, target, dur))
        } else if NETWORK_KINDS.contains(&kind) {
            network_fault(kind, target, dur, rng)
        } else {
            node_fault(kind, target, dur, rng)
        }
    }
}

const NETWORK_KINDS: [NemesisKind; 8] = [
    NemesisKind::Isolate,
    NemesisKind::MinorityMajority,
    NemesisKind::Bridge,
    NemesisKind::OneWay,
    NemesisKind::Clog,
    NemesisKind::SwizzleClog,
    NemesisKind::BreakConnections,
    NemesisKind::SlowLink,
];

/// A network fault of `kind` around `target`, lasting about `dur` ms.
fn network_fault<R>(
    kind: NemesisKind,
    target: Target<R>,
    dur: u64,
    rng: &mut SimRng,
) -> FaultKind<R> {
    match kind {
        NemesisKind::Isolate => FaultKind::Isolate { target },
        NemesisKind::MinorityMajority => FaultKind::Isolate {
            target: Target::RandomMinority,
        },
        NemesisKind::Bridge => FaultKind::Bridge { bridge: target },
        NemesisKind::OneWay => FaultKind::OneWay {
            from: target,
            to: Target::All,
        },
        NemesisKind::Clog => FaultKind::Clog {
            from: target,
            to: Target::All,
            duration_ms: dur,
            symmetric: rng.chance(Ratio::new(1, 2)),
        },
        NemesisKind::SwizzleClog => FaultKind::SwizzleClog {
            nodes: Target::RandomMinority,
            step_ms: (dur / 10).max(1),
            hold_ms: dur / 2,
        },
        NemesisKind::BreakConnections => FaultKind::BreakConnections {
            a: target,
            b: Target::All,
        },
        NemesisKind::SlowLink => FaultKind::SlowLink {
            from: target,
            to: Target::All,
            extra_ms: rng.range_inclusive(1, dur.max(1)),
        },
        _ => unreachable!("{kind:?} is not a network kind"),
    }
}

/// A process, clock or disk fault of `kind` on `target`, lasting about `dur` ms.
fn node_fault<R>(kind: NemesisKind, target: Target<R>, dur: u64, rng: &mut SimRng) -> FaultKind<R> {
    match kind {
        NemesisKind::Crash => FaultKind::Crash {
            target,
            disk: CrashDisk::LosePending,
        },
        NemesisKind::CrashTorn => FaultKind::Crash {
            target,
            disk: CrashDisk::TornPrefix,
        },
        NemesisKind::Kill => FaultKind::Kill { target },
        NemesisKind::Pause => FaultKind::Pause { target },
        NemesisKind::ClockJumpWall => {
            let m = (dur as i64).max(1) * 4;
            FaultKind::ClockJump {
                target,
                clock: ClockKind::Wall,
                delta_ms: rng.range_i64(-m, m),
            }
        }
        NemesisKind::ClockJumpMonotonic => FaultKind::ClockJump {
            target,
            clock: ClockKind::Monotonic,
            delta_ms: rng.range_inclusive(1, dur.max(1)) as i64,
        },
        NemesisKind::ClockDrift => {
            let ppm = rng.range_i64(50, 2_000) as i32;
            let drift_ppm = if rng.chance(Ratio::new(1, 2)) {
                ppm
            } else {
                -ppm
            };
            FaultKind::ClockDrift { target, drift_ppm }
        }
        NemesisKind::SlowFsync => FaultKind::SlowFsync {
            target,
            extra_ms: rng.range_inclusive(dur / 4, dur.max(1)),
        },
        NemesisKind::DiskFull => FaultKind::DiskFull {
            target,
            free_bytes: Some(rng.range_inclusive(0, 64 * 1024)),
        },
        NemesisKind::DiskErrors => FaultKind::DiskErrors {
            target,
            chance: Ratio::new(1, rng.range_inclusive(2, 20) as u32),
        },
        _ => unreachable!("{kind:?} is not a node kind"),
    }
}

/// An out-of-model fault of `kind` on `target`, lasting `dur` ms where that applies.
fn out_of_model_fault<R>(kind: NemesisKind, target: Target<R>, dur: u64) -> OutOfModelFault<R> {
    let messages = |kind, target| OutOfModelFault::Messages {
        kind,
        from: target,
        to: Target::All,
        chance: Ratio::new(1, 10),
        duration_ms: dur,
    };
    match kind {
        NemesisKind::OutOfModelBitFlip => OutOfModelFault::BitFlip {
            target,
            file: FileSel::Any,
            region: RegionSel::Random { len: 1 },
        },
        NemesisKind::OutOfModelLatentReadError => OutOfModelFault::LatentReadError {
            target,
            file: FileSel::Any,
            region: RegionSel::Random { len: 512 },
        },
        NemesisKind::OutOfModelFsyncLies => OutOfModelFault::FsyncLies { target, lies: true },
        NemesisKind::OutOfModelWipe => OutOfModelFault::Wipe { target },
        NemesisKind::OutOfModelDrop => messages(MessageFaultKind::Drop, target),
        NemesisKind::OutOfModelDuplicate => messages(MessageFaultKind::Duplicate, target),
        NemesisKind::OutOfModelReorder => messages(MessageFaultKind::Reorder, target),
        _ => unreachable!("{kind:?} is in the model"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::fault::NoRole;
    use crate::kernel::rng::Stream;

    fn swarm() -> SwarmConfig<NoRole> {
        SwarmConfig {
            start_ms: 0,
            end_ms: 10_000,
            kinds: in_model_kinds(),
            gap_ms: SpanMs::new(10, 1_000),
            fault_ms: SpanMs::new(10, 5_000),
            stability_ms: SpanMs::new(100, 2_000),
            roles: Vec::new(),
        }
    }

    #[test]
    fn swarm_is_a_function_of_the_seed_and_varies_across_seeds() {
        let s = swarm();
        let a = s.derive(&mut SimRng::new(1, Stream::Faults));
        let b = s.derive(&mut SimRng::new(1, Stream::Faults));
        assert_eq!(a, b);
        let texts: Vec<String> = (0..8)
            .map(|seed| s.derive(&mut SimRng::new(seed, Stream::Faults)).to_string())
            .collect();
        assert!(
            texts.iter().any(|t| t != &texts[0]),
            "eight seeds gave one swarm"
        );
        for seed in 0..50 {
            let c = s.derive(&mut SimRng::new(seed, Stream::Faults));
            c.validate().unwrap();
            assert!(c.gap_ms.min >= 10 && c.gap_ms.max <= 1_000);
            assert!(c.kinds.iter().all(|k| !k.kind.is_out_of_model()));
        }
    }

    #[test]
    fn drawn_faults_use_only_enabled_kinds() {
        let cfg: NemesisConfig<NoRole> = NemesisConfig {
            start_ms: 0,
            end_ms: 1,
            gap_ms: SpanMs::new(1, 1),
            fault_ms: SpanMs::new(5, 5),
            stability_ms: 0,
            kinds: vec![Weighted {
                kind: NemesisKind::Pause,
                weight: 1,
            }],
            roles: Vec::new(),
        };
        let mut r = SimRng::new(2, Stream::Faults);
        for _ in 0..20 {
            let (f, d) = cfg.draw_fault(&mut r).unwrap();
            assert_eq!(d, 5);
            assert!(matches!(
                f,
                FaultKind::Pause {
                    target: Target::Random
                }
            ));
        }
    }
}
