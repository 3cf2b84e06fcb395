//! The watch judge on hand-made facts: a session's data and child watch on one path are
//! decided separately when they are carried into SetWatches (swarm seeds 2865, 4809).

use super::*;

const S: SessionId = SessionId(7);
const PATH: &str = "/k";
/// `WatchedEvent.NO_ZXID`: what a SetWatches notification carries.
const NO_ZXID: Zxid = Zxid(u64::MAX);

fn z(n: u64) -> Zxid {
    Zxid(n)
}

fn create(n: u64) -> (u64, Txn) {
    let txn = Txn::Create {
        path: PATH.into(),
        data: None,
        acl: Vec::new(),
        ephemeral: false,
        parent_cversion: 1,
    };
    (n, txn)
}

fn registration(kind: WatchKind, op: u64, line: usize) -> Registration {
    Registration {
        session: S,
        kind,
        path: PATH.into(),
        zxid: z(3),
        op: OpId(op),
        line,
        invoke_line: line - 1,
    }
}

fn got(line: usize, event: EventType) -> Received {
    Received {
        line,
        session: S,
        zxid: NO_ZXID,
        event,
        path: PATH.into(),
    }
}

/// `/k` exists; the session reads it with a child watch (line 5) and a data watch (line 6),
/// both at 3. `/k` is deleted at 4 while the session's server lags; the session reconnects on
/// line 10 with relativeZxid 3; by then `/k` was created again (6) and changed (7), so the new
/// server's setWatches fires NodeDataChanged (mzxid 7 > 3) and NodeChildrenChanged (pzxid 6 > 3)
/// before the first reply (line 20, at 8) - what `DataTree.setWatches` does.
fn facts_judged(registrations: &[Registration], received: &[Received]) -> Vec<Violation> {
    let mut index = ChangeIndex::new();
    let set = (
        7,
        Txn::SetData {
            path: PATH.into(),
            data: Some(vec![1]),
            version: 0,
        },
    );
    for (n, txn) in [
        create(1),
        (4, Txn::Delete { path: PATH.into() }),
        create(6),
        set,
    ] {
        index_txn(&mut index, z(n), &txn);
    }
    let replies = BTreeMap::from([(S, vec![(5, z(3)), (6, z(3)), (20, z(8))])]);
    let connects = BTreeMap::from([(S, vec![(1, z(0)), (10, z(3))])]);
    let (closed_at, uncertain) = (BTreeMap::new(), BTreeSet::new());
    let facts = WatchFacts {
        registrations,
        received,
        replies: &replies,
        closed_at: &closed_at,
        uncertain: &uncertain,
        connects: &connects,
        persistent: &[],
        removals: &[],
        sets: &[],
        uncertain_below: &uncertain,
    };
    judge(&facts, &index).0
}

#[test]
fn a_data_and_a_child_watch_on_one_path_are_carried_separately() {
    let received = [
        got(11, EventType::NodeDataChanged),
        got(12, EventType::NodeChildrenChanged),
    ];
    for registrations in [
        [
            registration(WatchKind::Child, 1, 5),
            registration(WatchKind::Data, 2, 6),
        ],
        [
            registration(WatchKind::Data, 2, 6),
            registration(WatchKind::Child, 1, 5),
        ],
    ] {
        let found = facts_judged(&registrations, &received);
        assert!(found.is_empty(), "{found:#?}");
    }
}

