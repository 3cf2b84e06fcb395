//! Counting support: `getVoteTracker` + `SyncedLearnerTracker.hasAllQuorums` over a vote map, and
//! `checkLeader`.

use super::bugs::{CheckLeaderSelf, OutOfElectionEquality};
use super::vote::RecordedVote;
use crate::observe::ServerState;
use crate::server::config::QuorumConfig;
use crate::types::ServerId;
use std::collections::{BTreeMap, BTreeSet};

/// Whether the voters whose recorded vote equals `vote` (by `equality`, normally
/// [`RecordedVote::same_vote`]) form a majority quorum. Non-voters' entries are never counted
/// (`SyncedLearnerTracker.addAck` only acks voting members).
pub(super) fn has_all_quorums(
    config: &QuorumConfig,
    votes: &BTreeMap<ServerId, RecordedVote>,
    vote: &RecordedVote,
    equality: OutOfElectionEquality,
) -> bool {
    let acks: BTreeSet<ServerId> = votes
        .iter()
        .filter(|(_, recorded)| equality.same_vote(vote, recorded))
        .map(|(sid, _)| *sid)
        .collect();
    let quorum = config.is_quorum(&acks);
    assert!(
        !quorum || !acks.is_empty(),
        "an empty ack set is never a quorum"
    );
    quorum
}

/// `checkLeader(votes, leader, electionEpoch)`: a quorum following `leader` is not enough to
/// follow it — the leader itself must have told us it is LEADING (so that a crashed leader is
/// not elected over and over). If the leader is us, the round must be our round (ZK-1514; not
/// with [`CheckLeaderSelf::Zk1514AnyRound`]).
pub(super) fn check_leader(
    myid: ServerId,
    logicalclock: u64,
    votes: &BTreeMap<ServerId, RecordedVote>,
    leader: ServerId,
    election_epoch: u64,
    self_rule: CheckLeaderSelf,
) -> bool {
    if leader != myid {
        return votes
            .get(&leader)
            .is_some_and(|vote| vote.state == ServerState::Leading);
    }
    match self_rule {
        CheckLeaderSelf::SameRound => logicalclock == election_epoch,
        CheckLeaderSelf::Zk1514AnyRound => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::election::vote::Proposal;

    const EQ: OutOfElectionEquality = OutOfElectionEquality::LeaderAndPeerEpoch;
    const SAME: CheckLeaderSelf = CheckLeaderSelf::SameRound;

    fn vote(leader: i64, state: ServerState) -> RecordedVote {
        RecordedVote {
            proposal: Proposal {
                leader,
                zxid: 10,
                peer_epoch: 1,
            },
            election_epoch: 4,
            state,
            version: 2,
        }
    }

    /// Two of three voters agreeing is a quorum; an observer's agreement does not count.
    #[test]
    fn quorum_counts_voters_only() {
        let mut config = QuorumConfig::with_voters(4);
        config.peers[3].observer = true; // s4 observes: voters s1..s3, quorum 2
        let v = vote(2, ServerState::Following);
        let mut votes = BTreeMap::new();
        votes.insert(ServerId(1), v);
        votes.insert(ServerId(4), v);
        assert!(
            !has_all_quorums(&config, &votes, &v, EQ),
            "s4 is an observer"
        );
        votes.insert(ServerId(3), vote(3, ServerState::Following));
        assert!(
            !has_all_quorums(&config, &votes, &v, EQ),
            "s3 votes for another"
        );
        votes.insert(ServerId(2), v);
        assert!(has_all_quorums(&config, &votes, &v, EQ));
    }

    /// `checkLeader`: another leader must be seen LEADING; we may lead only in our own round.
    #[test]
    fn check_leader_needs_the_leader_leading_or_our_round() {
        let mut votes = BTreeMap::new();
        votes.insert(ServerId(1), vote(2, ServerState::Following));
        assert!(!check_leader(ServerId(3), 4, &votes, ServerId(2), 4, SAME));
        votes.insert(ServerId(2), vote(2, ServerState::Following));
        assert!(!check_leader(ServerId(3), 4, &votes, ServerId(2), 4, SAME));
        votes.insert(ServerId(2), vote(2, ServerState::Leading));
        assert!(check_leader(ServerId(3), 4, &votes, ServerId(2), 4, SAME));
        assert!(check_leader(ServerId(2), 4, &votes, ServerId(2), 4, SAME));
        assert!(!check_leader(ServerId(2), 5, &votes, ServerId(2), 4, SAME));
        let any_round = CheckLeaderSelf::Zk1514AnyRound;
        assert!(check_leader(
            ServerId(2),
            5,
            &votes,
            ServerId(2),
            4,
            any_round
        ));
    }
}
