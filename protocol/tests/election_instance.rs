//! One FLE instance driven by hand: each test feeds notifications and timers and checks the exact
//! actions against ZooKeeper's `FastLeaderElection` (`WorkerReceiver` answers, `lookForLeader`
//! steps; research notes §4.4).

use zabsim_protocol::observe::ServerState;
use zabsim_protocol::server::election::{
    split_actions, ElectionAction, ElectionTimer, FastLeaderElection, Vote,
};
use zabsim_protocol::server::{Notification, QuorumConfig, ServerAction, ServerTimer};
use zabsim_protocol::types::{Epoch, LocalTime, ServerId, Zxid};

fn ms(ms: u64) -> LocalTime {
    LocalTime(0).plus_millis(ms)
}

fn z(counter: u32) -> Zxid {
    Zxid::new(Epoch(1), counter)
}

fn n(state: ServerState, leader: u64, zxid: Zxid, round: u64) -> Notification {
    Notification {
        state,
        leader: ServerId(leader),
        zxid,
        election_epoch: round,
        peer_epoch: Epoch(1),
        version: 2,
    }
}

fn send(to: u64, notification: Notification) -> ElectionAction {
    ElectionAction::Send {
        to: ServerId(to),
        notification,
    }
}

fn set(timer: ElectionTimer, at: LocalTime) -> ElectionAction {
    ElectionAction::SetTimer { timer, at }
}

const LOOKING: ServerState = ServerState::Looking;
const NT: ElectionTimer = ElectionTimer::NotificationTimeout;

/// s1 of three voters, started at 0 ms with zxid 0x100000005, its start actions discarded.
fn s1_started() -> FastLeaderElection {
    let mut fle = FastLeaderElection::new(ServerId(1), &QuorumConfig::with_voters(3));
    let actions = fle.start(ms(0), z(5), Epoch(1));
    assert_eq!(
        actions,
        vec![
            send(2, n(LOOKING, 1, z(5), 1)),
            send(3, n(LOOKING, 1, z(5), 1)),
            set(NT, ms(200)),
        ]
    );
    fle
}

/// s1 that followed s2 in round 1 (s2 LEADING, s3 FOLLOWING s2 make a quorum in `recvset` with
/// the leader seen LEADING).
fn s1_following_s2() -> FastLeaderElection {
    let mut fle = s1_started();
    let leading = fle.on_notification(ms(10), ServerId(2), n(ServerState::Leading, 2, z(7), 1));
    assert_eq!(
        leading,
        vec![set(NT, ms(210))],
        "one LEADING vote is no quorum"
    );
    let following = fle.on_notification(ms(20), ServerId(3), n(ServerState::Following, 2, z(7), 1));
    let vote = Vote {
        leader: ServerId(2),
        zxid: z(7),
        election_epoch: 1,
        peer_epoch: Epoch(1),
    };
    assert_eq!(
        following,
        vec![
            ElectionAction::CancelTimer { timer: NT },
            ElectionAction::Decided {
                vote,
                state: ServerState::Following
            },
        ]
    );
    assert_eq!(fle.current_vote(), Some(vote));
    assert_eq!(fle.peer_state(), ServerState::Following);
    fle
}

/// Start: our candidacy to every other voter, round 1, and a 200 ms wait
/// (`minNotificationInterval`); our vote to ourselves stays inside.
#[test]
fn start_sends_our_candidacy_and_arms_the_notification_timeout() {
    let fle = s1_started();
    assert_eq!(fle.logical_clock(), 1);
    assert!(fle.is_looking());
}

