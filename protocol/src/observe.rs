//! Observations: the facts a ZooKeeper server reports, as they happen, for the judges.
//!
//! A server emits an [`Observation`] next to the actions it takes (the driver stamps each with
//! the global virtual time and hands the stream to `zabsim-checkers`). Observations are
//! *testimony*, never a channel of control: nothing in the protocol reads them back, and the
//! judges never look inside a server's memory, only at this stream and the client history.
//!
//! The contract for emitters:
//!
//! * Emit a fact **when it becomes true**, in the order it became true on that server: a
//!   `ProposalLogged` only after the fsync that makes it durable, a `CurrentEpochPersisted` only
//!   after the rename of `currentEpoch`, a `TxnApplied` right after the DataTree changed.
//! * Names are ZooKeeper's and the Zab paper's: `acceptedEpoch` (the paper's `f.p`),
//!   `currentEpoch` (`f.a`), `lastProcessedZxid`, `NEWLEADER`, `DIFF`/`TRUNC`/`SNAP`.
//! * Digests are the DataTree digest (ZooKeeper's `DataTree.getTreeDigest()`, ZOOKEEPER-3512)
//!   after the step; `None` when the server does not compute digests (the judges then say they
//!   could not decide the digest-based checks rather than passing them).
//! * `Crashed` is the one fact a server cannot report about itself: the driver emits it when it
//!   kills a process. Everything volatile on that server is gone; what survives is on its disk
//!   and shows up again in `RecoveryFinished`.

use crate::op_code::OpCode;
use crate::request::EventType;
use crate::txn::{TxnEntry, TxnHeader};
use crate::types::{Epoch, ServerId, SessionId, Zxid};
use serde::{Deserialize, Serialize};

/// `QuorumPeer.ServerState`: the peer state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ServerState {
    /// Running fast leader election.
    Looking,
    /// Following a leader.
    Following,
    /// Leading.
    Leading,
    /// Observing (a non-voting learner).
    Observing,
}

/// `QuorumPeer.ZabState`: the Zab phase (the TLA+ system spec uses the same four names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ZabState {
    /// Phase 0: leader election.
    Election,
    /// Phase 1: discovery (FOLLOWERINFO / LEADERINFO / ACKEPOCH).
    Discovery,
    /// Phase 2: synchronization (DIFF/TRUNC/SNAP, NEWLEADER, UPTODATE).
    Synchronization,
    /// Phase 3: broadcast (PROPOSAL / ACK / COMMIT).
    Broadcast,
}

/// `LearnerHandler`'s choice of how to bring a learner up to date (`QuorumPeer.SyncMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SyncMode {
    /// Send the missing txns from the committed log / txn log.
    Diff,
    /// Tell the learner to truncate its log back to a zxid (then possibly a DIFF).
    Trunc,
    /// Send a full snapshot of the leader's DataTree.
    Snap,
}

/// Why a txn reached a server's DataTree. The Zab properties speak of *delivery*: a
/// [`ApplyReason::Commit`] is one at once; [`ApplyReason::Sync`] txns become delivered when the
/// learner processes UPTODATE (its `ZabStateChanged` to BROADCAST), since the would-be leader's
/// history is committed only once a quorum acks NEWLEADER. The other two replay what was logged
/// and may include proposals that were never committed (real ZooKeeper does this and relies on
/// the next synchronization to TRUNC or SNAP them away).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ApplyReason {
    /// A COMMIT in broadcast (or the leader's own commit): `FinalRequestProcessor`.
    Commit,
    /// A txn the leader sent as committed during synchronization (DIFF proposals followed by
    /// COMMIT, or `packetsCommitted` applied at NEWLEADER/UPTODATE).
    Sync,
    /// `ZKDatabase.fastForwardDataBase()` on leaving FOLLOWING/LEADING (ZOOKEEPER-2845 fix):
    /// logged txns newer than `lastProcessedZxid`, committed or not.
    FastForward,
    /// Log replay during a process restart (`FileTxnSnapLog.restore`), committed or not.
    Recovery,
}

