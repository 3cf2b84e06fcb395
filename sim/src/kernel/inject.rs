//! Fault primitives on concrete nodes: the operations [`FaultKind`](super::fault::FaultKind)s
//! resolve to. The driver calls them between steps; each is recorded in the trace.
//!
//! Contract: each primitive says whether it is inside ZooKeeper's fault model (the cluster must
//! survive it with nothing acknowledged lost) or outside it (the server must detect it and
//! refuse to serve wrong data, or the scenario expects a violation).

use std::collections::BTreeSet;

use super::clock::{ClockError, ClockKind};
use super::disk::{CrashDisk, Region};
use super::net::{MessageFaultKind, MessageRule};
use super::process::{DiskError, NodeId, Process};
use super::rng::Ratio;
use super::time::SimTime;
use super::trace::RecordKind;
use super::transport::Downed;
use super::world::{Ev, NodeStatus, World};

/// Stable codes of fault records in the trace (`RecordKind::Fault`, field `a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum FaultCode {
    Crash = 1,
    Kill = 2,
    Restart = 3,
    Pause = 4,
    Resume = 5,
    Partition = 6,
    HealNetwork = 7,
    Clog = 8,
    Break = 9,
    ClockJump = 10,
    ClockDrift = 11,
    SlowFsync = 12,
    DiskCapacity = 13,
    BitFlip = 14,
    LatentReadError = 15,
    FsyncLies = 16,
    Wipe = 17,
    MessageFault = 18,
    SlowLink = 19,
    DiskErrors = 20,
    CrashPoint = 21,
}

impl<P: Process> World<P> {
    fn fault_record(
        &mut self,
        node: Option<NodeId>,
        code: FaultCode,
        b: u64,
        detail: impl FnOnce() -> String,
    ) {
        self.core
            .record(node, RecordKind::Fault, code as u64, b, detail);
    }

    fn go_down(&mut self, node: NodeId, how: Downed) {
        self.core.drop_connections_of(node, how);
        let n = self.core.node_mut(node);
        n.status = NodeStatus::Down;
        n.deferred.clear();
        self.core.timers.retain(|_, t| t.node != node);
        drop(self.take_process(node));
    }

    /// Machine crash (power loss), inside the model: memory and, per `disk`, unsynced writes are
    /// lost; peers learn after their detection delay. No-op on a down node except the disk.
    pub fn crash(&mut self, node: NodeId, disk: CrashDisk) {
        if self.core.node(node).status != NodeStatus::Down {
            self.go_down(node, Downed::Crashed);
        }
        let core = &mut self.core;
        let lost = core.nodes[node.index()]
            .disk
            .crash(disk, &mut core.rng_disk);
        self.core
            .record(Some(node), RecordKind::Crash, lost as u64, 0, || {
                format!("{disk:?}")
            });
        self.fault_record(Some(node), FaultCode::Crash, lost as u64, || {
            format!("crash {node} {disk:?}")
        });
    }

    /// Arms a crash point, inside the model: the machine crashes (per `disk`) right after
    /// `node` issues its `ops`-th disk operation from now, inside the handler that issues it;
    /// later operations of that handler never reach the disk, and the crash takes effect when
    /// the handler returns. Running a seed once per `ops` in `1..=n` enumerates every crash
    /// point between persistent writes (ALICE/CrashMonkey style). `ops` must be at least 1.
    pub fn crash_after_disk_ops(&mut self, node: NodeId, ops: u64, disk: CrashDisk) {
        assert!(ops >= 1, "a crash point needs at least one operation");
        self.core.node_mut(node).crash_after_ops = Some((ops, disk));
        self.fault_record(Some(node), FaultCode::CrashPoint, ops, || {
            format!("crash {node} after {ops} disk ops ({disk:?})")
        });
    }

    /// Process kill (`kill -9`, `System.exit`), inside the model: memory is lost, the page cache
    /// and pending writes survive; peers get a reset after one latency.
    pub fn kill(&mut self, node: NodeId) {
        if self.core.node(node).status == NodeStatus::Down {
            return;
        }
        let inc = self.core.node(node).incarnation;
        self.go_down(node, Downed::Killed);
        self.core
            .record(Some(node), RecordKind::Kill, u64::from(inc), 0, String::new);
        self.fault_record(Some(node), FaultCode::Kill, 0, || format!("kill {node}"));
    }

    /// Restart, inside the model: a running or paused process is killed first, then the factory
    /// rebuilds the process from the disk.
    pub fn restart(&mut self, node: NodeId) {
        self.kill(node);
        self.fault_record(Some(node), FaultCode::Restart, 0, || {
            format!("restart {node}")
        });
        self.start(node);
    }

    /// Pause (a long GC or VM stall), inside the model: the process keeps its memory and
    /// connections; its timers, completions and messages wait until it resumes.
    pub fn pause(&mut self, node: NodeId) {
        let n = self.core.node_mut(node);
        if n.status != NodeStatus::Running {
            return;
        }
        n.status = NodeStatus::Paused;
        self.core
            .record(Some(node), RecordKind::Pause, 0, 0, String::new);
        self.fault_record(Some(node), FaultCode::Pause, 0, || format!("pause {node}"));
    }

