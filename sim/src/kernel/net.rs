//! The virtual network: first-class FIFO connections between nodes, partitions and clogs.
//!
//! Fault model (ZAB assumes FIFO reliable channels that can break, as TCP gives it):
//!
//! * **Inside the model.** A connection delivers its messages in order, each after a sampled
//!   latency, and never earlier than the previous message in the same direction. A connection
//!   can **break**: whatever is in flight is lost and each end learns of it after its own
//!   sampled detection delay (`Disconnected { reason: Broken }`). A **partition** (symmetric,
//!   one-way, or arbitrary groups) blocks directions between nodes: a blocked direction holds
//!   its messages (TCP retransmits), the unblocked direction keeps flowing, and every connection
//!   crossing a blocked direction breaks once the partition has lasted its detection delay; a
//!   partition healed sooner loses nothing (the held messages are released in order). New
//!   connections across a partition time out. A **clog** holds a direction for a while and then
//!   releases the held messages in order, never breaking the connection (FoundationDB's
//!   clogging; *swizzle-clogging* is a schedule of clogs in the fault module).
//! * **Outside the model** (named `OutOfModel*` in the fault vocabulary): dropping,
//!   duplicating or reordering single messages inside a live connection. TCP cannot do that;
//!   these exist only to prove that the checkers notice when the assumption is broken.
//!
//! Structure: each connection has two *pipes* (one per direction), each a FIFO of items with
//! non-decreasing delivery times; only the head of a pipe is scheduled in the event queue, so
//! FIFO holds by construction whatever the latency jitter, clogging or pausing.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

use super::latency::LatencyDist;
use super::process::{ConnId, NodeId};
use super::rng::Ratio;
use super::time::{SimTime, NS_PER_MS};

/// Network configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// One-way latency of a message (and of each half of the connection handshake).
    #[serde(default = "default_latency")]
    pub latency: LatencyDist,
    /// From a break (or a partition starting) to an end learning of it.
    #[serde(default = "default_detection")]
    pub detection_delay: LatencyDist,
    /// How long a connection attempt across a partition waits before it fails.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
}

fn default_latency() -> LatencyDist {
    LatencyDist::LongTail {
        min_us: 100,
        p50_us: 250,
        p90_us: 500,
        p99_us: 2_000,
        p999_us: 20_000,
        max_us: 100_000,
    }
}

fn default_detection() -> LatencyDist {
    LatencyDist::Uniform {
        min_us: 200_000,
        max_us: 2_000_000,
    }
}

fn default_connect_timeout_ms() -> u64 {
    5_000
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency: default_latency(),
            detection_delay: default_detection(),
            connect_timeout_ms: default_connect_timeout_ms(),
        }
    }
}

impl NetworkConfig {
    /// The connect timeout in nanoseconds.
    pub fn connect_timeout_ns(&self) -> u64 {
        self.connect_timeout_ms * NS_PER_MS
    }
}

/// An item travelling in a pipe.
#[derive(Clone, Debug)]
pub(crate) enum Item<M> {
    /// The opening handshake (initiator to acceptor).
    Syn,
    /// The handshake's answer (acceptor to initiator).
    SynAck,
    /// Application data.
    Msg(M),
    /// An orderly close: delivered after everything sent before it.
    Fin,
}

/// One direction of a connection.
#[derive(Clone, Debug)]
pub(crate) struct Pipe<M> {
    pub items: VecDeque<(SimTime, Item<M>)>,
    /// The delivery time of the last item pushed (FIFO floor for the next one).
    pub last_at: SimTime,
    /// A `Pipe` event for this pipe is in the queue.
    pub armed: bool,
    /// The head could not be delivered (blocked direction or paused receiver); waiting for a
    /// wake-up.
    pub stalled: bool,
}

impl<M> Default for Pipe<M> {
    fn default() -> Self {
        Pipe {
            items: VecDeque::new(),
            last_at: SimTime::ZERO,
            armed: false,
            stalled: false,
        }
    }
}

impl<M> Pipe<M> {
    /// Appends an item whose latency was sampled as `at`; returns its FIFO-adjusted time.
    pub fn push(&mut self, at: SimTime, item: Item<M>) -> SimTime {
        let at = at.max(self.last_at);
        self.last_at = at;
        self.items.push_back((at, item));
        at
    }
}

/// The state of one end of a connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct End {
    pub node: NodeId,
    pub incarnation: u32,
    /// The process has been told the connection is up (`Connected` or `Accepted`).
    pub established: bool,
    /// The process closed it or was told it ended; nothing more is delivered to it.
    pub done: bool,
}