/// A better vote is adopted and re-broadcast; with our own looped-back vote that makes a quorum,
/// so the notification wait gives way to the finalize wait.
#[test]
fn a_better_vote_is_adopted_and_a_quorum_starts_the_finalize_wait() {
    let mut fle = s1_started();
    let actions = fle.on_notification(ms(10), ServerId(2), n(LOOKING, 2, z(7), 1));
    assert_eq!(
        actions,
        vec![
            send(2, n(LOOKING, 2, z(7), 1)),
            send(3, n(LOOKING, 2, z(7), 1)),
            ElectionAction::CancelTimer { timer: NT },
            set(ElectionTimer::Finalize, ms(210)),
        ]
    );
    // A worse vote inside the wait is drained: the 200 ms start over.
    let drained = fle.on_notification(ms(50), ServerId(3), n(LOOKING, 3, z(6), 1));
    assert_eq!(drained, vec![set(ElectionTimer::Finalize, ms(250))]);
    // Silence: decide.
    let decided = fle.on_timer(ms(250), ElectionTimer::Finalize);
    let vote = Vote {
        leader: ServerId(2),
        zxid: z(7),
        election_epoch: 1,
        peer_epoch: Epoch(1),
    };
    assert_eq!(
        decided,
        vec![ElectionAction::Decided {
            vote,
            state: ServerState::Following
        }]
    );
}

/// A vote that arrived before the round (the process was up, `lookForLeader` not yet running)
/// waits in the queue and is taken first, ahead of our own looped-back vote.
#[test]
fn a_vote_received_before_start_is_taken_by_the_round() {
    let mut fle = FastLeaderElection::new(ServerId(1), &QuorumConfig::with_voters(3));
    let early = fle.on_notification(ms(0), ServerId(2), n(LOOKING, 2, z(7), 1));
    assert_eq!(early, vec![], "queued, nothing to answer");
    let actions = fle.start(ms(5), z(5), Epoch(1));
    assert_eq!(
        actions,
        vec![
            send(2, n(LOOKING, 1, z(5), 1)),
            send(3, n(LOOKING, 1, z(5), 1)),
            send(2, n(LOOKING, 2, z(7), 1)),
            send(3, n(LOOKING, 2, z(7), 1)),
            ElectionAction::CancelTimer { timer: NT },
            set(ElectionTimer::Finalize, ms(205)),
        ]
    );
}

/// `WorkerReceiver`: a LOOKING voter in an older round gets our proposal in our round at once;
/// the round itself drops the vote (the poll still restarts).
#[test]
fn an_older_round_voter_is_answered_with_our_round() {
    let mut fle = FastLeaderElection::new(ServerId(1), &QuorumConfig::with_voters(3));
    let _ = fle.start(ms(0), z(5), Epoch(1));
    let _ = fle.shutdown();
    let _ = fle.start(ms(0), z(5), Epoch(1));
    assert_eq!(fle.logical_clock(), 2);
    let actions = fle.on_notification(ms(30), ServerId(2), n(LOOKING, 2, z(7), 1));
    assert_eq!(
        actions,
        vec![send(2, n(LOOKING, 1, z(5), 2)), set(NT, ms(230))]
    );
    assert_eq!(fle.proposal().map(|p| p.leader), Some(1), "not adopted");
}

/// Once decided, a LOOKING voter gets our current vote (with the round it was decided in) and
/// our state; FOLLOWING/LEADING voters get nothing. `updateElectionVote` changes the epoch
/// later answers carry.
#[test]
fn a_decided_server_answers_looking_voters_with_its_current_vote() {
    let mut fle = s1_following_s2();
    let answer = fle.on_notification(ms(500), ServerId(3), n(LOOKING, 3, z(9), 7));
    let following = Notification {
        state: ServerState::Following,
        ..n(LOOKING, 2, z(7), 1)
    };
    assert_eq!(answer, vec![send(3, following)]);
    let quiet = fle.on_notification(ms(510), ServerId(2), n(ServerState::Leading, 2, z(7), 1));
    assert_eq!(quiet, vec![]);
    fle.update_election_vote(Epoch(2));
    let answer = fle.on_notification(ms(600), ServerId(3), n(LOOKING, 3, z(9), 7));
    let epoch_two = Notification {
        peer_epoch: Epoch(2),
        ..following
    };
    assert_eq!(answer, vec![send(3, epoch_two)]);
}

