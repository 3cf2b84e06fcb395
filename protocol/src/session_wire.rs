//! The client ↔ server connection protocol: ZooKeeper's `ConnectRequest` / `ConnectResponse`
//! handshake, `RequestHeader` + record, `ReplyHeader` + record, pings, watch notifications
//! (xid -1) and `SetWatches2` on reconnect. Special xids follow `ClientCnxn`: -1 notification,
//! -2 ping, -4 auth, -8 setWatches.

use crate::error_code::ErrorCode;
use crate::request::{Request, Response, WatchedEvent};
use crate::types::{SessionId, Xid, Zxid};
use serde::{Deserialize, Serialize};

/// xid of a watch notification.
pub const XID_NOTIFICATION: Xid = Xid(-1);
/// xid of a ping.
pub const XID_PING: Xid = Xid(-2);
/// xid of an auth packet.
pub const XID_AUTH: Xid = Xid(-4);
/// xid of setWatches.
pub const XID_SET_WATCHES: Xid = Xid(-8);

/// `ConnectRequest{protocolVersion; lastZxidSeen; timeOut; sessionId; passwd; readOnly}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectRequest {
    /// Always 0.
    pub protocol_version: i32,
    /// The last zxid this client has seen; a server that is behind refuses the connection.
    pub last_zxid_seen: Zxid,
    /// Requested session timeout, ms.
    pub timeout_ms: i32,
    /// 0 for a new session, otherwise the session to resume.
    pub session_id: SessionId,
    /// The session password (16 bytes), zeros for a new session.
    pub passwd: Vec<u8>,
    /// Whether the client accepts a read-only server.
    pub read_only: bool,
}

/// `ConnectResponse{protocolVersion; timeOut; sessionId; passwd; readOnly}`. A refused or expired
/// session is answered with `timeout_ms == 0` and session id 0, then the connection is closed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// The negotiated timeout, ms (0 = session expired / refused).
    pub timeout_ms: i32,
    /// The session id.
    pub session_id: SessionId,
    /// The session password.
    pub passwd: Vec<u8>,
    /// Whether the server is read-only.
    pub read_only: bool,
}

/// `SetWatches2`: sent on reconnect so the server re-arms watches and fires those whose
/// condition changed after `relative_zxid`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SetWatches {
    /// The client's last seen zxid.
    pub relative_zxid: Zxid,
    /// Data watches.
    pub data_watches: Vec<String>,
    /// Exist watches.
    pub exist_watches: Vec<String>,
    /// Child watches.
    pub child_watches: Vec<String>,
    /// Persistent watches.
    pub persistent_watches: Vec<String>,
    /// Persistent recursive watches.
    pub persistent_recursive_watches: Vec<String>,
}

/// A message from client to server on a client connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClientMessage {
    /// The first message on a connection.
    Connect(ConnectRequest),
    /// A request: `RequestHeader{xid; type}` + record.
    Request {
        /// The client's request id.
        xid: Xid,
        /// The request.
        request: Request,
    },
    /// A ping (xid -2).
    Ping,
    /// Re-register watches (xid -8).
    SetWatches(SetWatches),
    /// `closeSession` (op -11).
    CloseSession {
        /// The client's request id.
        xid: Xid,
    },
}

/// A message from server to client on a client connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServerMessage {
    /// The handshake answer.
    Connected(ConnectResponse),
    /// `ReplyHeader{xid; zxid; err}` + record (the record only when `err` is OK).
    Reply {
        /// The request id being answered.
        xid: Xid,
        /// The zxid ZooKeeper puts in the reply header: the txn's zxid for a write, the server's
        /// last processed zxid for a read.
        zxid: Zxid,
        /// The result code.
        err: ErrorCode,
        /// The body, for OK replies.
        response: Option<Response>,
    },
    /// A ping reply (xid -2).
    Pong {
        /// The server's last processed zxid.
        zxid: Zxid,
    },
    /// A watch notification (xid -1).
    Notification {
        /// The zxid of the txn that triggered it.
        zxid: Zxid,
        /// The event.
        event: WatchedEvent,
    },
}
