//! Every judge has negative tests beyond the headline mutations: each breaks one more
//! guarantee of the scripted ideal run and asserts the violation kind the judge must report.

mod zk_support;

use zabsim_checkers::history::{Completion, Invocation, Observed, OpId, Outcome, Record};
use zabsim_checkers::zk::{Verdict, ViolationKind as K};
use zabsim_protocol::observe::{ApplyReason, Observation};
use zabsim_protocol::request::{Request, Response};
use zabsim_protocol::types::{Epoch, ServerId, Xid, Zxid};
use zk_support::*;

fn append(records: &mut Vec<Record>, observation: Observation) {
    let time_ns = records.last().map_or(0, Record::time_ns) + 1;
    records.push(Record::Observed(Observed {
        time_ns,
        observation,
    }));
}

fn ops_where(records: &[Record], pred: impl Fn(&Invocation) -> bool) -> Vec<OpId> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Invoke(inv) if pred(inv) => Some(inv.id),
            _ => None,
        })
        .collect()
}

fn completion_mut(records: &mut [Record], id: OpId) -> &mut Completion {
    records
        .iter_mut()
        .find_map(|r| match r {
            Record::Complete(c) if c.id == id => Some(c),
            _ => None,
        })
        .expect("completed")
}

fn verdict_of<'a>(verdicts: &'a [(&'static str, Verdict)], judge: &str) -> &'a Verdict {
    &verdicts
        .iter()
        .find(|(n, _)| *n == judge)
        .expect("judge ran")
        .1
}

// --- liveness ---

#[test]
fn a_leader_that_dies_before_the_deadline_is_caught_by_liveness() {
    let (mut records, end) = scripted_run();
    append(
        &mut records,
        Observation::Crashed {
            server: ServerId(1),
        },
    );
    let verdicts = judge(records, &end);
    assert_caught(&verdicts, "liveness", K::NoLeader);
    let message = &violations(&verdicts, "liveness")[0].message;
    assert!(
        message.contains("s2 follows s1") && message.contains("not running"),
        "{message}"
    );
}

#[test]
fn an_operation_that_never_completes_is_caught_by_liveness() {
    let (mut records, end) = scripted_run();
    let time_ns = records.last().map_or(0, Record::time_ns) + 1;
    records.push(Record::Invoke(Invocation {
        id: OpId(9_999),
        time_ns,
        client: zabsim_checkers::history::ClientId(0),
        session: zabsim_protocol::types::SessionId(0x1000),
        server: Some(ServerId(1)),
        xid: Xid(9_999),
        request: get("/app", false),
    }));
    assert_caught(&judge(records, &end), "liveness", K::OperationsStuck);
}

#[test]
fn liveness_is_undecided_without_a_heal_phase() {
    let (records, mut end) = scripted_run();
    end.heal = None;
    let verdicts = judge(records, &end);
    assert!(matches!(
        verdict_of(&verdicts, "liveness"),
        Verdict::Undecided(_)
    ));
}

// --- sessions and watches ---

#[test]
fn a_watch_that_never_fires_is_caught_by_sessions() {
    let (mut records, end) = scripted_run();
    let first = records
        .iter()
        .position(|r| matches!(r, Record::Watch(_)))
        .expect("the scripted run fires a watch");
    records.remove(first);
    assert_caught(&judge(records, &end), "sessions", K::Watch);
}

#[test]
fn a_watch_that_fires_twice_is_caught_by_sessions() {
    let (mut records, end) = scripted_run();
    let first = records
        .iter()
        .position(|r| matches!(r, Record::Watch(_)))
        .expect("the scripted run fires a watch");
    let copy = records[first].clone();
    records.insert(first + 1, copy);
    assert_caught(&judge(records, &end), "sessions", K::Watch);
}

// --- zab ---

#[test]
fn an_applied_txn_no_primary_broadcast_is_caught_by_zab() {
    let (mut records, end) = scripted_run();
    for r in records.iter_mut() {
        if let Record::Observed(Observed {
            observation: Observation::TxnApplied { server, header, .. },
            ..
        }) = r
        {
            if *server == ServerId(3) && header.zxid == Zxid::new(Epoch(1), 5) {
                header.cxid = Xid(4242);
            }
        }
    }
    let verdicts = judge(records, &end);
    assert_caught(&verdicts, "zab", K::Integrity);
    assert_caught(&verdicts, "agreement", K::ReplicaDivergence);
}

#[test]
fn an_epoch_file_going_back_is_caught_by_zab() {
    let (mut records, end) = scripted_run();
    append(
        &mut records,
        Observation::CurrentEpochPersisted {
            server: ServerId(2),
            epoch: Epoch(0),
        },
    );
    assert_caught(&judge(records, &end), "zab", K::EpochMonotonicity);
}

#[test]
fn an_out_of_order_apply_is_caught_by_zab() {
    let (mut records, end) = scripted_run();
    let applies: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            matches!(r, Record::Observed(Observed {
                observation: Observation::TxnApplied { server, reason: ApplyReason::Commit, .. }, ..
            }) if *server == ServerId(3))
        })
        .map(|(i, _)| i)
        .collect();
    let (i, j) = (applies[2], applies[3]);
    let (a, b) = (records[i].clone(), records[j].clone());
    let (ta, tb) = (a.time_ns(), b.time_ns());
    let retime = |r: Record, t| match r {
        Record::Observed(o) => Record::Observed(Observed { time_ns: t, ..o }),
        other => other,
    };
    records[i] = retime(b, ta);
    records[j] = retime(a, tb);
    assert_caught(&judge(records, &end), "zab", K::LocalPrimaryOrder);
}