/// Lifecycle of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnState {
    /// Carrying data (possibly still in its handshake).
    Live,
    /// Broken or refused: pipes emptied, nothing more is carried.
    Dead,
}

/// One connection: end 0 is the initiator, end 1 the acceptor; pipe `d` carries from end `d`.
#[derive(Clone, Debug)]
pub(crate) struct Conn<M> {
    pub ends: [End; 2],
    /// The acceptor's port (a label).
    pub port: u16,
    pub pipes: [Pipe<M>; 2],
    pub state: ConnState,
    /// A pending partition-induced break: its version (bumped to cancel it).
    pub doom_version: u32,
    pub doomed: bool,
}

impl<M> Conn<M> {
    /// The index of `node`'s end, preferring the initiator for a self-connection.
    pub fn end_of(&self, node: NodeId) -> Option<usize> {
        self.ends.iter().position(|e| e.node == node)
    }
}

/// A kind of out-of-model message fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MessageFaultKind {
    /// The message vanishes although the connection stays up.
    Drop,
    /// The message is delivered twice.
    Duplicate,
    /// The message overtakes the one sent before it on the same connection.
    Reorder,
}

/// An active out-of-model message fault rule.
#[derive(Clone, Debug)]
pub(crate) struct MessageRule {
    pub kind: MessageFaultKind,
    pub from: BTreeSet<NodeId>,
    pub to: BTreeSet<NodeId>,
    pub chance: Ratio,
    pub until: SimTime,
}

/// Counters for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetStats {
    /// Messages handed to `send`.
    pub sent: u64,
    /// Messages delivered to a process.
    pub delivered: u64,
    /// Messages lost (broken connections, closed receivers, out-of-model drops).
    pub lost: u64,
    /// Payload bytes handed to `send`.
    pub bytes_sent: u64,
    /// Connections opened.
    pub connections: u64,
    /// Connections broken by faults or crashes.
    pub breaks: u64,
}

/// The network state.
#[derive(Clone, Debug)]
pub(crate) struct Network<M> {
    pub conns: Vec<Conn<M>>,
    pub live: BTreeSet<ConnId>,
    n: usize,
    partition: Vec<bool>,
    clog_until: Vec<SimTime>,
    extra_latency_ns: Vec<u64>,
    pub rules: Vec<MessageRule>,
    pub stats: NetStats,
}

impl<M> Default for Network<M> {
    fn default() -> Self {
        Network {
            conns: Vec::new(),
            live: BTreeSet::new(),
            n: 0,
            partition: Vec::new(),
            clog_until: Vec::new(),
            extra_latency_ns: Vec::new(),
            rules: Vec::new(),
            stats: NetStats::default(),
        }
    }
}

impl<M> Network<M> {
    /// Grows the per-pair tables to `n` nodes, keeping existing entries.
    pub fn resize(&mut self, n: usize) {
        let mut partition = vec![false; n * n];
        let mut clog = vec![SimTime::ZERO; n * n];
        let mut extra = vec![0; n * n];
        for s in 0..self.n {
            for d in 0..self.n {
                partition[s * n + d] = self.partition[s * self.n + d];
                clog[s * n + d] = self.clog_until[s * self.n + d];
                extra[s * n + d] = self.extra_latency_ns[s * self.n + d];
            }
        }
        self.partition = partition;
        self.clog_until = clog;
        self.extra_latency_ns = extra;
        self.n = n;
    }

    fn idx(&self, src: NodeId, dst: NodeId) -> usize {
        assert!(src.index() < self.n && dst.index() < self.n, "unknown node");
        src.index() * self.n + dst.index()
    }

    /// True if a partition blocks `src -> dst`.
    pub fn partitioned(&self, src: NodeId, dst: NodeId) -> bool {
        self.partition[self.idx(src, dst)]
    }

    /// True if `src -> dst` holds its messages now (partition or clog).
    pub fn blocked(&self, src: NodeId, dst: NodeId, now: SimTime) -> bool {
        let i = self.idx(src, dst);
        self.partition[i] || self.clog_until[i] > now
    }

    /// Replaces the partition: `blocked(src, dst)` for every pair. Returns the matrix size.
    pub fn set_partition(&mut self, blocked: impl Fn(NodeId, NodeId) -> bool) {
        for s in 0..self.n {
            for d in 0..self.n {
                let (sn, dn) = (NodeId(s as u32), NodeId(d as u32));
                self.partition[s * self.n + d] = s != d && blocked(sn, dn);
            }
        }
    }

