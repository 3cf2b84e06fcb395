//! Watches through the `ZkDatabase` façade, with ZooKeeper 3.8's `WatchManager` rules: one-shot
//! data / exist / child watches, one notification per session per change even when several of
//! its watches match, persistent and recursive watches, delivery filtered by READ permission,
//! watches dropped with the connection, and SetWatches firing what changed while away.

use zabsim_protocol::acl::{Acl, Id};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{AddWatchMode, EventType, Request, WatcherType};
use zabsim_protocol::session_wire::SetWatches;
use zabsim_protocol::store::{
    RequestContext, StoreConfig, WatchNotification, WriteRequest, ZkDatabase,
};
use zabsim_protocol::types::{SessionId, Xid, Zxid};

struct Server {
    db: ZkDatabase,
    a: SessionId,
    b: SessionId,
}

impl Server {
    fn new() -> Server {
        let mut db = ZkDatabase::new(StoreConfig::new(1, 2000), 0);
        let mut ids = Vec::new();
        for _ in 0..2 {
            let s = db.session_tracker.create_session(10_000, 0);
            let z = Zxid(db.last_processed_zxid().0 + 1);
            let ctx = RequestContext {
                session: s,
                xid: Xid(0),
                auth: Vec::new(),
            };
            let e = db.prep(
                &ctx,
                &WriteRequest::CreateSession { timeout_ms: 10_000 },
                z,
                0,
            );
            db.apply(&e);
            ids.push(s);
        }
        Server {
            db,
            a: ids[0],
            b: ids[1],
        }
    }

    fn ctx(s: SessionId) -> RequestContext {
        RequestContext {
            session: s,
            xid: Xid(1),
            auth: Vec::new(),
        }
    }

    fn write(&mut self, s: SessionId, r: Request) -> Vec<(SessionId, EventType, String)> {
        let z = Zxid(self.db.last_processed_zxid().0 + 1);
        let e = self.db.prep(&Self::ctx(s), &WriteRequest::Client(r), z, 0);
        let applied = self.db.apply(&e);
        assert!(applied.response.is_ok(), "{:?}", applied.response);
        events(&applied.events)
    }

    fn read(&mut self, s: SessionId, r: Request) -> Result<(), ErrorCode> {
        self.db.read(&Self::ctx(s), &r).map(|_| ())
    }
}

fn events(n: &[WatchNotification]) -> Vec<(SessionId, EventType, String)> {
    n.iter()
        .map(|n| (n.session, n.event.event_type, n.event.path.clone()))
        .collect()
}

fn create(path: &str) -> Request {
    Request::Create {
        path: path.into(),
        data: None,
        acl: Acl::open_unsafe(),
        flags: 0,
        ttl: -1,
        with_stat: false,
    }
}

fn delete(path: &str) -> Request {
    Request::Delete {
        path: path.into(),
        version: -1,
    }
}

fn set(path: &str) -> Request {
    Request::SetData {
        path: path.into(),
        data: None,
        version: -1,
    }
}

#[test]
fn one_shot_watches() {
    let mut s = Server::new();
    let (a, b) = (s.a, s.b);
    // exists on a missing node answers NONODE and leaves a creation watch.
    assert_eq!(
        s.read(
            b,
            Request::Exists {
                path: "/x".into(),
                watch: true
            }
        ),
        Err(ErrorCode::NONODE)
    );
    // getData on a missing node leaves nothing.
    assert_eq!(
        s.read(
            a,
            Request::GetData {
                path: "/x".into(),
                watch: true
            }
        ),
        Err(ErrorCode::NONODE)
    );
    s.read(
        b,
        Request::GetChildren {
            path: "/".into(),
            watch: true,
            with_stat: false,
        },
    )
    .expect("root");
    let ev = s.write(a, create("/x"));
    assert_eq!(
        ev,
        [
            (b, EventType::NodeCreated, "/x".into()),
            (b, EventType::NodeChildrenChanged, "/".into())
        ]
    );
    assert!(
        s.write(a, set("/x")).is_empty(),
        "one-shot watches are consumed"
    );
    // Data and child watch of one session on one node: delete notifies it once.
    s.read(
        b,
        Request::GetData {
            path: "/x".into(),
            watch: true,
        },
    )
    .expect("x");
    s.read(
        b,
        Request::GetChildren {
            path: "/x".into(),
            watch: true,
            with_stat: false,
        },
    )
    .expect("x");
    assert_eq!(
        s.write(a, delete("/x")),
        [(b, EventType::NodeDeleted, "/x".into())]
    );
}

