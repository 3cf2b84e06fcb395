//! One ZooKeeper server on the kernel: translates kernel events into [`ServerInput`]s for the
//! sans-IO [`QuorumPeer`] and performs its [`ServerAction`]s through the kernel's `Ctx`.
//!
//! The election channel is `QuorumCnxManager`'s job and is done here: a server that wants to send
//! a vote to a peer without a connection opens one on port 3888 and introduces itself with its
//! sid; as in ZooKeeper, a connection survives only if it was opened by the higher sid (the higher
//! sid drops a connection from a lower one and connects back), and the send queue per peer holds
//! one vote — the newest.

use super::recorder::SharedRecorder;
use super::wire::{Wire, CLIENT_PORT, ELECTION_PORT, QUORUM_PORT};
use super::NodeTimer;
use crate::kernel::{ConnId, Ctx, DiskError, Event, IoId, NodeId, TimerId};
use std::collections::BTreeMap;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::server::{
    Conn, DataDir, DiskFailure, DiskRequest, IoToken, Notification, Port, QuorumConfig, QuorumPeer,
    ServerAction, ServerInput, ServerTimer,
};
use zabsim_protocol::types::ServerId;

/// The kernel node of server `sid` (servers are nodes `0..n`, sids `1..=n`).
pub fn node_of(sid: ServerId) -> NodeId {
    NodeId(sid.0 as u32 - 1)
}

/// The sid of server node `node`.
pub fn sid_of(node: NodeId) -> ServerId {
    ServerId(u64::from(node.0) + 1)
}

/// What a kernel connection is to this server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// An election connection; `peer` is known once the hello arrived (or we opened it).
    Election { peer: Option<ServerId>, open: bool },
    /// A quorum or client connection known to the peer as `conn`.
    Peer(Conn),
    /// Our pending connection to the leader (the request id of `ConnectToLeader`).
    LeaderPending(u64),
}

/// The election channel to one peer.
#[derive(Clone, Debug, Default)]
struct ElectionLink {
    conn: Option<ConnId>,
    queued: Option<Notification>,
}

/// A server process.
#[derive(Debug)]
pub struct ServerNode {
    sid: ServerId,
    peer: QuorumPeer,
    links: BTreeMap<ConnId, Link>,
    conns: BTreeMap<Conn, ConnId>,
    election: BTreeMap<ServerId, ElectionLink>,
    io: BTreeMap<IoId, IoToken>,
    timers: BTreeMap<ServerTimer, TimerId>,
    next_conn: u64,
    halted: bool,
    recorder: SharedRecorder,
}

impl ServerNode {
    /// Boots the server from its disk (the kernel calls this at every start).
    pub fn boot(
        ctx: &mut Ctx<'_, Wire, NodeTimer>,
        config: QuorumConfig,
        recorder: SharedRecorder,
    ) -> ServerNode {
        let sid = sid_of(ctx.node());
        let mut data_dir = DataDir::new();
        for file in ctx.list() {
            let bytes = ctx.read(&file).map_err(|e| disk_failure(&e));
            data_dir.insert(file, bytes);
        }
        if ctx.incarnation() > 0 {
            let now = ctx.observer_now().as_nanos();
            recorder
                .borrow_mut()
                .observe(now, Observation::Crashed { server: sid });
        }
        ServerNode {
            sid,
            peer: QuorumPeer::boot(config, sid, data_dir),
            links: BTreeMap::new(),
            conns: BTreeMap::new(),
            election: BTreeMap::new(),
            io: BTreeMap::new(),
            timers: BTreeMap::new(),
            next_conn: 0,
            halted: false,
            recorder,
        }
    }

    /// The sans-IO server.
    pub fn peer(&self) -> &QuorumPeer {
        &self.peer
    }

    /// Whether the server stopped itself (a `Halt`).
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// Whether the server holds work it has not finished.
    pub fn work_outstanding(&self) -> bool {
        !self.halted && self.peer.work_outstanding()
    }

    /// Handles one kernel event.
    pub fn on_event(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, event: Event<Wire, NodeTimer>) {
        if self.halted {
            return;
        }
        let input = match event {
            Event::Start => Some(ServerInput::Start {
                entropy: ctx.rng().next_u64(),
            }),
            Event::Timer { id, tag } => self.on_timer(id, tag),
            Event::Accepted { conn, port, .. } => self.on_accepted(ctx, conn, port),
            Event::Connected { conn, .. } => self.on_connected(ctx, conn),
            Event::ConnectFailed { conn, .. } => self.on_connect_failed(conn),
            Event::Message { conn, msg, .. } => self.on_message(ctx, conn, msg),
            Event::Disconnected { conn, .. } => self.on_disconnected(conn),
            Event::IoDone { io, result } => {
                self.io.remove(&io).map(|token| ServerInput::DiskDone {
                    io: token,
                    result: result.map_err(|e| disk_failure(&e)),
                })
            }
        };
        if let Some(input) = input {
            self.deliver(ctx, input);
        }
    }