/// An observer's notification is answered at once with our current vote and round, and never
/// reaches the round (no poll restart, no count).
#[test]
fn a_non_voter_is_answered_and_never_counted() {
    let mut config = QuorumConfig::with_voters(4);
    config.peers[3].observer = true;
    let mut fle = FastLeaderElection::new(ServerId(1), &config);
    let start = fle.start(ms(0), z(5), Epoch(1));
    assert!(
        start
            .iter()
            .all(|a| !matches!(a, ElectionAction::Send { to, .. } if *to == ServerId(4))),
        "observers are not sent our vote"
    );
    let answer = fle.on_notification(ms(40), ServerId(4), n(LOOKING, 4, z(99), 1));
    assert_eq!(answer, vec![send(4, n(LOOKING, 1, z(5), 1))]);
}

/// A vote for a non-voter is ignored by the round, but taking it restarts the wait.
#[test]
fn a_vote_for_a_non_voter_is_ignored() {
    let mut config = QuorumConfig::with_voters(4);
    config.peers[3].observer = true;
    let mut fle = FastLeaderElection::new(ServerId(1), &config);
    let _ = fle.start(ms(0), z(5), Epoch(1));
    let actions = fle.on_notification(ms(50), ServerId(2), n(LOOKING, 4, z(99), 1));
    assert_eq!(actions, vec![set(NT, ms(250))]);
    assert_eq!(fle.proposal().map(|p| p.leader), Some(1));
}

/// ZK-261: a server whose database is uninitialised (last zxid -1) ignores LOOKING votes.
#[test]
fn an_uninitialised_database_ignores_looking_votes() {
    let mut fle = FastLeaderElection::new(ServerId(1), &QuorumConfig::with_voters(3));
    let _ = fle.start(ms(0), Zxid::from_i64(-1), Epoch(0));
    let a = fle.on_notification(ms(10), ServerId(2), n(LOOKING, 2, z(7), 1));
    let b = fle.on_notification(ms(20), ServerId(3), n(LOOKING, 2, z(7), 1));
    assert_eq!(a, vec![set(NT, ms(210))]);
    assert_eq!(b, vec![set(NT, ms(220))]);
    assert_eq!(fle.proposal().map(|p| p.leader), Some(1));
}

/// A timeout resends our vote to every voter and doubles the wait; a timer that is not armed
/// (the other wait's, or after shutdown) does nothing, and a shut-down FLE receives nothing.
#[test]
fn timeouts_resend_and_stale_timers_are_ignored() {
    let mut fle = s1_started();
    let stale = fle.on_timer(ms(200), ElectionTimer::Finalize);
    assert_eq!(stale, vec![]);
    let resend = fle.on_timer(ms(200), NT);
    assert_eq!(
        resend,
        vec![
            send(2, n(LOOKING, 1, z(5), 1)),
            send(3, n(LOOKING, 1, z(5), 1)),
            set(NT, ms(600)),
        ]
    );
    assert_eq!(
        fle.shutdown(),
        vec![ElectionAction::CancelTimer { timer: NT }]
    );
    assert_eq!(fle.on_timer(ms(600), NT), vec![]);
    let after = fle.on_notification(ms(700), ServerId(2), n(LOOKING, 2, z(7), 1));
    assert_eq!(after, vec![]);
}

/// Between rounds (`set_looking`, e.g. an observer's election delay) votes are queued for the
/// next round, and an older-round voter is answered with the last round's proposal.
#[test]
fn between_rounds_votes_wait_for_the_next_round() {
    let mut fle = s1_following_s2();
    fle.set_looking();
    // `getVote()` still holds the last round's proposal: joining through FOLLOWING/LEADING
    // votes never updated it, so it is still our own candidacy.
    let older = fle.on_notification(ms(1_000), ServerId(2), n(LOOKING, 2, z(7), 0));
    assert_eq!(older, vec![send(2, n(LOOKING, 1, z(5), 1))]);
    let queued = fle.on_notification(ms(1_010), ServerId(3), n(LOOKING, 3, z(9), 2));
    assert_eq!(queued, vec![]);
    let actions = fle.start(ms(1_100), z(5), Epoch(1));
    assert_eq!(
        actions,
        vec![
            send(2, n(LOOKING, 1, z(5), 2)),
            send(3, n(LOOKING, 1, z(5), 2)),
            send(2, n(LOOKING, 3, z(9), 2)),
            send(3, n(LOOKING, 3, z(9), 2)),
            ElectionAction::CancelTimer { timer: NT },
            set(ElectionTimer::Finalize, ms(1_300)),
        ],
        "the queued round-2 vote of s3 is taken first and adopted; with ours, a quorum"
    );
}

