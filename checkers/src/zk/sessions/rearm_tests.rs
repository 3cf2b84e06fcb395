//! The SetWatches rules on hand-made histories: a change made and undone while away may be
//! missed; a change still visible at reconnect must be reported before the first reply.

use super::*;
use crate::zk::sessions::watches::index_txn;
use zabsim_protocol::txn::Txn;

const S: SessionId = SessionId(7);
const PATH: &str = "/k";

fn z(n: u64) -> Zxid {
    Zxid(n)
}

fn index(txns: &[(u64, Txn)]) -> ChangeIndex {
    let mut index = ChangeIndex::new();
    for (n, txn) in txns {
        index_txn(&mut index, z(*n), txn);
    }
    index
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

fn delete(n: u64) -> (u64, Txn) {
    (n, Txn::Delete { path: PATH.into() })
}

fn set_data(n: u64) -> (u64, Txn) {
    let txn = Txn::SetData {
        path: PATH.into(),
        data: Some(vec![1]),
        version: 1,
    };
    (n, txn)
}

fn got(line: usize, zxid: Zxid, event: EventType) -> Received {
    Received {
        line,
        session: S,
        zxid,
        event,
        path: PATH.into(),
    }
}

/// The connection starts on line 10 with relativeZxid 2; its first reply (line 20) is at 5.
fn judge(kind: WatchKind, txns: &[(u64, Txn)], received: &[Received]) -> Judged {
    let index = index(txns);
    let replies = [(20, z(5)), (30, z(6))];
    let evidence = Evidence {
        index: &index,
        replies: &replies,
        received,
    };
    let watch = Carried {
        session: S,
        kind,
        path: PATH,
        set_at: z(1),
    };
    let connection = Connection {
        line: 10,
        relative_zxid: z(2),
        ends_at_line: None,
    };
    evidence.judge(&watch, connection)
}

#[test]
fn a_node_created_and_deleted_while_away_may_be_missed() {
    let txns = [create(3), delete(4)];
    assert_eq!(judge(WatchKind::Exist, &txns, &[]), Judged::NotDue);
}

#[test]
fn a_node_that_still_exists_at_reconnect_must_be_reported() {
    let txns = [create(3)];
    assert!(matches!(
        judge(WatchKind::Exist, &txns, &[]),
        Judged::Violated(_)
    ));
}

#[test]
fn setwatches_fires_before_the_first_reply_with_no_zxid() {
    let txns = [create(3)];
    let note = got(15, Zxid::NONE, EventType::NodeCreated);
    assert_eq!(
        judge(WatchKind::Exist, &txns, &[note]),
        Judged::Answered(15)
    );
}

#[test]
fn a_setwatches_notification_after_the_first_reply_is_too_late() {
    let txns = [create(3)];
    let note = got(25, Zxid::NONE, EventType::NodeCreated);
    assert!(matches!(
        judge(WatchKind::Exist, &txns, &[note]),
        Judged::Violated(_)
    ));
}

#[test]
fn a_data_watch_sees_a_change_made_while_away() {
    let txns = [set_data(3)];
    let wrong = got(15, Zxid::NONE, EventType::NodeDeleted);
    assert!(matches!(
        judge(WatchKind::Data, &txns, &[wrong]),
        Judged::Violated(_)
    ));
    let right = got(15, Zxid::NONE, EventType::NodeDataChanged);
    assert_eq!(
        judge(WatchKind::Data, &txns, &[right]),
        Judged::Answered(15)
    );
}

#[test]
fn a_rearmed_watch_fires_at_the_next_change_before_the_reply_that_shows_it() {
    // Nothing changed while away; the change at 6 comes later and must precede the reply at 6.
    let txns = [set_data(6)];
    let in_time = got(25, z(6), EventType::NodeDataChanged);
    assert_eq!(
        judge(WatchKind::Data, &txns, &[in_time]),
        Judged::Answered(25)
    );
    let late = got(35, z(6), EventType::NodeDataChanged);
    assert!(matches!(
        judge(WatchKind::Data, &txns, &[late]),
        Judged::Violated(_)
    ));
}