    fn deliver(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, input: ServerInput) {
        let actions = self.peer.handle(ctx.now(), input);
        for action in actions {
            self.perform(ctx, action);
            if self.halted {
                return;
            }
        }
    }

    fn on_timer(&mut self, id: TimerId, tag: NodeTimer) -> Option<ServerInput> {
        let NodeTimer::Server(timer) = tag else {
            return None;
        };
        if self.timers.get(&timer) != Some(&id) {
            return None; // re-armed or cancelled since
        }
        self.timers.remove(&timer);
        Some(ServerInput::Timer(timer))
    }

    fn new_conn(&mut self, kernel: ConnId) -> Conn {
        self.next_conn += 1;
        let conn = Conn(self.next_conn);
        self.conns.insert(conn, kernel);
        self.links.insert(kernel, Link::Peer(conn));
        conn
    }

    fn on_accepted(
        &mut self,
        ctx: &mut Ctx<'_, Wire, NodeTimer>,
        kernel: ConnId,
        port: u16,
    ) -> Option<ServerInput> {
        match port {
            ELECTION_PORT => {
                self.links.insert(
                    kernel,
                    Link::Election {
                        peer: None,
                        open: true,
                    },
                );
                None
            }
            QUORUM_PORT | CLIENT_PORT => {
                let conn = self.new_conn(kernel);
                let port = if port == QUORUM_PORT {
                    Port::Quorum
                } else {
                    Port::Client
                };
                Some(ServerInput::Accepted { conn, port })
            }
            _ => {
                ctx.close(kernel);
                None
            }
        }
    }

    fn on_connected(
        &mut self,
        ctx: &mut Ctx<'_, Wire, NodeTimer>,
        kernel: ConnId,
    ) -> Option<ServerInput> {
        match self.links.get(&kernel).copied() {
            Some(Link::LeaderPending(request)) => {
                self.links.remove(&kernel);
                let conn = self.new_conn(kernel);
                Some(ServerInput::LeaderConnected { request, conn })
            }
            Some(Link::Election {
                peer: Some(peer), ..
            }) => {
                self.links.insert(
                    kernel,
                    Link::Election {
                        peer: Some(peer),
                        open: true,
                    },
                );
                self.flush_vote(ctx, peer);
                None
            }
            _ => None,
        }
    }

    fn on_connect_failed(&mut self, kernel: ConnId) -> Option<ServerInput> {
        match self.links.remove(&kernel) {
            Some(Link::LeaderPending(request)) => {
                Some(ServerInput::LeaderConnectFailed { request })
            }
            Some(Link::Election {
                peer: Some(peer), ..
            }) => {
                // The vote stays queued; the next vote to this peer retries the connection, as
                // QuorumCnxManager does on its next send.
                if let Some(link) = self.election.get_mut(&peer) {
                    if link.conn == Some(kernel) {
                        link.conn = None;
                    }
                }
                None
            }
            _ => None,
        }
    }

    fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Wire, NodeTimer>,
        kernel: ConnId,
        msg: Wire,
    ) -> Option<ServerInput> {
        match (self.links.get(&kernel).copied(), msg) {
            (Some(Link::Election { peer: None, .. }), Wire::ElectionHello { sid }) => {
                self.on_election_hello(ctx, kernel, sid);
                None
            }
            (
                Some(Link::Election {
                    peer: Some(from), ..
                }),
                Wire::Vote(notification),
            ) => Some(ServerInput::Notification { from, notification }),
            (Some(Link::Peer(conn)), Wire::Quorum(packet)) => {
                Some(ServerInput::Packet { conn, packet })
            }
            (Some(Link::Peer(conn)), Wire::ToServer(message)) => {
                Some(ServerInput::Client { conn, message })
            }
            _ => None,
        }
    }

    /// A peer opened an election connection to us and said who it is.
    fn on_election_hello(
        &mut self,
        ctx: &mut Ctx<'_, Wire, NodeTimer>,
        kernel: ConnId,
        from: ServerId,
    ) {
        if from < self.sid {
            // QuorumCnxManager: only the higher sid keeps a connection; drop it and connect back.
            self.links.remove(&kernel);
            ctx.close(kernel);
            self.open_election(ctx, from);
            return;
        }
        let link = self.election.entry(from).or_default();
        if let Some(old) = link.conn.replace(kernel) {
            if old != kernel {
                self.links.remove(&old);
                ctx.close(old);
            }
        }
        self.links.insert(
            kernel,
            Link::Election {
                peer: Some(from),
                open: true,
            },
        );
        self.flush_vote(ctx, from);
    }

    fn on_disconnected(&mut self, kernel: ConnId) -> Option<ServerInput> {
        match self.links.remove(&kernel) {
            Some(Link::Peer(conn)) => {
                self.conns.remove(&conn);
                Some(ServerInput::Closed { conn })
            }
            Some(Link::LeaderPending(request)) => {
                Some(ServerInput::LeaderConnectFailed { request })
            }
            Some(Link::Election {
                peer: Some(peer), ..
            }) => {
                if let Some(link) = self.election.get_mut(&peer) {
                    if link.conn == Some(kernel) {
                        link.conn = None;
                    }
                }
                None
            }
            _ => None,
        }
    }

    fn open_election(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, to: ServerId) {
        let link = self.election.entry(to).or_default();
        if link.conn.is_some() {
            return;
        }
        let kernel = ctx.connect_port(node_of(to), ELECTION_PORT);
        link.conn = Some(kernel);
        self.links.insert(
            kernel,
            Link::Election {
                peer: Some(to),
                open: false,
            },
        );
        let hello = Wire::ElectionHello { sid: self.sid };
        self.recorder.borrow_mut().count_message(&hello);
        ctx.send(kernel, hello);
    }

    fn send_vote(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, to: ServerId, n: Notification) {
        if to == self.sid {
            return;
        }
        self.election.entry(to).or_default().queued = Some(n);
        let has_conn = self.election.get(&to).is_some_and(|l| l.conn.is_some());
        if has_conn {
            self.flush_vote(ctx, to);
        } else {
            // A lower sid still connects and introduces itself; the higher sid connects back.
            self.open_election(ctx, to);
        }
    }

    fn flush_vote(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, to: ServerId) {
        let Some(link) = self.election.get_mut(&to) else {
            return;
        };
        let Some(kernel) = link.conn else {
            return;
        };
        let open = matches!(
            self.links.get(&kernel),
            Some(Link::Election { open: true, .. })
        );
        if !open {
            return;
        }
        if let Some(n) = link.queued.take() {
            let msg = Wire::Vote(n);
            self.recorder.borrow_mut().count_message(&msg);
            ctx.send(kernel, msg);
        }
    }

    fn send(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, conn: Conn, msg: Wire) {
        if let Some(kernel) = self.conns.get(&conn).copied() {
            self.recorder.borrow_mut().count_message(&msg);
            ctx.send(kernel, msg);
        }
    }

    fn perform(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, action: ServerAction) {
        match action {
            ServerAction::SendNotification { to, notification } => {
                self.send_vote(ctx, to, notification)
            }
            ServerAction::ConnectToLeader { leader, request } => {
                let kernel = ctx.connect_port(node_of(leader), QUORUM_PORT);
                self.links.insert(kernel, Link::LeaderPending(request));
            }
            ServerAction::SendPacket { conn, packet } => self.send(ctx, conn, Wire::Quorum(packet)),
            ServerAction::Reply { conn, message } => self.send(ctx, conn, Wire::ToClient(message)),
            ServerAction::Close { conn } => {
                if let Some(kernel) = self.conns.remove(&conn) {
                    self.links.remove(&kernel);
                    ctx.close(kernel);
                }
            }
            ServerAction::SetTimer { timer, at } => {
                if let Some(old) = self.timers.remove(&timer) {
                    ctx.cancel_timer(old);
                }
                let id = ctx.set_timer(at, NodeTimer::Server(timer));
                self.timers.insert(timer, id);
            }
            ServerAction::CancelTimer { timer } => {
                if let Some(old) = self.timers.remove(&timer) {
                    ctx.cancel_timer(old);
                }
            }
            ServerAction::Disk { io, op } => {
                let id = issue_disk(ctx, &op);
                self.io.insert(id, io);
            }
            ServerAction::Observe(observation) => {
                let now = ctx.observer_now().as_nanos();
                self.recorder.borrow_mut().observe(now, observation);
            }
            ServerAction::Halt { reason } => {
                tracing::warn!(sid = self.sid.0, %reason, "server halted");
                self.recorder.borrow_mut().halted(self.sid, reason);
                self.halted = true;
                ctx.exit();
            }
        }
    }
}

fn issue_disk(ctx: &mut Ctx<'_, Wire, NodeTimer>, op: &DiskRequest) -> IoId {
    match op {
        DiskRequest::Append { file, bytes } => ctx.append(file, bytes),
        DiskRequest::Write {
            file,
            offset,
            bytes,
        } => ctx.write(file, *offset, bytes),
        DiskRequest::Truncate { file, len } => ctx.truncate(file, *len),
        DiskRequest::Fsync { file } => ctx.fsync(file),
        DiskRequest::FsyncDir => ctx.fsync_dir(),
        DiskRequest::Rename { from, to } => ctx.rename(from, to),
        DiskRequest::Delete { file } => ctx.delete(file),
    }
}

fn disk_failure(error: &DiskError) -> DiskFailure {
    match error {
        DiskError::NoSpace => DiskFailure::NoSpace,
        _ => DiskFailure::Io,
    }
}
