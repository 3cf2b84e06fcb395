//! Watches: registration, SetWatches on reconnect, notification order, materialization.

use super::super::*;
use super::*;

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
