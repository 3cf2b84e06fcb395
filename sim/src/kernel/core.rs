//! The kernel state behind the world: the queue, the nodes (clock, disk, random stream,
//! deferred events), the network, pending timers and disk operations, the trace, and the
//! handlers that turn a popped event into a process event.
//!
//! Contract: a handler either returns the event to dispatch to a running process, defers it
//! (paused process), or drops it (the incarnation it was meant for is gone). Handlers never
//! call a process; `World::step` does.

use std::collections::{BTreeMap, VecDeque};

use super::clock::{ClockKind, NodeClock};
use super::config::KernelConfig;
use super::disk::{CrashDisk, Disk, FsyncTicket};
use super::net::Network;
use super::process::{
    ConnId, ConnectError, DisconnectReason, DiskError, Event, IoId, NodeId, TimerId,
};
use super::queue::EventQueue;
use super::rng::SimRng;
use super::time::{LocalTime, SimTime};
use super::trace::{RecordKind, Trace};
use super::world::NodeStatus;

/// A notification to one end of a connection.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Notice {
    ConnectFailed(ConnectError),
    Disconnected(DisconnectReason),
}

/// A kernel event in the queue.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    Boot {
        node: NodeId,
        incarnation: u32,
    },
    Pipe {
        conn: ConnId,
        dir: u8,
    },
    Notify {
        node: NodeId,
        incarnation: u32,
        conn: ConnId,
        notice: Notice,
    },
    Doom {
        conn: ConnId,
        version: u32,
    },
    Timer {
        id: TimerId,
        version: u32,
    },
    Io {
        io: IoId,
    },
    Redeliver {
        node: NodeId,
        incarnation: u32,
    },
    Unclog,
    ClogStart {
        idx: usize,
    },
    Control {
        token: u64,
    },
}

pub(crate) struct NodeState<M, T> {
    pub name: String,
    pub faultable: bool,
    pub status: NodeStatus,
    pub incarnation: u32,
    pub clock: NodeClock,
    pub disk: Disk,
    pub rng: SimRng,
    pub deferred: VecDeque<Event<M, T>>,
    pub io_last_done: SimTime,
    pub initial_drift_ppm: i32,
    pub disk_ops_issued: u64,
    pub crash_after_ops: Option<(u64, CrashDisk)>,
}

pub(crate) struct TimerEntry<T> {
    pub node: NodeId,
    pub incarnation: u32,
    pub clock: ClockKind,
    pub deadline: LocalTime,
    pub version: u32,
    pub tag: T,
}

pub(crate) struct IoEntry {
    pub node: NodeId,
    pub incarnation: u32,
    pub ticket: Option<FsyncTicket>,
    pub result: Result<(), DiskError>,
}

/// The kernel state a [`Ctx`](super::ctx::Ctx) reaches: everything but the processes themselves.
pub struct Core<M, T> {
    pub(crate) config: KernelConfig,
    pub(crate) queue: EventQueue<Ev>,
    pub(crate) nodes: Vec<NodeState<M, T>>,
    pub(crate) net: Network<M>,
    pub(crate) timers: BTreeMap<TimerId, TimerEntry<T>>,
    pub(crate) ios: BTreeMap<IoId, IoEntry>,
    pub(crate) trace: Trace,
    pub(crate) rng_net: SimRng,
    pub(crate) rng_disk: SimRng,
    pub(crate) rng_clocks: SimRng,
    pub(crate) rng_faults: SimRng,
    pub(crate) next_timer: u64,
    pub(crate) next_io: u64,
    pub(crate) events: u64,
    pub(crate) exit_requested: Option<NodeId>,
    /// A node whose armed crash point was reached during the current handler.
    pub(crate) dying: Option<(NodeId, CrashDisk)>,
    pub(crate) scheduled_clogs: Vec<(Vec<NodeId>, Vec<NodeId>, SimTime)>,
}

impl<M, T> std::fmt::Debug for Core<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("now", &self.queue.now())
            .field("nodes", &self.nodes.len())
            .field("events", &self.events)
            .field("pending", &self.queue.len())
            .finish()
    }
}

