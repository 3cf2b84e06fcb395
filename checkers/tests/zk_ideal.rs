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
