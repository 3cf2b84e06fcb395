//! Connecting: the handshake, the host provider, pings and read timeouts, reconnects.

use super::super::*;
use super::*;

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
