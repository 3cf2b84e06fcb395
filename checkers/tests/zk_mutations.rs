//! Mutated histories are always caught, each by the judge meant to catch it. Every mutation
//! starts from the scripted ideal run (which passes every judge, see `zk_ideal.rs`) and breaks
//! exactly one guarantee.

mod zk_support;

use zabsim_checkers::history::{Completion, Observed, OpId, Outcome, Record};
use zabsim_checkers::zk::ViolationKind as K;
use zabsim_protocol::observe::{ApplyReason, Observation};
use zabsim_protocol::request::{Request, Response};
use zabsim_protocol::types::{Epoch, ServerId, Zxid};
use zk_support::*;

fn completion_of(records: &[Record], id: OpId) -> usize {
    records
        .iter()
        .position(|r| matches!(r, Record::Complete(c) if c.id == id))
        .expect("op completed")
}

fn invocations(records: &[Record]) -> Vec<(usize, zabsim_checkers::history::Invocation)> {
    records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Record::Invoke(inv) => Some((i, inv.clone())),
            _ => None,
        })
        .collect()
}

fn outcome_mut(records: &mut [Record], line: usize) -> &mut Outcome {
    match &mut records[line] {
        Record::Complete(Completion { outcome, .. }) => outcome,
        other => panic!("not a completion: {other:?}"),
    }
}

fn ok_zxid(records: &[Record], id: OpId) -> Zxid {
    match &records[completion_of(records, id)] {
        Record::Complete(Completion {
            outcome: Outcome::Ok { zxid, .. },
            ..
        }) => *zxid,
        other => panic!("not an OK completion: {other:?}"),
    }
}

fn append(records: &mut Vec<Record>, observation: Observation) {
    let time_ns = records.last().map_or(0, Record::time_ns) + 1;
    records.push(Record::Observed(Observed {
        time_ns,
        observation,
    }));
}

/// The first op whose request satisfies `pred`.
fn find_op(records: &[Record], pred: impl Fn(&Request) -> bool) -> OpId {
    invocations(records)
        .into_iter()
        .find(|(_, inv)| pred(&inv.request))
        .map(|(_, inv)| inv.id)
        .expect("op exists")
}

fn nth_op(records: &[Record], pred: impl Fn(&Request) -> bool, n: usize) -> OpId {
    invocations(records)
        .into_iter()
        .filter(|(_, inv)| pred(&inv.request))
        .nth(n)
        .map(|(_, inv)| inv.id)
        .expect("op exists")
}

#[test]
fn a_stale_value_from_the_future_is_caught_by_consistency() {
    let (mut records, end) = scripted_run();
    // getData /app by b (watch): make it claim the zxid of a write invoked after it returned.
    let read = find_op(
        &records,
        |r| matches!(r, Request::GetData { path, watch: true } if path == "/app"),
    );
    let later = find_op(
        &records,
        |r| matches!(r, Request::Create { path, .. } if path == "/app/y"),
    );
    let future = ok_zxid(&records, later);
    let line = completion_of(&records, read);
    match outcome_mut(&mut records, line) {
        Outcome::Ok { zxid, .. } | Outcome::Error { zxid, .. } => *zxid = future,
        other => panic!("{other:?}"),
    }
    assert_caught(&judge(records, &end), "consistency", K::ReadFromFuture);
}

#[test]
fn a_read_value_the_state_never_had_is_caught_by_consistency() {
    let (mut records, end) = scripted_run();
    let read = nth_op(
        &records,
        |r| matches!(r, Request::GetData { path, watch: false } if path == "/app"),
        2,
    );
    let line = completion_of(&records, read);
    match outcome_mut(&mut records, line) {
        Outcome::Ok {
            response: Response::GetData { data, .. },
            ..
        } => *data = Some(b"never written".to_vec()),
        other => panic!("{other:?}"),
    }
    assert_caught(&judge(records, &end), "consistency", K::UnexplainedResult);
}

#[test]
fn a_lost_acknowledged_write_is_caught_by_durability() {
    let (mut records, end) = scripted_run();
    let write = find_op(
        &records,
        |r| matches!(r, Request::Create { path, .. } if path == "/app/y"),
    );
    let acked = ok_zxid(&records, write);
    let s2 = ServerId(2);
    append(
        &mut records,
        Observation::LogTruncated {
            server: s2,
            zxid: Zxid(acked.0 - 1),
            digest: None,
        },
    );
    append(
        &mut records,
        Observation::LeaderEstablished {
            leader: s2,
            epoch: Epoch(2),
            quorum: vec![ServerId(2), ServerId(3)],
            initial_history_zxid: Zxid(acked.0 - 1),
        },
    );
    let verdicts = judge(records, &end);
    assert_caught(&verdicts, "durability", K::LostAcknowledgedWrite);
    assert_caught(&verdicts, "zab", K::CommittedLogDurability);
}

