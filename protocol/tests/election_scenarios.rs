//! Fast Leader Election scenarios, each driven through the harness (N FLE instances, a network
//! with per-link delays or cuts, one virtual clock). Expected leaders and times are derived in
//! each test's comment from ZooKeeper's `lookForLeader` (research notes §4.3–4.4).

mod election_harness;

use election_harness::{fixed_delay, ms, Cluster, LinkPolicy};
use zabsim_protocol::observe::ServerState;
use zabsim_protocol::server::election::Vote;
use zabsim_protocol::server::QuorumConfig;
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

fn z(epoch: u32, counter: u32) -> Zxid {
    Zxid::new(Epoch(epoch), counter)
}

fn vote(leader: u64, zxid: Zxid, round: u64, epoch: u32) -> Vote {
    Vote {
        leader: ServerId(leader),
        zxid,
        election_epoch: round,
        peer_epoch: Epoch(epoch),
    }
}

/// Asserts every listed node decided `expected`, LEADING for the leader, else FOLLOWING.
fn assert_all_decided(cluster: &Cluster, nodes: &[u64], expected: Vote) {
    for &node in nodes {
        let state = if ServerId(node) == expected.leader {
            ServerState::Leading
        } else {
            ServerState::Following
        };
        assert_eq!(
            cluster.decision(node),
            Some((expected, state)),
            "s{node}\n{}",
            cluster.transcript()
        );
    }
}

/// Three servers with equal epochs: the highest zxid wins even against a higher sid. s2 has
/// zxid 0x100000007 > s3's 0x100000006 > s1's 0x100000005; everyone ends on s2 in round 1.
#[test]
fn three_servers_elect_the_highest_zxid_over_a_higher_sid() {
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), fixed_delay(10));
    cluster.start_at(ms(0), 1, z(1, 5), Epoch(1));
    cluster.start_at(ms(0), 2, z(1, 7), Epoch(1));
    cluster.start_at(ms(0), 3, z(1, 6), Epoch(1));
    cluster.run_until(ms(10_000));
    assert_all_decided(&cluster, &[1, 2, 3], vote(2, z(1, 7), 1, 1));
}

/// Five servers, mixed epochs, uneven link delays: the peer epoch dominates the zxid (s4 has
/// the largest zxid counter but an older epoch), and among equal (epoch, zxid) the higher sid
/// wins: s2 and s3 tie on (3, 0x300000001), so s3 leads.
#[test]
fn five_servers_elect_the_maximal_epoch_zxid_sid() {
    let links: LinkPolicy = Box::new(|from, to, _| Some((5 + 7 * from.0 + 3 * to.0) * 1000));
    let mut cluster = Cluster::new(QuorumConfig::with_voters(5), links);
    cluster.start_at(ms(0), 1, z(2, 10), Epoch(2));
    cluster.start_at(ms(3), 2, z(3, 1), Epoch(3));
    cluster.start_at(ms(1), 3, z(3, 1), Epoch(3));
    cluster.start_at(ms(0), 4, z(2, 50), Epoch(2));
    cluster.start_at(ms(2), 5, z(3, 0), Epoch(3));
    cluster.run_until(ms(10_000));
    assert_all_decided(&cluster, &[1, 2, 3, 4, 5], vote(3, z(3, 1), 1, 3));
}

/// The epoch comes before the zxid: s1's `currentEpoch` 2 (it accepted epoch 2's NEWLEADER
/// before any txn of epoch 2) beats s3's larger zxid of epoch 1.
#[test]
fn a_higher_peer_epoch_beats_a_higher_zxid() {
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), fixed_delay(10));
    cluster.start_at(ms(0), 1, z(1, 100), Epoch(2));
    cluster.start_at(ms(0), 2, z(1, 150), Epoch(1));
    cluster.start_at(ms(0), 3, z(1, 200), Epoch(1));
    cluster.run_until(ms(10_000));
    assert_all_decided(&cluster, &[1, 2, 3], vote(1, z(1, 100), 1, 2));
}

