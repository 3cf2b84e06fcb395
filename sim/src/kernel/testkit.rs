//! Toy actors for testing and benchmarking the kernel: a scripted recorder, a ping-pong pair
//! and a counter replicator that writes to disk and fsyncs before it acknowledges.
//!
//! Contract: these actors exist to exercise the kernel, never to model ZooKeeper. They are
//! public so that the kernel's integration tests (`sim/tests/kernel_*.rs`) and the runner's
//! `bench` subcommand can share them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::config::KernelConfig;
use super::ctx::Ctx;
use super::process::{ConnId, Event, Factory, NodeId, Payload, Process};
use super::time::{LocalTime, SimTime, NS_PER_MS};
use super::trace::Fnv1a64;
use super::world::{NodeOptions, World};

/// A message carrying one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Num(pub u64);

impl Payload for Num {
    fn size_bytes(&self) -> u64 {
        8
    }
    fn trace_digest(&self) -> u64 {
        self.0
    }
    fn summary(&self) -> String {
        format!("Num({})", self.0)
    }
}

/// The context type of the toy actors.
pub type ToyCtx<'a> = Ctx<'a, Num, u64>;
/// The event type of the toy actors.
pub type ToyEvent = Event<Num, u64>;

/// One event a [`Scripted`] process saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The node.
    pub node: NodeId,
    /// Its incarnation.
    pub incarnation: u32,
    /// Global time (for tests only).
    pub global: SimTime,
    /// The node's monotonic local time.
    pub local: LocalTime,
    /// The node's wall time.
    pub wall: LocalTime,
    /// The event.
    pub event: ToyEvent,
}

/// A shared log of what scripted processes saw, surviving crashes.
pub type SeenLog = Rc<RefCell<Vec<Seen>>>;

/// A behaviour: called for every event after it is logged.
pub type Behaviour = Rc<dyn Fn(&mut ToyCtx<'_>, &ToyEvent)>;

/// A process that logs every event and then runs a behaviour.
pub struct Scripted {
    log: SeenLog,
    behaviour: Behaviour,
}

impl std::fmt::Debug for Scripted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripted").finish_non_exhaustive()
    }
}

impl Process for Scripted {
    type Msg = Num;
    type Timer = u64;

    fn on_event(&mut self, ctx: &mut ToyCtx<'_>, event: ToyEvent) {
        self.log.borrow_mut().push(Seen {
            node: ctx.node(),
            incarnation: ctx.incarnation(),
            global: ctx.observer_now(),
            local: ctx.now(),
            wall: ctx.wall_now(),
            event: event.clone(),
        });
        (self.behaviour)(ctx, &event);
    }
}

/// A factory for a scripted process sharing `log`.
pub fn scripted(log: &SeenLog, behaviour: Behaviour) -> Factory<Scripted> {
    let log = Rc::clone(log);
    Box::new(move |_ctx| Scripted {
        log: Rc::clone(&log),
        behaviour: Rc::clone(&behaviour),
    })
}

/// A world of `n` started scripted nodes with the same behaviour and one shared log.
pub fn scripted_world(
    config: KernelConfig,
    n: usize,
    behaviour: Behaviour,
) -> (World<Scripted>, SeenLog) {
    let log: SeenLog = Rc::default();
    let mut world = World::new(config);
    for i in 0..n {
        let id = world.add_node(
            NodeOptions::named(format!("n{i}")),
            scripted(&log, Rc::clone(&behaviour)),
        );
        world.start(id);
    }
    (world, log)
}

/// Ping-pong: every node connects to the next one (ring) and they bounce an incrementing
/// number until it reaches `limit`; a broken connection is re-opened after 100 ms.
#[derive(Debug)]
pub struct PingPong {
    limit: u64,
    out: Option<ConnId>,
    /// Messages received.
    pub received: u64,
}

impl PingPong {
    /// A factory for ping-pong nodes.
    pub fn factory(limit: u64) -> Factory<PingPong> {
        Box::new(move |_| PingPong {
            limit,
            out: None,
            received: 0,
        })
    }

