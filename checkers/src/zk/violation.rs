//! `Violation`: a broken guarantee, with the evidence that proves it.

use crate::history::OpId;
use serde::{Deserialize, Serialize};
use std::fmt;
use zabsim_protocol::types::{ServerId, SessionId, Zxid};

/// Which guarantee broke. Names are the Zab paper's and the TLA+ specs' where they have one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ViolationKind {
    // --- consistency (ZooKeeper's client guarantees) ---
    /// Two writes whose zxid order contradicts real time (a precedence cycle).
    WriteOrder,
    /// A result the reference model cannot explain at the operation's zxid.
    UnexplainedResult,
    /// A read reflects a txn that was not yet committed when the read returned.
    ReadFromFuture,
    /// A session saw zxids go back (single system image).
    SessionWentBack,
    /// A session's requests were answered or applied out of FIFO order.
    SessionOrder,
    /// A read after `sync` missed a write committed before the sync, in the sync's own epoch.
    StaleSync,
    /// A multi that was partly applied, or whose results are not all-or-nothing.
    MultiNotAtomic,
    /// A sequential name given twice, or not increasing with zxid, under one parent.
    SequentialName,
    /// A reply zxid that names no committed txn for a write, or an acknowledged write without one.
    MissingTxn,
    // --- durability ---
    /// A write acknowledged OK is missing from a later leader's history or the final state.
    LostAcknowledgedWrite,
    /// Something a client observed, or a committed txn, was rolled back.
    RolledBack,
    /// A restart recovered a tree different from the one the server had at that zxid.
    RecoveryMismatch,
    // --- replica agreement ---
    /// Two servers applied different txns or reached different digests at the same zxid.
    ReplicaDivergence,
    /// After the heal phase the live servers did not converge.
    NotConverged,
    // --- ZAB invariants ---
    /// Zab Integrity: a delivered txn no primary broadcast.
    Integrity,
    /// Zab Agreement / PrefixConsistency.
    Agreement,
    /// Zab TotalOrder.
    TotalOrder,
    /// Zab LocalPrimaryOrder.
    LocalPrimaryOrder,
    /// Zab GlobalPrimaryOrder.
    GlobalPrimaryOrder,
    /// Zab PrimaryIntegrity.
    PrimaryIntegrity,
    /// Leadership1/Leadership2: two leaders for one epoch, or a proposal by a non-leader.
    Leadership,
    /// CommittedLogMonotonicity: a broadcasting leader's log lacks a committed txn.
    CommittedLogMonotonicity,
    /// ProcessConsistency: a follower's history at NEWLEADER is not a prefix of its leader's.
    ProcessConsistency,
    /// LeaderLogCompleteness: an established leader's initial history lacks a committed txn.
    LeaderLogCompleteness,
    /// CommittedLogDurability: a truncation removed a committed txn.
    CommittedLogDurability,
    /// acceptedEpoch/currentEpoch went back, or currentEpoch exceeded acceptedEpoch.
    EpochMonotonicity,
    // --- liveness ---
    /// No leader established within the bound after the heal.
    NoLeader,
    /// A learner did not finish synchronization within the bound.
    SyncStuck,
    /// Operations still pending at the bound.
    OperationsStuck,
    /// A session neither reconnected nor expired within the bound.
    SessionStuck,
    // --- sessions and watches ---
    /// A triggered one-shot watch did not fire, fired twice, or fired after the client could
    /// already see the change.
    Watch,
    /// An ephemeral outlived its session, or vanished while its session lived.
    Ephemeral,
}

/// One broken guarantee with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The judge that found it.
    pub checker: String,
    /// The guarantee.
    pub kind: ViolationKind,
    /// A short explanation, in terms of ops, zxids and servers.
    pub message: String,
    /// 1-based history line of the record that proved it, if one did.
    pub line: Option<usize>,
    /// Operations involved.
    pub ops: Vec<OpId>,
    /// Zxids involved.
    pub zxids: Vec<Zxid>,
    /// Servers involved.
    pub servers: Vec<ServerId>,
    /// Sessions involved.
    pub sessions: Vec<SessionId>,
}

impl Violation {
    /// A violation with a message and no evidence attached yet.
    pub fn new(checker: &str, kind: ViolationKind, message: impl Into<String>) -> Violation {
        Violation {
            checker: checker.to_string(),
            kind,
            message: message.into(),
            line: None,
            ops: Vec::new(),
            zxids: Vec::new(),
            servers: Vec::new(),
            sessions: Vec::new(),
        }
    }

    /// At history line `line`.
    pub fn at(mut self, line: usize) -> Violation {
        self.line = Some(line);
        self
    }

    /// With these operations.
    pub fn ops(mut self, ops: impl IntoIterator<Item = OpId>) -> Violation {
        self.ops.extend(ops);
        self
    }

    /// With these zxids.
    pub fn zxids(mut self, zxids: impl IntoIterator<Item = Zxid>) -> Violation {
        self.zxids.extend(zxids);
        self
    }

    /// With these servers.
    pub fn servers(mut self, servers: impl IntoIterator<Item = ServerId>) -> Violation {
        self.servers.extend(servers);
        self
    }

    /// With these sessions.
    pub fn sessions(mut self, sessions: impl IntoIterator<Item = SessionId>) -> Violation {
        self.sessions.extend(sessions);
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {:?}: {}", self.checker, self.kind, self.message)?;
        if let Some(line) = self.line {
            write!(f, " (history line {line})")?;
        }
        Ok(())
    }
}
