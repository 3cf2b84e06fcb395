//! Fault target resolution and inverses.
//!
//! Contract: [`resolve`] replaces every [`Target`] of a fault by `Target::Nodes` with the
//! concrete nodes it designates *now* — random picks come from the faults stream, roles from
//! the glue's [`RoleResolver`] — so the resolved fault states exactly what was hit; [`inverse`]
//! of a resolved fault undoes exactly that (restart what crashed, resume what paused, heal the
//! network, clear a stall).

use super::clock::ClockKind;
use super::fault::{FaultKind, OutOfModelFault, RoleResolver, Target};
use super::process::{NodeId, Process};
use super::rng::{Ratio, SimRng};
use super::world::World;

/// Resolves a target to concrete nodes (sorted, deduplicated).
pub fn resolve_target<P: Process, Rs: RoleResolver<P>>(
    target: &Target<Rs::Role>,
    world: &mut World<P>,
    resolver: &Rs,
) -> Vec<NodeId> {
    let faultable = world.faultable_nodes();
    let mut nodes = match target {
        Target::Node(n) => vec![*n],
        Target::Nodes(ns) => ns.clone(),
        Target::Random => world
            .faults_rng()
            .choose(&faultable)
            .copied()
            .into_iter()
            .collect(),
        Target::RandomMinority => random_minority(&faultable, world.faults_rng()),
        Target::All => faultable,
        Target::Role(r) => resolver.nodes_with_role(world, r),
        Target::OneOfRole(r) => {
            let holders = resolver.nodes_with_role(world, r);
            world
                .faults_rng()
                .choose(&holders)
                .copied()
                .into_iter()
                .collect()
        }
    };
    let count = world.nodes().len() as u32;
    nodes.retain(|n| n.0 < count);
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// A random non-empty minority (size `1..=(n-1)/2`), or nothing if `n < 3`.
pub fn random_minority(nodes: &[NodeId], rng: &mut SimRng) -> Vec<NodeId> {
    let max = nodes.len().saturating_sub(1) / 2;
    if max == 0 {
        return Vec::new();
    }
    let size = rng.range_inclusive(1, max as u64) as usize;
    let mut shuffled = nodes.to_vec();
    rng.shuffle(&mut shuffled);
    shuffled.truncate(size);
    shuffled.sort_unstable();
    shuffled
}

/// The fault with every target replaced by the concrete nodes it resolves to now.
pub fn resolve<P: Process, Rs: RoleResolver<P>>(
    fault: &FaultKind<Rs::Role>,
    world: &mut World<P>,
    resolver: &Rs,
) -> FaultKind<Rs::Role> {
    let mut r = |t: &Target<Rs::Role>| Target::Nodes(resolve_target(t, world, resolver));
    match fault {
        FaultKind::Crash { target, disk } => FaultKind::Crash {
            target: r(target),
            disk: *disk,
        },
        FaultKind::CrashAfterDiskOps { target, ops, disk } => FaultKind::CrashAfterDiskOps {
            target: r(target),
            ops: *ops,
            disk: *disk,
        },
        FaultKind::Kill { target } => FaultKind::Kill { target: r(target) },
        FaultKind::Restart { target } => FaultKind::Restart { target: r(target) },
        FaultKind::Pause { target } => FaultKind::Pause { target: r(target) },
        FaultKind::Resume { target } => FaultKind::Resume { target: r(target) },
        FaultKind::Isolate { target } => FaultKind::Isolate { target: r(target) },
        FaultKind::PartitionGroups { groups } => FaultKind::PartitionGroups {
            groups: groups.iter().map(&mut r).collect(),
        },
        FaultKind::Bridge { bridge } => FaultKind::Bridge { bridge: r(bridge) },
        FaultKind::OneWay { from, to } => FaultKind::OneWay {
            from: r(from),
            to: r(to),
        },
        FaultKind::HealNetwork => FaultKind::HealNetwork,
        FaultKind::Clog {
            from,
            to,
            duration_ms,
            symmetric,
        } => FaultKind::Clog {
            from: r(from),
            to: r(to),
            duration_ms: *duration_ms,
            symmetric: *symmetric,
        },
        FaultKind::SwizzleClog {
            nodes,
            step_ms,
            hold_ms,
        } => FaultKind::SwizzleClog {
            nodes: r(nodes),
            step_ms: *step_ms,
            hold_ms: *hold_ms,
        },
        FaultKind::SlowLink { from, to, extra_ms } => FaultKind::SlowLink {
            from: r(from),
            to: r(to),
            extra_ms: *extra_ms,
        },
        FaultKind::BreakConnections { a, b } => FaultKind::BreakConnections { a: r(a), b: r(b) },
        FaultKind::ClockJump {
            target,
            clock,
            delta_ms,
        } => FaultKind::ClockJump {
            target: r(target),
            clock: *clock,
            delta_ms: *delta_ms,
        },
        FaultKind::ClockDrift { target, drift_ppm } => FaultKind::ClockDrift {
            target: r(target),
            drift_ppm: *drift_ppm,
        },
        FaultKind::SlowFsync { target, extra_ms } => FaultKind::SlowFsync {
            target: r(target),
            extra_ms: *extra_ms,
        },
        FaultKind::DiskFull { target, free_bytes } => FaultKind::DiskFull {
            target: r(target),
            free_bytes: *free_bytes,
        },
        FaultKind::DiskErrors { target, chance } => FaultKind::DiskErrors {
            target: r(target),
            chance: *chance,
        },
        FaultKind::HealAll => FaultKind::HealAll,
        FaultKind::OutOfModel(o) => FaultKind::OutOfModel(resolve_oom(o, &mut r)),
    }
}

fn resolve_oom<R: Clone>(
    o: &OutOfModelFault<R>,
    r: &mut impl FnMut(&Target<R>) -> Target<R>,
) -> OutOfModelFault<R> {
    match o {
        OutOfModelFault::BitFlip {
            target,
            file,
            region,
        } => OutOfModelFault::BitFlip {
            target: r(target),
            file: file.clone(),
            region: *region,
        },
        OutOfModelFault::LatentReadError {
            target,
            file,
            region,
        } => OutOfModelFault::LatentReadError {
            target: r(target),
            file: file.clone(),
            region: *region,
        },
        OutOfModelFault::FsyncLies { target, lies } => OutOfModelFault::FsyncLies {
            target: r(target),
            lies: *lies,
        },
        OutOfModelFault::Wipe { target } => OutOfModelFault::Wipe { target: r(target) },
        OutOfModelFault::Messages {
            kind,
            from,
            to,
            chance,
            duration_ms,
        } => OutOfModelFault::Messages {
            kind: *kind,
            from: r(from),
            to: r(to),
            chance: *chance,
            duration_ms: *duration_ms,
        },
    }
}

/// The fault that undoes a *resolved* fault, if there is one (used for timed faults and the
/// nemesis). Partitions are undone by healing the whole network.
pub fn inverse<R: Clone>(fault: &FaultKind<R>) -> Option<FaultKind<R>> {
    let t = |target: &Target<R>| target.clone();
    match fault {
        FaultKind::Crash { target, .. } | FaultKind::Kill { target } => {
            Some(FaultKind::Restart { target: t(target) })
        }
        FaultKind::Pause { target } => Some(FaultKind::Resume { target: t(target) }),
        FaultKind::Isolate { .. }
        | FaultKind::PartitionGroups { .. }
        | FaultKind::Bridge { .. }
        | FaultKind::OneWay { .. } => Some(FaultKind::HealNetwork),
        FaultKind::ClockJump {
            target,
            clock: ClockKind::Wall,
            delta_ms,
        } => Some(FaultKind::ClockJump {
            target: t(target),
            clock: ClockKind::Wall,
            delta_ms: -delta_ms,
        }),
        FaultKind::ClockDrift { target, .. } => Some(FaultKind::ClockDrift {
            target: t(target),
            drift_ppm: 0,
        }),
        FaultKind::SlowFsync { target, .. } => Some(FaultKind::SlowFsync {
            target: t(target),
            extra_ms: 0,
        }),
        FaultKind::DiskFull { target, .. } => Some(FaultKind::DiskFull {
            target: t(target),
            free_bytes: None,
        }),
        FaultKind::SlowLink { from, to, .. } => Some(FaultKind::SlowLink {
            from: t(from),
            to: t(to),
            extra_ms: 0,
        }),
        FaultKind::DiskErrors { target, .. } => Some(FaultKind::DiskErrors {
            target: t(target),
            chance: Ratio::NEVER,
        }),
        FaultKind::OutOfModel(OutOfModelFault::FsyncLies { target, lies: true }) => {
            Some(FaultKind::OutOfModel(OutOfModelFault::FsyncLies {
                target: t(target),
                lies: false,
            }))
        }
        FaultKind::OutOfModel(OutOfModelFault::Wipe { target }) => {
            Some(FaultKind::Restart { target: t(target) })
        }
        _ => None,
    }
}
