//! The world: nodes, their processes, clocks and disks, the network, the event queue, the
//! random streams and the trace; [`World::step`] processes one event.
//!
//! Contract: single-threaded and deterministic. Every state change happens inside `step` (or
//! in a fault primitive the driver calls between steps), is caused by exactly one popped event,
//! and is appended to the trace. Events addressed to an earlier incarnation of a process (a
//! timer armed before a crash, a disk completion issued before a kill) are discarded; events
//! for a paused process wait, in order, until it resumes.

use std::collections::{BTreeMap, VecDeque};

use super::clock::{ClockError, ClockSpec, NodeClock};
use super::config::KernelConfig;
use super::ctx::Ctx;
use super::disk::Disk;
use super::logging;
use super::net::{NetStats, Network};
use super::process::{Event, Factory, NodeId, Process};
use super::queue::EventQueue;
use super::rng::{SimRng, Stream};
use super::time::{LocalTime, SimTime};
use super::trace::{RecordKind, Trace};

pub use super::core::Core;
pub(crate) use super::core::{Ev, NodeState, Notice};

/// Whether a node's process exists and runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeStatus {
    /// No process (never started, killed or crashed).
    Down,
    /// The process handles events.
    Running,
    /// The process exists but is stalled; its events wait.
    Paused,
}

/// How a node is added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeOptions {
    /// A name for traces and logs (`"s1"`, `"client3"`).
    pub name: String,
    /// Whether random fault targets (`Random`, `All`, minorities) may pick this node.
    pub faultable: bool,
    /// The node's clocks; `None` draws them from the clocks stream per [`KernelConfig::clocks`].
    pub clock: Option<ClockSpec>,
}

impl NodeOptions {
    /// A faultable node with drawn clocks.
    pub fn named(name: impl Into<String>) -> NodeOptions {
        NodeOptions {
            name: name.into(),
            faultable: true,
            clock: None,
        }
    }
}

/// What one call of [`World::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing was scheduled.
    Idle,
    /// One kernel event was processed.
    Event,
    /// A control event the driver scheduled with [`World::schedule_control`] is due.
    Control(u64),
}

/// The simulated world. `P` is the process type (an enum if several kinds of actor run).
pub struct World<P: Process> {
    pub(crate) core: Core<P::Msg, P::Timer>,
    procs: Vec<Option<P>>,
    factories: Vec<Factory<P>>,
}

impl<P: Process> std::fmt::Debug for World<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("core", &self.core).finish()
    }
}

impl<P: Process> World<P> {
    /// An empty world.
    pub fn new(config: KernelConfig) -> World<P> {
        let seed = config.seed;
        let trace = Trace::new(config.trace);
        World {
            core: Core {
                config,
                queue: EventQueue::new(),
                nodes: Vec::new(),
                net: Network::default(),
                timers: BTreeMap::new(),
                ios: BTreeMap::new(),
                trace,
                rng_net: SimRng::new(seed, Stream::Network),
                rng_disk: SimRng::new(seed, Stream::Disk),
                rng_clocks: SimRng::new(seed, Stream::Clocks),
                rng_faults: SimRng::new(seed, Stream::Faults),
                next_timer: 0,
                next_io: 0,
                events: 0,
                exit_requested: None,
                dying: None,
                scheduled_clogs: Vec::new(),
            },
            procs: Vec::new(),
            factories: Vec::new(),
        }
    }

    /// Adds a node (down); [`World::start`] boots it. Panics if `options.clock` is invalid:
    /// use [`World::try_add_node`] for clock specs that come from input.
    pub fn add_node(&mut self, options: NodeOptions, factory: Factory<P>) -> NodeId {
        match self.try_add_node(options, factory) {
            Ok(id) => id,
            Err(e) => panic!("invalid clock: {e}"),
        }
    }

    /// Adds a node (down), or explains why its clock spec is invalid.
    pub fn try_add_node(
        &mut self,
        options: NodeOptions,
        factory: Factory<P>,
    ) -> Result<NodeId, ClockError> {
        let id = NodeId(self.core.nodes.len() as u32);
        let cfg = self.core.config.clocks;
        let spec = options.clock.unwrap_or_else(|| {
            let r = &mut self.core.rng_clocks;
            let d = i64::from(cfg.max_drift_ppm);
            let o = cfg.max_wall_offset_ms.min(i64::MAX as u64) as i64;
            ClockSpec {
                drift_ppm: r.range_i64(-d, d) as i32,
                wall_offset_ms: r.range_i64(-o, o),
                uptime_ms: 0,
            }
        });
        let clock = NodeClock::new(spec, cfg.wall_epoch_ms)?;
        self.core.nodes.push(NodeState {
            name: options.name,
            faultable: options.faultable,
            status: NodeStatus::Down,
            incarnation: 0,
            clock,
            disk: Disk::new(self.core.config.disk.capacity_bytes),
            rng: SimRng::new(self.core.config.seed, Stream::Node(id)),
            deferred: VecDeque::new(),
            io_last_done: SimTime::ZERO,
            initial_drift_ppm: spec.drift_ppm,
            disk_ops_issued: 0,
            crash_after_ops: None,
        });
        self.core.net.resize(self.core.nodes.len());
        self.procs.push(None);
        self.factories.push(factory);
        Ok(id)
    }