    /// Clogs `src -> dst` until at least `until`.
    pub fn clog(&mut self, src: NodeId, dst: NodeId, until: SimTime) {
        let i = self.idx(src, dst);
        self.clog_until[i] = self.clog_until[i].max(until);
    }

    /// Sets the latency added to every item `src -> dst` (a slow link; 0 restores it).
    pub fn set_extra_latency(&mut self, src: NodeId, dst: NodeId, extra_ns: u64) {
        let i = self.idx(src, dst);
        self.extra_latency_ns[i] = extra_ns;
    }

    /// The latency added to items `src -> dst`.
    pub fn extra_latency(&self, src: NodeId, dst: NodeId) -> u64 {
        self.extra_latency_ns[self.idx(src, dst)]
    }

    /// Removes every slow link.
    pub fn clear_extra_latency(&mut self) {
        self.extra_latency_ns.iter_mut().for_each(|t| *t = 0);
    }

    /// Removes every clog.
    pub fn unclog_all(&mut self) {
        self.clog_until.iter_mut().for_each(|t| *t = SimTime::ZERO);
    }

    /// Number of blocked directed pairs (partition only).
    pub fn partitioned_pairs(&self) -> usize {
        self.partition.iter().filter(|&&b| b).count()
    }

    /// The connection, which must exist.
    pub fn conn(&self, id: ConnId) -> &Conn<M> {
        match self.conns.get(id.0 as usize) {
            Some(c) => c,
            None => panic!("unknown connection {id}"),
        }
    }

    /// The connection, which must exist.
    pub fn conn_mut(&mut self, id: ConnId) -> &mut Conn<M> {
        match self.conns.get_mut(id.0 as usize) {
            Some(c) => c,
            None => panic!("unknown connection {id}"),
        }
    }

    /// Checks the connection invariants (see the module doc); panics on the first broken one.
    pub fn check_invariants(&self) {
        for (i, c) in self.conns.iter().enumerate() {
            let live = self.live.contains(&ConnId(i as u64));
            assert_eq!(
                live,
                c.state == ConnState::Live,
                "c{i}: live set and state disagree"
            );
            for (d, p) in c.pipes.iter().enumerate() {
                assert!(
                    live || p.items.is_empty(),
                    "c{i} pipe {d}: a dead connection carries items"
                );
                assert!(
                    !(p.armed && p.stalled),
                    "c{i} pipe {d}: armed and stalled at once"
                );
                let times: Vec<SimTime> = p.items.iter().map(|(t, _)| *t).collect();
                assert!(
                    times.windows(2).all(|w| w[0] <= w[1]),
                    "c{i} pipe {d}: FIFO times decrease"
                );
                assert!(
                    times.last().is_none_or(|&t| t <= p.last_at),
                    "c{i} pipe {d}: item after last_at"
                );
            }
        }
    }

    /// The rule kinds that apply to a message `src -> dst` now.
    pub fn active_rules(
        &self,
        src: NodeId,
        dst: NodeId,
        now: SimTime,
    ) -> Vec<(MessageFaultKind, Ratio)> {
        self.rules
            .iter()
            .filter(|r| r.until > now && r.from.contains(&src) && r.to.contains(&dst))
            .map(|r| (r.kind, r.chance))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_push_never_goes_back_in_time() {
        let mut p: Pipe<u8> = Pipe::default();
        assert_eq!(p.push(SimTime(10), Item::Msg(1)), SimTime(10));
        assert_eq!(p.push(SimTime(5), Item::Msg(2)), SimTime(10));
        assert_eq!(p.push(SimTime(12), Item::Msg(3)), SimTime(12));
    }

    #[test]
    fn partition_matrix_is_directed_and_survives_resizing() {
        let mut n: Network<u8> = Network::default();
        n.resize(2);
        n.set_partition(|s, d| s == NodeId(0) && d == NodeId(1));
        n.resize(3);
        assert!(n.partitioned(NodeId(0), NodeId(1)));
        assert!(!n.partitioned(NodeId(1), NodeId(0)));
        assert!(!n.partitioned(NodeId(2), NodeId(0)));
        n.clog(NodeId(2), NodeId(0), SimTime(50));
        assert!(n.blocked(NodeId(2), NodeId(0), SimTime(49)));
        assert!(!n.blocked(NodeId(2), NodeId(0), SimTime(50)));
    }
}
