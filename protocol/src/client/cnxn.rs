//! `ClientCnxn` as a state machine. As ZooKeeper's client does it:
//! - the connect string is shuffled once; servers are tried round-robin with a connect timeout of
//!   `sessionTimeout / #servers`;
//! - a connection starts with `ConnectRequest{lastZxidSeen, timeout, sessionId, passwd}`; an
//!   answer with timeout 0 means the session expired: every queued and later operation fails with
//!   SESSIONEXPIRED;
//! - requests get xids when they are written, replies must come back in xid order (anything
//!   else is a protocol error that drops the connection);
//! - `readTimeout = 2/3 × negotiated timeout`: a ping goes out when nothing was sent for half of
//!   it, and the connection is declared lost when nothing was heard for all of it;
//! - on connection loss every sent, unanswered request completes with CONNECTIONLOSS (it may or
//!   may not have happened), the client reconnects to the next server resuming the session, and
//!   re-registers its watches with `SetWatches(relativeZxid = lastZxidSeen)`.

use super::host_provider::HostProvider;
use super::io::{ClientAction, ClientConn, ClientInput, ClientTimer, OpResult, OpToken};
use super::watches::ClientWatches;
use crate::error_code::ErrorCode;
use crate::request::{KeeperState, Request, Response};
use crate::session_wire::{ClientMessage, ConnectRequest, ConnectResponse, ServerMessage};
use crate::types::{LocalTime, ServerId, SessionId, Xid, Zxid};
use std::collections::VecDeque;

const NS_PER_MS: u64 = 1_000_000;

/// Client settings: the connect string and the requested session timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The connect string's servers.
    pub servers: Vec<ServerId>,
    /// Requested session timeout (ms).
    pub session_timeout_ms: u32,
}

/// Where the connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not started.
    Idle,
    /// Waiting for a TCP connection (`request` id) to `server`.
    Connecting { request: u64, server: ServerId },
    /// TCP is up; the ConnectRequest is out.
    Handshake { conn: ClientConn, server: ServerId },
    /// The session is usable.
    Connected { conn: ClientConn, server: ServerId },
    /// Waiting before the next connection attempt.
    Backoff,
    /// The session expired (terminal).
    Expired,
    /// The session was closed (terminal).
    Closed,
}

/// One ZooKeeper client handle.
#[derive(Debug)]
pub struct ZooKeeper {
    config: ClientConfig,
    hosts: Option<HostProvider>,
    state: State,
    session: SessionId,
    passwd: Vec<u8>,
    negotiated_ms: u32,
    last_zxid_seen: Zxid,
    next_xid: i32,
    next_request: u64,
    /// Sent and unanswered, in xid order.
    pending: VecDeque<(Xid, OpToken, Option<Request>)>,
    /// Submitted but not written yet.
    outgoing: VecDeque<(OpToken, Option<Request>)>,
    watches: ClientWatches,
    last_send: LocalTime,
    last_recv: LocalTime,
    entropy: u64,
}

