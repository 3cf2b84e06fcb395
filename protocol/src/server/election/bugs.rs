//! Historical FLE bugs as typed switches (`../shared/research/zk-bug-zoo.md` §2, §3 and the ZK-1514
//! entry), all off by default: [`FleBugs::default`] is ZooKeeper 3.9. The scenario's variants
//! choose them; FLE never does.

use super::vote::{Proposal, RecordedVote};
use serde::{Deserialize, Serialize};

/// Which FLE bugs are switched back on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleBugs {
    /// The vote order (`totalOrderPredicate`).
    pub vote_order: VoteOrder,
    /// How votes of servers out of the election are compared (`Vote.equals`).
    pub out_of_election_equality: OutOfElectionEquality,
    /// What `checkLeader` demands when the proposed leader is us.
    pub check_leader_self: CheckLeaderSelf,
}

/// The vote order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum VoteOrder {
    /// `(peerEpoch, zxid, sid)`, lexicographic: a total order.
    #[default]
    Total,
    /// ZOOKEEPER-1419: the sid tie-break forgot to require equal epochs (`epoch > || (epoch ==
    /// && zxid >) || (zxid == && sid >)`), so two votes with equal zxids and different epochs each
    /// beat the other and servers can keep swapping proposals.
    Zk1419,
}

/// How two FOLLOWING/LEADING votes are compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutOfElectionEquality {
    /// `(leader, peerEpoch)` (only `leader` across format versions): the ZK-1805 fix.
    #[default]
    LeaderAndPeerEpoch,
    /// ZOOKEEPER-1805: the whole vote `(leader, zxid, electionEpoch, peerEpoch)`, so followers
    /// that reached the same leader in different elections never agree and a newcomer cannot
    /// join.
    Zk1805Full,
}

/// What `checkLeader` demands when the leader a quorum names is us.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckLeaderSelf {
    /// The votes must be of our current round: the ZK-1514 fix.
    #[default]
    SameRound,
    /// ZOOKEEPER-1514: any round, so a restarted server takes LEADING from stale votes.
    Zk1514AnyRound,
}

impl VoteOrder {
    /// Whether `new` beats `cur` in this order.
    pub fn beats(self, new: &Proposal, cur: &Proposal) -> bool {
        match self {
            VoteOrder::Total => new.beats(cur),
            VoteOrder::Zk1419 => {
                new.peer_epoch > cur.peer_epoch
                    || (new.peer_epoch == cur.peer_epoch && new.zxid > cur.zxid)
                    || (new.zxid == cur.zxid && new.leader > cur.leader)
            }
        }
    }
}

impl OutOfElectionEquality {
    /// `Vote.equals` under this rule.
    pub fn same_vote(self, a: &RecordedVote, b: &RecordedVote) -> bool {
        match self {
            OutOfElectionEquality::LeaderAndPeerEpoch => a.same_vote(b),
            OutOfElectionEquality::Zk1805Full => {
                a.proposal == b.proposal && a.election_epoch == b.election_epoch
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::ServerState;

    fn p(leader: i64, zxid: i64, peer_epoch: i64) -> Proposal {
        Proposal {
            leader,
            zxid,
            peer_epoch,
        }
    }

    /// ZK-1419's order is not antisymmetric: equal zxids, the newer epoch and the higher sid each
    /// win.
    #[test]
    fn zk1419_order_lets_two_votes_beat_each_other() {
        let newer_epoch = p(1, 7, 2);
        let higher_sid = p(3, 7, 1);
        assert!(VoteOrder::Zk1419.beats(&newer_epoch, &higher_sid));
        assert!(VoteOrder::Zk1419.beats(&higher_sid, &newer_epoch));
        assert!(VoteOrder::Total.beats(&newer_epoch, &higher_sid));
        assert!(!VoteOrder::Total.beats(&higher_sid, &newer_epoch));
    }

    /// ZK-1805's equality tells apart followers of one leader that were elected in different
    /// rounds.
    #[test]
    fn zk1805_equality_compares_rounds() {
        let following = |round| RecordedVote {
            proposal: p(3, 7, 1),
            election_epoch: round,
            state: ServerState::Following,
            version: 2,
        };
        let (a, b) = (following(1), following(2));
        assert!(OutOfElectionEquality::LeaderAndPeerEpoch.same_vote(&a, &b));
        assert!(!OutOfElectionEquality::Zk1805Full.same_vote(&a, &b));
    }
}
