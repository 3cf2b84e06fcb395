//! Sessions and client connections across the ensemble (research §10, §11): expiry decided by
//! the leader's tracker becomes a closeSession txn that deletes the session's ephemerals on
//! every server; follower pings keep a session alive; a client that has seen a later zxid is
//! refused; a watch notification reaches the client before the reply of the write that fired
//! it; `sync` through a follower is answered after the leader's SYNC; resuming a session on
//! another server is revalidated with the leader.

mod server_support;

use server_support::client::{create, open_session, reply};
use server_support::Cluster;
use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::request::{EventType, Request};
use zabsim_protocol::server::QuorumConfig;
use zabsim_protocol::session_wire::{ClientMessage, ConnectRequest, ServerMessage};
use zabsim_protocol::store::session::generate_passwd;
use zabsim_protocol::types::{Epoch, ServerId, SessionId, Xid, Zxid};

fn elected() -> Cluster {
    let mut c = Cluster::new(QuorumConfig::with_voters(3));
    c.start_all();
    c.run_for(3000);
    assert_eq!(c.leader(), Some(3));
    c
}

fn create_ephemeral(c: &mut Cluster, conn: zabsim_protocol::server::Conn, xid: i32, path: &str) {
    c.client_send(
        conn,
        ClientMessage::Request {
            xid: Xid(xid),
            request: Request::Create {
                path: path.to_string(),
                data: None,
                acl: Acl::open_unsafe(),
                flags: 1,
                ttl: -1,
                with_stat: false,
            },
        },
    );
    c.settle();
}

/// A silent session (no pings) on a follower expires at the leader after its 10 s timeout; the
/// closeSession txn deletes its ephemeral everywhere and the connection is closed.
#[test]
fn an_idle_session_expires_and_its_ephemerals_go_everywhere() {
    let mut c = elected();
    let (conn, session) = open_session(&mut c, 1);
    create_ephemeral(&mut c, conn, 1, "/e");
    assert_eq!(reply(&c, conn, 1).map(|r| r.1), Some(ErrorCode::OK));
    c.run_for(15_000);
    let expired = c.observations.iter().any(|o| {
        matches!(o, Observation::SessionExpired { leader, session: s } if leader.0 == 3 && *s == session)
    });
    assert!(expired);
    for s in 1..=3u64 {
        let closed = c.observations.iter().any(|o| {
            matches!(o, Observation::SessionClosed { server, session: x, .. } if server.0 == s && *x == session)
        });
        assert!(closed, "s{s} applied closeSession");
        let deleted = c.observations.iter().any(|o| {
            matches!(o, Observation::EphemeralDeleted { server, path, .. } if server.0 == s && path == "/e")
        });
        assert!(deleted, "s{s} deleted the ephemeral");
        assert!(c.peer(s).database().tree().node("/e").is_none());
    }
    assert!(
        !c.conns.contains_key(&conn),
        "the client connection was closed"
    );
}

/// The same session pinging its follower every 2 s is touched at the leader through the
/// follower's PING replies and does not expire.
#[test]
fn pings_through_a_follower_keep_a_session_alive() {
    let mut c = elected();
    let (conn, _session) = open_session(&mut c, 1);
    create_ephemeral(&mut c, conn, 1, "/e");
    for _ in 0..10 {
        c.client_send(conn, ClientMessage::Ping);
        c.run_for(2000);
    }
    let expired = c
        .observations
        .iter()
        .any(|o| matches!(o, Observation::SessionExpired { .. }));
    assert!(!expired);
    assert!(c.peer(2).database().tree().node("/e").is_some());
    let pongs = c
        .inbox(conn)
        .iter()
        .filter(|m| matches!(m, ServerMessage::Pong { .. }))
        .count();
    assert_eq!(pongs, 10);
}

/// `ZooKeeperServer.processConnectRequest`: a client whose lastZxidSeen is ahead of the server
/// is refused (the connection closes without a ConnectResponse).
#[test]
fn a_client_that_has_seen_a_later_zxid_is_refused() {
    let mut c = elected();
    let conn = c.client_connect(ServerId(1));
    c.client_send(
        conn,
        ClientMessage::Connect(ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid::new(Epoch(1), 99),
            timeout_ms: 10_000,
            session_id: SessionId(0),
            passwd: vec![0; 16],
            read_only: false,
        }),
    );
    c.settle();
    assert!(c.inbox(conn).is_empty());
    assert!(!c.conns.contains_key(&conn));
}