impl ZooKeeper {
    /// A new client (not yet connected).
    pub fn new(config: ClientConfig) -> ZooKeeper {
        let negotiated_ms = config.session_timeout_ms;
        ZooKeeper {
            config,
            hosts: None,
            state: State::Idle,
            session: SessionId(0),
            passwd: vec![0; 16],
            negotiated_ms,
            last_zxid_seen: Zxid(0),
            next_xid: 1,
            next_request: 0,
            pending: VecDeque::new(),
            outgoing: VecDeque::new(),
            watches: ClientWatches::default(),
            last_send: LocalTime(0),
            last_recv: LocalTime(0),
            entropy: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The session id (0 before the first handshake).
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// The last zxid this client has seen in a reply header.
    pub fn last_zxid_seen(&self) -> Zxid {
        self.last_zxid_seen
    }

    /// Whether the session is connected and usable.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected { .. })
    }

    /// Whether the session has ended (expired or closed).
    pub fn is_terminal(&self) -> bool {
        matches!(self.state, State::Expired | State::Closed)
    }

    /// Whether operations are pending.
    pub fn work_outstanding(&self) -> bool {
        !self.is_terminal() && (!self.pending.is_empty() || !self.outgoing.is_empty())
    }

    /// Operations submitted and not completed.
    pub fn in_flight(&self) -> usize {
        self.pending.len() + self.outgoing.len()
    }

    /// Handles one input at local time `now`.
    pub fn handle(&mut self, now: LocalTime, input: ClientInput) -> Vec<ClientAction> {
        let mut out = Vec::new();
        match input {
            ClientInput::Start { entropy } => {
                self.entropy = entropy;
                self.hosts = Some(HostProvider::new(self.config.servers.clone(), entropy));
                self.start_connect(now, &mut out);
            }
            ClientInput::Timer(timer) => self.on_timer(now, timer, &mut out),
            ClientInput::Connected { request, conn } => {
                self.on_connected(now, request, conn, &mut out)
            }
            ClientInput::ConnectFailed { request } => {
                if matches!(self.state, State::Connecting { request: r, .. } if r == request) {
                    self.backoff(now, &mut out);
                }
            }
            ClientInput::Message { conn, message } => self.on_message(now, conn, message, &mut out),
            ClientInput::Closed { conn } => {
                if self.conn() == Some(conn) {
                    self.connection_lost(now, &mut out);
                }
            }
            ClientInput::Submit { op, request } => self.submit(now, op, Some(request), &mut out),
            ClientInput::CloseSession { op } => self.submit(now, op, None, &mut out),
        }
        out
    }

    fn conn(&self) -> Option<ClientConn> {
        match self.state {
            State::Handshake { conn, .. } | State::Connected { conn, .. } => Some(conn),
            _ => None,
        }
    }

    fn read_timeout_ns(&self) -> u64 {
        u64::from(self.negotiated_ms) * NS_PER_MS * 2 / 3
    }

    fn start_connect(&mut self, now: LocalTime, out: &mut Vec<ClientAction>) {
        let Some(hosts) = self.hosts.as_mut() else {
            return;
        };
        let server = hosts.next_server();
        let connect_timeout_ms = u64::from(self.config.session_timeout_ms) / hosts.len() as u64;
        self.next_request += 1;
        let request = self.next_request;
        self.state = State::Connecting { request, server };
        out.push(ClientAction::Connect { server, request });
        out.push(ClientAction::SetTimer {
            timer: ClientTimer::ConnectTimeout,
            at: now.plus_millis(connect_timeout_ms.max(1)),
        });
    }

    fn backoff(&mut self, now: LocalTime, out: &mut Vec<ClientAction>) {
        if self.is_terminal() {
            return;
        }
        self.state = State::Backoff;
        // ClientCnxn sleeps a random 0..1000 ms before reconnecting.
        self.entropy = self
            .entropy
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = (self.entropy >> 33) % 1000;
        out.push(ClientAction::CancelTimer {
            timer: ClientTimer::ConnectTimeout,
        });
        out.push(ClientAction::SetTimer {
            timer: ClientTimer::Reconnect,
            at: now.plus_millis(delay + 1),
        });
    }

    fn on_connected(
        &mut self,
        now: LocalTime,
        request: u64,
        conn: ClientConn,
        out: &mut Vec<ClientAction>,
    ) {
        let State::Connecting { request: r, server } = self.state else {
            out.push(ClientAction::Close { conn });
            return;
        };
        if r != request {
            out.push(ClientAction::Close { conn });
            return;
        }
        self.state = State::Handshake { conn, server };
        self.last_recv = now;
        self.send(
            now,
            conn,
            ClientMessage::Connect(ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: self.last_zxid_seen,
                timeout_ms: self.config.session_timeout_ms as i32,
                session_id: self.session,
                passwd: self.passwd.clone(),
                read_only: false,
            }),
            out,
        );
    }

    fn send(
        &mut self,
        now: LocalTime,
        conn: ClientConn,
        message: ClientMessage,
        out: &mut Vec<ClientAction>,
    ) {
        self.last_send = now;
        out.push(ClientAction::Send { conn, message });
    }