impl<M, T> Core<M, T> {
    /// Current global virtual time.
    pub(crate) fn now(&self) -> SimTime {
        self.queue.now()
    }

    pub(crate) fn node(&self, node: NodeId) -> &NodeState<M, T> {
        match self.nodes.get(node.index()) {
            Some(n) => n,
            None => panic!("unknown node {node}"),
        }
    }

    pub(crate) fn node_mut(&mut self, node: NodeId) -> &mut NodeState<M, T> {
        match self.nodes.get_mut(node.index()) {
            Some(n) => n,
            None => panic!("unknown node {node}"),
        }
    }

    /// True if `node` currently runs (or is paused in) incarnation `incarnation`.
    pub(crate) fn alive(&self, node: NodeId, incarnation: u32) -> bool {
        let n = self.node(node);
        n.incarnation == incarnation && n.status != NodeStatus::Down
    }

    pub(crate) fn record(
        &mut self,
        node: Option<NodeId>,
        kind: RecordKind,
        a: u64,
        b: u64,
        detail: impl FnOnce() -> String,
    ) {
        let now = self.queue.now();
        self.trace.record(now, node, kind, a, b, detail);
    }

    /// Routes an event to a live process: returns it to dispatch now, defers it if the node is
    /// paused, or drops it if the incarnation is gone.
    pub(crate) fn route(
        &mut self,
        node: NodeId,
        incarnation: u32,
        event: Event<M, T>,
    ) -> Option<(NodeId, Event<M, T>)> {
        let n = self.node_mut(node);
        if n.incarnation != incarnation {
            return None;
        }
        match n.status {
            NodeStatus::Down => None,
            NodeStatus::Paused => {
                n.deferred.push_back(event);
                None
            }
            NodeStatus::Running => Some((node, event)),
        }
    }

    /// Re-converts every pending timer of `node` after its clock changed.
    pub(crate) fn reschedule_timers(&mut self, node: NodeId) {
        let now = self.now();
        let clock = self.node(node).clock.clone();
        let mut pushes = Vec::new();
        for (id, t) in self.timers.iter_mut().filter(|(_, t)| t.node == node) {
            t.version += 1;
            pushes.push((
                clock.global_deadline(t.clock, t.deadline, now),
                *id,
                t.version,
            ));
        }
        for (at, id, version) in pushes {
            self.queue.push(at, Ev::Timer { id, version });
        }
    }

    pub(crate) fn on_timer(&mut self, id: TimerId, version: u32) -> Option<(NodeId, Event<M, T>)> {
        let t = self.timers.get(&id)?;
        if t.version != version {
            return None;
        }
        let now = self.now();
        let (node, incarnation) = (t.node, t.incarnation);
        // The deadline was converted with the clock as it is now (changes re-convert).
        debug_assert!(self.node(node).clock.read(t.clock, now) >= t.deadline);
        let t = self.timers.remove(&id)?;
        self.record(Some(node), RecordKind::TimerFire, id.0, 0, String::new);
        self.route(node, incarnation, Event::Timer { id, tag: t.tag })
    }

    pub(crate) fn on_io(&mut self, io: IoId) -> Option<(NodeId, Event<M, T>)> {
        let entry = self.ios.remove(&io)?;
        let node = entry.node;
        if let Some(ticket) = entry.ticket {
            // The device finishes the fsync whatever became of the process.
            self.node_mut(node).disk.complete_fsync(ticket);
        }
        let code = u64::from(entry.result.is_err());
        self.record(Some(node), RecordKind::IoDone, io.0, code, String::new);
        self.route(
            node,
            entry.incarnation,
            Event::IoDone {
                io,
                result: entry.result,
            },
        )
    }

    pub(crate) fn on_redeliver(
        &mut self,
        node: NodeId,
        incarnation: u32,
    ) -> Option<(NodeId, Event<M, T>)> {
        let n = self.node_mut(node);
        if n.incarnation != incarnation || n.status != NodeStatus::Running {
            return None;
        }
        let event = n.deferred.pop_front()?;
        let left = n.deferred.len() as u64;
        self.record(Some(node), RecordKind::Redeliver, left, 0, || {
            event.name().to_string()
        });
        Some((node, event))
    }
}