#[test]
fn a_carried_watch_that_setwatches_must_fire_is_still_demanded() {
    // Only the child notification came: the data watch was due before the first reply.
    let registrations = [
        registration(WatchKind::Child, 1, 5),
        registration(WatchKind::Data, 2, 6),
    ];
    let found = facts_judged(&registrations, &[got(12, EventType::NodeChildrenChanged)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.contains("Data watch on /k"), "{found:#?}");
}

/// A child watch set at 3 (line 5) that a recursive addWatch (line 6) may have turned recursive
/// on its server, so the child created at 5 fires nothing there; the client still holds the
/// one-shot watch. It reads at 6 (line 7), reconnects on line 10 with relativeZxid 6, and the
/// new server's setWatches fires NodeChildrenChanged (line 11) when a child change after 6
/// (`later`) has moved pzxid past relativeZxid (swarm seeds 180, 202, 651, 897). Without such a
/// change nothing can fire it.
fn replaced_mode_carried(later: Option<u64>) -> Vec<Violation> {
    let child = |n: u64, txn: Txn| (n, txn);
    let mut index = ChangeIndex::new();
    let created = Txn::Create {
        path: format!("{PATH}/c"),
        data: None,
        acl: Vec::new(),
        ephemeral: false,
        parent_cversion: 1,
    };
    let mut txns = vec![create(1), child(5, created)];
    if let Some(n) = later {
        txns.push(child(
            n,
            Txn::Delete {
                path: format!("{PATH}/c"),
            },
        ));
    }
    for (n, txn) in txns {
        index_txn(&mut index, z(n), &txn);
    }
    let registrations = [registration(WatchKind::Child, 1, 5)];
    let sets = [WatchSet {
        session: S,
        path: PATH.into(),
        invoke_line: 6,
        persistent: true,
        recursive: true,
    }];
    let received = [got(11, EventType::NodeChildrenChanged)];
    let replies = BTreeMap::from([(S, vec![(5, z(3)), (7, z(6)), (12, z(9))])]);
    let connects = BTreeMap::from([(S, vec![(1, z(0)), (10, z(6))])]);
    let (closed_at, uncertain) = (BTreeMap::new(), BTreeSet::new());
    let facts = WatchFacts {
        registrations: &registrations,
        received: &received,
        replies: &replies,
        closed_at: &closed_at,
        uncertain: &uncertain,
        connects: &connects,
        persistent: &[],
        removals: &[],
        sets: &sets,
        uncertain_below: &uncertain,
    };
    judge(&facts, &index).0
}

#[test]
fn a_watch_whose_mode_may_have_been_replaced_is_explained_when_setwatches_fires_it() {
    let found = replaced_mode_carried(Some(8));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_catch_up_no_change_after_relative_zxid_explains_is_still_spurious() {
    let found = replaced_mode_carried(None);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.contains("without a watch"), "{found:#?}");
}

/// A child watch (line 5, at 3) under a recursive addWatch the session made earlier (line 2).
/// The session reconnects on line 10 (relativeZxid 3): setWatches re-arms the child watch and
/// then the recursive one, which turns it recursive, so the child change at 5 fires no
/// NodeChildrenChanged on that connection, although a reply at 6 came (line 12). The client still
/// holds the watch; on its next connection (line 20, relativeZxid 6) pzxid 8 is past 6 and
/// setWatches fires it (line 21) (swarm seed 1235). Without the recursive watch the first
/// connection owed the notification.
fn rearmed_under_recursive(recursive: bool) -> Vec<Violation> {
    let mut index = ChangeIndex::new();
    let child = |name: &str| format!("{PATH}/{name}");
    let make = |name: &str| Txn::Create {
        path: child(name),
        data: None,
        acl: Vec::new(),
        ephemeral: false,
        parent_cversion: 1,
    };
    for (n, txn) in [create(1), (5, make("a")), (8, make("b"))] {
        index_txn(&mut index, z(n), &txn);
    }
    let registrations = [registration(WatchKind::Child, 1, 5)];
    let sets: Vec<WatchSet> = recursive
        .then(|| WatchSet {
            session: S,
            path: PATH.into(),
            invoke_line: 2,
            persistent: true,
            recursive: true,
        })
        .into_iter()
        .collect();
    let received = [got(21, EventType::NodeChildrenChanged)];
    let replies = BTreeMap::from([(S, vec![(5, z(3)), (12, z(6)), (22, z(9))])]);
    let connects = BTreeMap::from([(S, vec![(1, z(0)), (10, z(3)), (20, z(6))])]);
    let (closed_at, uncertain) = (BTreeMap::new(), BTreeSet::new());
    let facts = WatchFacts {
        registrations: &registrations,
        received: &received,
        replies: &replies,
        closed_at: &closed_at,
        uncertain: &uncertain,
        connects: &connects,
        persistent: &[],
        removals: &[],
        sets: &sets,
        uncertain_below: &uncertain,
    };
    judge(&facts, &index).0
}

#[test]
fn a_child_watch_turned_recursive_by_setwatches_is_carried_to_the_next_connection() {
    let found = rearmed_under_recursive(true);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn without_a_recursive_watch_the_rearmed_child_watch_was_owed_on_the_first_connection() {
    let found = rearmed_under_recursive(false);
    assert!(
        found.iter().any(|v| v
            .message
            .contains("not delivered before the session reconnected")),
        "{found:#?}"
    );
}

/// A data watch (line 5, at 3), then `removeWatches` (line 7) whose outcome is `removed` (None:
/// unknown, the connection was lost). `/k` changes at 8; the session reconnects on line 10 with
/// relativeZxid 6 and gets NodeDataChanged from setWatches (line 11). After an unknown outcome the
/// client still held the watch and sent it (swarm seed 5598); after an OK it held nothing.
fn carried_past_a_removal(removed: Option<bool>) -> Vec<Violation> {
    let mut index = ChangeIndex::new();
    let set = Txn::SetData {
        path: PATH.into(),
        data: Some(vec![2]),
        version: 0,
    };
    for (n, txn) in [create(1), (8, set)] {
        index_txn(&mut index, z(n), &txn);
    }
    let registrations = [registration(WatchKind::Data, 1, 5)];
    let removals = [super::Removal {
        session: S,
        path: PATH.into(),
        watcher_type: zabsim_protocol::request::WatcherType::Any,
        invoke_line: 7,
        line: 9,
        zxid: removed.map(|_| z(6)),
        removed,
    }];
    let received = [got(11, EventType::NodeDataChanged)];
    let replies = BTreeMap::from([(S, vec![(5, z(3)), (12, z(9))])]);
    let connects = BTreeMap::from([(S, vec![(1, z(0)), (10, z(6))])]);
    let (closed_at, uncertain) = (BTreeMap::new(), BTreeSet::new());
    let facts = WatchFacts {
        registrations: &registrations,
        received: &received,
        replies: &replies,
        closed_at: &closed_at,
        uncertain: &uncertain,
        connects: &connects,
        persistent: &[],
        removals: &removals,
        sets: &[],
        uncertain_below: &uncertain,
    };
    judge(&facts, &index).0
}

#[test]
fn a_watch_whose_removal_never_answered_is_still_carried() {
    let found = carried_past_a_removal(None);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_watch_removed_ok_is_not_carried() {
    let found = carried_past_a_removal(Some(true));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.contains("without a watch"), "{found:#?}");
}