/// One fact a server reports. Every variant names the reporting server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observation {
    /// `QuorumPeer.setPeerState`: the peer state changed.
    ServerStateChanged {
        /// The server.
        server: ServerId,
        /// The new state.
        state: ServerState,
        /// The server's `currentEpoch` at the change.
        current_epoch: Epoch,
    },
    /// `QuorumPeer.setZabState`: the Zab phase changed.
    ZabStateChanged {
        /// The server.
        server: ServerId,
        /// The new phase.
        zab_state: ZabState,
        /// The server's `acceptedEpoch` at the change (the epoch it is working towards).
        accepted_epoch: Epoch,
    },
    /// The `acceptedEpoch` file now durably holds `epoch` (the paper's `f.p`).
    AcceptedEpochPersisted {
        /// The server.
        server: ServerId,
        /// The epoch written.
        epoch: Epoch,
    },
    /// The `currentEpoch` file now durably holds `epoch` (the paper's `f.a`).
    CurrentEpochPersisted {
        /// The server.
        server: ServerId,
        /// The epoch written.
        epoch: Epoch,
    },
    /// `Leader.waitForNewLeaderAck` returned: a quorum acknowledged NEWLEADER, so this server is
    /// the established leader (the paper's "primary") of `epoch`.
    LeaderEstablished {
        /// The leader.
        leader: ServerId,
        /// The epoch it leads.
        epoch: Epoch,
        /// The servers whose NEWLEADER ACKs formed the quorum (leader included), sorted.
        quorum: Vec<ServerId>,
        /// The last zxid of the initial history (the leader's `lastProcessedZxid` at NEWLEADER).
        initial_history_zxid: Zxid,
    },
    /// `Leader.propose`: the leader broadcast a PROPOSAL (the paper's "broadcast").
    Proposed {
        /// The leader.
        leader: ServerId,
        /// The txn, with its zxid in the header.
        entry: TxnEntry,
    },
    /// A proposal is durable in this server's txn log (`SyncRequestProcessor` flushed it).
    ProposalLogged {
        /// The server.
        server: ServerId,
        /// The logged txn's header.
        header: TxnHeader,
    },
    /// `Leader.tryToCommit`: a quorum acked `zxid` and the leader sent COMMIT.
    Committed {
        /// The leader.
        leader: ServerId,
        /// The committed zxid.
        zxid: Zxid,
        /// The servers whose ACKs formed the quorum, sorted.
        acks: Vec<ServerId>,
    },
    /// A txn was applied to this server's DataTree (`lastProcessedZxid` is now its zxid).
    TxnApplied {
        /// The server.
        server: ServerId,
        /// The txn's header (zxid, session, cxid, type).
        header: TxnHeader,
        /// How it got here.
        reason: ApplyReason,
        /// The DataTree digest after applying it.
        digest: Option<i64>,
    },
    /// The leader chose how to synchronize a learner (`LearnerHandler.syncFollower`).
    SyncModeChosen {
        /// The leader.
        leader: ServerId,
        /// The learner.
        learner: ServerId,
        /// DIFF, TRUNC or SNAP.
        mode: SyncMode,
        /// The learner's last zxid from its FOLLOWERINFO/ACKEPOCH.
        peer_last_zxid: Zxid,
        /// The zxid carried by the DIFF/TRUNC/SNAP packet (the TRUNC target for TRUNC).
        zxid: Zxid,
    },
    /// The learner received the sync decision (`Learner.syncWithLeader`).
    SyncModeReceived {
        /// The learner.
        learner: ServerId,
        /// The leader.
        leader: ServerId,
        /// DIFF, TRUNC or SNAP.
        mode: SyncMode,
        /// The zxid carried by the packet.
        zxid: Zxid,
    },
    /// A snapshot from the leader replaced this learner's DataTree (SNAP sync).
    SnapshotInstalled {
        /// The learner.
        server: ServerId,
        /// The snapshot's `lastProcessedZxid`.
        zxid: Zxid,
        /// The DataTree digest after installing it.
        digest: Option<i64>,
    },
    /// TRUNC: the txn log was truncated and the DataTree reloaded from disk
    /// (`ZKDatabase.truncateLog`): every txn with a larger zxid is gone from disk and memory.
    LogTruncated {
        /// The server.
        server: ServerId,
        /// The last zxid kept.
        zxid: Zxid,
        /// The DataTree digest after the reload.
        digest: Option<i64>,
    },
    /// A snapshot file `snapshot.<zxid>` was written (and is durable).
    SnapshotTaken {
        /// The server.
        server: ServerId,
        /// The zxid in the file name (`lastProcessedZxid` when the snapshot started).
        zxid: Zxid,
    },
    /// The driver killed this server's process: volatile state is lost.
    Crashed {
        /// The server.
        server: ServerId,
    },
    /// A restarted server finished `FileTxnSnapLog.restore` (snapshot + log replay).
    RecoveryFinished {
        /// The server.
        server: ServerId,
        /// The recovered `lastProcessedZxid`.
        zxid: Zxid,
        /// The DataTree digest after recovery.
        digest: Option<i64>,
        /// The `acceptedEpoch` and `currentEpoch` read from disk.
        accepted_epoch: Epoch,
        /// See `accepted_epoch`.
        current_epoch: Epoch,
    },
    /// A createSession txn was applied here: the session is in the session table.
    SessionCreated {
        /// The server.
        server: ServerId,
        /// The session.
        session: SessionId,
        /// The negotiated timeout, ms.
        timeout_ms: i32,
        /// The createSession txn's zxid.
        zxid: Zxid,
    },
    /// The leader's `SessionTracker` expired the session and submitted its closeSession.
    SessionExpired {
        /// The leader.
        leader: ServerId,
        /// The session.
        session: SessionId,
    },
    /// A closeSession txn was applied here: the session and its ephemerals are gone.
    SessionClosed {
        /// The server.
        server: ServerId,
        /// The session.
        session: SessionId,
        /// The closeSession txn's zxid.
        zxid: Zxid,
    },
    /// An ephemeral node owned by `session` was created here.
    EphemeralCreated {
        /// The server.
        server: ServerId,
        /// The owner.
        session: SessionId,
        /// The node.
        path: String,
        /// The creating txn's zxid.
        zxid: Zxid,
    },
    /// An ephemeral node owned by `session` was deleted here (delete or closeSession).
    EphemeralDeleted {
        /// The server.
        server: ServerId,
        /// The owner.
        session: SessionId,
        /// The node.
        path: String,
        /// The deleting txn's zxid.
        zxid: Zxid,
    },
    /// `WatchManager.triggerWatch`: a watch fired and a notification was queued to the session.
    WatchTriggered {
        /// The server holding the watch.
        server: ServerId,
        /// The watcher's session.
        session: SessionId,
        /// The watched path.
        path: String,
        /// The event.
        event_type: EventType,
        /// The zxid of the triggering txn.
        zxid: Zxid,
    },
}

