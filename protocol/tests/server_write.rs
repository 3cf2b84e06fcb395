//! A client write through a follower, driven by the hand-driven harness: forwarded as REQUEST,
//! proposed, acknowledged by a quorum after fsync, committed, replied with its zxid.

mod server_harness;

use server_harness::Cluster;
use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::Request;
use zabsim_protocol::server::Conn;
use zabsim_protocol::session_wire::{ClientMessage, ConnectRequest, ServerMessage};
use zabsim_protocol::types::{Epoch, SessionId, Xid, Zxid};

fn connect(cluster: &mut Cluster, sid: u64) -> (Conn, SessionId) {
    let conn = cluster.client_connect(sid);
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: Zxid::ZERO,
        timeout_ms: 10_000,
        session_id: SessionId(0),
        passwd: vec![0; 16],
        read_only: false,
    };
    cluster.client_send(conn, ClientMessage::Connect(request));
    cluster.run_until(cluster.now / 1_000_000 + 100);
    let session = cluster.client_inbox[&conn].iter().find_map(|m| match m {
        ServerMessage::Connected(r) if r.timeout_ms > 0 => Some(r.session_id),
        _ => None,
    });
    (conn, session.expect("the session was established"))
}

fn create(path: &str) -> ClientMessage {
    ClientMessage::Request {
        xid: Xid(1),
        request: Request::Create {
            path: path.to_string(),
            data: Some(b"v".to_vec()),
            acl: Acl::open_unsafe(),
            flags: 0,
            ttl: -1,
            with_stat: false,
        },
    }
}

#[test]
fn a_write_through_a_follower_is_committed_by_a_quorum_and_answered_with_its_zxid() {
    let mut cluster = Cluster::new(3);
    for sid in 1..=3 {
        cluster.start(sid);
    }
    cluster.run_until(5_000);
    let (conn, _session) = connect(&mut cluster, 1);
    // createSession is txn 1 of epoch 1; the create is txn 2.
    cluster.transcript.clear();
    cluster.client_send(conn, create("/a"));
    cluster.run_until(5_200);
    let reply = cluster.client_inbox[&conn].iter().find_map(|m| match m {
        ServerMessage::Reply { xid, zxid, err, .. } if xid.0 == 1 => Some((*zxid, *err)),
        _ => None,
    });
    assert_eq!(reply, Some((Zxid::new(Epoch(1), 2), ErrorCode::OK)));
    let path: Vec<&str> = cluster
        .transcript
        .iter()
        .filter(|l| !l.ends_with("PING"))
        .filter(|l| l.starts_with("1->") || l.starts_with("3->1 "))
        .map(String::as_str)
        .collect();
    assert_eq!(
        path,
        [
            "1->3 REQUEST",
            "3->1 PROPOSAL",
            "1->3 ACK",
            "3->1 COMMIT",
            "1->client REPLY"
        ]
    );
    // Every server applied it.
    for sid in 1..=3 {
        let db = cluster.peers[&sid].database();
        assert_eq!(
            db.last_processed_zxid(),
            Zxid::new(Epoch(1), 2),
            "server {sid}"
        );
    }
}

#[test]
fn a_follower_that_has_not_fsynced_does_not_ack_and_catches_up_after_a_crash() {
    let mut cluster = Cluster::new(3);
    for sid in 1..=3 {
        cluster.start(sid);
    }
    cluster.run_until(5_000);
    let (conn, _session) = connect(&mut cluster, 3);
    cluster.held.insert(1);
    cluster.transcript.clear();
    cluster.client_send(conn, create("/a"));
    cluster.run_until(5_200);
    // Server 2's ACK and the leader's own make the quorum; server 1's disk never finished.
    assert!(cluster.transcript.contains(&"3->1 PROPOSAL".to_string()));
    assert!(!cluster.transcript.contains(&"1->3 ACK".to_string()));
    assert!(cluster.transcript.contains(&"2->3 ACK".to_string()));
    let replied = cluster.client_inbox[&conn]
        .iter()
        .any(|m| matches!(m, ServerMessage::Reply { xid, err: ErrorCode::OK, .. } if xid.0 == 1));
    assert!(replied);
    // Server 1 crashes with the append un-fsynced (lost), restarts and is synced back.
    cluster.crash(1);
    cluster.held.clear();
    cluster.start(1);
    cluster.run_until(30_000);
    // The silent client's session has expired meanwhile (a closeSession txn): server 1 must be
    // level with the leader, whatever the leader committed since.
    let leader_zxid = cluster.peers[&3].database().last_processed_zxid();
    assert!(leader_zxid >= Zxid::new(Epoch(1), 2));
    assert_eq!(
        cluster.peers[&1].database().last_processed_zxid(),
        leader_zxid
    );
    assert!(cluster.peers[&1].database().tree().node("/a").is_some());
}