    /// Resume a paused process: deferred events are redelivered in order, then held messages.
    pub fn resume(&mut self, node: NodeId) {
        let now = self.now();
        let n = self.core.node_mut(node);
        if n.status != NodeStatus::Paused {
            return;
        }
        n.status = NodeStatus::Running;
        let (count, incarnation) = (n.deferred.len(), n.incarnation);
        for _ in 0..count {
            self.core
                .queue
                .push(now, Ev::Redeliver { node, incarnation });
        }
        self.core
            .record(Some(node), RecordKind::Resume, count as u64, 0, String::new);
        self.fault_record(Some(node), FaultCode::Resume, count as u64, || {
            format!("resume {node}")
        });
        self.core.wake_all_pipes();
    }

    /// Replaces the partition with `blocked(src, dst)`, inside the model: blocked directions
    /// hold their messages, connections crossing them break after the detection delay, new
    /// connections across them time out.
    pub fn set_partition(&mut self, blocked: impl Fn(NodeId, NodeId) -> bool) {
        self.core.net.set_partition(blocked);
        let pairs = self.core.net.partitioned_pairs() as u64;
        self.fault_record(None, FaultCode::Partition, pairs, || {
            format!("partition: {pairs} directed pairs blocked")
        });
        self.core.reconcile_partition();
    }

    /// Blocks both directions between `side` and every other node.
    pub fn isolate(&mut self, side: &[NodeId]) {
        let side: BTreeSet<NodeId> = side.iter().copied().collect();
        self.set_partition(|s, d| side.contains(&s) != side.contains(&d));
    }

