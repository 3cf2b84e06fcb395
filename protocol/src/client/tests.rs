//! Client tests against a scripted fake server: each test drives `ZooKeeper::handle` by hand,
//! playing the server's part message by message, and checks the actions ClientCnxn would take.

use super::*;
use crate::request::{EventType, Response, WatchedEvent};
use crate::session_wire::{ConnectResponse, ServerMessage, SetWatches, XID_SET_WATCHES};
use crate::stat::Stat;

const TIMEOUT_MS: u32 = 3_000;

struct Fake {
    zk: ZooKeeper,
    now: LocalTime,
    next_conn: u64,
}

fn ms(n: u64) -> LocalTime {
    LocalTime(n * MS)
}

impl Fake {
    fn new(servers: u64) -> Fake {
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

    fn input(&mut self, input: ClientInput) -> Vec<ClientAction> {
        self.zk.handle(self.now, input)
    }

    fn at(&mut self, t: LocalTime) -> &mut Fake {
        assert!(t >= self.now, "time goes forward");
        self.now = t;
        self
    }

    /// Returns the (server, request) of the single Connect action.
    fn connect_of(actions: &[ClientAction]) -> (ServerId, u64) {
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
    fn accept(&mut self, request: u64) -> (ClientConn, ConnectRequest) {
        let conn = ClientConn(self.next_conn);
        self.next_conn += 1;
        let actions = self.input(ClientInput::Connected { request, conn });
        let sent = sends(&actions, conn);
        match sent.as_slice() {
            [ClientMessage::Connect(c)] => (conn, c.clone()),
            other => panic!("expected one ConnectRequest, got {other:?}"),
        }
    }

    fn answer(&mut self, conn: ClientConn, session: i64, timeout_ms: i32) -> Vec<ClientAction> {
        let response = ConnectResponse {
            protocol_version: 0,
            timeout_ms,
            session_id: SessionId(session),
            passwd: vec![7; 16],
            read_only: false,
        };
        self.message(conn, ServerMessage::Connected(response))
    }

    fn message(&mut self, conn: ClientConn, message: ServerMessage) -> Vec<ClientAction> {
        self.input(ClientInput::Message { conn, message })
    }

    /// Start and complete a handshake on the first server; returns (server, conn).
    fn connected(&mut self, session: i64) -> (ServerId, ClientConn) {
        let actions = self.input(ClientInput::Start { entropy: 42 });
        let (server, request) = Fake::connect_of(&actions);
        let (conn, _) = self.accept(request);
        let actions = self.answer(conn, session, TIMEOUT_MS as i32);
        assert!(has_state(&actions, KeeperState::SyncConnected));
        (server, conn)
    }

    fn submit(&mut self, op: u64, request: Request) -> Vec<ClientAction> {
        self.input(ClientInput::Submit {
            op: OpToken(op),
            request,
        })
    }
}

use crate::session_wire::ConnectRequest;

fn sends(actions: &[ClientAction], on: ClientConn) -> Vec<ClientMessage> {
    actions
        .iter()
        .filter_map(|a| match a {
            ClientAction::Send { conn, message } if *conn == on => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn xids(actions: &[ClientAction]) -> Vec<Xid> {
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

fn completions(actions: &[ClientAction]) -> Vec<(u64, OpResult)> {
    actions
        .iter()
        .filter_map(|a| match a {
            ClientAction::Completed { op, result } => Some((op.0, result.clone())),
            _ => None,
        })
        .collect()
}

fn has_state(actions: &[ClientAction], state: KeeperState) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, ClientAction::SessionState { state: s, .. } if *s == state))
}

fn timer_at(actions: &[ClientAction], timer: ClientTimer) -> Option<LocalTime> {
    actions.iter().rev().find_map(|a| match a {
        ClientAction::SetTimer { timer: t, at } if *t == timer => Some(*at),
        _ => None,
    })
}

fn get_data(path: &str, watch: bool) -> Request {
    Request::GetData {
        path: path.into(),
        watch,
    }
}

fn reply(xid: Xid, zxid: u64, response: Response) -> ServerMessage {
    ServerMessage::Reply {
        xid,
        zxid: Zxid(zxid),
        err: ErrorCode::OK,
        response: Some(response),
    }
}

fn data_reply(xid: Xid, zxid: u64) -> ServerMessage {
    reply(
        xid,
        zxid,
        Response::GetData {
            data: Some(b"v".to_vec()),
            stat: Stat::default(),
        },
    )
}

/// Goal: the handshake carries a new session's zeros and the requested timeout; the answer makes
/// the session SyncConnected, cancels the connect timeout and arms the heartbeat. The connect
/// timeout is sessionTimeout / #servers (ClientCnxn.connectTimeout).
#[test]
fn handshake_creates_a_session() {
    let mut f = Fake::new(3);
    let actions = f.input(ClientInput::Start { entropy: 1 });
    let (_, request) = Fake::connect_of(&actions);
    assert_eq!(
        timer_at(&actions, ClientTimer::ConnectTimeout),
        Some(ms(1_000))
    );
    let (conn, connect) = f.accept(request);
    assert_eq!(connect.session_id, SessionId(0));
    assert_eq!(connect.passwd, vec![0; 16]);
    assert_eq!(connect.timeout_ms, 3_000);
    assert_eq!(connect.last_zxid_seen, Zxid::ZERO);
    let actions = f.answer(conn, 0x55, 3_000);
    assert!(has_state(&actions, KeeperState::SyncConnected));
    assert!(actions.contains(&ClientAction::CancelTimer {
        timer: ClientTimer::ConnectTimeout
    }));
    assert!(timer_at(&actions, ClientTimer::Heartbeat).is_some());
    assert_eq!(f.zk.state(), States::Connected);
    assert_eq!(f.zk.session_id(), SessionId(0x55));
}

/// Goal: the connect string is shuffled with the driver's entropy and walked round-robin, every
/// server once per round (StaticHostProvider).
#[test]
fn host_provider_shuffles_and_walks_every_server() {
    let mut orders = std::collections::BTreeSet::new();
    for entropy in 0u64..40 {
        let mut draw = {
            let mut s = entropy;
            move || {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                s >> 17
            }
        };
        let mut hosts = StaticHostProvider::new((1..=4).map(ServerId).collect(), &mut draw);
        let round: Vec<ServerId> = (0..4).map(|_| hosts.next(1_000).0).collect();
        let mut sorted = round.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            (1..=4).map(ServerId).collect::<Vec<_>>(),
            "a permutation"
        );
        orders.insert(round);
    }
    assert!(orders.len() > 5, "entropy changes the order: {orders:?}");
}

/// Goal: after a full round without success the provider spins 1 s before retrying the server it
/// last connected to.
#[test]
fn host_provider_spins_after_a_full_round() {
    let mut hosts = StaticHostProvider::new(vec![ServerId(1), ServerId(2)], &mut || 0);
    let (first, d0) = hosts.next(1_000);
    hosts.on_connected();
    let (_, d1) = hosts.next(1_000);
    let (again, d2) = hosts.next(1_000);
    assert_eq!((d0, d1, d2), (0, 0, 1_000));
    assert_eq!(again, first);
}

/// Goal: with a 3 s session the read timeout is 2 s and a ping goes out after 1 s of idle send
/// (readTimeout/2); 2 s without hearing from the server loses the connection (Disconnected) and
/// schedules a reconnect.
#[test]
fn pings_when_idle_and_times_out_reads() {
    let mut f = Fake::new(3);
    let (_, conn) = f.connected(9);
    assert_eq!(f.zk.read_timeout_ms(), 2_000);
    assert_eq!(f.zk.ping_interval_ms(), 1_000);
    let actions = f
        .at(ms(1_000))
        .input(ClientInput::Timer(ClientTimer::Heartbeat));
    assert_eq!(sends(&actions, conn), vec![ClientMessage::Ping]);
    f.at(ms(1_200))
        .message(conn, ServerMessage::Pong { zxid: Zxid(0) });
    let actions = f
        .at(ms(2_000))
        .input(ClientInput::Timer(ClientTimer::Heartbeat));
    assert_eq!(
        sends(&actions, conn),
        vec![ClientMessage::Ping],
        "idle since 1 s"
    );
    assert!(
        !has_state(&actions, KeeperState::Disconnected),
        "heard 0.8 s ago"
    );
    let actions = f
        .at(ms(3_200))
        .input(ClientInput::Timer(ClientTimer::Heartbeat));
    assert!(actions.contains(&ClientAction::Close { conn }));
    assert!(has_state(&actions, KeeperState::Disconnected));
    let at = timer_at(&actions, ClientTimer::Reconnect).expect("reconnect scheduled");
    assert!(
        at >= ms(3_200) && at < ms(4_200),
        "jitter below 1 s: {at:?}"
    );
}

/// Goal: a reconnect goes to the next server and resumes the session with its id, password and
/// lastZxidSeen (from the last reply header).
#[test]
fn reconnect_resumes_the_session() {
    let mut f = Fake::new(3);
    let (first, conn) = f.connected(0x77);
    let actions = f.submit(1, get_data("/a", false));
    let xid = xids(&actions)[0];
    let actions = f.message(conn, data_reply(xid, 0x1_0000_0005));
    assert!(matches!(
        completions(&actions)[0].1,
        OpResult::Ok {
            zxid: Zxid(0x1_0000_0005),
            ..
        }
    ));
    f.input(ClientInput::Closed { conn });
    let actions = f
        .at(ms(1_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (server, request) = Fake::connect_of(&actions);
    assert_ne!(server, first, "the next server of the connect string");
    let (_, connect) = f.accept(request);
    assert_eq!(connect.session_id, SessionId(0x77));
    assert_eq!(connect.passwd, vec![7; 16]);
    assert_eq!(connect.last_zxid_seen, Zxid(0x1_0000_0005));
}

/// Goal: a connect attempt that does not finish within sessionTimeout/#servers is abandoned for
/// the next server.
#[test]
fn connect_timeout_moves_to_the_next_server() {
    let mut f = Fake::new(3);
    let actions = f.input(ClientInput::Start { entropy: 5 });
    let (first, _) = Fake::connect_of(&actions);
    let actions = f
        .at(ms(1_000))
        .input(ClientInput::Timer(ClientTimer::ConnectTimeout));
    let at = timer_at(&actions, ClientTimer::Reconnect).expect("back-off");
    let actions = f.at(at).input(ClientInput::Timer(ClientTimer::Reconnect));
    let (second, request) = Fake::connect_of(&actions);
    assert_ne!(first, second);
    // A late transport for the abandoned attempt is closed, not used.
    let late = f.input(ClientInput::Connected {
        request: request + 10,
        conn: ClientConn(1),
    });
    assert_eq!(
        late,
        vec![ClientAction::Close {
            conn: ClientConn(1)
        }]
    );
}

/// Goal: a server that answers the resume with timeout 0 expires the session: Expired, queued
/// ops fail SESSIONEXPIRED (never sent), and every later op fails the same way.
#[test]
fn timeout_zero_expires_the_session() {
    let mut f = Fake::new(2);
    let (_, conn) = f.connected(0x10);
    f.input(ClientInput::Closed { conn });
    let queued = f.submit(1, get_data("/a", false));
    assert!(completions(&queued).is_empty(), "queued while disconnected");
    let actions = f
        .at(ms(2_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (_, request) = Fake::connect_of(&actions);
    let (conn2, _) = f.accept(request);
    let actions = f.answer(conn2, 0, 0);
    assert!(has_state(&actions, KeeperState::Expired));
    assert!(actions.contains(&ClientAction::Close { conn: conn2 }));
    assert_eq!(
        completions(&actions),
        vec![(1, OpResult::SessionExpired { sent: false })]
    );
    assert_eq!(f.zk.state(), States::Expired);
    let later = f.submit(2, get_data("/b", false));
    assert_eq!(
        completions(&later),
        vec![(2, OpResult::SessionExpired { sent: false })]
    );
    assert!(!f.zk.work_outstanding());
}

/// Goal: replies must answer the oldest pending xid; one out of order closes the connection and
/// every pending op completes CONNECTIONLOSS (ClientCnxn "Xid out of order").
#[test]
fn a_reply_out_of_xid_order_closes_the_connection() {
    let mut f = Fake::new(3);
    let (_, conn) = f.connected(1);
    let a = xids(&f.submit(1, get_data("/a", false)));
    let b = xids(&f.submit(2, get_data("/b", false)));
    assert!(a[0] < b[0], "xids increase");
    let actions = f.message(conn, data_reply(b[0], 3));
    assert!(actions.contains(&ClientAction::Close { conn }));
    let loss = OpResult::Unknown {
        err: ErrorCode::CONNECTIONLOSS,
    };
    assert_eq!(completions(&actions), vec![(1, loss.clone()), (2, loss)]);
    assert_eq!(
        f.zk.last_zxid_seen(),
        Zxid::ZERO,
        "the bad reply taught nothing"
    );
}

/// Goal: on connection loss written ops are unknown (CONNECTIONLOSS) while ops submitted during
/// the outage are queued and written, in order, after the reconnect.
#[test]
fn connection_loss_fails_sent_ops_and_queues_new_ones() {
    let mut f = Fake::new(3);
    let (_, conn) = f.connected(1);
    f.submit(1, get_data("/a", false));
    let actions = f.input(ClientInput::Closed { conn });
    assert_eq!(
        completions(&actions),
        vec![(
            1,
            OpResult::Unknown {
                err: ErrorCode::CONNECTIONLOSS
            }
        )]
    );
    assert!(
        !actions.contains(&ClientAction::Close { conn }),
        "the peer closed it"
    );
    assert!(f.submit(2, get_data("/b", false)).is_empty());
    assert!(f.submit(3, get_data("/c", false)).is_empty());
    assert!(f.zk.work_outstanding());
    let actions = f
        .at(ms(2_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (server, request) = Fake::connect_of(&actions);
    let (conn2, _) = f.accept(request);
    let actions = f.answer(conn2, 1, 3_000);
    let paths: Vec<String> = sends(&actions, conn2)
        .into_iter()
        .filter_map(|m| match m {
            ClientMessage::Request {
                request: Request::GetData { path, .. },
                ..
            } => Some(path),
            _ => None,
        })
        .collect();
    assert_eq!(paths, vec!["/b".to_string(), "/c".to_string()]);
    assert!(actions.contains(&ClientAction::Sent {
        op: OpToken(2),
        server,
        xid: Xid(2),
        session: SessionId(1),
    }));
}

/// Goal: successful getData/exists/getChildren/addWatch register watches as ZKWatchManager does
/// (exists on NONODE leaves an exist watch, a failed getData none), and a reconnect re-registers
/// them with SetWatches(relativeZxid = lastZxidSeen), whose reply (xid -8) is consumed in order.
#[test]
fn watches_are_registered_and_reset_on_reconnect() {
    let mut f = Fake::new(3);
    let (_, conn) = f.connected(1);
    let x = xids(&f.submit(1, get_data("/d", true)))[0];
    f.message(conn, data_reply(x, 4));
    let x = xids(&f.submit(
        2,
        Request::Exists {
            path: "/e".into(),
            watch: true,
        },
    ))[0];
    f.message(
        conn,
        ServerMessage::Reply {
            xid: x,
            zxid: Zxid(5),
            err: ErrorCode::NONODE,
            response: None,
        },
    );
    let x = xids(&f.submit(3, get_data("/gone", true)))[0];
    f.message(
        conn,
        ServerMessage::Reply {
            xid: x,
            zxid: Zxid(6),
            err: ErrorCode::NONODE,
            response: None,
        },
    );
    let x = xids(&f.submit(
        4,
        Request::GetChildren {
            path: "/c".into(),
            watch: true,
            with_stat: false,
        },
    ))[0];
    f.message(
        conn,
        reply(
            x,
            7,
            Response::GetChildren {
                children: vec![],
                stat: None,
            },
        ),
    );
    let x = xids(&f.submit(
        5,
        Request::AddWatch {
            path: "/p".into(),
            mode: crate::request::AddWatchMode::PersistentRecursive,
        },
    ))[0];
    f.message(conn, reply(x, 8, Response::Empty));
    f.input(ClientInput::Closed { conn });
    let actions = f
        .at(ms(2_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (_, request) = Fake::connect_of(&actions);
    let (conn2, connect) = f.accept(request);
    assert_eq!(connect.last_zxid_seen, Zxid(8));
    let queued = f.submit(6, get_data("/z", false));
    assert!(queued.is_empty());
    let actions = f.answer(conn2, 1, 3_000);
    let sent = sends(&actions, conn2);
    let expected = SetWatches {
        relative_zxid: Zxid(8),
        data_watches: vec!["/d".into()],
        exist_watches: vec!["/e".into()],
        child_watches: vec!["/c".into()],
        persistent_watches: vec![],
        persistent_recursive_watches: vec!["/p".into()],
    };
    assert_eq!(
        sent[0],
        ClientMessage::SetWatches(expected),
        "before queued requests"
    );
    let x = xids(&actions)[0];
    let empty = ServerMessage::Reply {
        xid: XID_SET_WATCHES,
        zxid: Zxid(8),
        err: ErrorCode::OK,
        response: None,
    };
    assert!(completions(&f.message(conn2, empty)).is_empty());
    let done = f.message(conn2, data_reply(x, 9));
    assert_eq!(completions(&done).len(), 1);
}

/// Goal: a notification that arrives before a reply is delivered before that reply's
/// completion, consumes its one-shot watch (a repeat is not delivered), and persistent recursive
/// watches keep firing for descendants.
#[test]
fn notifications_come_before_the_reply_behind_them() {
    let mut f = Fake::new(1);
    let (_, conn) = f.connected(1);
    let x = xids(&f.submit(1, get_data("/w", true)))[0];
    f.message(conn, data_reply(x, 2));
    assert!(f.zk.watches().data_watches.contains("/w"));
    let x = xids(&f.submit(2, get_data("/w", false)))[0];
    let event = WatchedEvent {
        event_type: EventType::NodeDataChanged,
        state: KeeperState::SyncConnected,
        path: "/w".into(),
    };
    let mut actions = f.message(
        conn,
        ServerMessage::Notification {
            zxid: Zxid(3),
            event: event.clone(),
        },
    );
    actions.extend(f.message(conn, data_reply(x, 3)));
    let kinds: Vec<&str> = actions
        .iter()
        .map(|a| match a {
            ClientAction::Watch { .. } => "watch",
            ClientAction::Completed { .. } => "completed",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, vec!["watch", "completed"]);
    assert!(
        f.zk.watches().data_watches.is_empty(),
        "one-shot watch consumed"
    );
    let again = f.message(
        conn,
        ServerMessage::Notification {
            zxid: Zxid(4),
            event,
        },
    );
    assert!(again.is_empty(), "no watcher left for a repeat");
    assert_eq!(f.zk.last_zxid_seen(), Zxid(4));
}

/// Goal: close() sends closeSession; its reply completes the close, reports Closed and drops the
/// connection; ops submitted afterwards fail SESSIONEXPIRED.
#[test]
fn close_session_ends_the_session() {
    let mut f = Fake::new(3);
    let (_, conn) = f.connected(1);
    let actions = f.input(ClientInput::CloseSession { op: OpToken(9) });
    let xid = match sends(&actions, conn).as_slice() {
        [ClientMessage::CloseSession { xid }] => *xid,
        other => panic!("{other:?}"),
    };
    let refused = f.submit(10, get_data("/a", false));
    assert_eq!(
        completions(&refused),
        vec![(
            10,
            OpResult::Unknown {
                err: ErrorCode::CONNECTIONLOSS
            }
        )]
    );
    let actions = f.message(
        conn,
        ServerMessage::Reply {
            xid,
            zxid: Zxid(12),
            err: ErrorCode::OK,
            response: None,
        },
    );
    assert_eq!(
        completions(&actions),
        vec![(
            9,
            OpResult::Ok {
                response: Response::Empty,
                zxid: Zxid(12)
            }
        )]
    );
    assert!(has_state(&actions, KeeperState::Closed));
    assert!(actions.contains(&ClientAction::Close { conn }));
    assert_eq!(f.zk.state(), States::Closed);
    let later = f.submit(11, get_data("/a", false));
    assert_eq!(
        completions(&later),
        vec![(11, OpResult::SessionExpired { sent: false })]
    );
}

/// Goal: definite errors carry the reply zxid; SESSIONEXPIRED in a reply header is reported as
/// such.
#[test]
fn error_replies_carry_their_zxid() {
    let mut f = Fake::new(1);
    let (_, conn) = f.connected(1);
    let x = xids(&f.submit(
        1,
        Request::Delete {
            path: "/a".into(),
            version: 3,
        },
    ))[0];
    let actions = f.message(
        conn,
        ServerMessage::Reply {
            xid: x,
            zxid: Zxid(21),
            err: ErrorCode::BADVERSION,
            response: None,
        },
    );
    assert_eq!(
        completions(&actions),
        vec![(
            1,
            OpResult::Error {
                err: ErrorCode::BADVERSION,
                zxid: Zxid(21)
            }
        )]
    );
    let x = xids(&f.submit(2, get_data("/a", false)))[0];
    let actions = f.message(
        conn,
        ServerMessage::Reply {
            xid: x,
            zxid: Zxid(22),
            err: ErrorCode::SESSIONEXPIRED,
            response: None,
        },
    );
    assert_eq!(
        completions(&actions),
        vec![(2, OpResult::SessionExpired { sent: true })]
    );
}

/// Goal: the negotiated timeout replaces the requested one in the read, ping and connect
/// timeouts (ClientCnxn.onConnected).
#[test]
fn the_negotiated_timeout_drives_the_timers() {
    let mut f = Fake::new(2);
    let actions = f.input(ClientInput::Start { entropy: 3 });
    let (_, request) = Fake::connect_of(&actions);
    assert_eq!(f.zk.connect_timeout_ms(), 1_500);
    let (conn, _) = f.accept(request);
    f.answer(conn, 4, 12_000);
    assert_eq!(f.zk.session_timeout_ms(), 12_000);
    assert_eq!(f.zk.read_timeout_ms(), 8_000);
    assert_eq!(f.zk.ping_interval_ms(), 3_000);
    assert_eq!(f.zk.connect_timeout_ms(), 6_000);
}

/// Goal: a refused TCP connect moves on to the next server after the back-off; a reply when
/// nothing is pending and a bogus message before the handshake both drop the connection.
#[test]
fn protocol_errors_and_refusals_drop_the_connection() {
    let mut f = Fake::new(2);
    let actions = f.input(ClientInput::Start { entropy: 8 });
    let (first, request) = Fake::connect_of(&actions);
    let actions = f.input(ClientInput::ConnectFailed { request });
    let at = timer_at(&actions, ClientTimer::Reconnect).expect("back-off");
    let actions = f.at(at).input(ClientInput::Timer(ClientTimer::Reconnect));
    let (second, request) = Fake::connect_of(&actions);
    assert_ne!(first, second);
    let (conn, _) = f.accept(request);
    let early = f.message(conn, data_reply(Xid(1), 1));
    assert!(
        early.contains(&ClientAction::Close { conn }),
        "a reply before the handshake"
    );
    let actions = f
        .at(at.plus_millis(2_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (_, request) = Fake::connect_of(&actions);
    let (conn, _) = f.accept(request);
    f.answer(conn, 4, 3_000);
    let stray = f.message(conn, data_reply(Xid(5), 1));
    assert!(
        stray.contains(&ClientAction::Close { conn }),
        "nothing was pending"
    );
    assert!(has_state(&stray, KeeperState::Disconnected));
}

/// Goal: close() while disconnected queues closeSession; when the next connection attempt
/// fails the close gives up with CONNECTIONLOSS and the session is Closed (ClientCnxn.close
/// returns at the first connection loss).
#[test]
fn close_while_disconnected_gives_up_at_the_next_loss() {
    let mut f = Fake::new(2);
    let (_, conn) = f.connected(6);
    f.input(ClientInput::Closed { conn });
    assert!(f
        .input(ClientInput::CloseSession { op: OpToken(1) })
        .is_empty());
    let actions = f
        .at(ms(2_000))
        .input(ClientInput::Timer(ClientTimer::Reconnect));
    let (_, request) = Fake::connect_of(&actions);
    let actions = f.input(ClientInput::ConnectFailed { request });
    assert_eq!(
        completions(&actions),
        vec![(
            1,
            OpResult::Unknown {
                err: ErrorCode::CONNECTIONLOSS
            }
        )]
    );
    assert!(has_state(&actions, KeeperState::Closed));
    assert!(f.zk.is_terminal());
}

/// Goal: ZKWatchManager.materialize — a deletion consumes data, exist and child watches; a
/// persistent recursive watch sees descendants' data events but not child events; a persistent
/// watch stays.
#[test]
fn watch_manager_materializes_as_zookeeper() {
    let mut w = ZkWatchManager::default();
    let ok = ErrorCode::OK;
    w.register(&get_data("/a", true), ok);
    w.register(
        &Request::GetChildren {
            path: "/a".into(),
            watch: true,
            with_stat: false,
        },
        ok,
    );
    w.register(
        &Request::AddWatch {
            path: "/r".into(),
            mode: crate::request::AddWatchMode::PersistentRecursive,
        },
        ok,
    );
    w.register(
        &Request::AddWatch {
            path: "/p".into(),
            mode: crate::request::AddWatchMode::Persistent,
        },
        ok,
    );
    let ev = |t, p: &str| WatchedEvent {
        event_type: t,
        state: KeeperState::SyncConnected,
        path: p.into(),
    };
    assert!(w.materialize(&ev(EventType::NodeDeleted, "/a")));
    assert!(w.data_watches.is_empty() && w.child_watches.is_empty());
    assert!(!w.materialize(&ev(EventType::NodeDeleted, "/a")));
    assert!(w.materialize(&ev(EventType::NodeDataChanged, "/r/x/y")));
    assert!(!w.materialize(&ev(EventType::NodeChildrenChanged, "/r/x")));
    assert!(
        !w.materialize(&ev(EventType::NodeDataChanged, "/rr")),
        "not below /r"
    );
    assert!(w.materialize(&ev(EventType::NodeDataChanged, "/p")));
    assert!(
        w.materialize(&ev(EventType::NodeDataChanged, "/p")),
        "persistent stays"
    );
    w.register(
        &Request::RemoveWatches {
            path: "/p".into(),
            watcher_type: crate::request::WatcherType::Any,
        },
        ok,
    );
    assert!(!w.materialize(&ev(EventType::NodeDataChanged, "/p")));
}
