//! One ZooKeeper client on the kernel: drives the sans-IO [`ZooKeeper`] client with the
//! full-API [`Workload`], and records every operation (invocation when the request is written
//! to a server, completion when the library reports it), watch notification and session change.
//!
//! The loop is the one `crate::workload` documents: client 0 first submits the workload's
//! `setup()` (the key-space root); then, whenever a `Workload` timer fires, the client tops its
//! in-flight operations up to `concurrency()`; each completion is `observe`d, may close the
//! session (`reopen_session`), and arms the next timer after `delay_ms`. A session that ended
//! (closed by the workload, or expired) is replaced by a new `ZooKeeper` handle, as an
//! application would, until the workload phase ends.

use super::recorder::SharedRecorder;
use super::server_node::node_of;
use super::wire::{Wire, CLIENT_PORT};
use super::NodeTimer;
use crate::kernel::{ConnId, Ctx, Event, SimRng, SimTime, Stream, TimerId};
use crate::workload::Workload;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use zabsim_checkers::history::{
    ClientId, Completion, Invocation, OpId, Outcome, Record, SessionChange, SessionEvent,
    WatchNotification,
};
use zabsim_protocol::client::{
    ClientAction, ClientConfig, ClientConn, ClientInput, ClientTimer, OpResult, OpToken, ZooKeeper,
};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{KeeperState, Request};
use zabsim_protocol::types::ServerId;

/// A client process.
#[derive(Debug)]
pub struct ClientNode {
    id: ClientId,
    /// The client's 0-based index, as the workload knows it.
    index: usize,
    config: ClientConfig,
    zk: ZooKeeper,
    workload: Workload,
    rng: SimRng,
    /// Setup requests not yet submitted (client 0 only).
    setup: VecDeque<Request>,
    /// Whether the workload asked this session to close (a `CloseSession` is outstanding).
    closing: bool,
    /// Sessions this node opened (the first included).
    sessions_opened: u64,
    kernel_of: BTreeMap<ClientConn, ConnId>,
    conn_of: BTreeMap<ConnId, ClientConn>,
    connecting: BTreeMap<ConnId, u64>,
    /// Connection attempts of a replaced handle: closed when they come up.
    abandoned: BTreeSet<ConnId>,
    timers: BTreeMap<ClientTimer, TimerId>,
    requests: BTreeMap<OpToken, Request>,
    next_op: u64,
    next_conn: u64,
    stop_at: SimTime,
    recorder: SharedRecorder,
}

impl ClientNode {
    /// A client numbered `index`, connecting to `servers`, issuing operations until `stop_at`.
    /// Client 0 runs the workload's setup first.
    pub fn new(
        ctx: &mut Ctx<'_, Wire, NodeTimer>,
        index: u32,
        servers: Vec<ServerId>,
        workload: Workload,
        stop_at: SimTime,
        recorder: SharedRecorder,
    ) -> ClientNode {
        let config = ClientConfig {
            servers,
            session_timeout_ms: workload.session_timeout_ms(),
        };
        let setup = if index == 0 {
            workload.setup().into()
        } else {
            VecDeque::new()
        };
        ClientNode {
            id: ClientId(index),
            index: index as usize,
            zk: ZooKeeper::new(config.clone()),
            config,
            workload,
            rng: SimRng::new(ctx.rng().next_u64(), Stream::Node(ctx.node())),
            setup,
            closing: false,
            sessions_opened: 0,
            kernel_of: BTreeMap::new(),
            conn_of: BTreeMap::new(),
            connecting: BTreeMap::new(),
            abandoned: BTreeSet::new(),
            timers: BTreeMap::new(),
            requests: BTreeMap::new(),
            next_op: 0,
            next_conn: 0,
            stop_at,
            recorder,
        }
    }

    /// The client library state (the current session's handle).
    pub fn zk(&self) -> &ZooKeeper {
        &self.zk
    }

    /// Sessions this client opened so far (reopens and renewals after expiry included).
    pub fn sessions_opened(&self) -> u64 {
        self.sessions_opened
    }

    /// Whether operations are pending.
    pub fn work_outstanding(&self) -> bool {
        self.zk.work_outstanding()
    }

