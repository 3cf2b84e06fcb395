//! `QuorumPacket{type; zxid; data; authinfo}` on the quorum channel (port 2888), with
//! ZooKeeper's packet type numbers from `Leader.java`.

use crate::session_wire::ClientMessage;
use crate::snapshot_image::SnapshotImage;
use crate::txn::TxnEntry;
use crate::types::{Epoch, ServerId, SessionId, Zxid};
use serde::{Deserialize, Serialize};

/// One packet between a leader and a learner. Each variant names the ZooKeeper constant and
/// number; `zxid` is the packet's zxid field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuorumPacket {
    /// `REQUEST` (1): a follower forwards a client write (the `Request` it got) to the leader.
    Request {
        /// The session that sent it.
        session: SessionId,
        /// The client's message (a request, or closeSession).
        message: ClientMessage,
        /// The learner-local connection that must receive the reply (opaque to the leader).
        cnxn: u64,
    },
    /// `PROPOSAL` (2): a txn to log.
    Proposal {
        /// The txn (header carries the zxid).
        txn: TxnEntry,
    },
    /// `ACK` (3): the txn with this zxid is durable at the sender (also NEWLEADER's ACK).
    Ack {
        /// The acknowledged zxid.
        zxid: Zxid,
    },
    /// `COMMIT` (4): apply every proposal up to this zxid.
    Commit {
        /// The committed zxid.
        zxid: Zxid,
    },
    /// `PING` (5): leader → learner heartbeat; learner → leader reply carries its sessions'
    /// touches.
    Ping {
        /// The leader's last zxid (from the leader), ignored in replies.
        zxid: Zxid,
        /// Learner → leader: the sessions touched since the last ping, with their timeouts.
        touches: Vec<(SessionId, i32)>,
    },
    /// `REVALIDATE` (6): a learner asks whether a reconnecting session is still valid.
    Revalidate {
        /// The session.
        session: SessionId,
        /// Its timeout.
        timeout_ms: i32,
        /// In the leader's reply: whether it is valid.
        valid: bool,
    },
    /// `SYNC` (7): the leader answers a forwarded `sync` once everything before it committed.
    Sync {
        /// The session that asked.
        session: SessionId,
        /// The learner-local connection that must receive the reply.
        cnxn: u64,
        /// The client's xid.
        xid: i32,
        /// The path of the sync.
        path: String,
    },
    /// `INFORM` (8): an observer gets a committed txn.
    Inform {
        /// The txn.
        txn: TxnEntry,
    },
    /// `NEWLEADER` (10): the end of the sync data; the learner must make it durable and ACK.
    NewLeader {
        /// `newEpoch << 32`.
        zxid: Zxid,
    },
    /// `FOLLOWERINFO` (11) / `OBSERVERINFO` (16): the learner's sid, protocol version and
    /// `acceptedEpoch` (in the zxid field as `acceptedEpoch << 32`).
    LearnerInfo {
        /// The learner's sid.
        sid: ServerId,
        /// Whether it is an observer (OBSERVERINFO).
        observer: bool,
        /// `acceptedEpoch << 32`.
        zxid: Zxid,
        /// Protocol version (0x10000).
        protocol_version: i32,
    },
    /// `UPTODATE` (12): the learner may serve clients.
    UpToDate,
    /// `DIFF` (13): the txns after `zxid` follow as PROPOSAL+COMMIT pairs.
    Diff {
        /// The leader's last zxid of the sync window.
        zxid: Zxid,
    },
    /// `TRUNC` (14): truncate the log to `zxid`, then txns follow.
    Trunc {
        /// The zxid to truncate to.
        zxid: Zxid,
    },
    /// `SNAP` (15): the leader's whole database follows.
    Snap {
        /// The zxid of the snapshot.
        zxid: Zxid,
        /// The serialized database (sessions, ACLs, nodes).
        image: Box<SnapshotImage>,
    },
    /// `LEADERINFO` (17): the new epoch, as `newEpoch << 32`.
    LeaderInfo {
        /// `newEpoch << 32`.
        zxid: Zxid,
        /// Protocol version (0x10000).
        protocol_version: i32,
    },
    /// `ACKEPOCH` (18): the learner's `currentEpoch` and last logged zxid.
    AckEpoch {
        /// The learner's last logged zxid.
        zxid: Zxid,
        /// The learner's `currentEpoch` (-1 when it had just accepted the new epoch already).
        current_epoch: Epoch,
    },
}

impl QuorumPacket {
    /// ZooKeeper's packet type number.
    pub fn type_number(&self) -> i32 {
        match self {
            QuorumPacket::Request { .. } => 1,
            QuorumPacket::Proposal { .. } => 2,
            QuorumPacket::Ack { .. } => 3,
            QuorumPacket::Commit { .. } => 4,
            QuorumPacket::Ping { .. } => 5,
            QuorumPacket::Revalidate { .. } => 6,
            QuorumPacket::Sync { .. } => 7,
            QuorumPacket::Inform { .. } => 8,
            QuorumPacket::NewLeader { .. } => 10,
            QuorumPacket::LearnerInfo {
                observer: false, ..
            } => 11,
            QuorumPacket::UpToDate => 12,
            QuorumPacket::Diff { .. } => 13,
            QuorumPacket::Trunc { .. } => 14,
            QuorumPacket::Snap { .. } => 15,
            QuorumPacket::LearnerInfo { observer: true, .. } => 16,
            QuorumPacket::LeaderInfo { .. } => 17,
            QuorumPacket::AckEpoch { .. } => 18,
        }
    }

    /// ZooKeeper's name for the packet type (`Leader.getPacketType`).
    pub fn type_name(&self) -> &'static str {
        match self.type_number() {
            1 => "REQUEST",
            2 => "PROPOSAL",
            3 => "ACK",
            4 => "COMMIT",
            5 => "PING",
            6 => "REVALIDATE",
            7 => "SYNC",
            8 => "INFORM",
            10 => "NEWLEADER",
            11 => "FOLLOWERINFO",
            12 => "UPTODATE",
            13 => "DIFF",
            14 => "TRUNC",
            15 => "SNAP",
            16 => "OBSERVERINFO",
            17 => "LEADERINFO",
            _ => "ACKEPOCH",
        }
    }
}
