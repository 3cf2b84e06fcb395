//! The leader's prep against outstanding changes (ZooKeeper's `outstandingChanges`): requests
//! prepared before earlier ones are applied must see them — a create under an uncommitted
//! parent, sequential names, a failed multi that must roll its records back, closeSession that
//! must list an ephemeral still in the pipeline — and each txn's digest must equal the tree
//! digest after applying it (`PrepRequestProcessor.precalculateDigest`).

use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::op_code::OpCode;
use zabsim_protocol::request::{MultiOp, Request, Response};
use zabsim_protocol::store::{RequestContext, StoreConfig, WriteRequest, ZkDatabase};
use zabsim_protocol::txn::{Txn, TxnEntry};
use zabsim_protocol::types::{SessionId, Xid, Zxid};

struct Leader {
    db: ZkDatabase,
    session: SessionId,
    next: u64,
    pending: Vec<TxnEntry>,
}

impl Leader {
    fn new() -> Leader {
        let mut db = ZkDatabase::new(StoreConfig::new(1, 2000), 0);
        let session = db.session_tracker.create_session(10_000, 0);
        let mut l = Leader {
            db,
            session,
            next: 1,
            pending: Vec::new(),
        };
        l.prep(WriteRequest::CreateSession { timeout_ms: 10_000 });
        l.commit_all();
        l
    }

    fn ctx(&self) -> RequestContext {
        RequestContext {
            session: self.session,
            xid: Xid(self.next as i32),
            auth: Vec::new(),
        }
    }

    fn prep(&mut self, w: WriteRequest) -> TxnEntry {
        let zxid = Zxid(self.next);
        self.next += 1;
        let e = self.db.prep(&self.ctx(), &w, zxid, 100);
        self.pending.push(e.clone());
        e
    }

    fn commit_all(&mut self) -> Vec<Result<Response, ErrorCode>> {
        let mut out = Vec::new();
        for e in std::mem::take(&mut self.pending) {
            let applied = self.db.apply(&e);
            if let Some(d) = e.digest {
                assert_eq!(d.tree_digest, self.db.digest(), "txn digest of {e:?}");
            }
            out.push(applied.response);
        }
        assert_eq!(self.db.outstanding_changes(), 0);
        out
    }
}

fn create(path: &str, flags: i32) -> WriteRequest {
    WriteRequest::Client(Request::Create {
        path: path.into(),
        data: Some(b"d".to_vec()),
        acl: Acl::open_unsafe(),
        flags,
        ttl: -1,
        with_stat: false,
    })
}

/// ZooKeeper's pipeline: `/p` then `/p/c` prepared back to back; the second sees the first.
#[test]
fn create_under_uncommitted_parent() {
    let mut l = Leader::new();
    l.prep(create("/p", 0));
    let c = l.prep(create("/p/c", 0));
    assert_eq!(c.header.txn_type, OpCode::Create);
    let dup = l.prep(create("/p", 0));
    assert_eq!(
        dup.txn,
        Txn::Error {
            err: ErrorCode::NODEEXISTS.code()
        }
    );
    let eph = l.prep(create("/e", 1));
    let under_eph = l.prep(create("/e/x", 0));
    assert_eq!(
        under_eph.txn,
        Txn::Error {
            err: ErrorCode::NOCHILDRENFOREPHEMERALS.code()
        }
    );
    assert!(matches!(
        eph.txn,
        Txn::Create {
            ephemeral: true,
            ..
        }
    ));
    let del = l.prep(WriteRequest::Client(Request::Delete {
        path: "/p".into(),
        version: -1,
    }));
    assert_eq!(
        del.txn,
        Txn::Error {
            err: ErrorCode::NOTEMPTY.code()
        }
    );
    let r = l.commit_all();
    assert!(r[0].is_ok() && r[1].is_ok());
    assert_eq!(r[2], Err(ErrorCode::NODEEXISTS));
}

/// Sequential suffixes advance through the pipeline (parentCVersion of the pending record).
#[test]
fn sequential_names_in_the_pipeline() {
    let mut l = Leader::new();
    let a = l.prep(create("/s-", 2));
    let b = l.prep(create("/s-", 2));
    let path = |e: &TxnEntry| match &e.txn {
        Txn::Create {
            path,
            parent_cversion,
            ..
        } => (path.clone(), *parent_cversion),
        other => panic!("{other:?}"),
    };
    assert_eq!(path(&a), ("/s-0000000000".to_string(), 1));
    assert_eq!(path(&b), ("/s-0000000001".to_string(), 2));
    l.commit_all();
}

/// A failed multi rolls back its change records: a later create sees the pre-multi state.
#[test]
fn failed_multi_rolls_back() {
    let mut l = Leader::new();
    let m = l.prep(WriteRequest::Client(Request::Multi {
        ops: vec![
            MultiOp::Create {
                path: "/m".into(),
                data: None,
                acl: Acl::open_unsafe(),
                flags: 0,
            },
            MultiOp::Check {
                path: "/m".into(),
                version: 3,
            },
        ],
    }));
    assert_eq!(m.header.txn_type, OpCode::Multi);
    let Txn::Multi { txns } = &m.txn else {
        panic!("{m:?}")
    };
    assert_eq!(txns[0].0, OpCode::Create);
    assert_eq!(
        txns[1],
        (
            OpCode::Error,
            Txn::Error {
                err: ErrorCode::BADVERSION.code()
            }
        )
    );
    let after = l.prep(create("/m", 0));
    assert_eq!(
        after.header.txn_type,
        OpCode::Create,
        "the rolled-back /m must not block"
    );
    let r = l.commit_all();
    assert!(r[1].is_ok());
}

/// closeSession lists the session's ephemerals including one still being committed, and no
/// longer lists one whose delete is pending.
#[test]
fn close_session_sees_pipeline() {
    let mut l = Leader::new();
    l.prep(create("/e1", 1));
    l.commit_all();
    l.prep(create("/e2", 1));
    l.prep(WriteRequest::Client(Request::Delete {
        path: "/e1".into(),
        version: -1,
    }));
    let close = l.prep(WriteRequest::CloseSession);
    assert_eq!(
        close.txn,
        Txn::CloseSession {
            paths_to_delete: vec!["/e2".into()]
        }
    );
    // A closing session's next request is refused.
    let late = l.prep(create("/late", 0));
    assert_eq!(
        late.txn,
        Txn::Error {
            err: ErrorCode::SESSIONEXPIRED.code()
        }
    );
    l.commit_all();
    assert!(l.db.tree().node("/e2").is_none());
    assert!(l.db.sessions_with_timeouts().is_empty());
}

/// Versions wrap like Java ints; a parent's child counter past i32::MAX gives a negative suffix.
#[test]
fn version_wrap_and_counter_overflow() {
    use zabsim_protocol::store::prep::check_and_inc_version;
    assert_eq!(check_and_inc_version(i32::MAX, -1), Ok(i32::MIN));
    assert_eq!(check_and_inc_version(i32::MAX, i32::MAX), Ok(i32::MIN));
    assert_eq!(check_and_inc_version(3, 4), Err(ErrorCode::BADVERSION));
    assert_eq!(format!("{:010}", i32::MIN), "-2147483648");
    assert_eq!(format!("{:010}", -1), "-000000001");
}
