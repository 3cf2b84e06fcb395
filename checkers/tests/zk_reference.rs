//! The reference model's rules, one test per rule, each written from ZooKeeper's
//! `PrepRequestProcessor` / `DataTree` behaviour (see `reference/mod.rs`).

use zabsim_checkers::reference::{Fail, ReferenceConfig, ReferenceTree};
use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{MultiOp, OpResult, Request, Response};
use zabsim_protocol::types::{Epoch, SessionId, Zxid};

const S: SessionId = SessionId(0x10);

struct Model {
    tree: ReferenceTree,
    counter: u32,
}

impl Model {
    fn new() -> Model {
        let mut tree = ReferenceTree::new(ReferenceConfig::default());
        tree.create_session(S, Zxid::new(Epoch(1), 1));
        Model { tree, counter: 1 }
    }

    fn write(&mut self, request: Request) -> Result<Response, Fail> {
        self.counter += 1;
        self.tree
            .write(S, &request, Zxid::new(Epoch(1), self.counter), 1_000)
    }

    fn zxid(&self) -> Zxid {
        Zxid::new(Epoch(1), self.counter)
    }
}

fn create(path: &str, flags: i32) -> Request {
    Request::Create {
        path: path.into(),
        data: Some(b"d".to_vec()),
        acl: Acl::open_unsafe(),
        flags,
        ttl: -1,
        with_stat: true,
    }
}

fn code(code: ErrorCode) -> Result<Response, Fail> {
    Err(Fail::Code(code))
}

#[test]
fn create_checks_run_in_zookeepers_order() {
    let mut m = Model::new();
    assert_eq!(
        m.write(create("/a", 9)),
        code(ErrorCode::BADARGUMENTS),
        "unknown flag"
    );
    assert_eq!(
        m.write(create("/a", 5)),
        code(ErrorCode::UNIMPLEMENTED),
        "TTL without extended types"
    );
    assert_eq!(
        m.write(create("a", 0)),
        code(ErrorCode::BADARGUMENTS),
        "no slash"
    );
    assert_eq!(
        m.write(create("/x/y", 0)),
        code(ErrorCode::NONODE),
        "missing parent"
    );
    assert!(m.write(create("/x", 0)).is_ok());
    // The parent of /x//y is "/x/", which does not exist: NONODE comes before path validation.
    assert_eq!(m.write(create("/x//y", 0)), code(ErrorCode::NONODE));
    assert_eq!(
        m.write(create("/x/", 0)),
        code(ErrorCode::BADARGUMENTS),
        "trailing slash"
    );
    assert_eq!(m.write(create("/x", 0)), code(ErrorCode::NODEEXISTS));
    assert!(m.write(create("/e", 1)).is_ok());
    assert_eq!(
        m.write(create("/e/c", 0)),
        code(ErrorCode::NOCHILDRENFOREPHEMERALS)
    );
    let empty_acl = Request::Create {
        path: "/z".into(),
        data: None,
        acl: vec![],
        flags: 0,
        ttl: -1,
        with_stat: false,
    };
    assert_eq!(m.write(empty_acl), code(ErrorCode::INVALIDACL));
}

#[test]
fn sequential_names_use_the_stored_create_counter() {
    let mut m = Model::new();
    m.write(create("/q", 0)).unwrap();
    let name = |r: Result<Response, Fail>| match r {
        Ok(Response::Create { path, .. }) => path,
        other => panic!("{other:?}"),
    };
    assert_eq!(name(m.write(create("/q/n-", 2))), "/q/n-0000000000");
    assert_eq!(name(m.write(create("/q/n-", 2))), "/q/n-0000000001");
    m.write(Request::Delete {
        path: "/q/n-0000000001".into(),
        version: -1,
    })
    .unwrap();
    // Deletes do not lower the counter: names are never reused.
    assert_eq!(name(m.write(create("/q/n-", 3))), "/q/n-0000000002");
}

#[test]
fn cversion_counts_changes_and_pzxid_follows_the_last_child_change() {
    let mut m = Model::new();
    m.write(create("/p", 0)).unwrap();
    m.write(create("/p/a", 0)).unwrap();
    m.write(create("/p/b", 0)).unwrap();
    m.write(Request::Delete {
        path: "/p/a".into(),
        version: -1,
    })
    .unwrap();
    let deleted_at = m.zxid();
    let stat = m.tree.node("/p").unwrap().stat();
    // Two creates and one delete: stored counter 2, one child left, cversion 2*2-1 = 3.
    assert_eq!(
        (stat.cversion, stat.num_children, stat.pzxid),
        (3, 1, deleted_at)
    );
    assert_eq!(m.tree.node("/").unwrap().stat().cversion, 1);
}

