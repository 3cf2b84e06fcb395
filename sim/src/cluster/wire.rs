//! What travels on the simulated network between ZooKeeper servers and clients: the election
//! channel (`QuorumCnxManager`: a sid handshake, then votes), the quorum channel
//! (`QuorumPacket`s) and client connections (requests and replies).

use crate::kernel::Payload;
use zabsim_protocol::server::{Notification, QuorumPacket};
use zabsim_protocol::session_wire::{ClientMessage, ServerMessage};
use zabsim_protocol::types::ServerId;

/// The election port (`3888`).
pub const ELECTION_PORT: u16 = 3888;
/// The quorum port (`2888`).
pub const QUORUM_PORT: u16 = 2888;
/// The client port (`2181`).
pub const CLIENT_PORT: u16 = 2181;

/// One message on a simulated connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wire {
    /// `QuorumCnxManager`'s initial message: the connecting server's sid.
    ElectionHello {
        /// The sid of the server that opened the connection.
        sid: ServerId,
    },
    /// A vote on the election channel.
    Vote(Notification),
    /// A packet on the quorum channel.
    Quorum(QuorumPacket),
    /// Client → server.
    ToServer(ClientMessage),
    /// Server → client.
    ToClient(ServerMessage),
}

impl Wire {
    /// A short type name for metrics (`"PROPOSAL"`, `"vote"`, `"request"` …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Wire::ElectionHello { .. } => "election-hello",
            Wire::Vote(_) => "vote",
            Wire::Quorum(p) => p.type_name(),
            Wire::ToServer(ClientMessage::Connect(_)) => "connect-request",
            Wire::ToServer(ClientMessage::Request { .. }) => "request",
            Wire::ToServer(ClientMessage::Ping) => "client-ping",
            Wire::ToServer(ClientMessage::SetWatches(_)) => "set-watches",
            Wire::ToServer(ClientMessage::CloseSession { .. }) => "close-session",
            Wire::ToClient(ServerMessage::Connected(_)) => "connect-response",
            Wire::ToClient(ServerMessage::Reply { .. }) => "reply",
            Wire::ToClient(ServerMessage::Pong { .. }) => "client-pong",
            Wire::ToClient(ServerMessage::Notification { .. }) => "notification",
        }
    }
}

/// 64-bit FNV-1a over a byte string (stable across Rust versions).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Payload for Wire {
    fn size_bytes(&self) -> u64 {
        // A faithful-enough estimate of the jute encoding: the Debug rendering's length tracks
        // the number and size of fields; votes have ZooKeeper's exact frame size.
        match self {
            Wire::ElectionHello { .. } => 8 + 4 + 4,
            Wire::Vote(_) => Notification::WIRE_BYTES,
            other => 16 + format!("{other:?}").len() as u64 / 2,
        }
    }

    fn trace_digest(&self) -> u64 {
        // Debug output of these plain data types is a deterministic function of their content.
        fnv1a(format!("{self:?}").as_bytes())
    }

    fn summary(&self) -> String {
        match self {
            Wire::ElectionHello { sid } => format!("hello sid={}", sid.0),
            Wire::Vote(n) => format!(
                "vote leader={} zxid={:#x} epoch={} state={:?}",
                n.leader.0, n.zxid.0, n.election_epoch, n.state
            ),
            other => {
                let mut s = format!("{other:?}");
                s.truncate(160);
                s
            }
        }
    }
}