/// A late joiner in the same round follows the established leader even though its own vote is
/// better: s1 and s2 elect s2 while s3 is down; s3 (highest zxid) starts at 5 s in round 1, and
/// the FOLLOWING/LEADING answers of s1 and s2 (round 1) form a quorum in its `recvset` with the
/// leader itself seen LEADING (`checkLeader`).
#[test]
fn a_late_joiner_follows_the_established_leader() {
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), fixed_delay(10));
    cluster.start_at(ms(0), 1, z(1, 5), Epoch(1));
    cluster.start_at(ms(0), 2, z(1, 7), Epoch(1));
    cluster.run_until(ms(4_999));
    let established = vote(2, z(1, 7), 1, 1);
    assert_all_decided(&cluster, &[1, 2], established);
    assert_eq!(cluster.decision(3), None);

    cluster.start_at(ms(5_000), 3, z(1, 9), Epoch(1));
    cluster.run_until(ms(10_000));
    assert_eq!(
        cluster.decision(3),
        Some((established, ServerState::Following))
    );
    // Its vote went out at 5000 ms, the answers came back at 5020 ms.
    assert_eq!(cluster.decided_at(3), Some(ms(5_020)));
}

/// A late joiner in a newer round joins through `outofelection` and adopts the ensemble's round:
/// s3 has run three elections before (round 4 at its start), the others decided in round 1.
#[test]
fn a_late_joiner_in_a_newer_round_adopts_the_ensemble_round() {
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), fixed_delay(10));
    cluster.start_at(ms(0), 1, z(1, 5), Epoch(1));
    cluster.start_at(ms(0), 2, z(1, 7), Epoch(1));
    cluster.run_until(ms(4_999));
    cluster.past_elections(3, 3);
    assert_eq!(cluster.fle(3).logical_clock(), 3);

    cluster.start_at(ms(5_000), 3, z(1, 9), Epoch(1));
    cluster.run_until(ms(10_000));
    let joined = cluster
        .nodes
        .get(&ServerId(3))
        .map(|n| n.fle.logical_clock());
    assert_eq!(joined, Some(1), "the joiner takes the ensemble's round");
    assert_eq!(
        cluster.decision(3),
        Some((vote(2, z(1, 7), 1, 1), ServerState::Following))
    );
}

/// `checkLeader`: a quorum of FOLLOWING votes is not enough, the leader must be heard LEADING.
/// s1..s4 elect s4 while s5 is down; s5 starts at 5 s but its link with s4 is cut until 20 s: it
/// hears three followers (a quorum of five) and still waits; once the link heals, its next
/// resend reaches s4, whose LEADING answer lets it follow.
#[test]
fn a_joiner_follows_only_a_leader_it_has_heard_leading() {
    let links: LinkPolicy = Box::new(|from, to, at| {
        let s4_s5 = (from.0 == 4 && to.0 == 5) || (from.0 == 5 && to.0 == 4);
        if s4_s5 && at < ms(20_000) {
            None
        } else {
            Some(10_000)
        }
    });
    let mut cluster = Cluster::new(QuorumConfig::with_voters(5), links);
    for sid in 1..=4 {
        cluster.start_at(ms(0), sid, z(1, sid as u32), Epoch(1));
    }
    cluster.run_until(ms(4_999));
    let established = vote(4, z(1, 4), 1, 1);
    assert_all_decided(&cluster, &[1, 2, 3, 4], established);

    cluster.start_at(ms(5_000), 5, z(1, 1), Epoch(1));
    cluster.run_until(ms(19_999));
    assert_eq!(cluster.decision(5), None, "s4 was never heard LEADING");
    cluster.run_until(ms(120_000));
    assert_eq!(
        cluster.decision(5),
        Some((established, ServerState::Following))
    );
    let decided = cluster.decided_at(5).unwrap_or(ms(0));
    assert!(decided >= ms(20_000), "decided only after the heal");
}

