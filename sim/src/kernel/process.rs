//! The process contract: how an actor (a ZooKeeper server, a client, a toy test actor) plugs
//! into the kernel.
//!
//! Contract: a process is a deterministic state machine. It is built by its node's factory at
//! boot (reading its durable disk through the [`Ctx`]), then receives
//! [`Event`]s one at a time through [`Process::on_event`], and acts only through the `Ctx`: it
//! reads its *local* clock, sends on connections, arms timers at local deadlines and issues disk
//! operations whose completions come back later as events. It never sees global time, another
//! node's memory, or any randomness but its node's own stream.
//!
//! Fault model of a process: it can be **killed** (memory lost; the machine and its page cache
//! survive), **crashed** (machine power loss: memory and unsynced disk writes lost), **paused**
//! (a long GC or VM stall: nothing is lost, every event for it waits until it resumes), and
//! **restarted** (the factory rebuilds it from what its disk holds). All are inside ZooKeeper's
//! crash-recovery model.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::ctx::Ctx;

/// A node (a simulated machine running one process), numbered densely from zero.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index of this node in dense per-node tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A connection between two nodes (one TCP connection), unique for the whole run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// A timer armed by a process, unique for the whole run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TimerId(pub u64);

/// A disk operation issued by a process, unique for the whole run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct IoId(pub u64);

impl fmt::Display for IoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "io{}", self.0)
    }
}

/// What the kernel needs to know about a message: its size, and a stable digest for the trace.
pub trait Payload: Clone + fmt::Debug {
    /// Bytes on the wire, for metrics.
    fn size_bytes(&self) -> u64;

    /// A stable 64-bit digest of the content, folded into the run's fingerprint. It must not
    /// depend on addresses, hash-map order or the Rust version. The default (the size) is
    /// stable but weak; implement it over the content to catch divergences earlier.
    fn trace_digest(&self) -> u64 {
        self.size_bytes()
    }

    /// A short human-readable summary for full traces and logs (`"PROPOSAL 0x100000003"`).
    fn summary(&self) -> String {
        format!("{self:?}")
    }
}

/// Why a connection ended, as the surviving end learns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DisconnectReason {
    /// The peer closed it (FIN), after every message it sent before closing was delivered.
    ClosedByPeer,
    /// The peer's process died and its operating system reset the connection (RST).
    PeerReset,
    /// The connection broke (a partition outlasted the detection delay, the peer's machine
    /// crashed, or a fault broke it); messages in flight were lost.
    Broken,
}

/// Why a connection attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConnectError {
    /// Nothing listens: the peer's process is down (RST).
    Refused,
    /// No answer within the connect timeout (partition, or the peer's machine is down).
    TimedOut,
}

/// A disk error, returned synchronously by reads or in an [`Event::IoDone`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DiskError {
    /// No file of that name.
    NotFound(String),
    /// The disk is full (ENOSPC); nothing of the write was applied.
    NoSpace,
    /// A latent sector error: the bytes at this offset cannot be read (EIO).
    ReadError {
        /// The file.
        file: String,
        /// The first unreadable byte of the request.
        offset: u64,
    },
    /// An injected I/O error on this operation (EIO).
    Io,
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskError::NotFound(name) => write!(f, "{name}: no such file"),
            DiskError::NoSpace => write!(f, "no space left on device"),
            DiskError::ReadError { file, offset } => {
                write!(f, "{file}: read error at offset {offset}")
            }
            DiskError::Io => write!(f, "input/output error"),
        }
    }
}

impl std::error::Error for DiskError {}

/// An input to a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<M, T> {
    /// The process was just built by its factory (first boot or restart).
    Start,
    /// A connection this process opened with [`Ctx::connect`](super::ctx::Ctx::connect) is up.
    Connected {
        /// The connection.
        conn: ConnId,
        /// The node at the other end.
        peer: NodeId,
    },
    /// A connection attempt failed; the `ConnId` is dead.
    ConnectFailed {
        /// The connection.
        conn: ConnId,
        /// The node that was asked.
        peer: NodeId,
        /// Why.
        error: ConnectError,
    },
    /// A peer opened a connection to this process.
    Accepted {
        /// The connection.
        conn: ConnId,
        /// The node at the other end.
        peer: NodeId,
        /// The port the peer connected to (a label: ZooKeeper's client, quorum and election
        /// ports); `0` for [`Ctx::connect`](super::ctx::Ctx::connect).
        port: u16,
    },
    /// A message arrived, in FIFO order on its connection.
    Message {
        /// The connection it came on.
        conn: ConnId,
        /// The sender.
        from: NodeId,
        /// The payload.
        msg: M,
    },
    /// An established connection ended.
    Disconnected {
        /// The connection.
        conn: ConnId,
        /// The node at the other end.
        peer: NodeId,
        /// Why.
        reason: DisconnectReason,
    },
    /// A timer reached its local deadline.
    Timer {
        /// The timer.
        id: TimerId,
        /// The value given when it was armed.
        tag: T,
    },
    /// A disk operation finished.
    IoDone {
        /// The operation.
        io: IoId,
        /// Success, or the error.
        result: Result<(), DiskError>,
    },
}

impl<M, T> Event<M, T> {
    /// A short name for traces and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Connected { .. } => "connected",
            Event::ConnectFailed { .. } => "connect-failed",
            Event::Accepted { .. } => "accepted",
            Event::Message { .. } => "message",
            Event::Disconnected { .. } => "disconnected",
            Event::Timer { .. } => "timer",
            Event::IoDone { .. } => "io-done",
        }
    }
}

/// A simulated actor. One type per world: a world of servers and clients uses an enum.
pub trait Process: Sized {
    /// The message type carried on connections.
    type Msg: Payload;
    /// The value a timer carries back when it fires.
    type Timer: Clone + fmt::Debug;

    /// Handles one event. Effects go through `ctx`.
    fn on_event(
        &mut self,
        ctx: &mut Ctx<'_, Self::Msg, Self::Timer>,
        event: Event<Self::Msg, Self::Timer>,
    );

    /// True while the process has work it is waiting to finish (a pending client operation, an
    /// unacknowledged proposal). If no event is pending while any live process says so, the run
    /// has stalled. The default is `false`.
    fn work_outstanding(&self) -> bool {
        false
    }
}

/// Builds a node's process at boot, from what its disk holds. Called at first start and at every
/// restart; it may read the disk and use the clock through `ctx`, and must not keep anything
/// from an earlier incarnation but what it reads from the disk.
pub type Factory<P> = Box<dyn FnMut(&mut Ctx<'_, <P as Process>::Msg, <P as Process>::Timer>) -> P>;
