//! Client connections (`NIOServerCnxn` + the session-ordered `CommitProcessor` view): the
//! ConnectRequest handshake (refusing a client that has seen a later zxid than ours; new
//! sessions become createSession txns; resumed sessions are revalidated with the leader),
//! requests in per-session order (writes go to the leader, reads are served locally once the
//! session's earlier writes are answered), replies carrying ZooKeeper's reply-header zxid, and
//! watch notifications sent before the reply of the txn that fired them.

use super::io::{Conn, ServerAction};
use super::quorum_packet::QuorumPacket;
use super::{QuorumPeer, Role};
use crate::error_code::ErrorCode;
use crate::observe::ZabState;
use crate::op_code::OpCode;
use crate::request::{Request, Response};
use crate::session_wire::{ClientMessage, ConnectRequest, ConnectResponse, ServerMessage};
use crate::store::session::{generate_passwd, initialize_next_session_id};
use crate::store::{Applied, RequestContext, SessionChange, WriteRequest};
use crate::types::Zxid;
use crate::types::{ServerId, SessionId, Xid};
use std::collections::{BTreeMap, VecDeque};

/// A request waiting in a session's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Queued {
    /// A write submitted to the leader.
    Write(Xid),
    /// A read to answer locally.
    Read(Xid, Request),
    /// A `sync` forwarded to the leader.
    Sync(Xid),
    /// `closeSession`.
    Close(Xid),
}

/// One client connection.
#[derive(Clone, Debug, Default)]
pub struct ClientCnxn {
    /// The session, once the handshake assigned one.
    pub session: Option<SessionId>,
    /// The negotiated timeout.
    pub timeout_ms: i32,
    /// Requests in session order.
    pub queue: VecDeque<Queued>,
}

/// The server's client connections.
#[derive(Debug, Default)]
pub struct Clients {
    cnxns: BTreeMap<Conn, ClientCnxn>,
    by_session: BTreeMap<SessionId, Conn>,
    pending_connect: BTreeMap<SessionId, Conn>,
    next_session_id: i64,
}

impl Clients {
    /// A client connected.
    pub fn accept(&mut self, conn: Conn) {
        self.cnxns.insert(conn, ClientCnxn::default());
    }

    /// Whether `conn` is a client connection.
    pub fn is_client(&self, conn: Conn) -> bool {
        self.cnxns.contains_key(&conn)
    }

    /// Drops every connection (the server stops serving); returns them to close and the
    /// sessions that were connected (their watches go with their connections).
    pub fn close_all(&mut self) -> (Vec<Conn>, Vec<SessionId>) {
        let sessions = std::mem::take(&mut self.by_session).into_keys().collect();
        self.pending_connect.clear();
        (
            std::mem::take(&mut self.cnxns).into_keys().collect(),
            sessions,
        )
    }

    /// Whether a request is waiting for its answer.
    pub fn work_outstanding(&self) -> bool {
        !self.pending_connect.is_empty() || self.cnxns.values().any(|c| !c.queue.is_empty())
    }

    /// `SessionTrackerImpl.initializeNextSession`.
    pub fn init_session_ids(&mut self, myid: ServerId, now_ms: i64) {
        self.next_session_id = initialize_next_session_id(myid.0, now_ms);
    }
}

impl QuorumPeer {
    fn serving(&self) -> bool {
        self.zab == ZabState::Broadcast && !matches!(self.role, Role::Looking)
    }

    pub(crate) fn on_client(
        &mut self,
        conn: Conn,
        message: ClientMessage,
        out: &mut Vec<ServerAction>,
    ) {
        let Some(cnxn) = self.clients.cnxns.get(&conn) else {
            return;
        };
        let session = cnxn.session;
        match (message, session) {
            (ClientMessage::Connect(req), None) => self.client_connect(conn, req, out),
            (_, None) | (ClientMessage::Connect(_), Some(_)) => self.client_close(conn, out),
            (ClientMessage::Ping, Some(s)) => {
                self.client_touch(conn, s);
                let zxid = self.db.last_processed_zxid();
                out.push(ServerAction::Reply {
                    conn,
                    message: ServerMessage::Pong { zxid },
                });
            }
            (ClientMessage::SetWatches(sw), Some(s)) => {
                let zxid = self.db.last_processed_zxid();
                // What setWatches fires was triggered by no txn of this server: ZooKeeper 3.9
                // sends it with the zxid -1 (`WatchedEvent.NO_ZXID`).
                for n in self.db.set_watches(s, &sw) {
                    out.push(ServerAction::Reply {
                        conn,
                        message: ServerMessage::Notification {
                            zxid: Zxid::NONE,
                            event: n.event,
                        },
                    });
                }
                // FinalRequestProcessor answers setWatches (xid -8) after firing what changed;
                // ClientCnxn keeps the packet in its pendingQueue until this reply.
                out.push(ServerAction::Reply {
                    conn,
                    message: ServerMessage::Reply {
                        xid: crate::session_wire::XID_SET_WATCHES,
                        zxid,
                        err: ErrorCode::OK,
                        response: None,
                    },
                });
            }
            (ClientMessage::CloseSession { xid }, Some(s)) => {
                self.client_touch(conn, s);
                self.client_queue(conn, Queued::Close(xid));
                let msg = ClientMessage::CloseSession { xid };
                self.submit_write(conn, s, xid, WriteRequest::CloseSession, msg, out);
            }
            (ClientMessage::Request { xid, request }, Some(s)) => {
                self.client_touch(conn, s);
                self.client_request(conn, s, xid, request, out);
            }
        }
    }