#[test]
fn versions_are_checked_and_skip_minus_one() {
    let mut m = Model::new();
    m.write(create("/v", 0)).unwrap();
    let set = |version| Request::SetData {
        path: "/v".into(),
        data: Some(b"x".to_vec()),
        version,
    };
    assert_eq!(m.write(set(3)), code(ErrorCode::BADVERSION));
    match m.write(set(0)) {
        Ok(Response::SetData { stat }) => assert_eq!(stat.version, 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        m.write(Request::Delete {
            path: "/v".into(),
            version: 0
        }),
        code(ErrorCode::BADVERSION)
    );
    assert!(m
        .write(Request::Delete {
            path: "/v".into(),
            version: 1
        })
        .is_ok());
}

#[test]
fn delete_refuses_non_empty_and_special_nodes() {
    let mut m = Model::new();
    m.write(create("/d", 0)).unwrap();
    m.write(create("/d/c", 0)).unwrap();
    assert_eq!(
        m.write(Request::Delete {
            path: "/d".into(),
            version: -1
        }),
        code(ErrorCode::NOTEMPTY)
    );
    assert_eq!(
        m.write(Request::Delete {
            path: "/".into(),
            version: -1
        }),
        code(ErrorCode::BADARGUMENTS)
    );
    assert_eq!(
        m.write(Request::Delete {
            path: "/nope".into(),
            version: -1
        }),
        code(ErrorCode::NONODE)
    );
}

#[test]
fn a_failed_multi_changes_nothing_and_reports_ok_then_the_code_then_runtime_inconsistency() {
    let mut m = Model::new();
    m.write(create("/m", 0)).unwrap();
    let ops = vec![
        MultiOp::Create2 {
            path: "/m/a".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 0,
        },
        MultiOp::Check {
            path: "/m".into(),
            version: 7,
        },
        MultiOp::SetData {
            path: "/m".into(),
            data: None,
            version: -1,
        },
    ];
    let before = m.tree.node("/m").unwrap().clone();
    match m.write(Request::Multi { ops }) {
        Ok(Response::Multi { results }) => assert_eq!(
            results,
            vec![
                OpResult::Error { err: ErrorCode::OK },
                OpResult::Error {
                    err: ErrorCode::BADVERSION
                },
                OpResult::Error {
                    err: ErrorCode::RUNTIMEINCONSISTENCY
                },
            ]
        ),
        other => panic!("{other:?}"),
    }
    assert!(m.tree.node("/m/a").is_none());
    assert_eq!(m.tree.node("/m").unwrap(), &before);
}

#[test]
fn a_multi_sees_its_own_earlier_ops() {
    let mut m = Model::new();
    let ops = vec![
        MultiOp::Create {
            path: "/n".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 0,
        },
        MultiOp::Create {
            path: "/n/s-".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 2,
        },
        MultiOp::SetData {
            path: "/n".into(),
            data: Some(b"v".to_vec()),
            version: 0,
        },
    ];
    match m.write(Request::Multi { ops }) {
        Ok(Response::Multi { results }) => {
            assert_eq!(
                results[1],
                OpResult::Create {
                    path: "/n/s-0000000000".into(),
                    stat: None
                }
            );
            assert!(matches!(results[2], OpResult::SetData { stat } if stat.version == 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn closing_a_session_deletes_its_ephemerals_and_later_writes_are_expired() {
    let mut m = Model::new();
    m.write(create("/e1", 1)).unwrap();
    m.write(create("/e2", 3)).unwrap();
    m.counter += 1;
    let mut gone = m.tree.close_session(S, m.zxid());
    gone.sort();
    assert_eq!(gone, ["/e1", "/e20000000001"]);
    assert!(m.tree.node("/e1").is_none());
    assert_eq!(
        m.write(create("/after", 0)),
        code(ErrorCode::SESSIONEXPIRED)
    );
}

#[test]
fn reads_answer_from_the_tree() {
    let mut m = Model::new();
    m.write(create("/r", 0)).unwrap();
    let get = |path: &str| Request::GetData {
        path: path.into(),
        watch: false,
    };
    assert!(
        matches!(m.tree.read(S, &get("/r")), Ok(Response::GetData { data: Some(d), .. }) if d == b"d")
    );
    assert_eq!(m.tree.read(S, &get("/none")), code(ErrorCode::NONODE));
    let exists = Request::Exists {
        path: "/none".into(),
        watch: true,
    };
    assert_eq!(m.tree.read(S, &exists), code(ErrorCode::NONODE));
    let count = Request::GetAllChildrenNumber { path: "/".into() };
    assert_eq!(
        m.tree.read(S, &count),
        Ok(Response::GetAllChildrenNumber { total_number: 1 })
    );
}

/// Goal: a create2 inside a multi answers like a plain create (path, no Stat), as ZooKeeper's
/// `MultiOperationRecord.deserialize` turns it into `Op.create`; a container create inside a
/// multi keeps its Stat. (The full-API workload's multis caught the model giving a Stat.)
#[test]
fn create2_inside_multi_carries_no_stat() {
    let mut m = Model::new();
    let sub = |path: &str, flags: i32| MultiOp::Create2 {
        path: path.into(),
        data: Some(b"d".to_vec()),
        acl: Acl::open_unsafe(),
        flags,
    };
    let reply = m.write(Request::Multi {
        ops: vec![sub("/a", 0), sub("/c", 4)],
    });
    let Ok(Response::Multi { results }) = reply else {
        panic!("{reply:?}");
    };
    assert_eq!(
        results[0],
        OpResult::Create {
            path: "/a".into(),
            stat: None
        }
    );
    assert!(
        matches!(&results[1], OpResult::Create { path, stat: Some(_) } if path == "/c"),
        "{:?}",
        results[1]
    );
}