#[test]
fn a_proposal_by_a_non_leader_is_caught_by_zab() {
    let (mut records, end) = scripted_run();
    let entry = records
        .iter()
        .find_map(|r| match r {
            Record::Observed(Observed {
                observation: Observation::Proposed { entry, .. },
                ..
            }) => Some(entry.clone()),
            _ => None,
        })
        .expect("a proposal");
    let mut forged = entry;
    forged.header.zxid = Zxid::new(Epoch(1), 1_000);
    append(
        &mut records,
        Observation::Proposed {
            leader: ServerId(2),
            entry: forged,
        },
    );
    assert_caught(&judge(records, &end), "zab", K::Leadership);
}

// --- consistency ---

#[test]
fn zxids_against_real_time_are_a_precedence_cycle() {
    // Without observations the witness is the reply zxids: swap those of two writes of
    // different sessions where the first returned before the second was invoked.
    let (mut records, end) = scripted_run();
    records.retain(|r| !matches!(r, Record::Observed(_)));
    let writes = ops_where(
        &records,
        |inv| matches!(inv.request, Request::Create { ref path, .. } if path == "/app" || path == "/app/lock-"),
    );
    let (w1, w2) = (writes[0], writes[1]);
    let z1 = completion_mut(&mut records, w1)
        .outcome
        .zxid()
        .expect("replied");
    let z2 = completion_mut(&mut records, w2)
        .outcome
        .zxid()
        .expect("replied");
    for (id, z) in [(w1, z2), (w2, z1)] {
        if let Outcome::Ok { zxid, .. } = &mut completion_mut(&mut records, id).outcome {
            *zxid = z;
        }
    }
    let verdicts = judge(records, &end);
    assert_caught(&verdicts, "consistency", K::WriteOrder);
    let cycle = &violations(&verdicts, "consistency")
        .iter()
        .find(|v| v.kind == K::WriteOrder)
        .expect("cycle")
        .message;
    assert!(
        cycle.contains("returned before it was invoked") && cycle.contains("smaller zxid"),
        "{cycle}"
    );
}