    fn open(&mut self, ctx: &mut ToyCtx<'_>) {
        let next = NodeId(((ctx.node().0 as usize + 1) % ctx.node_count()) as u32);
        self.out = Some(ctx.connect(next));
    }
}

impl Process for PingPong {
    type Msg = Num;
    type Timer = u64;

    fn on_event(&mut self, ctx: &mut ToyCtx<'_>, event: ToyEvent) {
        match event {
            Event::Start => self.open(ctx),
            Event::Connected { conn, .. } => ctx.send(conn, Num(0)),
            Event::Message { conn, msg, .. } => {
                self.received += 1;
                if msg.0 < self.limit {
                    ctx.send(conn, Num(msg.0 + 1));
                }
            }
            Event::ConnectFailed { conn, .. } | Event::Disconnected { conn, .. } => {
                if self.out == Some(conn) {
                    self.out = None;
                    ctx.set_timer_after(100 * NS_PER_MS, 0);
                }
            }
            Event::Timer { .. } => {
                if self.out.is_none() {
                    self.open(ctx);
                }
            }
            Event::Accepted { .. } | Event::IoDone { .. } => {}
        }
    }
}

/// A ping-pong world of `n` nodes, started.
pub fn ping_pong_world(config: KernelConfig, n: usize, limit: u64) -> World<PingPong> {
    let mut world = World::new(config);
    for i in 0..n {
        let id = world.add_node(
            NodeOptions::named(format!("p{i}")),
            PingPong::factory(limit),
        );
        world.start(id);
    }
    world
}

/// The log file of a [`Replicator`].
pub const REPLICATOR_LOG: &str = "counter.log";

/// A counter replicator. Node 0 (the primary) increments a counter every `tick_ms`, appends a
/// 16-byte record (value, FNV-1a checksum) to its log, fsyncs, and only then sends the value to
/// every replica it is connected to. A replica appends, fsyncs, and only then acknowledges.
/// At boot each node decodes its log, stopping at the first torn or corrupt record.
#[derive(Debug)]
pub struct Replicator {
    tick_ms: u64,
    /// Last durable value.
    pub durable: u64,
    /// Values acknowledged by a replica, per replica (primary only).
    pub acked: BTreeMap<NodeId, u64>,
    /// Peers' connections (primary: to replicas).
    conns: BTreeMap<ConnId, NodeId>,
    /// Pending fsyncs: io -> value.
    pending: BTreeMap<u64, (u64, Option<ConnId>)>,
    /// Records dropped at boot because they were torn or corrupt.
    pub torn_at_boot: u64,
}

/// Encodes one replicator record.
pub fn encode_record(value: u64) -> [u8; 16] {
    let mut h = Fnv1a64::new();
    h.write_u64(value);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&value.to_le_bytes());
    out[8..].copy_from_slice(&h.finish().to_le_bytes());
    out
}

/// Decodes a replicator log: the valid values, and how many trailing bytes were invalid.
pub fn decode_log(bytes: &[u8]) -> (Vec<u64>, u64) {
    let mut values = Vec::new();
    let mut chunks = bytes.chunks_exact(16);
    for chunk in chunks.by_ref() {
        let (v, c) = chunk.split_at(8);
        let value = u64::from_le_bytes(v.try_into().unwrap_or_default());
        if encode_record(value)[8..] != *c {
            let consumed = values.len() as u64 * 16;
            return (values, bytes.len() as u64 - consumed);
        }
        values.push(value);
    }
    (values, chunks.remainder().len() as u64)
}

impl Replicator {
    /// A factory: the process recovers from its log at every boot.
    pub fn factory(tick_ms: u64) -> Factory<Replicator> {
        Box::new(move |ctx| {
            let bytes = ctx.read(REPLICATOR_LOG).unwrap_or_default();
            let (values, torn) = decode_log(&bytes);
            Replicator {
                tick_ms,
                durable: values.last().copied().unwrap_or(0),
                acked: BTreeMap::new(),
                conns: BTreeMap::new(),
                pending: BTreeMap::new(),
                torn_at_boot: torn,
            }
        })
    }