/// A minority cannot elect: {s1, s2} are cut from {s3, s4, s5} for ten minutes. The minority holds
/// the best candidates yet never decides; the majority elects s5 (the best among them). After the
/// heal the minority's next resend is answered and both follow s5 (FLE joins the established
/// leader even with a larger zxid; Zab's sync truncates them).
#[test]
fn a_partitioned_minority_cannot_elect() {
    let heal = ms(600_000);
    let links: LinkPolicy = Box::new(move |from, to, at| {
        let side = |sid: ServerId| sid.0 <= 2;
        if side(from) != side(to) && at < heal {
            None
        } else {
            Some(10_000)
        }
    });
    let mut cluster = Cluster::new(QuorumConfig::with_voters(5), links);
    let zxids = [z(1, 9), z(1, 8), z(1, 1), z(1, 2), z(1, 3)];
    for (sid, zxid) in (1..=5).zip(zxids) {
        cluster.start_at(ms(0), sid, zxid, Epoch(1));
    }
    cluster.run_until(ms(599_999));
    assert_eq!(cluster.decision(1), None);
    assert_eq!(cluster.decision(2), None);
    let established = vote(5, z(1, 3), 1, 1);
    assert_all_decided(&cluster, &[3, 4, 5], established);
    // The minority kept resending, backing off to maxNotificationInterval (60 s). s2's resends
    // reach s1 and restart its wait (every notification taken restarts the poll), so a gap may
    // exceed the interval by up to one round trip (20 ms), never more.
    let timeouts = cluster.timeouts(1);
    let gaps: Vec<u64> = timeouts
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) / 1_000_000)
        .collect();
    assert!(gaps.iter().all(|gap| *gap <= 60_020), "{gaps:?}");
    let capped = gaps.iter().filter(|gap| **gap >= 60_000).count();
    assert!(capped >= 5, "the back-off holds at the cap: {gaps:?}");

    cluster.run_until(ms(700_000));
    for sid in [1, 2] {
        assert_eq!(
            cluster.decision(sid),
            Some((established, ServerState::Following)),
            "s{sid}"
        );
    }
}

/// The three-server layout used to probe `finalizeWait`: s1 and s2 talk in 10 ms, s3 (the best
/// vote) reaches both only after `d_ms`; s3's incoming links take 10 ms.
fn finalize_probe(d_ms: u64) -> Cluster {
    let links: LinkPolicy = Box::new(move |from, _, _| {
        let ms = if from.0 == 3 { d_ms } else { 10 };
        Some(ms * 1000)
    });
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), links);
    cluster.start_at(ms(0), 1, z(1, 5), Epoch(1));
    cluster.start_at(ms(0), 2, z(1, 7), Epoch(1));
    cluster.start_at(ms(0), 3, z(1, 9), Epoch(1));
    cluster
}

/// A better vote inside the finalize wait reopens the election. s1 adopts s2 at 10 ms and has a
/// quorum {s1, s2} at once (finalize until 210 ms); s2 gets s1's new vote at 20 ms (finalize
/// until 220 ms). s3's vote lands on both at 150 ms: both reopen, adopt s3 and broadcast; the
/// last vote anyone drains arrives at 160 ms, so all decide s3 at 360 ms.
#[test]
fn a_better_vote_inside_the_finalize_wait_reopens_the_election() {
    let mut cluster = finalize_probe(150);
    cluster.run_until(ms(10_000));
    assert_all_decided(&cluster, &[1, 2, 3], vote(3, z(1, 9), 1, 1));
    for sid in 1..=3 {
        assert_eq!(cluster.decided_at(sid), Some(ms(360)), "s{sid}");
    }
}

/// The finalize wait is exactly `finalizeWait` of silence: with s3's vote 250 ms away, s1 decides
/// at 210 ms (quorum at 10 ms) and s2 at 220 ms (quorum at 20 ms). s3's vote then meets decided
/// servers, whose FOLLOWING/LEADING answers (10 ms back) make s3 follow s2 at 260 ms.
#[test]
fn the_finalize_wait_decides_after_exactly_finalize_wait_of_silence() {
    let mut cluster = finalize_probe(250);
    cluster.run_until(ms(10_000));
    assert_all_decided(&cluster, &[1, 2, 3], vote(2, z(1, 7), 1, 1));
    assert_eq!(cluster.decided_at(1), Some(ms(210)));
    assert_eq!(cluster.decided_at(2), Some(ms(220)));
    assert_eq!(cluster.decided_at(3), Some(ms(260)));
}

/// What FLE does NOT guarantee: agreement. With s3's vote arriving at 211 ms it misses s1's
/// window (closed at 210 ms: s1 follows s2) but lands in s2's (open until 220 ms): s2 reopens and
/// follows s3, and s3 leads. Zab's discovery (a leader needs a quorum of FOLLOWERINFO) is what
/// keeps s2's and s3's leaderships from both becoming real.
#[test]
fn fle_alone_can_split_when_a_vote_falls_between_finalize_windows() {
    let mut cluster = finalize_probe(211);
    cluster.run_until(ms(10_000));
    assert_eq!(
        cluster.decision(1),
        Some((vote(2, z(1, 7), 1, 1), ServerState::Following))
    );
    assert_eq!(
        cluster.decision(2),
        Some((vote(3, z(1, 9), 1, 1), ServerState::Following))
    );
    assert_eq!(
        cluster.decision(3),
        Some((vote(3, z(1, 9), 1, 1), ServerState::Leading))
    );
}