#[test]
fn persistent_and_recursive_watches() {
    let mut s = Server::new();
    let (a, b) = (s.a, s.b);
    s.read(
        b,
        Request::AddWatch {
            path: "/p".into(),
            mode: AddWatchMode::Persistent,
        },
    )
    .expect("add");
    s.read(
        a,
        Request::AddWatch {
            path: "/".into(),
            mode: AddWatchMode::PersistentRecursive,
        },
    )
    .expect("add");
    let ev = s.write(a, create("/p"));
    assert!(ev.contains(&(b, EventType::NodeCreated, "/p".into())));
    assert!(ev.contains(&(a, EventType::NodeCreated, "/p".into())));
    assert!(!ev
        .iter()
        .any(|(s, t, _)| *s == a && *t == EventType::NodeChildrenChanged));
    let ev = s.write(a, create("/p/c"));
    assert!(ev.contains(&(b, EventType::NodeChildrenChanged, "/p".into())));
    assert!(ev.contains(&(a, EventType::NodeCreated, "/p/c".into())));
    assert_eq!(s.write(a, set("/p")).len(), 2, "persistent watches stay");
    assert_eq!(
        s.read(
            b,
            Request::CheckWatches {
                path: "/p".into(),
                watcher_type: WatcherType::Any
            }
        ),
        Ok(())
    );
    assert_eq!(
        s.read(
            b,
            Request::RemoveWatches {
                path: "/p".into(),
                watcher_type: WatcherType::Any
            }
        ),
        Ok(())
    );
    assert_eq!(
        s.read(
            b,
            Request::RemoveWatches {
                path: "/p".into(),
                watcher_type: WatcherType::Any
            }
        ),
        Err(ErrorCode::NOWATCHER)
    );
    assert_eq!(
        s.write(a, set("/p")),
        [(a, EventType::NodeDataChanged, "/p".into())]
    );
    // The connection closes: its watches go.
    s.db.remove_connection(a);
    assert!(s.write(b, set("/p")).is_empty());
}

#[test]
fn delivery_needs_read_permission() {
    let mut s = Server::new();
    let (a, b) = (s.a, s.b);
    // Anyone may write /sec; only u:x may read it.
    let secret = vec![
        Acl {
            perms: 31,
            id: Id {
                scheme: "digest".into(),
                id: "u:x".into(),
            },
        },
        Acl::world(zabsim_protocol::acl::perms::WRITE),
    ];
    s.read(
        b,
        Request::AddWatch {
            path: "/".into(),
            mode: AddWatchMode::PersistentRecursive,
        },
    )
    .expect("add");
    let req = Request::Create {
        path: "/sec".into(),
        data: None,
        acl: secret,
        flags: 0,
        ttl: -1,
        with_stat: false,
    };
    assert!(
        s.write(a, req).is_empty(),
        "b may not read /sec: no NodeCreated"
    );
    s.db.set_connection_auth(
        b,
        vec![Id {
            scheme: "digest".into(),
            id: "u:x".into(),
        }],
    );
    assert_eq!(
        s.write(a, set("/sec")),
        [(b, EventType::NodeDataChanged, "/sec".into())]
    );
}

#[test]
fn set_watches_fires_missed_changes() {
    let mut s = Server::new();
    let (a, b) = (s.a, s.b);
    s.write(a, create("/d"));
    let seen = s.db.last_processed_zxid();
    s.write(a, set("/d"));
    s.write(a, create("/d/c"));
    let w = SetWatches {
        relative_zxid: seen,
        data_watches: vec!["/d".into(), "/gone".into()],
        exist_watches: vec!["/d/c".into(), "/later".into()],
        child_watches: vec!["/d".into()],
        ..SetWatches::default()
    };
    let ev = events(&s.db.set_watches(b, &w));
    assert_eq!(
        ev,
        [
            (b, EventType::NodeDataChanged, "/d".into()),
            (b, EventType::NodeDeleted, "/gone".into()),
            (b, EventType::NodeCreated, "/d/c".into()),
            (b, EventType::NodeChildrenChanged, "/d".into()),
        ]
    );
    // The exist watch on /later was re-armed.
    assert_eq!(
        s.write(a, create("/later")),
        [(b, EventType::NodeCreated, "/later".into())]
    );
}