#[test]
fn a_session_seeing_the_past_is_caught_by_consistency() {
    let (mut records, end) = scripted_run();
    let reads = ops_where(&records, |inv| {
        inv.client.0 == 0 && matches!(inv.request, Request::GetData { .. })
    });
    let last = *reads.last().expect("client 0 reads");
    if let Outcome::Ok { zxid, .. } = &mut completion_mut(&mut records, last).outcome {
        *zxid = Zxid::new(Epoch(1), 1);
    }
    assert_caught(&judge(records, &end), "consistency", K::SessionWentBack);
}

#[test]
fn a_sync_that_did_not_flush_is_caught_by_consistency() {
    let (mut records, end) = scripted_run();
    let sync = ops_where(&records, |inv| matches!(inv.request, Request::Sync { .. }))[0];
    let before = ops_where(
        &records,
        |inv| matches!(inv.request, Request::Create { ref path, .. } if path == "/app/y"),
    )[0];
    let flushed = completion_mut(&mut records, before)
        .outcome
        .zxid()
        .expect("replied");
    if let Outcome::Ok { zxid, .. } = &mut completion_mut(&mut records, sync).outcome {
        *zxid = Zxid(flushed.0 - 1);
    }
    assert_caught(&judge(records, &end), "consistency", K::StaleSync);
}

#[test]
fn a_half_applied_multi_is_caught_by_consistency() {
    let (mut records, end) = scripted_run();
    let failed = ops_where(
        &records,
        |inv| matches!(&inv.request, Request::Multi { ops } if ops.len() == 2),
    )[0];
    if let Outcome::Ok {
        response: Response::Multi { results },
        ..
    } = &mut completion_mut(&mut records, failed).outcome
    {
        results[0] = zabsim_protocol::request::OpResult::Create {
            path: "/app/n".into(),
            stat: None,
        };
    }
    assert_caught(&judge(records, &end), "consistency", K::MultiNotAtomic);
}

#[test]
fn without_observations_consistency_never_claims_a_pass_it_cannot_establish() {
    let (mut records, end) = scripted_run();
    records.retain(|r| !matches!(r, Record::Observed(_)));
    let verdicts = judge(records, &end);
    assert!(
        matches!(verdict_of(&verdicts, "consistency"), Verdict::Undecided(_)),
        "{verdicts:#?}"
    );
    assert!(matches!(
        verdict_of(&verdicts, "zab"),
        Verdict::Undecided(_)
    ));
    assert!(matches!(
        verdict_of(&verdicts, "durability"),
        Verdict::Undecided(_)
    ));
}

// --- durability and agreement ---

#[test]
fn a_recovery_to_a_different_tree_is_caught_by_durability() {
    let (mut records, end) = scripted_run();
    for r in records.iter_mut() {
        if let Record::Observed(Observed {
            observation: Observation::RecoveryFinished { digest, .. },
            ..
        }) = r
        {
            *digest = digest.map(|d| d.wrapping_add(7));
        }
    }
    assert_caught(&judge(records, &end), "durability", K::RecoveryMismatch);
}

#[test]
fn servers_that_never_converge_are_caught_by_agreement() {
    let (records, mut end) = scripted_run();
    end.servers[2].last_processed_zxid = Zxid::new(Epoch(1), 3);
    end.servers[2].digest = Some(12345);
    assert_caught(&judge(records, &end), "agreement", K::NotConverged);
}

/// Swarm seeds 3203 and 3777: a learner SNAP-synced by a new leader that has committed nothing
/// yet reports the leader's `lastProcessedZxid`, `(epoch, 0)`, while the others stay at the
/// last txn. Same digest and no txn in between: the same point of the history, not a failure to
/// converge (ZooKeeper's `Leader.startZkServer` marker, handed on by SNAP).
#[test]
fn a_snap_of_a_new_leaders_epoch_marker_is_converged() {
    let (records, mut end) = scripted_run();
    let last = end.servers[0].last_processed_zxid;
    assert_ne!(last.counter(), 0);
    end.servers[1].last_processed_zxid = Zxid::new(Epoch(last.epoch().0 + 1), 0);
    let verdicts = judge(records, &end);
    assert!(
        matches!(verdict_of(&verdicts, "agreement"), Verdict::Pass),
        "{verdicts:#?}"
    );
}