/// Notification time-out back-off: an isolated voter resends after `notTimeout`, doubling it
/// each time up to `maxNotificationInterval`. Starting at `minNotificationInterval` = 200 ms with
/// a 1 s cap, the timeouts fire at 200, 600 (+400), 1400 (+800), 2400 (+1000), 3400, 4400 ms, and
/// each resends the same round-1 vote to both other voters.
#[test]
fn notification_timeouts_back_off_doubling_to_the_cap() {
    let mut config = QuorumConfig::with_voters(3);
    config.max_notification_interval_ms = 1_000;
    let mut cluster = Cluster::new(config, Box::new(|_, _, _| None));
    cluster.start_at(ms(0), 1, z(1, 5), Epoch(1));
    cluster.run_until(ms(4_400));
    let expected: Vec<_> = [200, 600, 1_400, 2_400, 3_400, 4_400].map(ms).to_vec();
    assert_eq!(cluster.timeouts(1), expected);
    let sent = cluster.sent();
    assert_eq!(
        sent.len(),
        2 * (1 + expected.len()),
        "start + each timeout, to s2 and s3"
    );
    for (at, from, _, n) in &sent {
        assert_eq!(*from, ServerId(1));
        assert_eq!(
            (n.leader, n.election_epoch, n.state),
            (ServerId(1), 1, ServerState::Looking)
        );
        assert!(*at == ms(0) || expected.contains(at));
    }
}

/// With ZooKeeper's defaults (200 ms → 60 s) the gaps between resends are 200, 400, …, 51 200 ms,
/// then 60 000 ms for good.
#[test]
fn default_back_off_caps_at_sixty_seconds() {
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), Box::new(|_, _, _| None));
    cluster.start_at(ms(0), 1, z(1, 5), Epoch(1));
    cluster.run_until(ms(300_000));
    let mut previous = 0;
    let gaps: Vec<u64> = cluster
        .timeouts(1)
        .iter()
        .map(|at| {
            let now = at.0 / 1_000_000;
            let gap = now - previous;
            previous = now;
            gap
        })
        .collect();
    let expected = [
        200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 51_200, 60_000, 60_000, 60_000,
    ];
    assert_eq!(gaps, expected);
}

/// Observers do not vote: an observer (s4, with the largest zxid of all) is never proposed,
/// never counted, is sent nothing but answers, and learns the leader from the voters' FOLLOWING /
/// LEADING answers once they have decided, becoming OBSERVING behind s3.
#[test]
fn an_observer_never_votes_and_learns_the_leader() {
    let mut config = QuorumConfig::with_voters(4);
    config.peers[3].observer = true;
    let mut cluster = Cluster::new(config, fixed_delay(10));
    for sid in 1..=3 {
        cluster.start_at(ms(0), sid, z(1, sid as u32), Epoch(1));
    }
    cluster.start_at(ms(0), 4, z(1, 99), Epoch(1));
    cluster.run_until(ms(60_000));
    let elected = vote(3, z(1, 3), 1, 1);
    assert_all_decided(&cluster, &[1, 2, 3], elected);
    assert_eq!(cluster.decision(4), Some((elected, ServerState::Observing)));
    for (at, from, to, n) in cluster.sent() {
        assert_ne!(n.leader, ServerId(4), "nobody proposes the observer");
        if to == ServerId(4) {
            assert_ne!(
                at,
                ms(0),
                "voters do not broadcast to the observer, only answer"
            );
        }
        if from == ServerId(4) {
            assert_eq!(n.state, ServerState::Looking);
        }
    }
}

