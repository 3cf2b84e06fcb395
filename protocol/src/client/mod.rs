//! The sans-IO ZooKeeper client (`ZooKeeper` + `ClientCnxn`): connection, session, pending
//! requests in xid order, pings, reconnects within the session timeout, watch re-registration.
//!
//! The contract with the driver is [`io`]. The behaviour follows `ClientCnxn`:
//!
//! ```text
//!  Start ──> next server (StaticHostProvider, shuffled) ──Connect──> Connected{conn}
//!              ^   back-off: jitter 0..1000 ms                          │ ConnectRequest
//!              │   (+ 1000 ms after a full round)                       v (lastZxidSeen, id, passwd)
//!   loss: ─────┘ <── ConnectTimeout (sessionTimeout / #servers)    ConnectResponse
//!   sent ops -> CONNECTIONLOSS                                         │ timeout 0 -> Expired
//!   unsent ops stay queued                                             v
//!                                             SyncConnected: SetWatches(lastZxidSeen), queued ops
//!   Heartbeat: ping after readTimeout/2 idle send (readTimeout = 2/3 sessionTimeout);
//!              no byte for readTimeout -> loss.  Replies must match the oldest pending xid.
//! ```
//!
//! Deviations from `ClientCnxn`, on purpose: `SetWatches` and queued requests are sent after the
//! `ConnectResponse` rather than pipelined behind the `ConnectRequest`; requests that were never
//! written stay queued across failed connection attempts (ClientCnxn fails them with
//! CONNECTIONLOSS at each cleanup) so a history knows they did not happen; `lastZxidSeen` also
//! advances on notifications.

mod connect;
pub mod host_provider;
pub mod io;
mod replies;
pub mod watch_manager;

#[cfg(test)]
mod tests;

pub use host_provider::StaticHostProvider;
pub use io::{ClientAction, ClientConn, ClientInput, ClientTimer, OpResult, OpToken};
pub use watch_manager::ZkWatchManager;

use crate::error_code::ErrorCode;
use crate::request::{KeeperState, Request};
use crate::session_wire::ClientMessage;
use crate::types::{LocalTime, ServerId, SessionId, Xid, Zxid};
use std::collections::VecDeque;

/// Client settings: the connect string and the requested session timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The connect string's servers.
    pub servers: Vec<ServerId>,
    /// Requested session timeout (ms).
    pub session_timeout_ms: u32,
}

/// `ZooKeeper.States` as far as the application can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum States {
    /// Not started, or looking for a server.
    Connecting,
    /// Handshake done, session live on a server.
    Connected,
    /// The session expired (the server answered a reconnect with timeout 0).
    Expired,
    /// The application closed the session.
    Closed,
}

/// Where the transport is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// No connection: before `Start`, waiting for the `Reconnect` timer, or finished.
    Idle,
    /// A `Connect` action is outstanding.
    Connecting { request: u64, server: ServerId },
    /// TCP is up, the `ConnectRequest` is sent, no `ConnectResponse` yet.
    Handshaking { conn: ClientConn, server: ServerId },
    /// The session is live on this connection.
    Connected { conn: ClientConn, server: ServerId },
}

/// A request written to the connection and waiting for its reply (`pendingQueue`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    /// An application operation.
    Op {
        xid: Xid,
        op: OpToken,
        request: Request,
    },
    /// The `SetWatches` sent after a reconnect (xid -8).
    SetWatches,
    /// `closeSession`.
    Close { xid: Xid, op: OpToken },
}

impl Pending {
    fn xid(&self) -> Xid {
        match self {
            Pending::Op { xid, .. } | Pending::Close { xid, .. } => *xid,
            Pending::SetWatches => crate::session_wire::XID_SET_WATCHES,
        }
    }
}

/// An operation accepted but not yet written (`outgoingQueue`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outgoing {
    Op { op: OpToken, request: Request },
    Close { op: OpToken },
}

/// One ZooKeeper client handle.
#[derive(Debug)]
pub struct ZooKeeper {
    config: ClientConfig,
    hosts: Option<StaticHostProvider>,
    rng_state: u64,
    link: Link,
    state: States,
    session_id: SessionId,
    passwd: Vec<u8>,
    negotiated_timeout_ms: u32,
    last_zxid_seen: Zxid,
    next_xid: i32,
    next_connect_request: u64,
    outgoing: VecDeque<Outgoing>,
    pending: VecDeque<Pending>,
    watches: ZkWatchManager,
    last_send: LocalTime,
    last_recv: LocalTime,
    /// Whether `close()` was called (ops submitted after it fail with CONNECTIONLOSS).
    closing: bool,
    actions: Vec<ClientAction>,
}

