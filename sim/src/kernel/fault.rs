//! The fault vocabulary: what a scenario timeline, the random nemesis and the swarm can do to a
//! run, with targets resolved at the moment the fault applies.
//!
//! Fault model. Every variant of [`FaultKind`] is INSIDE ZooKeeper's fault model (crash-recovery
//! servers, FIFO channels that can break, durable fsync, unreliable clocks): after any
//! combination of them, and a heal, the cluster must be safe and lose nothing acknowledged.
//! Everything OUTSIDE the model lives under [`FaultKind::OutOfModel`], so a scenario cannot use
//! one by accident: the server must detect those (checksums, refusing to serve) or the scenario
//! is a negative one that expects a violation.
//!
//! Targets. A [`Target`] names nodes directly, or by chance (drawn from the faults stream among
//! the *faultable* nodes), or by role (`Role(R)`), which the cluster glue resolves through a
//! [`RoleResolver`] ("the current leader"); the kernel knows no roles. [`resolve`](super::resolve::resolve) turns every
//! target into `Target::Nodes`, so a resolved fault states exactly what was hit, and its
//! [`inverse`](super::resolve::inverse) heals exactly that.

use serde::{Deserialize, Serialize};
use std::fmt::{self, Debug};

use super::clock::ClockKind;
use super::disk::{CrashDisk, Region};
use super::net::MessageFaultKind;
use super::process::{NodeId, Process};
use super::rng::Ratio;
use super::time::NS_PER_MS;
use super::world::World;

/// Resolves role targets (`Target::Role`) to nodes. The cluster glue implements it.
pub trait RoleResolver<P: Process> {
    /// The role vocabulary (e.g. leader, follower, observer, client).
    type Role: Clone + Debug;

    /// The nodes that hold `role` now, in ascending order.
    fn nodes_with_role(&self, world: &World<P>, role: &Self::Role) -> Vec<NodeId>;
}

/// A role vocabulary with no roles, for worlds without a cluster glue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoRole {}

/// The resolver for [`NoRole`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRoles;

impl<P: Process> RoleResolver<P> for NoRoles {
    type Role = NoRole;
    fn nodes_with_role(&self, _: &World<P>, role: &NoRole) -> Vec<NodeId> {
        match *role {}
    }
}

/// Which nodes a fault hits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target<R> {
    /// One node.
    Node(NodeId),
    /// These nodes.
    Nodes(Vec<NodeId>),
    /// One faultable node, drawn at random.
    Random,
    /// A random non-empty minority of the faultable nodes (at most `(n - 1) / 2`).
    RandomMinority,
    /// Every faultable node.
    All,
    /// Every node holding this role now (resolved by the glue).
    Role(R),
    /// One node holding this role now, drawn at random.
    OneOfRole(R),
}

/// Which file a disk-corruption fault hits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileSel {
    /// This file.
    Name(String),
    /// A random file whose name starts with this prefix (`"log."`).
    Prefix(String),
    /// Any file, at random.
    Any,
}

/// Which bytes of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegionSel {
    /// Exactly these bytes.
    At(Region),
    /// The last `len` bytes.
    Tail {
        /// Length in bytes.
        len: u64,
    },
    /// `len` bytes at a random offset.
    Random {
        /// Length in bytes.
        len: u64,
    },
}

