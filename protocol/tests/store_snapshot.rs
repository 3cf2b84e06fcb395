//! Snapshot images: a database converted to an image and back is the same database (digest,
//! nodes, ACL cache refs, sessions); nodes come in pre-order with the root as `""`; and a fuzzy
//! snapshot (an image with some txns after its zxid already in it) plus replay of those txns
//! equals the live tree (ZooKeeper's idempotent replay, §14.5 of zab-protocol.md).

use zabsim_protocol::acl::{Acl, Id};
use zabsim_protocol::request::Request;
use zabsim_protocol::store::{RequestContext, StoreConfig, WriteRequest, ZkDatabase};
use zabsim_protocol::txn::TxnEntry;
use zabsim_protocol::types::{SessionId, Xid, Zxid};

fn config() -> StoreConfig {
    StoreConfig::new(1, 2000)
}

/// Builds a database with sessions, ephemerals, a digest ACL, sequential nodes and deletes;
/// returns it with every txn it applied.
fn build() -> (ZkDatabase, Vec<TxnEntry>) {
    let mut db = ZkDatabase::new(config(), 0);
    let s = db.session_tracker.create_session(10_000, 0);
    let ctx = RequestContext {
        session: s,
        xid: Xid(1),
        auth: Vec::new(),
    };
    let digest_acl = vec![Acl {
        perms: 31,
        id: Id {
            scheme: "digest".into(),
            id: "u:abc".into(),
        },
    }];
    let mut writes = vec![WriteRequest::CreateSession { timeout_ms: 10_000 }];
    for (p, flags, acl) in [
        ("/app", 0, Acl::open_unsafe()),
        ("/app/item-", 2, Acl::open_unsafe()),
        ("/app/item-", 2, Acl::read_unsafe()),
        ("/app/lock", 1, Acl::open_unsafe()),
        ("/sec", 0, digest_acl),
    ] {
        writes.push(WriteRequest::Client(Request::Create {
            path: p.into(),
            data: Some(p.as_bytes().to_vec()),
            acl,
            flags,
            ttl: -1,
            with_stat: true,
        }));
    }
    writes.push(WriteRequest::Client(Request::Delete {
        path: "/app/item-0000000000".into(),
        version: -1,
    }));
    writes.push(WriteRequest::Client(Request::SetData {
        path: "/app".into(),
        data: None,
        version: 0,
    }));
    let mut log = Vec::new();
    for (k, w) in writes.iter().enumerate() {
        let e = db.prep(&ctx, w, Zxid(k as u64 + 1), 1000 + k as i64);
        assert!(db.apply(&e).response.is_ok(), "{w:?}");
        log.push(e);
    }
    (db, log)
}

#[test]
fn image_round_trip() {
    let (db, _) = build();
    let image = db.to_snapshot_image();
    assert_eq!(image.nodes[0].path, "");
    let paths: Vec<&str> = image.nodes.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "",
            "/app",
            "/app/item-0000000001",
            "/app/lock",
            "/sec",
            "/zookeeper",
            "/zookeeper/config",
            "/zookeeper/quota"
        ]
    );
    // The root and /zookeeper use the open ACL reference -1; other lists are cached once.
    assert_eq!(image.nodes[0].acl_ref, -1);
    assert!(image.acl_cache.values().any(|a| a == &Acl::open_unsafe()));
    assert_eq!(image.acl_cache.len(), 3, "{:?}", image.acl_cache);
    let digest = image.digest.expect("digest enabled");
    assert_eq!(digest.digest, db.digest());
    let back = ZkDatabase::from_snapshot_image(config(), &image, Zxid(0), 0).expect("loads");
    assert_eq!(back.digest(), db.digest());
    assert_eq!(back.last_processed_zxid(), db.last_processed_zxid());
    assert_eq!(back.to_snapshot_image(), image);
    assert_eq!(back.sessions_with_timeouts(), db.sessions_with_timeouts());
    assert_eq!(back.tree().ephemerals_of(image.sessions[0].0).len(), 1);
}

/// Fuzzy snapshot: the image is taken at the end but named after an earlier zxid; replaying
/// the later txns on it changes nothing (creates of existing nodes and deletes of missing
/// ones are no-ops, versions are absolute).
#[test]
fn fuzzy_snapshot_replay_is_idempotent() {
    let (db, log) = build();
    let image = db.to_snapshot_image();
    for from in 0..log.len() {
        let mut replay =
            ZkDatabase::from_snapshot_image(config(), &image, Zxid(0), 0).expect("loads");
        for e in &log[from..] {
            let _ = replay.apply(e);
        }
        assert_eq!(replay.digest(), db.digest(), "replay from {from}");
        assert_eq!(
            replay.to_snapshot_image().nodes,
            image.nodes,
            "replay from {from}"
        );
    }
    // A replay from scratch gives the same tree.
    let mut fresh = ZkDatabase::new(config(), 0);
    for e in &log {
        let _ = fresh.apply(e);
    }
    assert_eq!(fresh.digest(), db.digest());
}

