//! Ideal runs pass every judge: the judges accept what ZooKeeper is allowed to do (stale
//! follower reads, failed writes that still consume a zxid, failed multis, watches, sessions,
//! follower crash and recovery), not just the easy cases.

mod zk_support;

use zk_support::*;

#[test]
fn the_scripted_run_passes_every_judge() {
    let (records, end) = scripted_run();
    assert_all_pass(&judge(records, &end));
}

#[test]
fn the_scripted_run_passes_with_the_read_window() {
    use zabsim_checkers::zk::{consistency::ReadWitness, JudgeConfig};
    let (records, end) = scripted_run();
    let config = JudgeConfig {
        read_witness: ReadWitness::Window,
        ..JudgeConfig::default()
    };
    assert_all_pass(&judge_with(records, &end, config));
}

/// Fail-overs: a write lost with the old leader (logged nowhere else, so truncated when the old
/// leader returns), then a write logged on one follower too (so the next leader adopts it and
/// it commits although its client saw a connection loss).
fn failover_run() -> (
    Vec<zabsim_checkers::history::Record>,
    zabsim_checkers::zk::EndState,
) {
    use zabsim_checkers::reference::ReferenceConfig;
    use zabsim_checkers::zk::ideal::IdealCluster;
    let mut c = IdealCluster::new(5, 3, ReferenceConfig::default());
    let [a, b, d] = [c.clients()[0], c.clients()[1], c.clients()[2]];
    c.request(a, create("/f", "1", 0));
    c.request(b, exists("/f/dropped", true));
    c.request(d, get("/f", true));
    assert!(c.lose_write(a, create("/f/dropped", "x", 0), 0).is_some());
    c.request(a, set("/f", "2", -1));
    c.request(b, exists("/f/dropped", false));
    let leader_client = c
        .clients()
        .into_iter()
        .find(|k| c.lose_write(*k, create("/f/adopted", "y", 1), 1).is_some());
    assert!(
        leader_client.is_some(),
        "some client is on the second leader"
    );
    c.request(b, get("/f/adopted", false));
    c.request(d, children("/f", false));
    c.finish(10_000_000_000)
}

#[test]
fn fail_overs_with_lost_and_adopted_writes_pass_every_judge() {
    use zabsim_checkers::history::Record;
    use zabsim_protocol::observe::Observation;
    let (records, end) = failover_run();
    let count = |pred: &dyn Fn(&Observation) -> bool| {
        records
            .iter()
            .filter(|r| matches!(r, Record::Observed(o) if pred(&o.observation)))
            .count()
    };
    assert_eq!(
        count(&|o| matches!(o, Observation::LeaderEstablished { .. })),
        3
    );
    assert_eq!(count(&|o| matches!(o, Observation::LogTruncated { .. })), 1);
    assert!(
        count(&|o| matches!(
            o,
            Observation::TxnApplied {
                reason: zabsim_protocol::observe::ApplyReason::FastForward,
                ..
            }
        )) > 0
    );
    assert_all_pass(&judge(records, &end));
}
