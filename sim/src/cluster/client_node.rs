//! One ZooKeeper client on the kernel: drives the sans-IO [`ZooKeeper`] client with the
//! [`Workload`], and records every operation (invocation when the request is written to a
//! server, completion when the library reports it), watch notification and session change.

use super::recorder::SharedRecorder;
use super::server_node::node_of;
use super::wire::{Wire, CLIENT_PORT};
use super::workload::Workload;
use super::NodeTimer;
use crate::kernel::{ConnId, Ctx, Event, SimRng, SimTime, Stream, TimerId};
use std::collections::BTreeMap;
use zabsim_checkers::history::{
    ClientId, Completion, Invocation, OpId, Outcome, Record, SessionChange, SessionEvent,
    WatchNotification,
};
use zabsim_protocol::client::{
    ClientAction, ClientConfig, ClientConn, ClientInput, ClientTimer, OpResult, OpToken, ZooKeeper,
};
use zabsim_protocol::request::{KeeperState, Request, Response};
use zabsim_protocol::types::ServerId;

/// A client process.
#[derive(Debug)]
pub struct ClientNode {
    id: ClientId,
    zk: ZooKeeper,
    workload: Workload,
    rng: SimRng,
    kernel_of: BTreeMap<ClientConn, ConnId>,
    conn_of: BTreeMap<ConnId, ClientConn>,
    connecting: BTreeMap<ConnId, u64>,
    timers: BTreeMap<ClientTimer, TimerId>,
    requests: BTreeMap<OpToken, Request>,
    next_op: u64,
    next_conn: u64,
    stop_at: SimTime,
    recorder: SharedRecorder,
}

impl ClientNode {
    /// A client numbered `index`, connecting to `servers`, issuing operations until `stop_at`.
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
            session_timeout_ms: workload.config().session_timeout_ms,
        };
        ClientNode {
            id: ClientId(index),
            zk: ZooKeeper::new(config),
            workload,
            rng: SimRng::new(ctx.rng().next_u64(), Stream::Node(ctx.node())),
            kernel_of: BTreeMap::new(),
            conn_of: BTreeMap::new(),
            connecting: BTreeMap::new(),
            timers: BTreeMap::new(),
            requests: BTreeMap::new(),
            next_op: 0,
            next_conn: 0,
            stop_at,
            recorder,
        }
    }

    /// The client library state.
    pub fn zk(&self) -> &ZooKeeper {
        &self.zk
    }

    /// Whether operations are pending.
    pub fn work_outstanding(&self) -> bool {
        self.zk.work_outstanding()
    }

    /// Handles one kernel event.
    pub fn on_event(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, event: Event<Wire, NodeTimer>) {
        let input = match event {
            Event::Start => {
                self.arm_workload(ctx);
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
            Event::Connected { conn, .. } => self.connecting.remove(&conn).map(|request| {
                self.next_conn += 1;
                let c = ClientConn(self.next_conn);
                self.kernel_of.insert(c, conn);
                self.conn_of.insert(conn, c);
                ClientInput::Connected { request, conn: c }
            }),
            Event::ConnectFailed { conn, .. } => self
                .connecting
                .remove(&conn)
                .map(|request| ClientInput::ConnectFailed { request }),
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

    fn arm_workload(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>) {
        let think = self.workload.think_ms(&mut self.rng);
        ctx.set_timer_after(think * 1_000_000, NodeTimer::Workload);
    }

    fn workload_tick(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>) {
        if ctx.observer_now() >= self.stop_at || self.zk.is_terminal() {
            return;
        }
        if self.zk.in_flight() == 0 {
            let request = self.workload.next_request(&mut self.rng);
            self.next_op += 1;
            let op = OpToken(self.next_op);
            self.requests.insert(op, request.clone());
            self.deliver(ctx, ClientInput::Submit { op, request });
        }
        self.arm_workload(ctx);
    }

    fn deliver(&mut self, ctx: &mut Ctx<'_, Wire, NodeTimer>, input: ClientInput) {
        let actions = self.zk.handle(ctx.now(), input);
        for action in actions {
            self.perform(ctx, action);
        }
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
            ClientAction::Completed { op, result } => self.completed(now, op, result),
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
                        timeout_ms: self.workload.config().session_timeout_ms as i32,
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

    fn completed(&mut self, now: u64, op: OpToken, result: OpResult) {
        let Some(request) = self.requests.remove(&op) else {
            return;
        };
        let outcome = match result {
            OpResult::Ok { response, zxid } => {
                self.learn_versions(&request, &response);
                Outcome::Ok { zxid, response }
            }
            OpResult::Error { err, zxid } => Outcome::Error { zxid, err },
            OpResult::Unknown { err } => Outcome::Unknown { err },
            OpResult::SessionExpired { sent: false } => return, // never invoked
            OpResult::SessionExpired { sent: true } => Outcome::Unknown {
                err: zabsim_protocol::error_code::ErrorCode::SESSIONEXPIRED,
            },
        };
        self.record(Record::Complete(Completion {
            id: self.op_id(op),
            time_ns: now,
            outcome,
        }));
    }

    fn learn_versions(&mut self, request: &Request, response: &Response) {
        let path = match request {
            Request::GetData { path, .. }
            | Request::Exists { path, .. }
            | Request::SetData { path, .. } => path,
            _ => return,
        };
        if let Some(stat) = response_stat(response) {
            self.workload.saw_version(path, stat.version);
        }
    }
}

fn response_stat(response: &Response) -> Option<&zabsim_protocol::stat::Stat> {
    match response {
        Response::GetData { stat, .. } => Some(stat),
        Response::SetData { stat } => Some(stat),
        Response::Exists { stat } => Some(stat),
        _ => None,
    }
}