/// The watch a client set with `exists` fires before the reply of its own setData.
#[test]
fn a_watch_notification_precedes_the_reply_of_the_write_that_fired_it() {
    let mut c = elected();
    let (conn, _) = open_session(&mut c, 1);
    create(&mut c, conn, 1, "/a", b"1");
    c.settle();
    let exists = Request::Exists {
        path: "/a".into(),
        watch: true,
    };
    c.client_send(
        conn,
        ClientMessage::Request {
            xid: Xid(2),
            request: exists,
        },
    );
    c.settle();
    let set = Request::SetData {
        path: "/a".into(),
        data: Some(b"2".to_vec()),
        version: -1,
    };
    c.client_send(
        conn,
        ClientMessage::Request {
            xid: Xid(3),
            request: set,
        },
    );
    c.settle();
    let inbox = c.inbox(conn);
    let notified = inbox.iter().position(|m| {
        matches!(m, ServerMessage::Notification { event, .. } if event.event_type == EventType::NodeDataChanged)
    });
    let replied = inbox
        .iter()
        .position(|m| matches!(m, ServerMessage::Reply { xid, .. } if xid.0 == 3));
    assert!(notified.is_some() && replied.is_some());
    assert!(notified < replied);
    // The read got the server's lastProcessedZxid in its header; the write its own zxid.
    assert_eq!(
        reply(&c, conn, 2),
        Some((Zxid::new(Epoch(1), 2), ErrorCode::OK))
    );
    assert_eq!(
        reply(&c, conn, 3),
        Some((Zxid::new(Epoch(1), 3), ErrorCode::OK))
    );
}

/// `sync` on a follower: REQUEST to the leader, SYNC back, then the reply.
#[test]
fn sync_through_a_follower_is_answered_after_the_leaders_sync() {
    let mut c = elected();
    let (conn, _) = open_session(&mut c, 1);
    let before = c.packets.len();
    let sync = Request::Sync { path: "/".into() };
    c.client_send(
        conn,
        ClientMessage::Request {
            xid: Xid(1),
            request: sync,
        },
    );
    c.settle();
    let seq: Vec<_> = c.packets[before..]
        .iter()
        .filter(|p| p.2 != "PING")
        .copied()
        .collect();
    assert_eq!(seq, [(1, 3, "REQUEST"), (3, 1, "SYNC")]);
    assert_eq!(reply(&c, conn, 1).map(|r| r.1), Some(ErrorCode::OK));
}

/// A session resumed on another follower is revalidated with the leader (REVALIDATE); a wrong
/// password is refused with a zero timeout.
#[test]
fn a_resumed_session_is_revalidated_with_the_leader() {
    let mut c = elected();
    let (_conn, session) = open_session(&mut c, 1);
    let resume = |passwd: Vec<u8>| {
        ClientMessage::Connect(ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid::new(Epoch(1), 1),
            timeout_ms: 10_000,
            session_id: session,
            passwd,
            read_only: false,
        })
    };
    let before = c.packets.len();
    let conn2 = c.client_connect(ServerId(2));
    c.client_send(conn2, resume(generate_passwd(session)));
    c.settle();
    let seq: Vec<_> = c.packets[before..]
        .iter()
        .map(|p| p.2)
        .filter(|n| *n != "PING")
        .collect();
    assert_eq!(seq, ["REVALIDATE", "REVALIDATE"]);
    let ok = c.inbox(conn2).iter().any(|m| {
        matches!(m, ServerMessage::Connected(r) if r.session_id == session && r.timeout_ms == 10_000)
    });
    assert!(ok);
    let conn3 = c.client_connect(ServerId(2));
    c.client_send(conn3, resume(vec![1; 16]));
    c.settle();
    let refused = c
        .inbox(conn3)
        .iter()
        .any(|m| matches!(m, ServerMessage::Connected(r) if r.timeout_ms == 0));
    assert!(refused);
}