    /// Handles one kernel event.
    pub fn on_event(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, event: Event<Wire, NodeTimer>) {
        let input = match event {
            Event::Start => {
                self.sessions_opened += 1;
                self.arm_workload(ctx, 0);
                Some(ClientInput::Start {
                    entropy: self.rng.next_u64(),
                })
            }
            Event::Timer { id, tag } => match tag {
                NodeTimer::Workload => {
                    self.workload_tick(ctx);
                    None
                }
                NodeTimer::Client(timer) if self.timers.get(&timer) == Some(&id) => {
                    self.timers.remove(&timer);
                    Some(ClientInput::Timer(timer))
                }
                _ => None,
            },
            Event::Connected { conn, .. } => {
                if self.abandoned.remove(&conn) {
                    ctx.close(conn);
                }
                self.connecting.remove(&conn).map(|request| {
                    self.next_conn += 1;
                    let c = ClientConn(self.next_conn);
                    self.kernel_of.insert(c, conn);
                    self.conn_of.insert(conn, c);
                    ClientInput::Connected { request, conn: c }
                })
            }
            Event::ConnectFailed { conn, .. } => {
                self.abandoned.remove(&conn);
                self.connecting
                    .remove(&conn)
                    .map(|request| ClientInput::ConnectFailed { request })
            }
            Event::Message { conn, msg, .. } => match (self.conn_of.get(&conn), msg) {
                (Some(c), Wire::ToClient(message)) => {
                    Some(ClientInput::Message { conn: *c, message })
                }
                _ => None,
            },
            Event::Disconnected { conn, .. } => self.conn_of.remove(&conn).map(|c| {
                self.kernel_of.remove(&c);
                ClientInput::Closed { conn: c }
            }),
            Event::Accepted { conn, .. } => {
                ctx.close(conn);
                None
            }
            Event::IoDone { .. } => None,
        };
        if let Some(input) = input {
            self.deliver(ctx, input);
        }
    }

    fn arm_workload(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, after_ms: u64) {
        ctx.set_timer_after(after_ms * 1_000_000, NodeTimer::Workload);
    }

    fn workload_phase_over(&self, ctx: &Ctx<'_, Wire, NodeTimer>) -> bool {
        ctx.observer_now() >= self.stop_at
    }

    /// Tops the in-flight operations up to the workload's concurrency (setup first).
    fn workload_tick(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>) {
        if self.workload_phase_over(ctx) || self.zk.is_terminal() || self.closing {
            return;
        }
        while let Some(request) = self.setup.pop_front() {
            self.submit(ctx, request);
        }
        let limit = self.workload.concurrency() as usize;
        while self.zk.in_flight() < limit && !self.zk.is_terminal() {
            let now = ctx.now();
            let rng = &mut self.rng;
            let Some(request) = self.workload.next(&mut || rng.next_u64(), self.index, now) else {
                break;
            };
            self.submit(ctx, request);
        }
    }

    fn submit(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, request: Request) {
        self.next_op += 1;
        let op = OpToken(self.next_op);
        self.requests.insert(op, request.clone());
        self.deliver(ctx, ClientInput::Submit { op, request });
    }

    fn deliver(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, input: ClientInput) {
        let actions = self.zk.handle(ctx.now(), input);
        for action in actions {
            self.perform(ctx, action);
        }
        if self.zk.is_terminal() {
            self.renew_session(ctx);
        }
    }

    /// The session ended (closed by the workload, or expired): before the workload phase ends,
    /// open a new one with a fresh handle, as an application does.
    fn renew_session(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>) {
        if self.workload_phase_over(ctx) {
            return;
        }
        assert!(
            !self.zk.work_outstanding(),
            "an ended session answered all its operations"
        );
        for (_, timer) in std::mem::take(&mut self.timers) {
            ctx.cancel_timer(timer);
        }
        for (_, kernel) in std::mem::take(&mut self.kernel_of) {
            ctx.close(kernel);
        }
        self.conn_of.clear();
        self.abandoned
            .extend(std::mem::take(&mut self.connecting).into_keys());
        self.closing = false;
        self.zk = ZooKeeper::new(self.config.clone());
        self.sessions_opened += 1;
        let entropy = self.rng.next_u64();
        self.deliver(ctx, ClientInput::Start { entropy });
        self.arm_workload(ctx, 0);
    }

