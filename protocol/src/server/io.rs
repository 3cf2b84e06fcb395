//! The sans-IO contract between a ZooKeeper server ([`QuorumPeer`](super::QuorumPeer)) and
//! whatever drives it (the simulator's cluster glue). Every input carries the server's *local*
//! time; every effect is an action. The server never sees a kernel type.
//!
//! Transport split, as in ZooKeeper:
//! - the election channel (port 3888) is `QuorumCnxManager`'s job, done by the driver: the server
//!   says "send this vote to sid N" and hears "sid N sent this vote";
//! - the quorum channel (2888, learner → leader) and client connections (2181) are explicit
//!   connections with driver-assigned [`Conn`] handles.
//!
//! Disk: every write, fsync, rename and delete is its own [`DiskRequest`] with a server-chosen
//! [`IoToken`]; the server must not send anything that depends on it before its
//! [`ServerInput::DiskDone`] arrives.

use super::notification::Notification;
use super::quorum_packet::QuorumPacket;
use crate::observe::Observation;
use crate::session_wire::{ClientMessage, ServerMessage};
use crate::types::{LocalTime, ServerId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A connection handle assigned by the driver (unique per server incarnation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Conn(pub u64);

/// A server-chosen tag for one disk operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IoToken(pub u64);

/// Which listening port a connection came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Port {
    /// `clientPort` (2181): a ZooKeeper client.
    Client,
    /// The quorum port (2888): a learner connecting to this server as leader.
    Quorum,
}

/// The server's named timers; at most one of each is armed (arming again replaces it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ServerTimer {
    /// The `tickTime` heartbeat (leader pings, learner liveness, session expiry buckets).
    Tick,
    /// FLE: no notification arrived in time; resend and back off (`notTimeout`).
    ElectionNotificationTimeout,
    /// FLE: the `finalizeWait` after a quorum agrees.
    ElectionFinalize,
    /// Learner: retry connecting to the leader (`Learner.connectToLeader` back-off).
    LeaderConnectRetry,
    /// Discovery/sync must finish within `initLimit` ticks.
    InitLimit,
}

/// A disk failure reported for one operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskFailure {
    /// ENOSPC.
    NoSpace,
    /// EIO.
    Io,
}

/// One disk operation on the server's data directory (`version-2/` relative names such as
/// `log.100000001`, `snapshot.100000086`, `acceptedEpoch`, `currentEpoch`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskRequest {
    /// Append bytes at the end of a file (created if missing).
    Append {
        /// File name.
        file: String,
        /// Bytes.
        bytes: Vec<u8>,
    },
    /// Write bytes at an offset (created if missing; preallocation, epoch files).
    Write {
        /// File name.
        file: String,
        /// Byte offset.
        offset: u64,
        /// Bytes.
        bytes: Vec<u8>,
    },
    /// Truncate a file to a length (TRUNC sync).
    Truncate {
        /// File name.
        file: String,
        /// New length.
        len: u64,
    },
    /// `fsync` one file (its data and size).
    Fsync {
        /// File name.
        file: String,
    },
    /// `fsync` the directory (makes creations, renames and deletions durable).
    FsyncDir,
    /// Atomic rename (`AtomicFileOutputStream` for the epoch files).
    Rename {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Delete a file (purge).
    Delete {
        /// File name.
        file: String,
    },
}

/// What a server's data directory held at boot: file name → its bytes, or the read failure.
pub type DataDir = BTreeMap<String, Result<Vec<u8>, DiskFailure>>;

/// An input to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerInput {
    /// The process started (after [`QuorumPeer::boot`](super::QuorumPeer::boot)). `entropy` is
    /// the driver's seeded randomness for this incarnation (snapCount jitter and the like).
    Start {
        /// Seeded randomness from the driver.
        entropy: u64,
    },
    /// A named timer fired.
    Timer(ServerTimer),
    /// A vote from another server over the election channel.
    Notification {
        /// The sender.
        from: ServerId,
        /// The vote.
        notification: Notification,
    },
    /// A peer or client connected to one of our ports.
    Accepted {
        /// The new connection.
        conn: Conn,
        /// The port.
        port: Port,
    },
    /// The connection requested by [`ServerAction::ConnectToLeader`] is up.
    LeaderConnected {
        /// The request id given in the action.
        request: u64,
        /// The connection.
        conn: Conn,
    },
    /// The connection requested by [`ServerAction::ConnectToLeader`] failed.
    LeaderConnectFailed {
        /// The request id given in the action.
        request: u64,
    },
    /// A quorum packet arrived on a quorum connection.
    Packet {
        /// The connection.
        conn: Conn,
        /// The packet.
        packet: QuorumPacket,
    },
    /// A client message arrived on a client connection.
    Client {
        /// The connection.
        conn: Conn,
        /// The message.
        message: ClientMessage,
    },
    /// A connection (quorum or client) closed or broke.
    Closed {
        /// The connection.
        conn: Conn,
    },
    /// A disk operation finished.
    DiskDone {
        /// The token given with the request.
        io: IoToken,
        /// Success or the failure.
        result: Result<(), DiskFailure>,
    },
}

/// An effect the server asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerAction {
    /// Send a vote to a server over the election channel (the driver connects as
    /// `QuorumCnxManager` does and keeps only the newest queued vote per peer).
    SendNotification {
        /// The recipient.
        to: ServerId,
        /// The vote.
        notification: Notification,
    },
    /// Open a quorum connection to the leader's port 2888.
    ConnectToLeader {
        /// The leader.
        leader: ServerId,
        /// An id echoed in `LeaderConnected` / `LeaderConnectFailed`.
        request: u64,
    },
    /// Send a quorum packet.
    SendPacket {
        /// The connection.
        conn: Conn,
        /// The packet.
        packet: QuorumPacket,
    },
    /// Send a message to a client.
    Reply {
        /// The client connection.
        conn: Conn,
        /// The message.
        message: ServerMessage,
    },
    /// Close a connection.
    Close {
        /// The connection.
        conn: Conn,
    },
    /// Arm (or re-arm) a named timer at a local deadline.
    SetTimer {
        /// The timer.
        timer: ServerTimer,
        /// The local deadline.
        at: LocalTime,
    },
    /// Disarm a named timer.
    CancelTimer {
        /// The timer.
        timer: ServerTimer,
    },
    /// Issue a disk operation.
    Disk {
        /// The token echoed in `DiskDone`.
        io: IoToken,
        /// The operation.
        op: DiskRequest,
    },
    /// A fact for the judges.
    Observe(Observation),
    /// The server stops (a corrupt log, an impossible epoch): ZooKeeper exits the JVM.
    Halt {
        /// Why.
        reason: String,
    },
}