    fn on_message(
        &mut self,
        now: LocalTime,
        conn: ClientConn,
        message: ServerMessage,
        out: &mut Vec<ClientAction>,
    ) {
        if self.conn() != Some(conn) {
            return;
        }
        self.last_recv = now;
        match message {
            ServerMessage::Connected(response) => self.on_handshake(now, response, out),
            ServerMessage::Reply {
                xid,
                zxid,
                err,
                response,
            } => self.on_reply(now, xid, zxid, err, response, out),
            ServerMessage::Pong { .. } => {}
            ServerMessage::Notification { zxid, event } => {
                self.watches.on_event(&event);
                out.push(ClientAction::Watch { event, zxid });
            }
        }
    }

    fn on_handshake(
        &mut self,
        now: LocalTime,
        response: ConnectResponse,
        out: &mut Vec<ClientAction>,
    ) {
        let State::Handshake { conn, server } = self.state else {
            return;
        };
        out.push(ClientAction::CancelTimer {
            timer: ClientTimer::ConnectTimeout,
        });
        if response.timeout_ms <= 0 {
            self.expire(out);
            out.push(ClientAction::Close { conn });
            return;
        }
        self.session = response.session_id;
        self.passwd = response.passwd;
        self.negotiated_ms = response.timeout_ms as u32;
        self.state = State::Connected { conn, server };
        out.push(ClientAction::SessionState {
            state: KeeperState::SyncConnected,
            session: self.session,
            server: Some(server),
        });
        if !self.watches.is_empty() {
            let set = self.watches.set_watches(self.last_zxid_seen);
            self.send(now, conn, ClientMessage::SetWatches(set), out);
        }
        while let Some((op, request)) = self.outgoing.pop_front() {
            self.write_request(now, conn, server, op, request, out);
        }
        self.arm_heartbeat(now, out);
    }

    fn write_request(
        &mut self,
        now: LocalTime,
        conn: ClientConn,
        server: ServerId,
        op: OpToken,
        request: Option<Request>,
        out: &mut Vec<ClientAction>,
    ) {
        let xid = Xid(self.next_xid);
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        out.push(ClientAction::Sent {
            op,
            server,
            xid,
            session: self.session,
        });
        let message = match &request {
            Some(request) => ClientMessage::Request {
                xid,
                request: request.clone(),
            },
            None => ClientMessage::CloseSession { xid },
        };
        self.pending.push_back((xid, op, request));
        self.send(now, conn, message, out);
    }

    fn on_reply(
        &mut self,
        now: LocalTime,
        xid: Xid,
        zxid: Zxid,
        err: ErrorCode,
        response: Option<Response>,
        out: &mut Vec<ClientAction>,
    ) {
        let expected = self.pending.front().map(|(x, _, _)| *x);
        if expected != Some(xid) {
            // ClientCnxn: "Xid out of order" — the connection is dropped.
            self.drop_connection(now, out);
            return;
        }
        let Some((_, op, request)) = self.pending.pop_front() else {
            return;
        };
        if zxid.0 > 0 {
            self.last_zxid_seen = self.last_zxid_seen.max(zxid);
        }
        let result = match (err, response) {
            (ErrorCode::OK, Some(response)) => OpResult::Ok { response, zxid },
            (ErrorCode::OK, None) => OpResult::Ok {
                response: Response::Empty,
                zxid,
            },
            (ErrorCode::SESSIONEXPIRED, _) => OpResult::SessionExpired { sent: true },
            (err, _) => OpResult::Error { err, zxid },
        };
        match &request {
            Some(request) => self.watches.on_reply(request, err),
            None => {
                // closeSession answered: the session is over.
                out.push(ClientAction::Completed { op, result });
                self.close_session(out);
                return;
            }
        }
        out.push(ClientAction::Completed { op, result });
    }

