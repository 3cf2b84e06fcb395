//! Property tests: random ideal runs (random clients, paths, create modes, versions, watches,
//! multis, syncs, lagging and crashing followers, session closes) always pass every judge, and
//! random mutations of them are always caught by the judge meant to catch them.

mod zk_support;

use proptest::prelude::*;
use zabsim_checkers::history::{Observed, Outcome, Record};
use zabsim_checkers::reference::ReferenceConfig;
use zabsim_checkers::zk::ideal::IdealCluster;
use zabsim_checkers::zk::{EndState, ViolationKind as K};
use zabsim_protocol::observe::{ApplyReason, Observation};
use zabsim_protocol::request::Response;
use zabsim_protocol::types::{Epoch, ServerId, Zxid};
use zk_support::*;

const PATHS: [&str; 5] = ["/a", "/b", "/a/x", "/a/y", "/b/z"];

#[derive(Clone, Debug)]
enum Action {
    Create(u32, usize, i32),
    Set(u32, usize, i32),
    Delete(u32, usize, i32),
    Get(u32, usize, bool),
    Exists(u32, usize, bool),
    Children(u32, usize, bool),
    Sync(u32),
    Multi(u32, usize, usize, i32),
    Advance(u64),
    Crash(u64),
    Recover(u64),
    Close(u32),
    FailOver,
    LoseWrite(u32, usize, usize),
}

fn action() -> impl Strategy<Value = Action> {
    let c = 0u32..3;
    let p = 0usize..PATHS.len();
    prop_oneof![
        4 => (c.clone(), p.clone(), 0i32..4).prop_map(|(c, p, f)| Action::Create(c, p, f)),
        3 => (c.clone(), p.clone(), -1i32..3).prop_map(|(c, p, v)| Action::Set(c, p, v)),
        2 => (c.clone(), p.clone(), -1i32..2).prop_map(|(c, p, v)| Action::Delete(c, p, v)),
        3 => (c.clone(), p.clone(), any::<bool>()).prop_map(|(c, p, w)| Action::Get(c, p, w)),
        2 => (c.clone(), p.clone(), any::<bool>()).prop_map(|(c, p, w)| Action::Exists(c, p, w)),
        2 => (c.clone(), p.clone(), any::<bool>()).prop_map(|(c, p, w)| Action::Children(c, p, w)),
        1 => c.clone().prop_map(Action::Sync),
        2 => (c.clone(), p.clone(), p.clone(), -1i32..2).prop_map(|(c, a, b, v)| Action::Multi(c, a, b, v)),
        4 => (1u64..4).prop_map(Action::Advance),
        1 => (1u64..4).prop_map(Action::Crash),
        1 => (1u64..4).prop_map(Action::Recover),
        1 => c.clone().prop_map(Action::Close),
        1 => Just(Action::FailOver),
        1 => (c, p, 0usize..3).prop_map(|(c, p, r)| Action::LoseWrite(c, p, r)),
    ]
}

fn run(actions: &[Action]) -> (Vec<Record>, EndState) {
    let mut cluster = IdealCluster::new(4, 3, ReferenceConfig::default());
    let clients = cluster.clients();
    let servers = cluster.servers().to_vec();
    let client = |k: &u32| clients[*k as usize % clients.len()];
    let server = |k: &u64| servers[*k as usize % servers.len()];
    // Every run has at least one client operation, so that no judge is left with nothing.
    let _ = cluster.request(clients[0], get("/", false));
    for a in actions {
        match a {
            Action::Create(c, p, f) => {
                let _ = cluster.request(client(c), create(PATHS[*p], "d", *f));
            }
            Action::Set(c, p, v) => {
                let _ = cluster.request(client(c), set(PATHS[*p], "s", *v));
            }
            Action::Delete(c, p, v) => {
                let _ = cluster.request(client(c), delete(PATHS[*p], *v));
            }
            Action::Get(c, p, w) => {
                let _ = cluster.request(client(c), get(PATHS[*p], *w));
            }
            Action::Exists(c, p, w) => {
                let _ = cluster.request(client(c), exists(PATHS[*p], *w));
            }
            Action::Children(c, p, w) => {
                let _ = cluster.request(client(c), children(PATHS[*p], *w));
            }
            Action::Sync(c) => {
                let _ = cluster.request(client(c), sync("/"));
            }
            Action::Multi(c, a, b, v) => {
                let ops = vec![
                    m_create(PATHS[*a], 0),
                    m_check(PATHS[*b], *v),
                    m_set(PATHS[*a], -1),
                ];
                let _ = cluster.request(client(c), multi(ops));
            }
            Action::Advance(s) => cluster.advance(server(s)),
            Action::Crash(s) => cluster.crash(server(s)),
            Action::Recover(s) => cluster.recover(server(s)),
            Action::Close(c) => cluster.close(client(c)),
            Action::FailOver => {
                cluster.fail_over();
            }
            Action::LoseWrite(c, p, r) => {
                // Only a client on the current leader can lose a write this way; try them all.
                for k in 0..clients.len() as u32 {
                    let who = client(&(c + k));
                    if cluster
                        .lose_write(who, create(PATHS[*p], "lost", 0), *r)
                        .is_some()
                    {
                        break;
                    }
                }
            }
        }
    }
    cluster.finish(10_000_000_000)
}

