//! Sessions and server-side deletions: closeSession deletes the session's ephemerals in the same
//! txn (and notifies watchers), the tracker's expiry buckets, and `ContainerManager`'s choice of
//! containers and TTL nodes to delete (deleteContainer refuses ephemerals with BADVERSION and
//! non-empty ones with NOTEMPTY, as PrepRequestProcessor does).

use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{CreateMode, Request};
use zabsim_protocol::store::{
    RequestContext, SessionChange, StoreConfig, WriteRequest, ZkDatabase,
};
use zabsim_protocol::txn::Txn;
use zabsim_protocol::types::{SessionId, Xid, Zxid};

fn db(extended: bool) -> (ZkDatabase, SessionId) {
    let mut config = StoreConfig::new(1, 2000);
    config.extended_types_enabled = extended;
    let mut db = ZkDatabase::new(config, 0);
    let s = db.session_tracker.create_session(4000, 0);
    let e = db.prep(
        &ctx(s),
        &WriteRequest::CreateSession { timeout_ms: 4000 },
        Zxid(1),
        0,
    );
    assert_eq!(
        db.apply(&e).session_change,
        Some(SessionChange::Created {
            session: s,
            timeout_ms: 4000
        })
    );
    (db, s)
}

fn ctx(s: SessionId) -> RequestContext {
    RequestContext {
        session: s,
        xid: Xid(1),
        auth: Vec::new(),
    }
}

fn write(db: &mut ZkDatabase, s: SessionId, w: WriteRequest, time: i64) -> Result<(), ErrorCode> {
    let z = Zxid(db.last_processed_zxid().0 + 1);
    let e = db.prep(&ctx(s), &w, z, time);
    db.apply(&e).response.map(|_| ())
}

fn create(path: &str, mode: CreateMode, ttl: i64) -> WriteRequest {
    WriteRequest::Client(Request::Create {
        path: path.into(),
        data: None,
        acl: Acl::open_unsafe(),
        flags: mode.flag(),
        ttl,
        with_stat: true,
    })
}

#[test]
fn expiry_closes_the_session_and_its_ephemerals() {
    let (mut db, s) = db(false);
    write(&mut db, s, create("/e", CreateMode::Ephemeral, -1), 0).expect("create");
    // 4000 ms timeout, tracked at 0: bucket 6000.
    assert!(db.session_tracker.expire(5999).is_empty());
    assert_eq!(db.session_tracker.expire(6000), vec![s]);
    let z = Zxid(db.last_processed_zxid().0 + 1);
    let e = db.prep(&ctx(s), &WriteRequest::CloseSession, z, 6000);
    assert_eq!(
        e.txn,
        Txn::CloseSession {
            paths_to_delete: vec!["/e".into()]
        }
    );
    let applied = db.apply(&e);
    assert_eq!(applied.ephemerals_deleted, vec![("/e".to_string(), s)]);
    assert_eq!(
        applied.session_change,
        Some(SessionChange::Closed { session: s })
    );
    assert!(db.tree().node("/e").is_none());
}

#[test]
fn containers_and_ttls_are_collected() {
    let (mut db, s) = db(true);
    write(&mut db, s, create("/c", CreateMode::Container, -1), 0).expect("container");
    write(&mut db, s, create("/unused", CreateMode::Container, -1), 0).expect("container");
    write(&mut db, s, create("/c/x", CreateMode::Persistent, -1), 0).expect("child");
    assert!(
        db.container_candidates(100_000).is_empty(),
        "a container with a child stays"
    );
    write(
        &mut db,
        s,
        WriteRequest::Client(Request::Delete {
            path: "/c/x".into(),
            version: -1,
        }),
        0,
    )
    .expect("delete");
    write(
        &mut db,
        s,
        create("/t", CreateMode::PersistentWithTtl, 5000),
        1000,
    )
    .expect("ttl");
    assert_eq!(db.container_candidates(6000), vec!["/c".to_string()]);
    assert_eq!(
        db.container_candidates(6001),
        vec!["/c".to_string(), "/t".to_string()]
    );
    for path in db.container_candidates(6001) {
        write(
            &mut db,
            SessionId(0),
            WriteRequest::DeleteContainer { path },
            6001,
        )
        .expect("deleteContainer");
    }
    assert!(db.tree().node("/c").is_none() && db.tree().node("/t").is_none());
    // Only session-owned ephemerals are refused (EphemeralType NORMAL); ZooKeeper's check lets
    // deleteContainer remove an empty persistent node.
    write(&mut db, s, create("/n", CreateMode::Ephemeral, -1), 0).expect("ephemeral");
    let refused = write(
        &mut db,
        SessionId(0),
        WriteRequest::DeleteContainer { path: "/n".into() },
        0,
    );
    assert_eq!(refused, Err(ErrorCode::BADVERSION));
}

#[test]
fn ttl_needs_extended_types_and_a_valid_ttl() {
    let (mut off, s) = db(false);
    assert_eq!(
        write(
            &mut off,
            s,
            create("/t", CreateMode::PersistentWithTtl, 5000),
            0
        ),
        Err(ErrorCode::UNIMPLEMENTED)
    );
    let (mut on, s) = db(true);
    assert_eq!(
        write(
            &mut on,
            s,
            create("/t", CreateMode::PersistentWithTtl, 0),
            0
        ),
        Err(ErrorCode::BADARGUMENTS)
    );
    assert_eq!(
        write(
            &mut on,
            s,
            create("/t", CreateMode::PersistentWithTtl, 1 << 41),
            0
        ),
        Err(ErrorCode::BADARGUMENTS)
    );
    assert_eq!(
        write(
            &mut on,
            s,
            create("/t", CreateMode::PersistentWithTtl, 1),
            0
        ),
        Ok(())
    );
    // A TTL node's owner is hidden from clients.
    let node = on.tree().node("/t").expect("ttl node");
    assert_eq!(on.tree().stat_of(node).ephemeral_owner, 0);
}
