//! Votes: the decided [`Vote`] handed to `QuorumPeer`, the [`Proposal`] a server champions during
//! a round with FLE's total order (`totalOrderPredicate`), and the [`RecordedVote`] kept in
//! `recvset` / `outofelection` with ZooKeeper's vote equality (`Vote.equals`).
//!
//! ZooKeeper compares sids, zxids and epochs as signed Java `long`s, and a non-voting server
//! proposes `Long.MIN_VALUE` for all three. [`Proposal`] therefore holds `i64`s, so that the
//! order is exactly Java's, including for the observer's "nobody" proposal and for the `-1` zxid
//! of an uninitialised database.

use crate::observe::ServerState;
use crate::server::notification::Notification;
use crate::types::{Epoch, ServerId, Zxid};
use serde::{Deserialize, Serialize};

/// The notification format version FLE sends (`Notification.CURRENTVERSION`, 2 since 3.5).
pub const NOTIFICATION_VERSION: i32 = 2;

/// The outcome of an election (ZooKeeper's `Vote` as `lookForLeader` returns it and
/// `QuorumPeer.currentVote` keeps it): the leader, its last zxid and epoch as voted, and the
/// round (`electionEpoch`) in which it was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vote {
    /// The leader's sid.
    pub leader: ServerId,
    /// The leader's last zxid as it was voted.
    pub zxid: Zxid,
    /// The round (`logicalclock`) in which the vote was decided.
    pub election_epoch: u64,
    /// The leader's epoch as voted (`peerEpoch`); `QuorumPeer.updateElectionVote` later sets it
    /// to the established epoch.
    pub peer_epoch: Epoch,
}

/// A candidate as FLE compares them: `(proposedLeader, proposedZxid, proposedEpoch)`, Java
/// `long`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Proposal {
    /// The candidate's sid.
    pub leader: i64,
    /// The candidate's last zxid.
    pub zxid: i64,
    /// The candidate's epoch.
    pub peer_epoch: i64,
}

impl Proposal {
    /// What a non-voting server proposes (`Long.MIN_VALUE` three times): it loses to every vote.
    pub const NON_VOTER: Proposal = Proposal {
        leader: i64::MIN,
        zxid: i64::MIN,
        peer_epoch: i64::MIN,
    };

    /// A voter's own candidacy: its sid, last logged zxid and `currentEpoch`.
    pub fn of_server(sid: ServerId, zxid: Zxid, epoch: Epoch) -> Proposal {
        Proposal {
            leader: sid_as_long(sid),
            zxid: zxid.as_i64(),
            peer_epoch: i64::from(epoch.0),
        }
    }

    /// The candidate a notification proposes.
    pub fn of_notification(n: &Notification) -> Proposal {
        Proposal::of_server(n.leader, n.zxid, n.peer_epoch)
    }

    /// `totalOrderPredicate(new, cur)`: whether `self` (the new vote) beats `cur`. Lexicographic
    /// on `(peerEpoch, zxid, sid)`, all strictly; a tie is not a win. (The `getWeight(newId) == 0`
    /// clause never fires: `QuorumMaj` gives every id weight 1.)
    pub fn beats(&self, cur: &Proposal) -> bool {
        let wins =
            (self.peer_epoch, self.zxid, self.leader) > (cur.peer_epoch, cur.zxid, cur.leader);
        // The tuple order is exactly ZooKeeper's nested predicate; restate it as a check.
        debug_assert_eq!(
            wins,
            self.peer_epoch > cur.peer_epoch
                || (self.peer_epoch == cur.peer_epoch
                    && (self.zxid > cur.zxid
                        || (self.zxid == cur.zxid && self.leader > cur.leader)))
        );
        wins
    }

    /// The proposed leader as a sid. Only meaningful for a voter's proposal (never
    /// [`Proposal::NON_VOTER`]).
    pub fn leader_sid(&self) -> ServerId {
        assert!(
            self.leader >= 0,
            "a non-voter's proposal names no server: {self:?}"
        );
        ServerId(self.leader as u64)
    }

    /// This proposal as a notification in `election_epoch`, sent in `state`.
    ///
    /// The observer's `Long.MIN_VALUE` proposal does not fit the wire's unsigned fields; it goes
    /// out as sid `2^63`, zxid `0x8000000000000000` and epoch 0. Only voters receive an
    /// observer's notifications, and they answer them without reading the vote.
    pub fn to_notification(&self, state: ServerState, election_epoch: u64) -> Notification {
        Notification {
            state,
            leader: ServerId(self.leader as u64),
            zxid: Zxid::from_i64(self.zxid),
            election_epoch,
            peer_epoch: Epoch(u32::try_from(self.peer_epoch).unwrap_or(0)),
            version: NOTIFICATION_VERSION,
        }
    }

    /// This proposal as the decided vote of round `election_epoch`.
    pub fn to_vote(&self, election_epoch: u64) -> Vote {
        let peer_epoch = u32::try_from(self.peer_epoch);
        assert!(
            peer_epoch.is_ok(),
            "a decided vote comes from a voter's notification and has a u32 epoch: {self:?}"
        );
        Vote {
            leader: self.leader_sid(),
            zxid: Zxid::from_i64(self.zxid),
            election_epoch,
            peer_epoch: Epoch(peer_epoch.unwrap_or(0)),
        }
    }
}

