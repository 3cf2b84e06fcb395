//! Client tests against a scripted fake server: each test drives `ZooKeeper::handle` by hand,
//! playing the server's part message by message, and checks the actions ClientCnxn would take.
//! This file holds the fake server; the tests are grouped by topic.

mod connection;
mod session;
mod watches;

use super::*;
use crate::request::{EventType, Response, WatchedEvent};
use crate::session_wire::{ConnectResponse, ServerMessage, SetWatches, XID_SET_WATCHES};
use crate::stat::Stat;

pub(super) const TIMEOUT_MS: u32 = 3_000;

pub(super) struct Fake {
    pub(super) zk: ZooKeeper,
    now: LocalTime,
    next_conn: u64,
}

pub(super) fn ms(n: u64) -> LocalTime {
    LocalTime(n * MS)
}

impl Fake {
    pub(super) fn new(servers: u64) -> Fake {
        let config = ClientConfig {
            servers: (1..=servers).map(ServerId).collect(),
            session_timeout_ms: TIMEOUT_MS,
        };
        Fake {
            zk: ZooKeeper::new(config),
            now: LocalTime(0),
            next_conn: 100,
        }
    }

    pub(super) fn input(&mut self, input: ClientInput) -> Vec<ClientAction> {
        self.zk.handle(self.now, input)
    }

    pub(super) fn at(&mut self, t: LocalTime) -> &mut Fake {
        assert!(t >= self.now, "time goes forward");
        self.now = t;
        self
    }

    /// Returns the (server, request) of the single Connect action.
    pub(super) fn connect_of(actions: &[ClientAction]) -> (ServerId, u64) {
        let found: Vec<_> = actions
            .iter()
            .filter_map(|a| match a {
                ClientAction::Connect { server, request } => Some((*server, *request)),
                _ => None,
            })
            .collect();
        assert_eq!(found.len(), 1, "one Connect in {actions:?}");
        found[0]
    }

    /// Accepts the transport; returns the conn and the ConnectRequest sent on it.
    pub(super) fn accept(&mut self, request: u64) -> (ClientConn, ConnectRequest) {
        let conn = ClientConn(self.next_conn);
        self.next_conn += 1;
        let actions = self.input(ClientInput::Connected { request, conn });
        let sent = sends(&actions, conn);
        match sent.as_slice() {
            [ClientMessage::Connect(c)] => (conn, c.clone()),
            other => panic!("expected one ConnectRequest, got {other:?}"),
        }
    }

    pub(super) fn answer(
        &mut self,
        conn: ClientConn,
        session: i64,
        timeout_ms: i32,
    ) -> Vec<ClientAction> {
        let response = ConnectResponse {
            protocol_version: 0,
            timeout_ms,
            session_id: SessionId(session),
            passwd: vec![7; 16],
            read_only: false,
        };
        self.message(conn, ServerMessage::Connected(response))
    }

    pub(super) fn message(
        &mut self,
        conn: ClientConn,
        message: ServerMessage,
    ) -> Vec<ClientAction> {
        self.input(ClientInput::Message { conn, message })
    }

    /// Start and complete a handshake on the first server; returns (server, conn).
    pub(super) fn connected(&mut self, session: i64) -> (ServerId, ClientConn) {
        let actions = self.input(ClientInput::Start { entropy: 42 });
        let (server, request) = Fake::connect_of(&actions);
        let (conn, _) = self.accept(request);
        let actions = self.answer(conn, session, TIMEOUT_MS as i32);
        assert!(has_state(&actions, KeeperState::SyncConnected));
        (server, conn)
    }

    pub(super) fn submit(&mut self, op: u64, request: Request) -> Vec<ClientAction> {
        self.input(ClientInput::Submit {
            op: OpToken(op),
            request,
        })
    }
}

use crate::session_wire::ConnectRequest;

pub(super) fn sends(actions: &[ClientAction], on: ClientConn) -> Vec<ClientMessage> {
    actions
        .iter()
        .filter_map(|a| match a {
            ClientAction::Send { conn, message } if *conn == on => Some(message.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn xids(actions: &[ClientAction]) -> Vec<Xid> {
    actions
        .iter()
        .filter_map(|a| match a {
            ClientAction::Send {
                message: ClientMessage::Request { xid, .. },
                ..
            } => Some(*xid),
            _ => None,
        })
        .collect()
}

pub(super) fn completions(actions: &[ClientAction]) -> Vec<(u64, OpResult)> {
    actions
        .iter()
        .filter_map(|a| match a {
            ClientAction::Completed { op, result } => Some((op.0, result.clone())),
            _ => None,
        })
        .collect()
}

pub(super) fn has_state(actions: &[ClientAction], state: KeeperState) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, ClientAction::SessionState { state: s, .. } if *s == state))
}

pub(super) fn timer_at(actions: &[ClientAction], timer: ClientTimer) -> Option<LocalTime> {
    actions.iter().rev().find_map(|a| match a {
        ClientAction::SetTimer { timer: t, at } if *t == timer => Some(*at),
        _ => None,
    })
}

pub(super) fn get_data(path: &str, watch: bool) -> Request {
    Request::GetData {
        path: path.into(),
        watch,
    }
}

pub(super) fn reply(xid: Xid, zxid: u64, response: Response) -> ServerMessage {
    ServerMessage::Reply {
        xid,
        zxid: Zxid(zxid),
        err: ErrorCode::OK,
        response: Some(response),
    }
}

pub(super) fn data_reply(xid: Xid, zxid: u64) -> ServerMessage {
    reply(
        xid,
        zxid,
        Response::GetData {
            data: Some(b"v".to_vec()),
            stat: Stat::default(),
        },
    )
}