    /// Boots a down node's process now (its factory runs when the event is processed).
    pub fn start(&mut self, node: NodeId) {
        let n = self.core.node_mut(node);
        assert_eq!(
            n.status,
            NodeStatus::Down,
            "start of a node that is up: {node}"
        );
        n.incarnation += 1;
        let incarnation = n.incarnation;
        let now = self.core.now();
        self.core.queue.push(now, Ev::Boot { node, incarnation });
    }

    /// Schedules a control event: `step` returns [`Step::Control`] with `token` at `at`.
    pub fn schedule_control(&mut self, at: SimTime, token: u64) {
        let at = at.max(self.core.now());
        self.core.queue.push(at, Ev::Control { token });
    }

    /// Processes the next event.
    pub fn step(&mut self) -> Step {
        let Some((at, ev)) = self.core.queue.pop() else {
            return Step::Idle;
        };
        self.core.events += 1;
        logging::set_now(at, None);
        let target = match ev {
            Ev::Boot { node, incarnation } => {
                self.boot(node, incarnation);
                None
            }
            Ev::Control { token } => {
                self.core
                    .record(None, RecordKind::Control, token, 0, String::new);
                return Step::Control(token);
            }
            Ev::Pipe { conn, dir } => self.core.on_pipe(conn, dir),
            Ev::Notify {
                node,
                incarnation,
                conn,
                notice,
            } => self.core.on_notify(node, incarnation, conn, notice),
            Ev::Doom { conn, version } => {
                self.core.on_doom(conn, version);
                None
            }
            Ev::Timer { id, version } => self.core.on_timer(id, version),
            Ev::Io { io } => self.core.on_io(io),
            Ev::Redeliver { node, incarnation } => {
                let event = self.core.on_redeliver(node, incarnation);
                if self.core.node(node).deferred.is_empty() {
                    self.core.wake_all_pipes(); // the messages held behind deferred events
                }
                event
            }
            Ev::Unclog => {
                self.core.wake_all_pipes();
                None
            }
            Ev::ClogStart { idx } => {
                self.on_clog_start(idx);
                None
            }
        };
        if let Some((node, event)) = target {
            self.dispatch(node, event);
        }
        Step::Event
    }

    fn boot(&mut self, node: NodeId, incarnation: u32) {
        let n = self.core.node(node);
        if n.incarnation != incarnation || n.status != NodeStatus::Down {
            return;
        }
        self.core.node_mut(node).status = NodeStatus::Running;
        self.core.node_mut(node).deferred.clear();
        let name = self.core.node(node).name.clone();
        self.core.record(
            Some(node),
            RecordKind::Start,
            u64::from(incarnation),
            0,
            || name,
        );
        logging::set_now(self.core.now(), Some(node));
        let factory = &mut self.factories[node.index()];
        let process = factory(&mut Ctx::new(&mut self.core, node));
        self.procs[node.index()] = Some(process);
        self.dispatch(node, Event::Start);
    }

    fn dispatch(&mut self, node: NodeId, event: Event<P::Msg, P::Timer>) {
        logging::set_now(self.core.now(), Some(node));
        tracing::trace!(event = event.name(), "dispatch");
        if let Some(p) = self.procs.get_mut(node.index()).and_then(Option::as_mut) {
            p.on_event(&mut Ctx::new(&mut self.core, node), event);
        }
        if let Some((dead, disk)) = self.core.dying.take() {
            self.crash(dead, disk);
        }
        if let Some(exited) = self.core.exit_requested.take() {
            self.kill(exited);
        }
    }

    /// The current global virtual time.
    pub fn now(&self) -> SimTime {
        self.core.now()
    }

    /// Lets virtual time pass up to `at` with nothing happening (no event may be due before).
    pub fn advance_to(&mut self, at: SimTime) {
        self.core.queue.advance_to(at);
        logging::set_now(at, None);
    }

    /// True if a partition blocks messages `src -> dst` now (clogs not included).
    pub fn is_partitioned(&self, src: NodeId, dst: NodeId) -> bool {
        self.core.net.partitioned(src, dst)
    }

    /// True if `src -> dst` holds its messages now (partition or clog).
    pub fn is_blocked(&self, src: NodeId, dst: NodeId) -> bool {
        self.core.net.blocked(src, dst, self.now())
    }

    /// Live connections (not yet broken or fully closed).
    pub fn live_connections(&self) -> usize {
        self.core.net.live.len()
    }