/// ZK-1514's rule seen from the other side: a leader that restarts (fresh FLE, round 1 again)
/// while its followers still follow it in round 1 counts their FOLLOWING answers plus its own
/// vote as a quorum for itself in its own round, and leads again at once.
#[test]
fn a_restarted_leader_is_re_elected_by_its_followers() {
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), fixed_delay(10));
    for sid in 1..=3 {
        cluster.start_at(ms(0), sid, z(1, sid as u32), Epoch(1));
    }
    cluster.run_until(ms(999));
    let elected = vote(3, z(1, 3), 1, 1);
    assert_all_decided(&cluster, &[1, 2, 3], elected);

    cluster.restart(3);
    cluster.start_at(ms(1_000), 3, z(1, 3), Epoch(1));
    cluster.run_until(ms(5_000));
    assert_eq!(cluster.decision(3), Some((elected, ServerState::Leading)));
    assert_eq!(
        cluster.decided_at(3),
        Some(ms(1_020)),
        "the first answer decides"
    );
}

/// Rounds: a server that has been through more elections (round 3) pulls the others into its
/// round; everyone decides the best vote in round 3.
#[test]
fn servers_in_older_rounds_are_pulled_into_the_newest_round() {
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), fixed_delay(10));
    cluster.past_elections(1, 2);
    for sid in 1..=3 {
        cluster.start_at(ms(0), sid, z(1, sid as u32), Epoch(1));
    }
    cluster.run_until(ms(10_000));
    assert_all_decided(&cluster, &[1, 2, 3], vote(3, z(1, 3), 3, 1));
}

/// The receiver answers a LOOKING voter in an older round with our proposal and round. s1 (round
/// 3, the best candidacy) starts at 0 ms while its links are down (its broadcast is lost); s2 and
/// s3 start at 1 s in round 1 and would elect s3 between themselves, but s1 answers their round-1
/// votes with its round-3 vote (arriving 1020 ms, inside their finalize wait), so they reopen,
/// join round 3 and elect s1.
#[test]
fn a_lagging_voter_is_answered_with_the_newer_round() {
    let links: LinkPolicy = Box::new(|_, _, at| (at >= ms(500)).then_some(10_000));
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), links);
    cluster.past_elections(1, 2);
    cluster.start_at(ms(0), 1, z(1, 9), Epoch(1));
    cluster.start_at(ms(1_000), 2, z(1, 1), Epoch(1));
    cluster.start_at(ms(1_000), 3, z(1, 2), Epoch(1));
    cluster.run_until(ms(10_000));
    assert_all_decided(&cluster, &[1, 2, 3], vote(1, z(1, 9), 3, 1));
    let answers: Vec<_> = cluster
        .sent()
        .into_iter()
        .filter(|(at, from, _, n)| {
            *at == ms(1_010) && *from == ServerId(1) && n.election_epoch == 3
        })
        .map(|(_, _, to, _)| to)
        .collect();
    assert_eq!(
        answers,
        vec![ServerId(2), ServerId(3)],
        "s1 answers both round-1 votes"
    );
}

/// `updateElectionVote` (ZK-1732/1805): out-of-election votes match on `(leader, peerEpoch)`.
/// s1 and s2 elect s2 in round 1; then s2, as leader of the new epoch 2, updates its vote, but
/// s1 has not yet. A joiner in another round (s3, round 4) sees FOLLOWING s2 @1 and LEADING s2 @2:
/// no quorum agrees, it waits. Once s1 updates too (it finished syncing), s3's next resend gets
/// agreeing answers and it follows s2 with the established epoch.
#[test]
fn a_joiner_needs_the_followers_and_leader_to_agree_on_the_epoch() {
    let mut cluster = Cluster::new(QuorumConfig::with_voters(3), fixed_delay(10));
    cluster.start_at(ms(0), 1, z(1, 5), Epoch(1));
    cluster.start_at(ms(0), 2, z(1, 7), Epoch(1));
    cluster.run_until(ms(999));
    cluster.fle(2).update_election_vote(Epoch(2));
    cluster.past_elections(3, 3);
    cluster.start_at(ms(1_000), 3, z(1, 9), Epoch(1));
    cluster.run_until(ms(9_999));
    assert_eq!(
        cluster.decision(3),
        None,
        "FOLLOWING s2@1 and LEADING s2@2 disagree"
    );

    cluster.fle(1).update_election_vote(Epoch(2));
    cluster.run_until(ms(120_000));
    assert_eq!(
        cluster.decision(3),
        Some((vote(2, z(1, 7), 1, 2), ServerState::Following))
    );
}
