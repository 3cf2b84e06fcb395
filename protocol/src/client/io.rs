//! The sans-IO contract between a ZooKeeper client (`ZooKeeper` + `ClientCnxn`) and its driver
//! (the simulator's workload glue). Every input carries the client's local time.

use crate::error_code::ErrorCode;
use crate::request::{KeeperState, Request, Response, WatchedEvent};
use crate::session_wire::{ClientMessage, ServerMessage};
use crate::types::{LocalTime, ServerId, SessionId, Zxid};
use serde::{Deserialize, Serialize};

/// A connection handle assigned by the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientConn(pub u64);

/// A driver-chosen id for one submitted operation (echoed in its completion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpToken(pub u64);

/// The client's named timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClientTimer {
    /// Send a ping after half the read timeout without sending (ClientCnxn: `readTimeout/2`
    /// less up to a second, at most every 10 s; about a third of the session timeout); declare
    /// the connection lost after the read timeout (two thirds of the session timeout) without
    /// hearing from the server.
    Heartbeat,
    /// Connect timeout for the current attempt (sessionTimeout / number of servers).
    ConnectTimeout,
    /// Back-off before trying the next server in the connect string.
    Reconnect,
}

/// How one operation ended, as the application sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpResult {
    /// Success, with the reply header's zxid.
    Ok {
        /// The reply.
        response: Response,
        /// The reply header's zxid.
        zxid: Zxid,
    },
    /// A definite ZooKeeper error (NONODE, BADVERSION, …) with the reply header's zxid.
    Error {
        /// The error.
        err: ErrorCode,
        /// The reply header's zxid.
        zxid: Zxid,
    },
    /// CONNECTIONLOSS or OPERATIONTIMEOUT: it may or may not have happened.
    Unknown {
        /// Which error the library reported.
        err: ErrorCode,
    },
    /// SESSIONEXPIRED (or the session was closed): for a write, also indeterminate unless the
    /// request was never sent.
    SessionExpired {
        /// Whether the request had been sent before the session ended.
        sent: bool,
    },
}

/// An input to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientInput {
    /// The client starts (connects to the first server of its shuffled connect string).
    Start {
        /// Seeded randomness from the driver (connect-string shuffle, back-off jitter).
        entropy: u64,
    },
    /// A named timer fired.
    Timer(ClientTimer),
    /// The connection requested by [`ClientAction::Connect`] is up.
    Connected {
        /// The request id given in the action.
        request: u64,
        /// The connection.
        conn: ClientConn,
    },
    /// The connection requested by [`ClientAction::Connect`] failed.
    ConnectFailed {
        /// The request id given in the action.
        request: u64,
    },
    /// A message from the server.
    Message {
        /// The connection.
        conn: ClientConn,
        /// The message.
        message: ServerMessage,
    },
    /// The connection closed or broke.
    Closed {
        /// The connection.
        conn: ClientConn,
    },
    /// The application submits an operation.
    Submit {
        /// The driver's id for it.
        op: OpToken,
        /// The request.
        request: Request,
    },
    /// The application closes the session (`ZooKeeper.close()`).
    CloseSession {
        /// The driver's id for the close.
        op: OpToken,
    },
}

/// An effect the client asks for, or something it reports to the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAction {
    /// Open a connection to a server's client port.
    Connect {
        /// The server.
        server: ServerId,
        /// An id echoed in `Connected` / `ConnectFailed`.
        request: u64,
    },
    /// Send a message.
    Send {
        /// The connection.
        conn: ClientConn,
        /// The message.
        message: ClientMessage,
    },
    /// Close a connection.
    Close {
        /// The connection.
        conn: ClientConn,
    },
    /// Arm (or re-arm) a named timer at a local deadline.
    SetTimer {
        /// The timer.
        timer: ClientTimer,
        /// The local deadline.
        at: LocalTime,
    },
    /// Disarm a named timer.
    CancelTimer {
        /// The timer.
        timer: ClientTimer,
    },
    /// The request of this operation was written to the connection to `server` (for the
    /// history: which server it went to).
    Sent {
        /// The operation.
        op: OpToken,
        /// The server it went to.
        server: ServerId,
        /// The xid it was sent with.
        xid: crate::types::Xid,
        /// The session it was sent in.
        session: SessionId,
    },
    /// An operation completed.
    Completed {
        /// The operation.
        op: OpToken,
        /// Its outcome.
        result: OpResult,
    },
    /// A watch notification delivered to the application.
    Watch {
        /// The event.
        event: WatchedEvent,
        /// The notification's zxid.
        zxid: Zxid,
    },
    /// The session's state changed (SyncConnected, Disconnected, Expired, Closed).
    SessionState {
        /// The new state.
        state: KeeperState,
        /// The session id (0 before the first handshake).
        session: SessionId,
        /// The server, when connected.
        server: Option<ServerId>,
    },
}
