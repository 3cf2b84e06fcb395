//! Unit tests of the data tree's Stat rules on txn application.

use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::store::DataTree;
use zabsim_protocol::types::Zxid;

#[test]
fn create_bumps_parent_cversion_and_pzxid() {
    let mut t = DataTree::new();
    let s = t
        .create_node(
            "/a",
            Some(b"x".to_vec()),
            Acl::open_unsafe(),
            0,
            1,
            Zxid(5),
            0,
        )
        .unwrap();
    assert_eq!(s.czxid, Zxid(5));
    assert_eq!(s.data_length, 1);
    let root = t.node("/").unwrap().client_stat();
    assert_eq!(
        (root.cversion, root.pzxid, root.num_children),
        (1, Zxid(5), 1)
    );
    assert_eq!(
        t.create_node("/a", None, Acl::open_unsafe(), 0, 2, Zxid(6), 0),
        Err(ErrorCode::NODEEXISTS)
    );
    t.delete_node("/a", Zxid(7)).unwrap();
    let root = t.node("/").unwrap().client_stat();
    assert_eq!(
        (root.cversion, root.pzxid, root.num_children),
        (2, Zxid(7), 0)
    );
}

#[test]
fn create_under_missing_parent_is_nonode() {
    let mut t = DataTree::new();
    assert_eq!(
        t.create_node("/a/b", None, Acl::open_unsafe(), 0, 1, Zxid(1), 0),
        Err(ErrorCode::NONODE)
    );
}

#[test]
fn prep_delete_checks_nonode_then_badversion_then_notempty() {
    use zabsim_protocol::request::Request;
    use zabsim_protocol::store::prep;
    use zabsim_protocol::txn::Txn;
    use zabsim_protocol::types::{SessionId, Xid};
    let mut t = DataTree::new();
    t.create_node("/a", None, Acl::open_unsafe(), 0, 1, Zxid(1), 0)
        .unwrap();
    t.create_node("/a/b", None, Acl::open_unsafe(), 0, 1, Zxid(2), 0)
        .unwrap();
    let del = |path: &str, version| Request::Delete {
        path: path.to_string(),
        version,
    };
    let err = |t: &DataTree, r: &Request| prep(t, SessionId(1), Xid(1), r, Zxid(3), 0).txn;
    assert_eq!(
        err(&t, &del("/x", 5)),
        Txn::Error {
            err: ErrorCode::NONODE.code()
        }
    );
    assert_eq!(
        err(&t, &del("/a", 5)),
        Txn::Error {
            err: ErrorCode::BADVERSION.code()
        }
    );
    assert_eq!(
        err(&t, &del("/a", 0)),
        Txn::Error {
            err: ErrorCode::NOTEMPTY.code()
        }
    );
    assert_eq!(
        err(&t, &del("/a/b", 0)),
        Txn::Delete {
            path: "/a/b".to_string()
        }
    );
}

#[test]
fn prep_sequential_suffix_uses_parent_cversion() {
    use zabsim_protocol::request::Request;
    use zabsim_protocol::store::prep;
    use zabsim_protocol::txn::Txn;
    use zabsim_protocol::types::{SessionId, Xid};
    let mut t = DataTree::new();
    t.create_node("/a", None, Acl::open_unsafe(), 0, 1, Zxid(1), 0)
        .unwrap();
    let r = Request::Create {
        path: "/q-".to_string(),
        data: None,
        acl: Acl::open_unsafe(),
        flags: 2,
        ttl: -1,
        with_stat: false,
    };
    match prep(&t, SessionId(1), Xid(1), &r, Zxid(2), 0).txn {
        Txn::Create {
            path,
            parent_cversion,
            ..
        } => {
            assert_eq!(path, "/q-0000000001");
            assert_eq!(parent_cversion, 2);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn read_get_all_children_number_counts_descendants() {
    use zabsim_protocol::request::{Request, Response};
    use zabsim_protocol::store::read;
    use zabsim_protocol::types::SessionId;
    let mut t = DataTree::new();
    t.create_node("/a", None, Acl::open_unsafe(), 0, 1, Zxid(1), 0)
        .unwrap();
    t.create_node("/a/b", None, Acl::open_unsafe(), 0, 1, Zxid(2), 0)
        .unwrap();
    t.create_node("/ab", None, Acl::open_unsafe(), 0, 2, Zxid(3), 0)
        .unwrap();
    let n = |p: &str| {
        read(
            &t,
            SessionId(1),
            &Request::GetAllChildrenNumber {
                path: p.to_string(),
            },
        )
    };
    assert_eq!(
        n("/a"),
        Ok(Response::GetAllChildrenNumber { total_number: 1 })
    );
    assert_eq!(
        n("/"),
        Ok(Response::GetAllChildrenNumber { total_number: 3 })
    );
    assert_eq!(n("/zz"), Err(ErrorCode::NONODE));
}

#[test]
fn prep_then_apply_create_and_failed_write() {
    use zabsim_protocol::request::{Request, Response};
    use zabsim_protocol::store::{apply, prep};
    use zabsim_protocol::types::{SessionId, Xid};
    let mut t = DataTree::new();
    let r = Request::Create {
        path: "/a".to_string(),
        data: Some(b"v".to_vec()),
        acl: Acl::open_unsafe(),
        flags: 0,
        ttl: -1,
        with_stat: true,
    };
    let e = prep(&t, SessionId(7), Xid(1), &r, Zxid(1), 0);
    match apply(&mut t, &e) {
        Ok(Response::Create {
            path,
            stat: Some(stat),
        }) => {
            assert_eq!(path, "/a");
            assert_eq!((stat.czxid, stat.data_length), (Zxid(1), 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    let e = prep(&t, SessionId(7), Xid(2), &r, Zxid(2), 0);
    assert_eq!(apply(&mut t, &e), Err(ErrorCode::NODEEXISTS));
    assert_eq!(t.last_processed_zxid, Zxid(2));
}