/// A sid as Java's `long`: the wire's 64 bits read as signed, exactly as ZooKeeper reads them
/// (the observer's `Long.MIN_VALUE` candidate arrives as `2^63` and reads back as itself).
fn sid_as_long(sid: ServerId) -> i64 {
    sid.0 as i64
}

/// A vote as FLE records it in `recvset` or `outofelection` (ZooKeeper's `Vote` with its state
/// and format version).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedVote {
    /// The candidate.
    pub proposal: Proposal,
    /// The sender's round.
    pub election_epoch: u64,
    /// The sender's state.
    pub state: ServerState,
    /// The format version ZooKeeper stores with it (0 where its constructor drops it).
    pub version: i32,
}

impl RecordedVote {
    /// `new Vote(leader, zxid, electionEpoch, peerEpoch)`: state LOOKING, version 0.
    pub fn looking(proposal: Proposal, election_epoch: u64) -> RecordedVote {
        RecordedVote {
            proposal,
            election_epoch,
            state: ServerState::Looking,
            version: 0,
        }
    }

    /// `Vote.equals`, which decides who supports whom:
    /// - if either side is LOOKING, the whole vote must match: `(id, zxid, electionEpoch,
    ///   peerEpoch)`;
    /// - if both are out of the election (FOLLOWING/LEADING), only `(id, peerEpoch)` (ZK-1805:
    ///   their zxids and rounds legitimately differ), and only `id` when exactly one side has
    ///   format version 0 (ZK-1732's mixed-version rule; FLE itself stores FOLLOWING/LEADING
    ///   votes in `recvset` with version 0, so this rule is live there).
    pub fn same_vote(&self, other: &RecordedVote) -> bool {
        let looking = self.state == ServerState::Looking || other.state == ServerState::Looking;
        if looking {
            return self.proposal == other.proposal && self.election_epoch == other.election_epoch;
        }
        if (self.version > 0) != (other.version > 0) {
            return self.proposal.leader == other.proposal.leader;
        }
        self.proposal.leader == other.proposal.leader
            && self.proposal.peer_epoch == other.proposal.peer_epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(leader: i64, zxid: i64, peer_epoch: i64) -> Proposal {
        Proposal {
            leader,
            zxid,
            peer_epoch,
        }
    }

    /// The total order of ZooKeeper's `totalOrderPredicate`: epoch first, then zxid, then sid;
    /// ties never win.
    #[test]
    fn total_order_is_epoch_then_zxid_then_sid() {
        assert!(
            p(1, 0, 2).beats(&p(3, 100, 1)),
            "higher epoch beats higher zxid and sid"
        );
        assert!(
            p(1, 101, 1).beats(&p(3, 100, 1)),
            "higher zxid beats higher sid"
        );
        assert!(p(3, 100, 1).beats(&p(2, 100, 1)), "sid breaks ties");
        assert!(!p(3, 100, 1).beats(&p(3, 100, 1)), "a tie is not a win");
        assert!(!p(2, 100, 1).beats(&p(3, 100, 1)));
        assert!(
            p(1, 0, 0).beats(&Proposal::NON_VOTER),
            "every vote beats a non-voter's"
        );
    }

    /// Zxids are compared as signed longs: -1 (an uninitialised database) is the smallest.
    #[test]
    fn zxids_compare_as_java_longs() {
        let minus_one = Proposal::of_server(ServerId(3), Zxid::from_i64(-1), Epoch(0));
        let zero = Proposal::of_server(ServerId(1), Zxid::ZERO, Epoch(0));
        assert!(zero.beats(&minus_one));
    }

    /// `Vote.equals`: LOOKING votes match only in full; out-of-election votes match on
    /// `(id, peerEpoch)`, or on `id` alone across format versions.
    #[test]
    fn vote_equality_follows_zookeeper() {
        let a = RecordedVote::looking(p(2, 5, 1), 3);
        let other_round = RecordedVote::looking(p(2, 5, 1), 4);
        assert!(a.same_vote(&a));
        assert!(!a.same_vote(&other_round));
        let following = |zxid, epoch, version| RecordedVote {
            proposal: p(2, zxid, epoch),
            election_epoch: 9,
            state: ServerState::Following,
            version,
        };
        let leading = RecordedVote {
            state: ServerState::Leading,
            ..following(7, 1, 2)
        };
        assert!(
            following(5, 1, 2).same_vote(&leading),
            "zxid and round are skipped"
        );
        assert!(
            !following(5, 2, 2).same_vote(&leading),
            "peerEpoch must match"
        );
        assert!(
            following(5, 2, 0).same_vote(&leading),
            "mixed versions compare ids only"
        );
        assert!(!a.same_vote(&leading), "a LOOKING side compares everything");
    }

    /// The wire form of a proposal round-trips, the observer's "nobody" included (its epoch
    /// aside: the wire's epoch is unsigned).
    #[test]
    fn proposal_round_trips_through_a_notification() {
        let prop = Proposal::of_server(ServerId(4), Zxid::new(Epoch(2), 9), Epoch(2));
        let n = prop.to_notification(ServerState::Looking, 7);
        assert_eq!(Proposal::of_notification(&n), prop);
        assert_eq!(n.election_epoch, 7);
        assert_eq!(prop.to_vote(7).leader, ServerId(4));
        let nobody = Proposal::NON_VOTER.to_notification(ServerState::Looking, 1);
        let back = Proposal::of_notification(&nobody);
        assert_eq!((back.leader, back.zxid), (i64::MIN, i64::MIN));
        assert_eq!(back.peer_epoch, 0);
    }
}