/// A fault inside ZooKeeper's model, or an out-of-model one under [`FaultKind::OutOfModel`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultKind<R> {
    /// Machine crash (power loss): memory lost, unsynced writes lost or torn per `disk`.
    Crash {
        /// Who.
        target: Target<R>,
        /// What happens to unsynced writes.
        #[serde(default)]
        disk: CrashDisk,
    },
    /// Machine crash right after the target's `ops`-th disk operation from now (a crash point;
    /// see `World::crash_after_disk_ops`).
    CrashAfterDiskOps {
        /// Who.
        target: Target<R>,
        /// Which operation (1: the next one).
        ops: u64,
        /// What happens to unsynced writes.
        #[serde(default)]
        disk: CrashDisk,
    },
    /// Process kill: memory lost, the page cache survives; peers see a reset.
    Kill {
        /// Who.
        target: Target<R>,
    },
    /// Rebuild the process from its disk (killing it first if it is up).
    Restart {
        /// Who.
        target: Target<R>,
    },
    /// Stall the process (GC, VM migration): its events wait.
    Pause {
        /// Who.
        target: Target<R>,
    },
    /// Let a paused process run again.
    Resume {
        /// Who.
        target: Target<R>,
    },
    /// Symmetric partition: the target nodes on one side, everyone else on the other.
    Isolate {
        /// The isolated side.
        target: Target<R>,
    },
    /// Groups that talk only within themselves (nodes in no group are unaffected).
    PartitionGroups {
        /// The groups.
        groups: Vec<Target<R>>,
    },
    /// The other faultable nodes are split in two halves that each reach only the bridge.
    Bridge {
        /// The bridge node(s).
        bridge: Target<R>,
    },
    /// One-way partition: `from` cannot reach `to`; the reverse direction still flows until the
    /// connections between them break after the detection delay.
    OneWay {
        /// Senders whose messages are held.
        from: Target<R>,
        /// Receivers that stop hearing from `from`.
        to: Target<R>,
    },
    /// Remove partitions, clogs and out-of-model message faults.
    HealNetwork,
    /// Hold messages `from -> to` (both directions if `symmetric`), then release them in order.
    Clog {
        /// Senders.
        from: Target<R>,
        /// Receivers.
        to: Target<R>,
        /// How long.
        duration_ms: u64,
        /// Also clog `to -> from`.
        #[serde(default)]
        symmetric: bool,
    },
    /// FoundationDB's swizzle-clog: clog the nodes' links one node at a time, every `step_ms`,
    /// hold them all, then unclog them one at a time in random order.
    SwizzleClog {
        /// The nodes whose links are clogged.
        nodes: Target<R>,
        /// Gap between successive clogs (and successive unclogs).
        step_ms: u64,
        /// How long all links stay clogged after the last one.
        hold_ms: u64,
    },
    /// Add latency to every message `from -> to` (0 restores it); FIFO still holds.
    SlowLink {
        /// Senders.
        from: Target<R>,
        /// Receivers.
        to: Target<R>,
        /// Added to each message's latency.
        extra_ms: u64,
    },
    /// Break every connection between the two sets (both ends learn after detection delays).
    BreakConnections {
        /// One side.
        a: Target<R>,
        /// The other side.
        b: Target<R>,
    },
    /// Step a clock (wall: either way; monotonic: forward only). Pending timers re-evaluate.
    ClockJump {
        /// Whose clock.
        target: Target<R>,
        /// Which clock.
        clock: ClockKind,
        /// By how much (negative: backward).
        delta_ms: i64,
    },
    /// Set a clock's drift.
    ClockDrift {
        /// Whose clock.
        target: Target<R>,
        /// Parts per million (positive: fast).
        drift_ppm: i32,
    },
    /// Stall every fsync by `extra_ms` (0 ends the stall).
    SlowFsync {
        /// Whose disk.
        target: Target<R>,
        /// Added to each fsync.
        extra_ms: u64,
    },
    /// Leave only `free_bytes` free (`None`: unlimited): ENOSPC beyond.
    DiskFull {
        /// Whose disk.
        target: Target<R>,
        /// Free bytes left.
        free_bytes: Option<u64>,
    },
    /// Make each disk operation fail with EIO with probability `chance` (reported in its
    /// `IoDone`, nothing applied; `NEVER` ends it).
    DiskErrors {
        /// Whose disk.
        target: Target<R>,
        /// Probability per operation.
        chance: Ratio,
    },
    /// Heal everything: the network, paused and down faultable nodes, disk and clock stalls.
    HealAll,
    /// A fault OUTSIDE ZooKeeper's model.
    OutOfModel(OutOfModelFault<R>),
}

/// Faults that break an assumption ZAB makes. The server must detect them and refuse to serve
/// wrong data, or the scenario is negative and expects a violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum OutOfModelFault<R> {
    /// Flip bits in every byte of a file region (media and cache).
    BitFlip {
        /// Whose disk.
        target: Target<R>,
        /// Which file.
        file: FileSel,
        /// Which bytes.
        region: RegionSel,
    },
    /// A file region becomes unreadable until rewritten.
    LatentReadError {
        /// Whose disk.
        target: Target<R>,
        /// Which file.
        file: FileSel,
        /// Which bytes.
        region: RegionSel,
    },
    /// fsync reports success but persists nothing (`lies: false` restores it).
    FsyncLies {
        /// Whose disk.
        target: Target<R>,
        /// Lying or not.
        lies: bool,
    },
    /// The disk is replaced by an empty one (the node crashes first).
    Wipe {
        /// Whose disk.
        target: Target<R>,
    },
    /// Single messages inside a live connection are dropped, duplicated or reordered.
    Messages {
        /// Drop, duplicate or reorder.
        kind: MessageFaultKind,
        /// Senders.
        from: Target<R>,
        /// Receivers.
        to: Target<R>,
        /// Probability per message.
        chance: Ratio,
        /// How long the rule lasts.
        duration_ms: u64,
    },
}