/// Milliseconds in nanoseconds.
const MS: u64 = 1_000_000;
/// `StaticHostProvider.next(1000)` spin delay after a full round, ms.
const SPIN_DELAY_MS: u64 = 1_000;
/// `ClientCnxn.startConnect` random back-off bound, ms.
const RECONNECT_JITTER_MS: u64 = 1_000;
/// `ClientCnxn.MAX_SEND_PING_INTERVAL`, ms.
const MAX_SEND_PING_INTERVAL_MS: u64 = 10_000;

impl ZooKeeper {
    /// A new client (not yet connected).
    pub fn new(config: ClientConfig) -> ZooKeeper {
        assert!(!config.servers.is_empty(), "empty connect string");
        assert!(config.session_timeout_ms > 0, "session timeout is positive");
        ZooKeeper {
            negotiated_timeout_ms: config.session_timeout_ms,
            config,
            hosts: None,
            rng_state: 0,
            link: Link::Idle,
            state: States::Connecting,
            session_id: SessionId(0),
            passwd: vec![0; 16],
            last_zxid_seen: Zxid::ZERO,
            next_xid: 1,
            next_connect_request: 0,
            outgoing: VecDeque::new(),
            pending: VecDeque::new(),
            watches: ZkWatchManager::default(),
            last_send: LocalTime(0),
            last_recv: LocalTime(0),
            closing: false,
            actions: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The session's state.
    pub fn state(&self) -> States {
        self.state
    }

    /// The session id (0 before the first handshake).
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// The session id (0 before the first handshake); alias of [`ZooKeeper::session_id`].
    pub fn session(&self) -> SessionId {
        self.session_id
    }

    /// Whether the session is connected and usable.
    pub fn is_connected(&self) -> bool {
        self.state == States::Connected
    }

    /// Whether the session has ended (expired or closed).
    pub fn is_terminal(&self) -> bool {
        matches!(self.state, States::Expired | States::Closed)
    }

    /// Operations (and a close) submitted and not yet completed.
    pub fn in_flight(&self) -> usize {
        let pending = self
            .pending
            .iter()
            .filter(|p| !matches!(p, Pending::SetWatches))
            .count();
        pending + self.outgoing.len()
    }

    /// The last zxid seen in a reply header or notification (sent as `lastZxidSeen`).
    pub fn last_zxid_seen(&self) -> Zxid {
        self.last_zxid_seen
    }

    /// The session timeout: as requested until a server negotiated it.
    pub fn session_timeout_ms(&self) -> u32 {
        self.negotiated_timeout_ms
    }

    /// The watches currently registered.
    pub fn watches(&self) -> &ZkWatchManager {
        &self.watches
    }

    /// The server the session is connected to, if any.
    pub fn connected_server(&self) -> Option<ServerId> {
        match self.link {
            Link::Connected { server, .. } => Some(server),
            _ => None,
        }
    }

    /// Handles one input at local time `now`.
    pub fn handle(&mut self, now: LocalTime, input: ClientInput) -> Vec<ClientAction> {
        assert!(self.actions.is_empty(), "actions drained after every input");
        match input {
            ClientInput::Start { entropy } => self.start(now, entropy),
            ClientInput::Timer(timer) => self.on_timer(now, timer),
            ClientInput::Connected { request, conn } => self.on_transport_up(now, request, conn),
            ClientInput::ConnectFailed { request } => {
                if matches!(self.link, Link::Connecting { request: r, .. } if r == request) {
                    self.connection_lost(now, false);
                }
            }
            ClientInput::Message { conn, message } => {
                if self.current_conn() == Some(conn) {
                    self.last_recv = now;
                    self.on_message(now, message);
                }
            }
            ClientInput::Closed { conn } => {
                if self.current_conn() == Some(conn) {
                    self.connection_lost(now, false);
                }
            }
            ClientInput::Submit { op, request } => self.submit(now, Outgoing::Op { op, request }),
            ClientInput::CloseSession { op } => self.close(now, op),
        }
        std::mem::take(&mut self.actions)
    }

    /// Whether operations are pending (queued or awaiting their reply).
    pub fn work_outstanding(&self) -> bool {
        !self.outgoing.is_empty() || !self.pending.is_empty()
    }

    fn current_conn(&self) -> Option<ClientConn> {
        match self.link {
            Link::Handshaking { conn, .. } | Link::Connected { conn, .. } => Some(conn),
            Link::Idle | Link::Connecting { .. } => None,
        }
    }

    fn is_alive(&self) -> bool {
        matches!(self.state, States::Connecting | States::Connected)
    }

    fn emit(&mut self, action: ClientAction) {
        self.actions.push(action);
    }

    fn complete(&mut self, op: OpToken, result: OpResult) {
        self.emit(ClientAction::Completed { op, result });
    }

    fn session_event(&mut self, state: KeeperState) {
        let server = self.connected_server();
        self.emit(ClientAction::SessionState {
            state,
            session: self.session_id,
            server,
        });
    }

    /// The next draw of the client's own stream, seeded from the driver's entropy (SplitMix64).
    fn draw(&mut self) -> u64 {
        self.rng_state = self.rng_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn next_xid(&mut self) -> Xid {
        let xid = Xid(self.next_xid);
        assert!(xid.0 > 0, "application xids are positive");
        self.next_xid = if self.next_xid == i32::MAX {
            1
        } else {
            self.next_xid + 1
        };
        xid
    }

    /// `ZooKeeper.submitRequest`: write now when connected, else queue (or fail when dead).
    fn submit(&mut self, now: LocalTime, item: Outgoing) {
        let op = match &item {
            Outgoing::Op { op, .. } | Outgoing::Close { op } => *op,
        };
        if !self.is_alive() {
            // ClientCnxn.conLossPacket: a CLOSED client answers SESSIONEXPIRED.
            self.complete(op, OpResult::SessionExpired { sent: false });
            return;
        }
        if self.closing {
            self.complete(
                op,
                OpResult::Unknown {
                    err: ErrorCode::CONNECTIONLOSS,
                },
            );
            return;
        }
        match self.link {
            Link::Connected { conn, server } if self.outgoing.is_empty() => {
                self.write(now, conn, server, item)
            }
            _ => self.outgoing.push_back(item),
        }
    }

    /// Writes one queued item to the connection and records it as pending.
    fn write(&mut self, now: LocalTime, conn: ClientConn, server: ServerId, item: Outgoing) {
        assert_eq!(
            self.link,
            Link::Connected { conn, server },
            "requests are written only on a live session"
        );
        let xid = self.next_xid();
        let (message, pending, op) = match item {
            Outgoing::Op { op, request } => (
                ClientMessage::Request {
                    xid,
                    request: request.clone(),
                },
                Pending::Op { xid, op, request },
                op,
            ),
            Outgoing::Close { op } => (
                ClientMessage::CloseSession { xid },
                Pending::Close { xid, op },
                op,
            ),
        };
        self.send(now, conn, message);
        self.pending.push_back(pending);
        self.emit(ClientAction::Sent {
            op,
            server,
            xid,
            session: self.session_id,
        });
    }

    fn send(&mut self, now: LocalTime, conn: ClientConn, message: ClientMessage) {
        self.last_send = now;
        self.emit(ClientAction::Send { conn, message });
    }

    /// `ZooKeeper.close()`: send closeSession (queued if disconnected); the session is Closed
    /// when its reply arrives or the connection is lost.
    fn close(&mut self, now: LocalTime, op: OpToken) {
        if !self.is_alive() {
            self.complete(op, OpResult::SessionExpired { sent: false });
            return;
        }
        if self.closing {
            self.complete(
                op,
                OpResult::Unknown {
                    err: ErrorCode::CONNECTIONLOSS,
                },
            );
            return;
        }
        self.submit(now, Outgoing::Close { op });
        self.closing = true;
    }

    /// The session is over (closed or expired): fail every queued op, drop the connection.
    fn finish(&mut self, state: States) {
        assert!(
            matches!(state, States::Closed | States::Expired),
            "{state:?}"
        );
        assert!(
            self.pending.is_empty(),
            "pending ops are answered before the end"
        );
        if let Some(conn) = self.current_conn() {
            self.emit(ClientAction::Close { conn });
        }
        self.state = state;
        self.session_event(match state {
            States::Closed => KeeperState::Closed,
            _ => KeeperState::Expired,
        });
        self.link = Link::Idle;
        for timer in [
            ClientTimer::Heartbeat,
            ClientTimer::ConnectTimeout,
            ClientTimer::Reconnect,
        ] {
            self.emit(ClientAction::CancelTimer { timer });
        }
        while let Some(item) = self.outgoing.pop_front() {
            let op = match item {
                Outgoing::Op { op, .. } | Outgoing::Close { op } => op,
            };
            self.complete(op, OpResult::SessionExpired { sent: false });
        }
    }
}