/// The actions map onto the server's contract: sends, and the two election timers.
#[test]
fn actions_map_onto_server_actions() {
    let vote = n(LOOKING, 1, z(5), 1);
    assert_eq!(
        send(2, vote).to_server_action(),
        Some(ServerAction::SendNotification {
            to: ServerId(2),
            notification: vote
        })
    );
    assert_eq!(
        set(ElectionTimer::Finalize, ms(5)).to_server_action(),
        Some(ServerAction::SetTimer {
            timer: ServerTimer::ElectionFinalize,
            at: ms(5)
        })
    );
    assert_eq!(
        ElectionTimer::from_server_timer(ServerTimer::ElectionNotificationTimeout),
        Some(NT)
    );
    let decided = Vote {
        leader: ServerId(2),
        zxid: z(7),
        election_epoch: 1,
        peer_epoch: Epoch(1),
    };
    let (server_actions, decision) = split_actions(vec![
        ElectionAction::CancelTimer { timer: NT },
        ElectionAction::Decided {
            vote: decided,
            state: ServerState::Following,
        },
    ]);
    assert_eq!(
        server_actions,
        vec![ServerAction::CancelTimer {
            timer: ServerTimer::ElectionNotificationTimeout
        }]
    );
    assert_eq!(decision, Some((decided, ServerState::Following)));
}

/// A newer round forgets `recvset`. s3's FOLLOWING vote for s2 (epoch 1) is recorded in round 1;
/// s2's round-2 LOOKING vote (worse than ours) moves us to round 2; s2's LEADING vote (epoch 2)
/// then has only itself in `recvset` (s3's round-1 vote is gone, and in `outofelection` the two
/// differ in peerEpoch): no decision. Had round 1's votes survived, s3's FOLLOWING vote would
/// match s2's by id alone (its recorded version is 0) and make a quorum.
#[test]
fn a_newer_round_forgets_the_older_rounds_votes() {
    let mut fle = s1_started();
    let _ = fle.on_notification(ms(10), ServerId(3), n(ServerState::Following, 2, z(3), 1));
    let jump = fle.on_notification(ms(20), ServerId(2), n(LOOKING, 2, z(3), 2));
    assert_eq!(
        jump,
        vec![
            send(2, n(LOOKING, 1, z(5), 2)),
            send(3, n(LOOKING, 1, z(5), 2)),
            set(NT, ms(220)),
        ]
    );
    let leading = Notification {
        peer_epoch: Epoch(2),
        ..n(ServerState::Leading, 2, z(3), 2)
    };
    let actions = fle.on_notification(ms(30), ServerId(2), leading);
    assert_eq!(actions, vec![set(NT, ms(230))], "no quorum for s2");
    assert!(fle.is_looking());
}

/// Many votes queued before the round, each better than the last, are all taken in order at
/// `start`: every one is adopted and re-broadcast, and the last one is our final proposal.
#[test]
fn a_long_queue_of_improving_votes_is_taken_in_order() {
    let mut fle = FastLeaderElection::new(ServerId(1), &QuorumConfig::with_voters(7));
    for counter in 6..=40 {
        let sid = 2 + u64::from(counter % 6);
        let queued = fle.on_notification(ms(0), ServerId(sid), n(LOOKING, sid, z(counter), 1));
        assert_eq!(queued, vec![]);
    }
    let actions = fle.start(ms(1), z(5), Epoch(1));
    let broadcasts = actions
        .iter()
        .filter(|a| matches!(a, ElectionAction::Send { to, .. } if *to == ServerId(2)))
        .count();
    assert_eq!(
        broadcasts,
        1 + 35,
        "our candidacy, then each of the 35 improving votes"
    );
    let last = 2 + u64::from(40u32 % 6);
    assert_eq!(fle.proposal().map(|p| p.leader), Some(last as i64));
}