    fn is_primary(ctx: &ToyCtx<'_>) -> bool {
        ctx.node() == NodeId(0)
    }

    fn persist(&mut self, ctx: &mut ToyCtx<'_>, value: u64, reply: Option<ConnId>) {
        if self.torn_at_boot > 0 {
            // Cut the torn tail before appending, as a real log would.
            let len = ctx.file_len(REPLICATOR_LOG).unwrap_or(0);
            ctx.truncate(REPLICATOR_LOG, len - self.torn_at_boot);
            self.torn_at_boot = 0;
        }
        ctx.append(REPLICATOR_LOG, &encode_record(value));
        let io = ctx.fsync(REPLICATOR_LOG);
        self.pending.insert(io.0, (value, reply));
    }
}

impl Process for Replicator {
    type Msg = Num;
    type Timer = u64;

    fn on_event(&mut self, ctx: &mut ToyCtx<'_>, event: ToyEvent) {
        match event {
            Event::Start => {
                if Self::is_primary(ctx) {
                    for i in 1..ctx.node_count() {
                        let c = ctx.connect(NodeId(i as u32));
                        self.conns.insert(c, NodeId(i as u32));
                    }
                    ctx.set_timer_after(self.tick_ms * NS_PER_MS, 0);
                }
            }
            Event::Timer { tag, .. } => {
                if tag == 0 {
                    self.persist(ctx, self.durable + 1, None);
                    ctx.set_timer_after(self.tick_ms * NS_PER_MS, 0);
                } else if self.conns.len() + 1 < ctx.node_count() {
                    let peer = NodeId(tag as u32);
                    let c = ctx.connect(peer);
                    self.conns.insert(c, peer);
                }
            }
            Event::IoDone { io, result } => {
                let Some((value, reply)) = self.pending.remove(&io.0) else {
                    return;
                };
                if result.is_err() {
                    ctx.note("io-error", value);
                    return;
                }
                self.durable = self.durable.max(value);
                ctx.note("durable", value);
                match reply {
                    Some(conn) => ctx.send(conn, Num(value)),
                    None => {
                        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
                        for c in conns {
                            ctx.send(c, Num(value));
                        }
                    }
                }
            }
            Event::Message { conn, from, msg } => {
                if Self::is_primary(ctx) {
                    let a = self.acked.entry(from).or_default();
                    *a = (*a).max(msg.0);
                } else if msg.0 > self.durable {
                    self.persist(ctx, msg.0, Some(conn));
                }
            }
            Event::ConnectFailed { conn, peer, .. } | Event::Disconnected { conn, peer, .. } => {
                if self.conns.remove(&conn).is_some() {
                    ctx.set_timer_after(200 * NS_PER_MS, u64::from(peer.0));
                }
            }
            Event::Connected { .. } | Event::Accepted { .. } => {}
        }
    }
}

/// A replicator world of `n` nodes, started.
pub fn replicator_world(config: KernelConfig, n: usize, tick_ms: u64) -> World<Replicator> {
    let mut world = World::new(config);
    for i in 0..n {
        let id = world.add_node(
            NodeOptions::named(format!("r{i}")),
            Replicator::factory(tick_ms),
        );
        world.start(id);
    }
    world
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicator_records_round_trip_and_stop_at_a_torn_tail() {
        let mut log = Vec::new();
        for v in 1..=3 {
            log.extend_from_slice(&encode_record(v));
        }
        assert_eq!(decode_log(&log), (vec![1, 2, 3], 0));
        log.extend_from_slice(&encode_record(4)[..7]);
        assert_eq!(decode_log(&log), (vec![1, 2, 3], 7));
        log[20] ^= 1;
        assert_eq!(decode_log(&log), (vec![1], 16 * 2 + 7));
    }
}