impl Observation {
    /// The server that reported this fact (or, for `Crashed`, the server it is about).
    pub fn server(&self) -> ServerId {
        match self {
            Observation::ServerStateChanged { server, .. }
            | Observation::ZabStateChanged { server, .. }
            | Observation::AcceptedEpochPersisted { server, .. }
            | Observation::CurrentEpochPersisted { server, .. }
            | Observation::ProposalLogged { server, .. }
            | Observation::TxnApplied { server, .. }
            | Observation::SnapshotInstalled { server, .. }
            | Observation::LogTruncated { server, .. }
            | Observation::SnapshotTaken { server, .. }
            | Observation::Crashed { server }
            | Observation::RecoveryFinished { server, .. }
            | Observation::SessionCreated { server, .. }
            | Observation::SessionClosed { server, .. }
            | Observation::EphemeralCreated { server, .. }
            | Observation::EphemeralDeleted { server, .. }
            | Observation::WatchTriggered { server, .. } => *server,
            Observation::LeaderEstablished { leader, .. }
            | Observation::Proposed { leader, .. }
            | Observation::Committed { leader, .. }
            | Observation::SyncModeChosen { leader, .. }
            | Observation::SessionExpired { leader, .. } => *leader,
            Observation::SyncModeReceived { learner, .. } => *learner,
        }
    }

    /// The txn type, for the observations that carry a txn.
    pub fn txn_type(&self) -> Option<OpCode> {
        match self {
            Observation::Proposed { entry, .. } => Some(entry.header.txn_type),
            Observation::ProposalLogged { header, .. } | Observation::TxnApplied { header, .. } => {
                Some(header.txn_type)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Xid;

    #[test]
    fn observation_round_trips_through_json() {
        let header = TxnHeader {
            client_id: SessionId(7),
            cxid: Xid(3),
            zxid: Zxid::new(Epoch(2), 5),
            time: 1,
            txn_type: OpCode::SetData,
        };
        let o = Observation::TxnApplied {
            server: ServerId(1),
            header,
            reason: ApplyReason::Commit,
            digest: Some(-42),
        };
        let text = serde_json::to_string(&o).unwrap();
        let back: Observation = serde_json::from_str(&text).unwrap();
        assert_eq!(back, o);
        assert_eq!(back.server(), ServerId(1));
        assert_eq!(back.txn_type(), Some(OpCode::SetData));
    }
}