    /// Groups that only talk within themselves; nodes in no group talk to everyone.
    pub fn partition_groups(&mut self, groups: &[Vec<NodeId>]) {
        let group_of = |n: NodeId| groups.iter().position(|g| g.contains(&n));
        self.set_partition(|s, d| match (group_of(s), group_of(d)) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        });
    }

    /// Blocks `from -> to` only (a one-way partition).
    pub fn partition_one_way(&mut self, from: &[NodeId], to: &[NodeId]) {
        self.set_partition(|s, d| from.contains(&s) && to.contains(&d));
    }

    /// Removes the partition, every clog, every slow link and every out-of-model message rule.
    pub fn heal_network(&mut self) {
        self.core.net.set_partition(|_, _| false);
        self.core.net.unclog_all();
        self.core.net.clear_extra_latency();
        self.core.net.rules.clear();
        self.fault_record(None, FaultCode::HealNetwork, 0, || {
            "heal network".to_string()
        });
        self.core.reconcile_partition();
    }

    /// Holds messages `from -> to` for `duration_ns`, then releases them in order, inside the
    /// model (connections survive a clog).
    pub fn clog(&mut self, from: &[NodeId], to: &[NodeId], duration_ns: u64) {
        let until = self.now().plus_ns(duration_ns);
        for &s in from {
            for &d in to {
                if s != d {
                    self.core.net.clog(s, d, until);
                }
            }
        }
        self.core.queue.push(until, Ev::Unclog);
        self.fault_record(None, FaultCode::Clog, duration_ns, || {
            format!("clog {from:?} -> {to:?} for {duration_ns}ns")
        });
    }

    /// Adds `extra_ns` to the latency of every message `from -> to` sent from now on (0
    /// restores the configured latency), inside the model. FIFO still holds.
    pub fn slow_link(&mut self, from: &[NodeId], to: &[NodeId], extra_ns: u64) {
        for &s in from {
            for &d in to {
                if s != d {
                    self.core.net.set_extra_latency(s, d, extra_ns);
                }
            }
        }
        self.fault_record(None, FaultCode::SlowLink, extra_ns, || {
            format!("slow link {from:?} -> {to:?} +{extra_ns}ns")
        });
    }

    /// Makes each disk write, truncate, rename, delete and fsync of `node` fail with EIO with
    /// probability `chance` (`Ratio::NEVER` ends it), inside the model: the error is reported
    /// in the operation's `IoDone`, nothing of a failed operation is applied, and the server
    /// must not acknowledge anything that depended on it.
    pub fn disk_errors(&mut self, node: NodeId, chance: Ratio) {
        assert!(chance.is_valid(), "invalid ratio {chance}");
        self.core.node_mut(node).disk.error_chance = chance;
        self.fault_record(
            Some(node),
            FaultCode::DiskErrors,
            u64::from(chance.numerator),
            || format!("disk errors {node} {chance}"),
        );
    }

    /// Breaks every connection between `a` and `b`, inside the model.
    pub fn break_connections(&mut self, a: &[NodeId], b: &[NodeId]) {
        let n = self.core.break_between(a, b) as u64;
        self.fault_record(None, FaultCode::Break, n, || {
            format!("break {a:?} <-> {b:?}: {n}")
        });
    }

    /// Steps a node's clock, inside the model; pending timers are re-evaluated.
    pub fn clock_jump(
        &mut self,
        node: NodeId,
        kind: ClockKind,
        delta_ns: i64,
    ) -> Result<(), ClockError> {
        let now = self.now();
        self.core.node_mut(node).clock.jump(kind, delta_ns, now)?;
        self.fault_record(Some(node), FaultCode::ClockJump, delta_ns as u64, || {
            format!("clock jump {node} {kind:?} {delta_ns}ns")
        });
        self.core.reschedule_timers(node);
        Ok(())
    }

    /// Changes a node's clock drift, inside the model; pending timers are re-evaluated.
    pub fn set_drift(&mut self, node: NodeId, drift_ppm: i32) -> Result<(), ClockError> {
        let now = self.now();
        self.core.node_mut(node).clock.set_drift(drift_ppm, now)?;
        self.fault_record(Some(node), FaultCode::ClockDrift, drift_ppm as u64, || {
            format!("drift {node} {drift_ppm}ppm")
        });
        self.core.reschedule_timers(node);
        Ok(())
    }

    /// Adds `extra_ns` to every fsync of `node` (0 ends the stall), inside the model.
    pub fn slow_fsync(&mut self, node: NodeId, extra_ns: u64) {
        self.core.node_mut(node).disk.fsync_extra_ns = extra_ns;
        self.fault_record(Some(node), FaultCode::SlowFsync, extra_ns, || {
            format!("slow fsync {node} +{extra_ns}ns")
        });
    }

    /// Limits the disk to its current use plus `free_bytes` (`None`: unlimited), inside the
    /// model: writes beyond fail with ENOSPC.
    pub fn disk_free(&mut self, node: NodeId, free_bytes: Option<u64>) {
        let disk = &mut self.core.node_mut(node).disk;
        let cap = free_bytes.map(|f| disk.used_bytes() + f);
        disk.set_capacity(cap);
        self.fault_record(
            Some(node),
            FaultCode::DiskCapacity,
            cap.unwrap_or(u64::MAX),
            || format!("disk capacity {node} {cap:?}"),
        );
    }

    /// Flips bits in every byte of a file region, OUTSIDE the model.
    pub fn bit_flip(&mut self, node: NodeId, file: &str, region: Region) -> Result<u64, DiskError> {
        let core = &mut self.core;
        let n = core.nodes[node.index()]
            .disk
            .flip_bits(file, region, &mut core.rng_disk)?;
        let f = file.to_string();
        self.fault_record(Some(node), FaultCode::BitFlip, n, move || {
            format!("bit flip {node} {f} {region:?}")
        });
        Ok(n)
    }

    /// Makes a file region unreadable until rewritten, OUTSIDE the model.
    pub fn latent_read_error(
        &mut self,
        node: NodeId,
        file: &str,
        region: Region,
    ) -> Result<(), DiskError> {
        self.core
            .node_mut(node)
            .disk
            .add_latent_error(file, region)?;
        let f = file.to_string();
        self.fault_record(
            Some(node),
            FaultCode::LatentReadError,
            region.offset,
            move || format!("latent read error {node} {f} {region:?}"),
        );
        Ok(())
    }

    /// Makes fsync report success without persisting anything (or stops it), OUTSIDE the model.
    pub fn fsync_lies(&mut self, node: NodeId, lies: bool) {
        self.core.node_mut(node).disk.fsync_lies = lies;
        self.fault_record(Some(node), FaultCode::FsyncLies, u64::from(lies), || {
            format!("fsync lies {node} {lies}")
        });
    }

    /// Replaces the disk with an empty one (crashing the node first if it is up), OUTSIDE the
    /// model.
    pub fn wipe(&mut self, node: NodeId) {
        if self.core.node(node).status != NodeStatus::Down {
            self.go_down(node, Downed::Crashed);
        }
        self.core.node_mut(node).disk.wipe();
        self.fault_record(Some(node), FaultCode::Wipe, 0, || format!("wipe {node}"));
    }

    /// Drops, duplicates or reorders single messages `from -> to` with probability `chance` for
    /// `duration_ns`, OUTSIDE the model (TCP cannot do this).
    pub fn message_fault(
        &mut self,
        kind: MessageFaultKind,
        from: &[NodeId],
        to: &[NodeId],
        chance: Ratio,
        duration_ns: u64,
    ) {
        assert!(chance.is_valid(), "invalid ratio {chance}");
        let until: SimTime = self.now().plus_ns(duration_ns);
        self.core.net.rules.push(MessageRule {
            kind,
            from: from.iter().copied().collect(),
            to: to.iter().copied().collect(),
            chance,
            until,
        });
        self.fault_record(None, FaultCode::MessageFault, kind as u64, || {
            format!("OutOfModel {kind:?} {from:?} -> {to:?} {chance} for {duration_ns}ns")
        });
    }
}