/// The marker does not hide a missing txn: a server at an earlier txn, even with the same
/// digest, has not converged with one at the next epoch's marker.
#[test]
fn an_epoch_marker_does_not_hide_a_missing_txn() {
    let (records, mut end) = scripted_run();
    let last = end.servers[0].last_processed_zxid;
    end.servers[1].last_processed_zxid = Zxid::new(Epoch(last.epoch().0 + 1), 0);
    end.servers[2].last_processed_zxid = Zxid::new(last.epoch(), last.counter() - 1);
    assert_caught(&judge(records, &end), "agreement", K::NotConverged);
}

#[test]
fn a_run_that_starts_from_existing_data_is_undecided_for_consistency() {
    let (mut records, end) = scripted_run();
    records.insert(
        0,
        Record::Observed(Observed {
            time_ns: 0,
            observation: Observation::RecoveryFinished {
                server: ServerId(1),
                zxid: Zxid::new(Epoch(0), 40),
                digest: None,
                accepted_epoch: Epoch(0),
                current_epoch: Epoch(0),
            },
        }),
    );
    let verdicts = judge(records, &end);
    match verdict_of(&verdicts, "consistency") {
        Verdict::Undecided(reason) => assert!(reason.contains("recovered from disk"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

/// The counterpart (disk-faults seed 38): a server that synced with a new epoch's leader before
/// any proposal, took the NEWLEADER snapshot at (1, 0) and recovered there after a crash holds
/// no txn, so the run is still decided.
#[test]
fn a_recovery_at_an_epoch_start_before_any_proposal_is_not_existing_data() {
    let (mut records, end) = scripted_run();
    records.insert(
        0,
        Record::Observed(Observed {
            time_ns: 0,
            observation: Observation::RecoveryFinished {
                server: ServerId(1),
                zxid: Zxid::new(Epoch(1), 0),
                digest: None,
                accepted_epoch: Epoch(1),
                current_epoch: Epoch(1),
            },
        }),
    );
    let verdicts = judge(records, &end);
    assert_eq!(verdict_of(&verdicts, "consistency"), &Verdict::Pass);
}

// --- runs that start from a data directory ---

fn boot_from_data(digest_on_disk: i64, recovered_digest: i64) -> Vec<(&'static str, Verdict)> {
    use zabsim_checkers::history::History;
    use zabsim_checkers::zk::initial::InitialData;
    use zabsim_checkers::zk::{all_judges_from, judge_history, JudgeConfig};
    let (mut records, end) = scripted_run();
    let zxid = Zxid::new(Epoch(0), 40);
    let boot = [
        Observation::Crashed {
            server: ServerId(1),
        },
        Observation::RecoveryFinished {
            server: ServerId(1),
            zxid,
            digest: Some(recovered_digest),
            accepted_epoch: Epoch(0),
            current_epoch: Epoch(0),
        },
    ];
    for (i, observation) in boot.into_iter().enumerate() {
        records.insert(
            i,
            Record::Observed(Observed {
                time_ns: 0,
                observation,
            }),
        );
    }
    let initial = InitialData {
        zxid,
        digest: Some(digest_on_disk),
        txns: None,
    };
    let history = History::from_records(records).expect("well formed");
    let mut judges = all_judges_from(JudgeConfig::default(), Some(initial));
    judge_history(&history, &end, &mut judges, false)
}

/// A server whose first recovery from the scenario's data directory yields a tree other than the
/// one the files record (their digest) is caught by durability; the same recovery with the
/// recorded digest is not.
#[test]
fn a_first_recovery_that_differs_from_the_data_directory_is_caught() {
    assert_caught(&boot_from_data(111, 222), "durability", K::RecoveryMismatch);
    let agreeing = boot_from_data(111, 111);
    assert!(
        !violations(&agreeing, "durability")
            .iter()
            .any(|v| v.kind == K::RecoveryMismatch),
        "{agreeing:#?}"
    );
}