    fn op_id(&self, op: OpToken) -> OpId {
        OpId((u64::from(self.id.0) << 32) | op.0)
    }

    fn record(&self, record: Record) {
        self.recorder.borrow_mut().push(record);
    }

    fn perform(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, action: ClientAction) {
        let now = ctx.observer_now().as_nanos();
        match action {
            ClientAction::Connect { server, request } => {
                let conn = ctx.connect_port(node_of(server), CLIENT_PORT);
                self.connecting.insert(conn, request);
            }
            ClientAction::Send { conn, message } => {
                if let Some(kernel) = self.kernel_of.get(&conn) {
                    let msg = Wire::ToServer(message);
                    self.recorder.borrow_mut().count_message(&msg);
                    ctx.send(*kernel, msg);
                }
            }
            ClientAction::Close { conn } => {
                if let Some(kernel) = self.kernel_of.remove(&conn) {
                    self.conn_of.remove(&kernel);
                    ctx.close(kernel);
                }
            }
            ClientAction::SetTimer { timer, at } => {
                if let Some(old) = self.timers.remove(&timer) {
                    ctx.cancel_timer(old);
                }
                let id = ctx.set_timer(at, NodeTimer::Client(timer));
                self.timers.insert(timer, id);
            }
            ClientAction::CancelTimer { timer } => {
                if let Some(old) = self.timers.remove(&timer) {
                    ctx.cancel_timer(old);
                }
            }
            ClientAction::Sent {
                op,
                server,
                xid,
                session,
            } => {
                if let Some(request) = self.requests.get(&op) {
                    self.record(Record::Invoke(Invocation {
                        id: self.op_id(op),
                        time_ns: now,
                        client: self.id,
                        session,
                        server: Some(server),
                        xid,
                        request: request.clone(),
                    }));
                }
            }
            ClientAction::Completed { op, result } => self.completed(ctx, now, op, result),
            ClientAction::Watch { event, zxid } => self.record(Record::Watch(WatchNotification {
                time_ns: now,
                client: self.id,
                session: self.zk.session(),
                zxid,
                event,
            })),
            ClientAction::SessionState {
                state,
                session,
                server,
            } => {
                let change = match (state, server) {
                    (KeeperState::SyncConnected, Some(server)) => SessionChange::Connected {
                        server,
                        timeout_ms: self.workload.session_timeout_ms() as i32,
                        last_zxid_seen: self.zk.last_zxid_seen(),
                    },
                    (KeeperState::Expired, _) => SessionChange::Expired,
                    (KeeperState::Closed, _) => SessionChange::Closed,
                    _ => SessionChange::Disconnected,
                };
                self.record(Record::Session(SessionEvent {
                    time_ns: now,
                    client: self.id,
                    session,
                    change,
                }));
            }
        }
    }

    fn completed(
        &mut self,
        ctx: &mut Ctx<'_, Wire, NodeTimer>,
        now: u64,
        op: OpToken,
        result: OpResult,
    ) {
        let Some(request) = self.requests.remove(&op) else {
            return;
        };
        self.workload.observe(self.index, &request, &result);
        let outcome = match result {
            OpResult::Ok { response, zxid } => Some(Outcome::Ok { zxid, response }),
            OpResult::Error { err, zxid } => Some(Outcome::Error { zxid, err }),
            OpResult::Unknown { err } => Some(Outcome::Unknown { err }),
            OpResult::SessionExpired { sent: false } => None, // never invoked
            OpResult::SessionExpired { sent: true } => Some(Outcome::Unknown {
                err: ErrorCode::SESSIONEXPIRED,
            }),
        };
        if let Some(outcome) = outcome {
            self.record(Record::Complete(Completion {
                id: self.op_id(op),
                time_ns: now,
                outcome,
            }));
        }
        if self.zk.is_terminal() || self.workload_phase_over(ctx) {
            return;
        }
        let rng = &mut self.rng;
        if !self.closing && self.workload.reopen_session(&mut || rng.next_u64()) {
            self.closing = true;
            self.next_op += 1;
            let close = OpToken(self.next_op);
            self.deliver(ctx, ClientInput::CloseSession { op: close });
            return;
        }
        let rng = &mut self.rng;
        let delay = self.workload.delay_ms(&mut || rng.next_u64());
        self.arm_workload(ctx, delay);
    }
}