    fn client_queue(&mut self, conn: Conn, q: Queued) {
        if let Some(c) = self.clients.cnxns.get_mut(&conn) {
            c.queue.push_back(q);
        }
    }

    fn client_close(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        self.client_closed(conn);
        out.push(ServerAction::Close { conn });
    }

    fn client_touch(&mut self, conn: Conn, session: SessionId) {
        let timeout = self.clients.cnxns.get(&conn).map_or(0, |c| c.timeout_ms);
        let now = self.now_ms();
        match &mut self.role {
            Role::Leading(_) => {
                self.db.session_tracker.touch_session(session, timeout, now);
            }
            Role::Learning(l) => {
                l.touches.insert(session, timeout);
            }
            Role::Looking => {}
        }
    }

    fn client_connect(&mut self, conn: Conn, req: ConnectRequest, out: &mut Vec<ServerAction>) {
        // ZooKeeperServer.processConnectRequest: not serving, or the client has seen more.
        if !self.serving() || req.last_zxid_seen > self.db.last_processed_zxid() {
            self.client_close(conn, out);
            return;
        }
        let timeout = self.db.negotiate_timeout(req.timeout_ms);
        if let Some(c) = self.clients.cnxns.get_mut(&conn) {
            c.timeout_ms = timeout;
        }
        if req.session_id.0 == 0 {
            let session = SessionId(self.clients.next_session_id);
            self.clients.next_session_id += 1;
            self.clients.pending_connect.insert(session, conn);
            let forward = ClientMessage::Connect(ConnectRequest {
                session_id: session,
                timeout_ms: timeout,
                ..req
            });
            let write = WriteRequest::CreateSession {
                timeout_ms: timeout,
            };
            self.submit_write(conn, session, Xid(0), write, forward, out);
            return;
        }
        let session = req.session_id;
        if req.passwd != generate_passwd(session) {
            self.finish_connect(conn, session, false, out);
            return;
        }
        match &mut self.role {
            Role::Leading(_) => {
                let now = self.now_ms();
                let valid = self.db.session_tracker.touch_session(session, timeout, now);
                self.finish_connect(conn, session, valid, out);
            }
            Role::Learning(l) => {
                self.clients.pending_connect.insert(session, conn);
                if let Some(leader) = l.conn {
                    out.push(ServerAction::SendPacket {
                        conn: leader,
                        packet: QuorumPacket::Revalidate {
                            session,
                            timeout_ms: timeout,
                            valid: false,
                        },
                    });
                }
            }
            Role::Looking => self.client_close(conn, out),
        }
    }

    fn finish_connect(
        &mut self,
        conn: Conn,
        session: SessionId,
        valid: bool,
        out: &mut Vec<ServerAction>,
    ) {
        let Some(c) = self.clients.cnxns.get_mut(&conn) else {
            return;
        };
        let response = if valid {
            c.session = Some(session);
            self.clients.by_session.insert(session, conn);
            ConnectResponse {
                protocol_version: 0,
                timeout_ms: c.timeout_ms,
                session_id: session,
                passwd: generate_passwd(session),
                read_only: false,
            }
        } else {
            ConnectResponse {
                protocol_version: 0,
                timeout_ms: 0,
                session_id: SessionId(0),
                passwd: vec![0; 16],
                read_only: false,
            }
        };
        out.push(ServerAction::Reply {
            conn,
            message: ServerMessage::Connected(response),
        });
        if !valid {
            self.client_close(conn, out);
        }
    }

    /// The leader answered a REVALIDATE.
    pub(crate) fn client_revalidated(
        &mut self,
        session: SessionId,
        valid: bool,
        out: &mut Vec<ServerAction>,
    ) {
        if let Some(conn) = self.clients.pending_connect.remove(&session) {
            self.finish_connect(conn, session, valid, out);
        }
    }

    fn submit_write(
        &mut self,
        conn: Conn,
        session: SessionId,
        xid: Xid,
        write: WriteRequest,
        forward: ClientMessage,
        out: &mut Vec<ServerAction>,
    ) {
        match &self.role {
            Role::Leading(_) => self.propose(session, xid, write, out),
            Role::Learning(_) => self.forward_to_leader(conn, session, forward, out),
            Role::Looking => {}
        }
    }

