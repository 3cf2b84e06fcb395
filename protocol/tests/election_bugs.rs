//! The historical FLE bugs of the bug zoo (`../shared/research/zk-bug-zoo.md` §2, §3, ZK-1514),
//! each switched on through [`FleBugs`] in a scenario where it shows its documented failure, and
//! the same scenario with ZooKeeper 3.9's behaviour, which does not fail.

mod election_harness;

use election_harness::{fixed_delay, ms, Cluster};
use zabsim_protocol::observe::ServerState;
use zabsim_protocol::server::election::{
    CheckLeaderSelf, FleBugs, OutOfElectionEquality, Vote, VoteOrder,
};
use zabsim_protocol::server::QuorumConfig;
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

fn z(counter: u32) -> Zxid {
    Zxid::new(Epoch(1), counter)
}

fn vote(leader: u64, counter: u32, round: u64) -> Vote {
    Vote {
        leader: ServerId(leader),
        zxid: z(counter),
        election_epoch: round,
        peer_epoch: Epoch(1),
    }
}

/// ZK-1805's setting: s3 leads s1 and s2 (round 1); s1 and s3 re-elect s3 in round 2 while s2 keeps
/// following with its round-1 vote; then s1 restarts (round 1) and asks. It hears FOLLOWING s3
/// (round 1) from s2 and LEADING s3 (round 2) from s3.
fn zk1805_setting(bugs: FleBugs) -> Cluster {
    let mut cluster = Cluster::with_bugs(QuorumConfig::with_voters(3), fixed_delay(10), bugs);
    for sid in 1..=3 {
        cluster.start_at(ms(0), sid, z(sid as u32), Epoch(1));
    }
    cluster.run_until(ms(999));
    assert_eq!(
        cluster.decision(2),
        Some((vote(3, 3, 1), ServerState::Following))
    );
    cluster.start_at(ms(1_000), 1, z(1), Epoch(1));
    cluster.start_at(ms(1_000), 3, z(3), Epoch(1));
    cluster.run_until(ms(4_999));
    assert_eq!(
        cluster.decision(3),
        Some((vote(3, 3, 2), ServerState::Leading))
    );
    cluster.crash_at(ms(5_000), 1);
    cluster.start_at(ms(5_000), 1, z(1), Epoch(1));
    cluster.run_until(ms(600_000));
    cluster
}

/// Fixed (ZooKeeper 3.9): out-of-election votes agree on `(s3, peerEpoch 1)`, s1 joins and takes
/// the leader's round.
#[test]
fn zk1805_fixed_a_restarted_server_joins() {
    let cluster = zk1805_setting(FleBugs::default());
    assert_eq!(
        cluster.decision(1),
        Some((vote(3, 3, 2), ServerState::Following))
    );
}

/// ZK-1805 on: the two votes differ in round, no quorum ever agrees, and the restarted server
/// stays LOOKING for ten minutes while the ensemble runs (the zoo's liveness violation).
#[test]
fn zk1805_a_restarted_server_stays_looking() {
    let bugs = FleBugs {
        out_of_election_equality: OutOfElectionEquality::Zk1805Full,
        ..FleBugs::default()
    };
    let cluster = zk1805_setting(bugs);
    let restarted = cluster.nodes.get(&ServerId(1)).map(|n| n.fle.is_looking());
    assert_eq!(restarted, Some(true), "{}", cluster.transcript());
    let last = cluster.decided_at(1).unwrap_or(ms(0));
    assert!(last < ms(5_000), "no decision after the restart");
}

/// ZK-1514's setting: s3 leads s1 and s2 (round 1), then drops back to LOOKING (round 2) while
/// they still follow it; their FOLLOWING answers name s3 in round 1.
fn zk1514_setting(bugs: FleBugs) -> Cluster {
    let mut cluster = Cluster::with_bugs(QuorumConfig::with_voters(3), fixed_delay(10), bugs);
    for sid in 1..=3 {
        cluster.start_at(ms(0), sid, z(sid as u32), Epoch(1));
    }
    cluster.run_until(ms(999));
    cluster.start_at(ms(1_000), 3, z(3), Epoch(1));
    cluster.run_until(ms(60_000));
    cluster
}

/// Fixed: stale round-1 votes for ourselves are not enough in round 2; s3 waits (until its
/// followers notice and re-elect — not modelled in this FLE-only harness).
#[test]
fn zk1514_fixed_stale_votes_do_not_make_a_leader() {
    let cluster = zk1514_setting(FleBugs::default());
    assert_eq!(cluster.fle_ref(3).map(|f| f.is_looking()), Some(true));
}

/// ZK-1514 on: s3 takes LEADING again from the stale round-1 votes 20 ms after dropping back.
#[test]
fn zk1514_stale_votes_make_a_leader() {
    let bugs = FleBugs {
        check_leader_self: CheckLeaderSelf::Zk1514AnyRound,
        ..FleBugs::default()
    };
    let cluster = zk1514_setting(bugs);
    assert_eq!(
        cluster.decision(3),
        Some((vote(3, 3, 1), ServerState::Leading))
    );
    assert_eq!(cluster.decided_at(3), Some(ms(1_020)));
}

/// ZK-1419's setting: three voters with the same last zxid; s1 accepted epoch 2's NEWLEADER
/// (currentEpoch 2) before the old leader died, s2 and s3 did not (currentEpoch 1). Links 10 ms;
/// run for 30 s.
fn zk1419_setting(bugs: FleBugs) -> Cluster {
    let mut cluster = Cluster::with_bugs(QuorumConfig::with_voters(3), fixed_delay(10), bugs);
    cluster.start_at(ms(0), 1, z(7), Epoch(2));
    cluster.start_at(ms(0), 2, z(7), Epoch(1));
    cluster.start_at(ms(0), 3, z(7), Epoch(1));
    cluster.run_until(ms(30_000));
    cluster
}

/// Fixed: the epoch decides, everyone follows s1.
#[test]
fn zk1419_fixed_the_newer_epoch_is_elected() {
    let cluster = zk1419_setting(FleBugs::default());
    let elected = Vote {
        peer_epoch: Epoch(2),
        ..vote(1, 7, 1)
    };
    for sid in 1..=3 {
        let state = if sid == 1 {
            ServerState::Leading
        } else {
            ServerState::Following
        };
        assert_eq!(cluster.decision(sid), Some((elected, state)), "s{sid}");
    }
}

/// ZK-1419 on: s1 beats the others on epoch while they beat it on sid, so every adoption is
/// answered by a counter-adoption: no quorum of equal votes ever forms, nobody decides in 30 s,
/// and the three keep re-broadcasting (a vote storm, thousands of notifications).
#[test]
fn zk1419_the_election_never_settles() {
    let bugs = FleBugs {
        vote_order: VoteOrder::Zk1419,
        ..FleBugs::default()
    };
    let cluster = zk1419_setting(bugs);
    for sid in 1..=3 {
        assert_eq!(cluster.decision(sid), None, "s{sid}");
    }
    let storm = cluster
        .sent()
        .iter()
        .filter(|(at, ..)| *at >= ms(29_000))
        .count();
    assert!(
        storm > 100,
        "still re-broadcasting in the last second: {storm}"
    );
}