/// Why a fault could not be applied (the run goes on; the driver records it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultError(pub String);

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultError {}

impl<R> FaultKind<R> {
    /// Checks the parameters a scenario could get wrong; the error names the variant and field.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            FaultKind::ClockJump {
                clock: ClockKind::Monotonic,
                delta_ms,
                ..
            } if *delta_ms < 0 => Err(format!(
                "ClockJump.delta_ms: {delta_ms}: a Monotonic clock only jumps forward (use Wall)"
            )),
            FaultKind::ClockDrift { drift_ppm, .. }
                if drift_ppm.unsigned_abs() > super::clock::MAX_DRIFT_PPM as u32 =>
            {
                Err(format!(
                    "ClockDrift.drift_ppm: {drift_ppm} is beyond ±{}",
                    super::clock::MAX_DRIFT_PPM
                ))
            }
            FaultKind::PartitionGroups { groups } if groups.len() < 2 => Err(format!(
                "PartitionGroups.groups: {} group(s); a partition needs at least two",
                groups.len()
            )),
            FaultKind::CrashAfterDiskOps { ops: 0, .. } => {
                Err("CrashAfterDiskOps.ops: must be at least 1".to_string())
            }
            FaultKind::SwizzleClog { step_ms: 0, .. } => {
                Err("SwizzleClog.step_ms: must be above zero".to_string())
            }
            FaultKind::DiskErrors { chance, .. } if !chance.is_valid() => Err(format!(
                "DiskErrors.chance: {chance} is not a probability (denominator above zero, \
                 numerator at most the denominator)"
            )),
            FaultKind::OutOfModel(OutOfModelFault::Messages { chance, .. })
                if !chance.is_valid() =>
            {
                Err(format!(
                    "OutOfModel.Messages.chance: {chance} is not a probability (denominator above \
                     zero, numerator at most the denominator)"
                ))
            }
            _ => Ok(()),
        }
    }

    /// Every target the fault names, in field order (for validation against the cluster size).
    pub fn targets(&self) -> Vec<&Target<R>> {
        match self {
            FaultKind::Crash { target, .. }
            | FaultKind::CrashAfterDiskOps { target, .. }
            | FaultKind::Kill { target }
            | FaultKind::Restart { target }
            | FaultKind::Pause { target }
            | FaultKind::Resume { target }
            | FaultKind::Isolate { target }
            | FaultKind::ClockJump { target, .. }
            | FaultKind::ClockDrift { target, .. }
            | FaultKind::SlowFsync { target, .. }
            | FaultKind::DiskFull { target, .. }
            | FaultKind::DiskErrors { target, .. } => vec![target],
            FaultKind::Bridge { bridge } => vec![bridge],
            FaultKind::SwizzleClog { nodes, .. } => vec![nodes],
            FaultKind::PartitionGroups { groups } => groups.iter().collect(),
            FaultKind::OneWay { from, to }
            | FaultKind::Clog { from, to, .. }
            | FaultKind::SlowLink { from, to, .. } => vec![from, to],
            FaultKind::BreakConnections { a, b } => vec![a, b],
            FaultKind::HealNetwork | FaultKind::HealAll => Vec::new(),
            FaultKind::OutOfModel(o) => match o {
                OutOfModelFault::BitFlip { target, .. }
                | OutOfModelFault::LatentReadError { target, .. }
                | OutOfModelFault::FsyncLies { target, .. }
                | OutOfModelFault::Wipe { target } => vec![target],
                OutOfModelFault::Messages { from, to, .. } => vec![from, to],
            },
        }
    }

    /// The first node id the fault names that is not below `node_count`, if any.
    pub fn unknown_node(&self, node_count: usize) -> Option<NodeId> {
        self.targets().into_iter().find_map(|t| match t {
            Target::Node(n) => (n.index() >= node_count).then_some(*n),
            Target::Nodes(ns) => ns.iter().copied().find(|n| n.index() >= node_count),
            _ => None,
        })
    }

    /// True for faults outside ZooKeeper's model.
    pub fn is_out_of_model(&self) -> bool {
        matches!(self, FaultKind::OutOfModel(_))
    }
}

/// Milliseconds to nanoseconds, saturating.
pub(crate) fn ms(ms: u64) -> u64 {
    ms.saturating_mul(NS_PER_MS)
}

impl<R: Debug> fmt::Display for FaultKind<R> {
    /// The RON-like debug form, which names every field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}