    /// REQUEST to the leader; `cnxn` names the client connection that gets the answer.
    fn forward_to_leader(
        &mut self,
        conn: Conn,
        session: SessionId,
        message: ClientMessage,
        out: &mut Vec<ServerAction>,
    ) {
        if let Role::Learning(l) = &self.role {
            if let Some(leader) = l.conn {
                out.push(ServerAction::SendPacket {
                    conn: leader,
                    packet: QuorumPacket::Request {
                        session,
                        message,
                        cnxn: conn.0,
                    },
                });
            }
        }
    }

    fn client_request(
        &mut self,
        conn: Conn,
        session: SessionId,
        xid: Xid,
        request: Request,
        out: &mut Vec<ServerAction>,
    ) {
        let op = request.op_code();
        let learner = matches!(self.role, Role::Learning(_));
        if op.is_write() {
            self.client_queue(conn, Queued::Write(xid));
            let forward = ClientMessage::Request {
                xid,
                request: request.clone(),
            };
            self.submit_write(
                conn,
                session,
                xid,
                WriteRequest::Client(request),
                forward,
                out,
            );
        } else if op == OpCode::Sync && learner {
            self.client_queue(conn, Queued::Sync(xid));
            // FollowerRequestProcessor forwards sync; the leader answers with SYNC.
            let forward = ClientMessage::Request { xid, request };
            self.forward_to_leader(conn, session, forward, out);
        } else {
            self.client_queue(conn, Queued::Read(xid, request));
            self.client_drain(conn, out);
        }
    }

    /// Answers the reads at the head of the session's queue.
    fn client_drain(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        loop {
            let Some(c) = self.clients.cnxns.get_mut(&conn) else {
                return;
            };
            let Some(Queued::Read(xid, request)) = c.queue.front().cloned() else {
                return;
            };
            c.queue.pop_front();
            let Some(session) = c.session else {
                return;
            };
            let ctx = RequestContext {
                session,
                xid,
                auth: Vec::new(),
            };
            let result = self.db.read(&ctx, &request);
            let zxid = self.db.last_processed_zxid();
            out.push(ServerAction::Reply {
                conn,
                message: reply(xid, zxid, result),
            });
        }
    }

    /// A forwarded `sync` came back from the leader.
    pub(crate) fn client_sync_done(
        &mut self,
        session: SessionId,
        xid: i32,
        path: String,
        out: &mut Vec<ServerAction>,
    ) {
        let Some(&conn) = self.clients.by_session.get(&session) else {
            return;
        };
        let Some(c) = self.clients.cnxns.get_mut(&conn) else {
            return;
        };
        if c.queue.front() != Some(&Queued::Sync(Xid(xid))) {
            return;
        }
        c.queue.pop_front();
        let zxid = self.db.last_processed_zxid();
        out.push(ServerAction::Reply {
            conn,
            message: reply(Xid(xid), zxid, Ok(Response::Sync { path })),
        });
        self.client_drain(conn, out);
    }

    /// A txn was applied here: watch notifications first, then the waiting client's reply.
    pub(crate) fn clients_applied(&mut self, applied: &Applied, out: &mut Vec<ServerAction>) {
        for n in &applied.events {
            if let Some(&conn) = self.clients.by_session.get(&n.session) {
                out.push(ServerAction::Reply {
                    conn,
                    message: ServerMessage::Notification {
                        zxid: applied.zxid,
                        event: n.event.clone(),
                    },
                });
            }
        }
        if let Some(SessionChange::Created { session, .. }) = &applied.session_change {
            if let Some(conn) = self.clients.pending_connect.remove(session) {
                self.finish_connect(conn, *session, true, out);
            }
            return;
        }
        let Some(&conn) = self.clients.by_session.get(&applied.session) else {
            return;
        };
        let closed = matches!(applied.session_change, Some(SessionChange::Closed { .. }));
        let Some(c) = self.clients.cnxns.get_mut(&conn) else {
            return;
        };
        let head = c.queue.front().cloned();
        match head {
            Some(Queued::Write(xid) | Queued::Close(xid)) if xid == applied.xid => {
                c.queue.pop_front();
                out.push(ServerAction::Reply {
                    conn,
                    message: reply(xid, applied.zxid, applied.response.clone()),
                });
            }
            _ => {}
        }
        if closed {
            self.client_close(conn, out);
        } else {
            self.client_drain(conn, out);
        }
    }

    /// A client connection closed.
    pub(crate) fn client_closed(&mut self, conn: Conn) {
        let Some(c) = self.clients.cnxns.remove(&conn) else {
            return;
        };
        if let Some(s) = c.session {
            if self.clients.by_session.get(&s) == Some(&conn) {
                self.clients.by_session.remove(&s);
                self.db.remove_connection(s);
            }
        }
        self.clients.pending_connect.retain(|_, c| *c != conn);
    }
}

fn reply(xid: Xid, zxid: crate::types::Zxid, result: Result<Response, ErrorCode>) -> ServerMessage {
    match result {
        Ok(response) => ServerMessage::Reply {
            xid,
            zxid,
            err: ErrorCode::OK,
            response: Some(response),
        },
        Err(err) => ServerMessage::Reply {
            xid,
            zxid,
            err,
            response: None,
        },
    }
}