#[test]
fn a_reordered_session_is_caught_by_consistency() {
    let (mut records, end) = scripted_run();
    // Client a's first two ops: move the first completion after the second.
    let first = nth_op(&records, |_| true, 0);
    let second = invocations(&records)
        .into_iter()
        .map(|(_, inv)| inv)
        .filter(|inv| inv.client.0 == 0)
        .nth(1)
        .expect("a second op of client 0")
        .id;
    let from = completion_of(&records, first);
    let to = completion_of(&records, second);
    let mut moved = records.remove(from);
    let time = records[to - 1].time_ns();
    if let Record::Complete(c) = &mut moved {
        c.time_ns = time;
    }
    records.insert(to, moved);
    assert_caught(&judge(records, &end), "consistency", K::SessionOrder);
}

#[test]
fn a_duplicated_sequential_name_is_caught_by_consistency() {
    let (mut records, end) = scripted_run();
    let is_seq = |r: &Request| matches!(r, Request::Create { path, .. } if path == "/app/seq-");
    let (one, two) = (nth_op(&records, is_seq, 0), nth_op(&records, is_seq, 1));
    let first_line = completion_of(&records, one);
    let first_path = match outcome_mut(&mut records, first_line).clone() {
        Outcome::Ok {
            response: Response::Create { path, .. },
            ..
        } => path,
        other => panic!("{other:?}"),
    };
    let line = completion_of(&records, two);
    match outcome_mut(&mut records, line) {
        Outcome::Ok {
            response: Response::Create { path, .. },
            ..
        } => *path = first_path,
        other => panic!("{other:?}"),
    }
    assert_caught(&judge(records, &end), "consistency", K::SequentialName);
}

#[test]
fn an_ephemeral_that_outlives_its_session_is_caught_by_sessions() {
    let (mut records, end) = scripted_run();
    records.retain(|r| {
        !matches!(r, Record::Observed(Observed {
            observation: Observation::EphemeralDeleted { server, .. }, ..
        }) if *server == ServerId(1))
    });
    assert_caught(&judge(records, &end), "sessions", K::Ephemeral);
}

#[test]
fn a_rolled_back_committed_txn_is_caught_by_zab() {
    let (mut records, end) = scripted_run();
    append(
        &mut records,
        Observation::LogTruncated {
            server: ServerId(3),
            zxid: Zxid::new(Epoch(1), 2),
            digest: None,
        },
    );
    assert_caught(&judge(records, &end), "zab", K::CommittedLogDurability);
}

#[test]
fn two_leaders_in_one_epoch_are_caught_by_zab() {
    let (mut records, end) = scripted_run();
    append(
        &mut records,
        Observation::LeaderEstablished {
            leader: ServerId(2),
            epoch: Epoch(1),
            quorum: vec![ServerId(2), ServerId(3)],
            initial_history_zxid: Zxid::ZERO,
        },
    );
    assert_caught(&judge(records, &end), "zab", K::Leadership);
}

#[test]
fn diverging_digests_at_one_zxid_are_caught_by_agreement() {
    let (mut records, end) = scripted_run();
    let target = records
        .iter_mut()
        .find_map(|r| match r {
            Record::Observed(Observed {
                observation:
                    Observation::TxnApplied {
                        server,
                        digest,
                        reason: ApplyReason::Commit,
                        ..
                    },
                ..
            }) if *server == ServerId(2) => Some(digest),
            _ => None,
        })
        .expect("s2 applied something");
    *target = target.map(|d| d ^ 1);
    assert_caught(&judge(records, &end), "agreement", K::ReplicaDivergence);
}

/// Goal: sequential names restart when their parent is deleted and created again (its child
/// counter restarts), and consistency does not call the repeat a duplicate. Regression: the
/// full-API workload deletes and recreates parents, and follower-trunc seeds 2 and 3 reported
/// "sequential name ... given to ops A and B" for two incarnations of /zabsim/k3.
#[test]
fn a_sequential_name_repeated_under_a_recreated_parent_passes() {
    let mut c = zabsim_checkers::zk::ideal::IdealCluster::new(
        3,
        1,
        zabsim_checkers::reference::ReferenceConfig::default(),
    );
    let a = c.clients()[0];
    c.request(a, create("/p", "root", 0));
    c.request(a, create("/p/seq-", "s", 2));
    c.request(a, delete("/p/seq-0000000000", -1));
    c.request(a, delete("/p", -1));
    c.request(a, create("/p", "again", 0));
    c.request(a, create("/p/seq-", "s2", 2));
    let (records, end) = c.finish(10_000_000_000);
    let names = records
        .iter()
        .filter(|r| matches!(r, Record::Complete(Completion { outcome: Outcome::Ok { response: Response::Create { path, .. }, .. }, .. }) if path == "/p/seq-0000000000"))
        .count();
    assert_eq!(names, 2, "the name repeats across incarnations");
    assert_all_pass(&judge(records, &end));
}