fn append(records: &mut Vec<Record>, observation: Observation) {
    let time_ns = records.last().map_or(0, Record::time_ns) + 1;
    records.push(Record::Observed(Observed {
        time_ns,
        observation,
    }));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ideal_runs_pass_every_judge(actions in prop::collection::vec(action(), 1..40)) {
        let (records, end) = run(&actions);
        assert_all_pass(&judge(records, &end));
    }

    #[test]
    fn a_changed_read_value_is_caught_by_consistency(
        actions in prop::collection::vec(action(), 1..40),
        pick in any::<prop::sample::Index>(),
    ) {
        let (mut records, end) = run(&actions);
        let reads: Vec<usize> = records.iter().enumerate().filter(|(_, r)| matches!(r,
            Record::Complete(c) if matches!(c.outcome, Outcome::Ok { response: Response::GetData { .. }, .. }))).map(|(i, _)| i).collect();
        prop_assume!(!reads.is_empty());
        let line = reads[pick.index(reads.len())];
        if let Record::Complete(c) = &mut records[line] {
            if let Outcome::Ok { response: Response::GetData { data, .. }, .. } = &mut c.outcome {
                *data = Some(b"a value nobody wrote".to_vec());
            }
        }
        assert_caught(&judge(records, &end), "consistency", K::UnexplainedResult);
    }

    #[test]
    fn a_flipped_digest_is_caught_by_agreement(
        actions in prop::collection::vec(action(), 1..40),
        pick in any::<prop::sample::Index>(),
    ) {
        let (mut records, end) = run(&actions);
        let applies: Vec<usize> = records.iter().enumerate().filter(|(_, r)| matches!(r,
            Record::Observed(Observed { observation: Observation::TxnApplied { reason: ApplyReason::Commit, .. }, .. }))).map(|(i, _)| i).collect();
        let line = applies[pick.index(applies.len())];
        if let Record::Observed(Observed { observation: Observation::TxnApplied { digest, .. }, .. }) = &mut records[line] {
            *digest = digest.map(|d| !d);
        }
        assert_caught(&judge(records, &end), "agreement", K::ReplicaDivergence);
    }

    #[test]
    fn a_second_leader_for_the_epoch_is_caught_by_zab(
        actions in prop::collection::vec(action(), 1..40),
        other in 2u64..5,
    ) {
        let (mut records, end) = run(&actions);
        append(&mut records, Observation::LeaderEstablished {
            leader: ServerId(other), epoch: Epoch(1), quorum: vec![ServerId(other)], initial_history_zxid: Zxid::ZERO,
        });
        assert_caught(&judge(records, &end), "zab", K::Leadership);
    }

    #[test]
    fn truncating_a_committed_txn_is_caught_by_zab(
        actions in prop::collection::vec(action(), 1..40),
        victim in 1u64..5,
    ) {
        let (mut records, end) = run(&actions);
        // Every run commits at least the three createSession txns.
        append(&mut records, Observation::LogTruncated { server: ServerId(victim), zxid: Zxid::new(Epoch(1), 2), digest: None });
        assert_caught(&judge(records, &end), "zab", K::CommittedLogDurability);
    }

    #[test]
    fn an_acknowledged_write_missing_from_a_new_leader_is_caught_by_durability(
        actions in prop::collection::vec(action(), 1..40),
    ) {
        let (mut records, end) = run(&actions);
        let acked: Vec<Zxid> = records.iter().filter_map(|r| match r {
            Record::Complete(c) => match &c.outcome {
                Outcome::Ok { zxid, response } if !matches!(response, Response::GetData { .. } | Response::Exists { .. } | Response::GetChildren { .. } | Response::Sync { .. }) => Some(*zxid),
                _ => None,
            },
            _ => None,
        }).collect();
        prop_assume!(!acked.is_empty());
        let last = *acked.iter().max().unwrap_or(&Zxid::ZERO);
        append(&mut records, Observation::LogTruncated { server: ServerId(2), zxid: Zxid(last.0 - 1), digest: None });
        append(&mut records, Observation::LeaderEstablished {
            leader: ServerId(2), epoch: Epoch(2), quorum: vec![ServerId(2), ServerId(3), ServerId(4)], initial_history_zxid: Zxid(last.0 - 1),
        });
        assert_caught(&judge(records, &end), "durability", K::LostAcknowledgedWrite);
    }
}

#[test]
fn a_stale_follower_read_passes_and_the_same_read_claiming_the_leaders_zxid_does_not() {
    // Client 1 is on s2, which has applied nothing since the sessions were created: its read of
    // /a is NONODE at an old zxid — allowed. Claiming the zxid of the create is not.
    let actions = vec![Action::Create(0, 0, 0), Action::Get(1, 0, false)];
    let (records, end) = run(&actions);
    let read_line = records
        .iter()
        .rposition(|r| matches!(r, Record::Complete(_)))
        .expect("the read completed");
    let create_zxid = records
        .iter()
        .find_map(|r| match r {
            Record::Complete(c) => match &c.outcome {
                Outcome::Ok {
                    zxid,
                    response: Response::Create { .. },
                } => Some(*zxid),
                _ => None,
            },
            _ => None,
        })
        .expect("the create succeeded");
    let stale_zxid = match &records[read_line] {
        Record::Complete(c) => match &c.outcome {
            Outcome::Error { zxid, err } => {
                assert_eq!(*err, zabsim_protocol::error_code::ErrorCode::NONODE);
                *zxid
            }
            other => panic!("expected a stale NONODE, got {other:?}"),
        },
        _ => unreachable!(),
    };
    assert!(stale_zxid < create_zxid);
    assert_all_pass(&judge(records.clone(), &end));
    let mut claimed = records;
    if let Record::Complete(c) = &mut claimed[read_line] {
        if let Outcome::Error { zxid, .. } = &mut c.outcome {
            *zxid = create_zxid;
        }
    }
    assert_caught(&judge(claimed, &end), "consistency", K::UnexplainedResult);
}