/// A malformed image (a node before its parent, an unknown ACL reference) is an error, never a
/// panic.
#[test]
fn malformed_images_are_errors() {
    let (db, _) = build();
    let mut image = db.to_snapshot_image();
    image.nodes.swap(1, 2);
    assert!(ZkDatabase::from_snapshot_image(config(), &image, Zxid(0), 0).is_err());
    let mut image = db.to_snapshot_image();
    image.nodes[1].acl_ref = 99;
    let err = ZkDatabase::from_snapshot_image(config(), &image, Zxid(0), 0).expect_err("bad ref");
    assert!(err.to_string().contains("99"));
    let _ = SessionId(0);
}

mod property {
    //! Random op sequences: the image of the live database loads back to the same image and
    //! digest, and a fuzzy image (taken at the end) plus the replay of any log suffix equals
    //! the live tree.
    use super::*;
    use proptest::prelude::*;

    const PATHS: [&str; 5] = ["/a", "/b", "/a/x", "/a/y", "/b/z"];

    fn write() -> impl Strategy<Value = WriteRequest> {
        let p = || (0..PATHS.len()).prop_map(|i| PATHS[i].to_string());
        prop_oneof![
            (p(), 0..4i32, any::<u8>()).prop_map(|(path, flags, d)| WriteRequest::Client(
                Request::Create {
                    path,
                    data: Some(vec![d]),
                    acl: if d % 3 == 0 {
                        Acl::read_unsafe()
                    } else {
                        Acl::open_unsafe()
                    },
                    flags,
                    ttl: -1,
                    with_stat: false,
                }
            )),
            (p(), -1..2i32).prop_map(|(path, version)| WriteRequest::Client(Request::Delete {
                path,
                version
            })),
            (p(), any::<u8>()).prop_map(|(path, d)| WriteRequest::Client(Request::SetData {
                path,
                data: Some(vec![d]),
                version: -1,
            })),
            (p(), any::<bool>()).prop_map(|(path, open)| WriteRequest::Client(Request::SetAcl {
                path,
                acl: if open {
                    Acl::open_unsafe()
                } else {
                    Acl::read_unsafe()
                },
                version: -1,
            })),
        ]
    }

    /// A node with its ACL list resolved: path, data, ACL, Stat.
    type Resolved = (String, Option<Vec<u8>>, Vec<Acl>, String);

    fn resolved(image: &zabsim_protocol::snapshot_image::SnapshotImage) -> Vec<Resolved> {
        image
            .nodes
            .iter()
            .map(|n| {
                let acl = if n.acl_ref == -1 {
                    Acl::open_unsafe()
                } else {
                    image
                        .acl_cache
                        .get(&n.acl_ref)
                        .cloned()
                        .expect("cached ACL")
                };
                (n.path.clone(), n.data.clone(), acl, format!("{:?}", n.stat))
            })
            .collect()
    }

    proptest! {
        #[test]
        fn image_and_fuzzy_replay(writes in proptest::collection::vec(write(), 0..30), cut in 0usize..30) {
            let mut db = ZkDatabase::new(config(), 0);
            let s = db.session_tracker.create_session(10_000, 0);
            let ctx = RequestContext { session: s, xid: Xid(1), auth: Vec::new() };
            let mut log = Vec::new();
            let all = std::iter::once(WriteRequest::CreateSession { timeout_ms: 10_000 }).chain(writes);
            for (k, w) in all.enumerate() {
                let e = db.prep(&ctx, &w, Zxid(k as u64 + 1), k as i64);
                db.apply(&e);
                log.push(e);
            }
            let image = db.to_snapshot_image();
            let back = ZkDatabase::from_snapshot_image(config(), &image, Zxid(0), 0).expect("loads");
            prop_assert_eq!(back.to_snapshot_image(), image.clone());
            let mut fuzzy = back;
            for e in &log[cut.min(log.len())..] {
                let _ = fuzzy.apply(e);
            }
            prop_assert_eq!(fuzzy.digest(), db.digest());
            prop_assert_eq!(fuzzy.digest(), fuzzy.tree().recompute_digest());
            // Replay may give a re-added ACL list a fresh reference (as ZooKeeper's cache does
            // after a purge): compare the nodes with their ACL lists resolved.
            prop_assert_eq!(resolved(&fuzzy.to_snapshot_image()), resolved(&image));
        }
    }
}