    /// Checks the kernel's structural invariants and panics with context on the first broken
    /// one. Cheap enough to call at the end of a run or every few thousand steps in tests.
    pub fn check_invariants(&self) {
        self.core.net.check_invariants();
        for (i, n) in self.core.nodes.iter().enumerate() {
            let has_process = self.procs.get(i).is_some_and(Option::is_some);
            assert_eq!(
                has_process,
                n.status != NodeStatus::Down,
                "node n{i}: status {:?} but process present = {has_process}",
                n.status
            );
            assert!(
                n.status != NodeStatus::Down || n.deferred.is_empty(),
                "node n{i}: down with deferred events"
            );
        }
        for (id, t) in &self.core.timers {
            let n = self.core.node(t.node);
            assert!(
                t.incarnation <= n.incarnation,
                "timer {id:?} from a future incarnation"
            );
        }
        for (id, io) in &self.core.ios {
            assert!(
                io.incarnation <= self.core.node(io.node).incarnation,
                "io {id} from a future incarnation"
            );
        }
    }

    /// Disk operations a node has issued since the run started (all incarnations): the crash
    /// points [`World::crash_after_disk_ops`] can enumerate.
    pub fn disk_ops_issued(&self, node: NodeId) -> u64 {
        self.core.node(node).disk_ops_issued
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.core.events
    }

    /// Events scheduled and not yet processed.
    pub fn events_pending(&self) -> usize {
        self.core.queue.len()
    }

    /// The time of the next scheduled event.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.core.queue.peek_time()
    }

    /// The configuration.
    pub fn config(&self) -> &KernelConfig {
        &self.core.config
    }

    /// Every node id, in order.
    pub fn nodes(&self) -> Vec<NodeId> {
        (0..self.core.nodes.len() as u32).map(NodeId).collect()
    }

    /// The nodes random fault targets may pick.
    pub fn faultable_nodes(&self) -> Vec<NodeId> {
        self.nodes()
            .into_iter()
            .filter(|&n| self.core.node(n).faultable)
            .collect()
    }

    /// A node's name.
    pub fn node_name(&self, node: NodeId) -> &str {
        &self.core.node(node).name
    }

    /// A node's status.
    pub fn status(&self, node: NodeId) -> NodeStatus {
        self.core.node(node).status
    }

    /// A node's process incarnation: the number of boots so far (1 after the first start).
    /// Events addressed to an earlier incarnation are discarded.
    pub fn incarnation(&self, node: NodeId) -> u32 {
        self.core.node(node).incarnation
    }

    /// A node's process, if it is up (running or paused).
    pub fn process(&self, node: NodeId) -> Option<&P> {
        self.procs.get(node.index()).and_then(Option::as_ref)
    }

    /// A node's process, mutably (for scripted tests and the cluster glue's inspection).
    pub fn process_mut(&mut self, node: NodeId) -> Option<&mut P> {
        self.procs.get_mut(node.index()).and_then(Option::as_mut)
    }

    /// A node's disk (read-only; faults go through the fault primitives).
    pub fn disk(&self, node: NodeId) -> &Disk {
        &self.core.node(node).disk
    }

    /// Puts a durable file on a node's disk before the node starts (a data directory it boots
    /// from; see [`Disk::preload`]).
    pub fn preload_file(&mut self, node: NodeId, name: &str, data: &[u8]) {
        self.core.node_mut(node).disk.preload(name, data);
    }

    /// A node's clock.
    pub fn clock(&self, node: NodeId) -> &NodeClock {
        &self.core.node(node).clock
    }

    /// A node's monotonic local time now.
    pub fn local_now(&self, node: NodeId) -> LocalTime {
        self.core.node(node).clock.monotonic(self.now())
    }

    /// The trace.
    pub fn trace(&self) -> &Trace {
        &self.core.trace
    }

    /// The run's fingerprint so far.
    pub fn trace_hash(&self) -> u64 {
        self.core.trace.hash()
    }

    /// Network counters.
    pub fn net_stats(&self) -> NetStats {
        self.core.net.stats
    }

    /// The faults stream (target resolution, nemesis, swarm).
    pub fn faults_rng(&mut self) -> &mut SimRng {
        &mut self.core.rng_faults
    }

    /// The nodes whose process reports outstanding work (to explain a stall).
    pub fn nodes_with_outstanding_work(&self) -> Vec<NodeId> {
        self.nodes()
            .into_iter()
            .filter(|&n| self.process(n).is_some_and(Process::work_outstanding))
            .collect()
    }

    /// True if any live process reports outstanding work.
    pub fn work_outstanding(&self) -> bool {
        self.procs.iter().flatten().any(Process::work_outstanding)
    }

    /// Records a driver-level note in the trace (a fault applied, a phase change).
    pub fn note(&mut self, node: Option<NodeId>, label: &str, value: u64) {
        let digest = super::trace::fnv1a64(label.as_bytes());
        let label = label.to_string();
        self.core
            .record(node, RecordKind::Note, digest, value, move || label);
    }

    pub(crate) fn take_process(&mut self, node: NodeId) -> Option<P> {
        self.procs.get_mut(node.index()).and_then(Option::take)
    }
}
