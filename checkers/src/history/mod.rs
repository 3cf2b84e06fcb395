//! Client histories: every operation as an invocation and a completion with virtual times, the
//! watch notifications and session events the clients saw, and (optionally, in the same file) the
//! servers' observations — written and read as JSON Lines.
//!
//! One line is one [`Record`]. The simulator writes records in the order they happened (virtual
//! time, ties in execution order); [`History::from_records`] checks the file's own consistency
//! (every completion has an earlier invocation of the same id, no id twice, time never goes back)
//! and a broken file is a [`HistoryError`] naming the line and field — a harness bug, kept apart
//! from a judge's `Violation` (a protocol bug).
//!
//! An operation's outcome is one of three (Jepsen's `:ok`, `:fail`, `:info`):
//! [`Outcome::Ok`] with the full reply body and the reply header's zxid; [`Outcome::Error`], a
//! definite error reply from a server (the op's effect is exactly what the error says: for a write
//! that failed at the leader, nothing but an `ErrorTxn`); or [`Outcome::Unknown`] (connection
//! loss, timeout, session expiry while pending): the op may or may not have taken effect.

mod assemble;
mod error;
mod jsonl;

pub use assemble::History;
pub use error::HistoryError;
pub use jsonl::{read_records, write_record, write_records};

use serde::{Deserialize, Serialize};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::request::{Request, Response, WatchedEvent};
use zabsim_protocol::types::{ServerId, SessionId, Xid, Zxid};

/// A unique id for one client operation within a history.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct OpId(pub u64);

/// A client process (Jepsen's `:process`): one simulated application that owns at most one
/// session at a time and may get a new session after expiry.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct ClientId(pub u32);

/// Global virtual time in nanoseconds (the simulator's clock, not a node's local clock).
pub type TimeNs = u64;

/// A client sent (or tried to send) a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// The operation's id.
    pub id: OpId,
    /// When the client issued it.
    pub time_ns: TimeNs,
    /// The client process.
    pub client: ClientId,
    /// The session it was issued on.
    pub session: SessionId,
    /// The server the session was connected to, if any.
    pub server: Option<ServerId>,
    /// The request header's xid (the txn header's `cxid` if it becomes a txn).
    pub xid: Xid,
    /// The request.
    pub request: Request,
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The server replied with `err` OK.
    Ok {
        /// The reply header's zxid: the txn's zxid for a write, the server's
        /// `lastProcessedZxid` for a read or sync.
        zxid: Zxid,
        /// The reply body.
        response: Response,
    },
    /// The server replied with a definite error code.
    Error {
        /// The reply header's zxid.
        zxid: Zxid,
        /// The error.
        err: ErrorCode,
    },
    /// No reply: the op may or may not have taken effect.
    Unknown {
        /// What the client library reported (`CONNECTIONLOSS`, `OPERATIONTIMEOUT`,
        /// `SESSIONEXPIRED`).
        err: ErrorCode,
    },
}

impl Outcome {
    /// The reply header's zxid, for outcomes that had a reply.
    pub fn zxid(&self) -> Option<Zxid> {
        match self {
            Outcome::Ok { zxid, .. } | Outcome::Error { zxid, .. } => Some(*zxid),
            Outcome::Unknown { .. } => None,
        }
    }
}

/// The client saw the end of an operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// The operation's id (matches an earlier [`Invocation`]).
    pub id: OpId,
    /// When the client saw the outcome.
    pub time_ns: TimeNs,
    /// The outcome.
    pub outcome: Outcome,
}

/// A watch notification (xid -1) delivered to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchNotification {
    /// When the client received it.
    pub time_ns: TimeNs,
    /// The client process.
    pub client: ClientId,
    /// The session it arrived on.
    pub session: SessionId,
    /// The zxid in the notification header (the triggering txn).
    pub zxid: Zxid,
    /// The event.
    pub event: WatchedEvent,
}

/// What happened to a client's session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionChange {
    /// The handshake succeeded (a new session, or the same one resumed on `server`).
    Connected {
        /// The server that answered `ConnectResponse`.
        server: ServerId,
        /// The negotiated timeout, ms.
        timeout_ms: i32,
        /// The `lastZxidSeen` the client sent in its `ConnectRequest`.
        last_zxid_seen: Zxid,
    },
    /// The connection broke (`Disconnected`); the session may still be alive.
    Disconnected,
    /// The client learnt the session expired (`Expired`).
    Expired,
    /// The client's own closeSession completed.
    Closed,
}

/// A session event seen by a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEvent {
    /// When the client saw it.
    pub time_ns: TimeNs,
    /// The client process.
    pub client: ClientId,
    /// The session.
    pub session: SessionId,
    /// What happened.
    pub change: SessionChange,
}

/// A server observation stamped with the global virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// When the server reported it.
    pub time_ns: TimeNs,
    /// The fact.
    pub observation: Observation,
}

/// One line of a history file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// An operation was issued.
    Invoke(Invocation),
    /// An operation ended.
    Complete(Completion),
    /// A watch notification arrived.
    Watch(WatchNotification),
    /// A session event.
    Session(SessionEvent),
    /// A server observation.
    Observed(Observed),
}

impl Record {
    /// The record's virtual time.
    pub fn time_ns(&self) -> TimeNs {
        match self {
            Record::Invoke(r) => r.time_ns,
            Record::Complete(r) => r.time_ns,
            Record::Watch(r) => r.time_ns,
            Record::Session(r) => r.time_ns,
            Record::Observed(r) => r.time_ns,
        }
    }
}