    fn submit(
        &mut self,
        now: LocalTime,
        op: OpToken,
        request: Option<Request>,
        out: &mut Vec<ClientAction>,
    ) {
        match self.state {
            State::Expired | State::Closed => out.push(ClientAction::Completed {
                op,
                result: OpResult::SessionExpired { sent: false },
            }),
            State::Connected { conn, server } => {
                self.write_request(now, conn, server, op, request, out)
            }
            _ => self.outgoing.push_back((op, request)),
        }
    }

    fn arm_heartbeat(&mut self, now: LocalTime, out: &mut Vec<ClientAction>) {
        let read_timeout = self.read_timeout_ns();
        let ping_at = self.last_send.0 + read_timeout / 2;
        let dead_at = self.last_recv.0 + read_timeout;
        out.push(ClientAction::SetTimer {
            timer: ClientTimer::Heartbeat,
            at: LocalTime(ping_at.min(dead_at).max(now.0 + 1)),
        });
    }

    fn on_timer(&mut self, now: LocalTime, timer: ClientTimer, out: &mut Vec<ClientAction>) {
        match (timer, self.state) {
            (ClientTimer::ConnectTimeout, State::Connecting { .. } | State::Handshake { .. }) => {
                self.drop_connection(now, out);
            }
            (ClientTimer::Reconnect, State::Backoff) => self.start_connect(now, out),
            (ClientTimer::Heartbeat, State::Connected { conn, .. }) => {
                let read_timeout = self.read_timeout_ns();
                if now.0.saturating_sub(self.last_recv.0) >= read_timeout {
                    self.drop_connection(now, out);
                    return;
                }
                if now.0.saturating_sub(self.last_send.0) >= read_timeout / 2 {
                    self.send(now, conn, ClientMessage::Ping, out);
                }
                self.arm_heartbeat(now, out);
            }
            _ => {}
        }
    }

    /// We give up on the current connection (timeout, protocol error).
    fn drop_connection(&mut self, now: LocalTime, out: &mut Vec<ClientAction>) {
        if let Some(conn) = self.conn() {
            out.push(ClientAction::Close { conn });
        }
        self.connection_lost(now, out);
    }

    /// The connection is gone: fail what was sent, tell the application, try the next server.
    fn connection_lost(&mut self, now: LocalTime, out: &mut Vec<ClientAction>) {
        let was_connected = self.is_connected();
        out.push(ClientAction::CancelTimer {
            timer: ClientTimer::Heartbeat,
        });
        for (_, op, _) in self.pending.drain(..) {
            out.push(ClientAction::Completed {
                op,
                result: OpResult::Unknown {
                    err: ErrorCode::CONNECTIONLOSS,
                },
            });
        }
        if was_connected {
            out.push(ClientAction::SessionState {
                state: KeeperState::Disconnected,
                session: self.session,
                server: None,
            });
        }
        self.backoff(now, out);
    }

    fn expire(&mut self, out: &mut Vec<ClientAction>) {
        self.state = State::Expired;
        self.fail_all(out, true);
        out.push(ClientAction::SessionState {
            state: KeeperState::Expired,
            session: self.session,
            server: None,
        });
    }

    fn close_session(&mut self, out: &mut Vec<ClientAction>) {
        if let Some(conn) = self.conn() {
            out.push(ClientAction::Close { conn });
        }
        self.state = State::Closed;
        self.fail_all(out, false);
        out.push(ClientAction::CancelTimer {
            timer: ClientTimer::Heartbeat,
        });
        out.push(ClientAction::SessionState {
            state: KeeperState::Closed,
            session: self.session,
            server: None,
        });
    }

    fn fail_all(&mut self, out: &mut Vec<ClientAction>, expired: bool) {
        for (_, op, _) in self.pending.drain(..) {
            let result = if expired {
                OpResult::SessionExpired { sent: true }
            } else {
                OpResult::Unknown {
                    err: ErrorCode::CONNECTIONLOSS,
                }
            };
            out.push(ClientAction::Completed { op, result });
        }
        for (op, _) in self.outgoing.drain(..) {
            out.push(ClientAction::Completed {
                op,
                result: OpResult::SessionExpired { sent: false },
            });
        }
    }
}
