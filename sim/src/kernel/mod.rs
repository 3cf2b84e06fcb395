//! The generic deterministic kernel: event queue, virtual time, RNG streams, per-node clocks,
//! network, disks, faults, nemesis and the trace. It knows nothing of ZooKeeper (a tidy test
//! checks that it names nothing from the protocol crate but its time vocabulary).
//!
//! ```text
//!            scenario / runner / cluster glue
//!                 |  FaultKind<Role> timeline, NemesisConfig, RoleResolver ("the leader")
//!                 v
//!   +-------------------------- Simulation (sim.rs) ---------------------------+
//!   |  resolve targets (resolve.rs) -> apply (apply.rs, inject.rs) -> inverses |
//!   |  run_until(cond) -> Outcome { Reached | Quiescent | Stalled | limits }   |
//!   +-----------------------------------+--------------------------------------+
//!                                       | step()
//!   +------------------- World (world.rs) over Core (core.rs) -----------------+
//!   |  EventQueue<(time ns, seq)>  --pop-->  Boot | Pipe | Notify | Timer | Io |
//!   |     |                                                                    |
//!   |     v                      per node: NodeClock  Disk  SimRng  deferred   |
//!   |  dispatch(node, Event) --------------------------------+                 |
//!   |                                                        v                 |
//!   |   Process::on_event(&mut self, &mut Ctx, Event)   (your actor)           |
//!   |        | ctx.now()/wall_now()   local clocks only                        |
//!   |        | ctx.connect/send/close --> Network: Conn { pipes 0->1, 1->0 }    |
//!   |        | ctx.set_timer(local deadline) --> global deadline via the clock |
//!   |        | ctx.append/write/fsync/rename --> Disk, IoId --> IoDone event   |
//!   |        | ctx.note(label, value)       --> Trace (FNV-1a fingerprint)     |
//!   +--------------------------------------------------------------------------+
//! ```
//!
//! # Plugging a protocol in (what the cluster glue does)
//!
//! 1. Implement [`Payload`] for the wire message (size, a stable content digest, a summary) and
//!    [`Process`] for an enum of actors (servers, clients). `on_event` translates each
//!    [`Event`] into the sans-IO node's input and maps each resulting action onto the `Ctx`:
//!    send on a [`ConnId`], open or close a connection, arm a timer at a *local* deadline
//!    (`ctx.set_timer`), issue a disk operation and remember its [`IoId`], and emit nothing
//!    that depends on a write until its `Event::IoDone` arrives.
//! 2. Give each node a [`Factory`] that rebuilds the process from the disk (`ctx.read`,
//!    `ctx.list`) at every boot; crashes and restarts then exercise real recovery code.
//! 3. Implement [`RoleResolver`] so scenarios can target `Role(Leader)`, and
//!    [`Process::work_outstanding`] so a stuck run is reported as a stall.
//! 4. Build a [`World`] from a [`KernelConfig`], `add_node` + `start` each node, wrap it in a
//!    [`Simulation`], schedule the fault timeline and/or the nemesis, and `run_until`.
//!
//! # Example: an echo pair under a clog
//!
//! ```
//! use zabsim_sim::kernel::*;
//!
//! #[derive(Clone, Debug)]
//! struct Msg(u64);
//! impl Payload for Msg {
//!     fn size_bytes(&self) -> u64 { 8 }
//!     fn trace_digest(&self) -> u64 { self.0 }
//! }
//!
//! /// Node 0 sends 1, 2, 3 to node 1, which echoes them back.
//! struct Echo { got: Vec<u64> }
//! impl Process for Echo {
//!     type Msg = Msg;
//!     type Timer = ();
//!     fn on_event(&mut self, ctx: &mut Ctx<'_, Msg, ()>, event: Event<Msg, ()>) {
//!         match event {
//!             Event::Start if ctx.node() == NodeId(0) => { ctx.connect(NodeId(1)); }
//!             Event::Connected { conn, .. } => (1..=3).for_each(|i| ctx.send(conn, Msg(i))),
//!             Event::Message { conn, msg, .. } => {
//!                 self.got.push(msg.0);
//!                 if ctx.node() == NodeId(1) { ctx.send(conn, msg); }
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//!
//! let mut world: World<Echo> = World::new(KernelConfig::with_seed(7));
//! for name in ["a", "b"] {
//!     let id = world.add_node(NodeOptions::named(name), Box::new(|_ctx| Echo { got: vec![] }));
//!     world.start(id);
//! }
//! let mut sim = Simulation::new(world, NoRoles);
//! sim.schedule_faults(vec![ScheduledFault {
//!     at_ms: 0,
//!     fault: FaultKind::Clog { from: Target::All, to: Target::All, duration_ms: 500, symmetric: true },
//!     heal_after_ms: None,
//! }]);
//! assert_eq!(sim.run_until(|_| false), Outcome::Quiescent);
//! assert_eq!(sim.world.process(NodeId(0)).unwrap().got, vec![1, 2, 3]);
//! assert!(sim.world.now() >= SimTime::from_millis(500), "the clog held the handshake");
//! println!("fingerprint {:#018x}", sim.world.trace_hash());
//! ```
//!
//! Every module opens with its contract and fault model. Faults inside ZooKeeper's model are
//! [`FaultKind`]'s variants; faults outside it are confined to [`FaultKind::OutOfModel`].

pub mod apply;
pub mod clock;
pub mod config;
pub mod core;
pub mod ctx;
pub mod disk;
pub mod fault;
pub mod inject;
pub mod latency;
pub mod logging;
pub mod nemesis;
pub mod net;
pub mod process;
pub mod queue;
pub mod resolve;
pub mod rng;
pub mod sim;
pub mod testkit;
pub mod time;
pub mod trace;
mod transport;
pub mod world;

pub use clock::{ClockConfig, ClockKind, ClockSpec, NodeClock};
pub use config::{KernelConfig, Limits};
pub use ctx::{Ctx, DiskOp};
pub use disk::{CrashDisk, Disk, DiskConfig, Region, SECTOR_BYTES};
pub use fault::{
    FaultError, FaultKind, FileSel, NoRole, NoRoles, OutOfModelFault, RegionSel, RoleResolver,
    Target,
};
pub use latency::LatencyDist;
pub use nemesis::{NemesisConfig, NemesisKind, SpanMs, SwarmConfig, Weighted};
pub use net::{MessageFaultKind, NetStats, NetworkConfig};
pub use process::{
    ConnId, ConnectError, DisconnectReason, DiskError, Event, Factory, IoId, NodeId, Payload,
    Process, TimerId,
};
pub use queue::EventQueue;
pub use resolve::{inverse, resolve, resolve_target};
pub use rng::{Ratio, SimRng, Stream};
pub use sim::{FaultLogEntry, Outcome, ScheduledFault, Simulation};
pub use time::{LocalTime, SimTime};
pub use trace::{Record, RecordKind, Trace, TraceMode};
pub use world::{NodeOptions, NodeStatus, Step, World};
