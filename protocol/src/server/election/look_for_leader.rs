//! One `lookForLeader` round: the proposal, `recvset` and `outofelection`, the poll loop with its
//! notification timeout and back-off, and the `finalizeWait`.
//!
//! ZooKeeper's loop polls its receive queue; here each poll result is an input:
//! - in [`Poll::Notifications`] (the main loop) every notification taken is processed and
//!   restarts the `notTimeout` wait; a timeout resends our vote and doubles `notTimeout` up to
//!   `maxNotificationInterval`;
//! - in [`Poll::Finalize`] (a quorum agrees with our proposal) notifications are drained: one that
//!   beats our proposal (by the total order alone, whatever its round or state) is pushed back and
//!   processed by the main loop, reopening the election; any other is dropped and restarts the
//!   `finalizeWait`; `finalizeWait` of silence decides.

use super::action::{ElectionAction, ElectionTimer, Outbox};
use super::bugs::{FleBugs, OutOfElectionEquality, VoteOrder};
use super::tracker::{check_leader, has_all_quorums};
use super::vote::{Proposal, RecordedVote, Vote};
use super::FastLeaderElection;
use crate::observe::ServerState;
use crate::server::config::QuorumConfig;
use crate::server::notification::Notification;
use crate::types::{LocalTime, ServerId};
use std::collections::{BTreeMap, BTreeSet};

/// Which wait `lookForLeader` is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Poll {
    /// The main loop: `recvqueue.poll(notTimeout)`.
    Notifications,
    /// The finalize wait: `recvqueue.poll(finalizeWait)` until silence or a better vote.
    Finalize,
}

/// The state of one running `lookForLeader`.
#[derive(Debug)]
pub(super) struct LookForLeader {
    /// Our own candidacy (`getInitId`, `getInitLastLoggedZxid`, `getPeerEpoch`).
    pub(super) init: Proposal,
    /// What we propose now (`proposedLeader`, `proposedZxid`, `proposedEpoch`).
    pub(super) proposal: Proposal,
    /// Votes of this round, by sender.
    pub(super) recvset: BTreeMap<ServerId, RecordedVote>,
    /// FOLLOWING/LEADING votes of any round, by sender.
    pub(super) outofelection: BTreeMap<ServerId, RecordedVote>,
    /// The current `notTimeout`.
    pub(super) not_timeout_ms: u64,
    /// Which wait we are in.
    pub(super) poll: Poll,
}

impl LookForLeader {
    /// A round proposing `init`, waiting `min_interval_ms` for the first notification.
    pub(super) fn new(init: Proposal, min_interval_ms: u64) -> LookForLeader {
        assert!(min_interval_ms > 0);
        LookForLeader {
            init,
            proposal: init,
            recvset: BTreeMap::new(),
            outofelection: BTreeMap::new(),
            not_timeout_ms: min_interval_ms,
            poll: Poll::Notifications,
        }
    }

    /// The timer armed for the current wait.
    pub(super) fn armed_timer(&self) -> ElectionTimer {
        match self.poll {
            Poll::Notifications => ElectionTimer::NotificationTimeout,
            Poll::Finalize => ElectionTimer::Finalize,
        }
    }
}

impl FastLeaderElection {
    /// `sendNotifications`: our proposal, in our round, to every voter (ourselves included).
    pub(super) fn send_notifications(&self, out: &mut Outbox) {
        let Some(election) = self.election.as_ref() else {
            return;
        };
        let notification = election
            .proposal
            .to_notification(ServerState::Looking, self.logicalclock);
        let voters: BTreeSet<ServerId> = self.config.voters().collect();
        for voter in voters {
            out.send(self.myid, voter, notification);
        }
    }

    /// The poll returned `notification` from `from` (a voter).
    pub(super) fn poll_returned(
        &mut self,
        now: LocalTime,
        from: ServerId,
        notification: Notification,
        out: &mut Outbox,
    ) {
        let finalize_wait_ms = u64::from(self.config.finalize_wait_ms);
        let order = self.bugs.vote_order;
        let Some(election) = self.election.as_mut() else {
            return;
        };
        if election.poll == Poll::Finalize {
            let offered = Proposal::of_notification(&notification);
            if !order.beats(&offered, &election.proposal) {
                // Drained and dropped; the finalize wait starts over.
                out.push(ElectionAction::SetTimer {
                    timer: ElectionTimer::Finalize,
                    at: now.plus_millis(finalize_wait_ms),
                });
                return;
            }
            // A better vote: put it back and let the main loop take it.
            election.poll = Poll::Notifications;
            out.push(ElectionAction::CancelTimer {
                timer: ElectionTimer::Finalize,
            });
        }
        self.process(now, from, notification, out);
    }

    /// The main loop's handling of one notification, then the next poll.
    fn process(&mut self, now: LocalTime, from: ServerId, n: Notification, out: &mut Outbox) {
        let decision = if self.valid_voter(from) && self.valid_voter(n.leader) {
            match n.state {
                ServerState::Looking => {
                    self.looking_vote(now, from, &n, out);
                    None
                }
                ServerState::Observing => None,
                ServerState::Following | ServerState::Leading => {
                    self.out_of_election_vote(from, &n)
                }
            }
        } else {
            None // a vote for a non-voter: ignored
        };
        if let Some((vote, state)) = decision {
            self.decide(vote, state, true, out);
            return;
        }
        let Some(election) = self.election.as_ref() else {
            return;
        };
        if election.poll == Poll::Notifications {
            out.push(ElectionAction::SetTimer {
                timer: ElectionTimer::NotificationTimeout,
                at: now.plus_millis(election.not_timeout_ms),
            });
        }
    }

    /// A LOOKING voter's vote: follow rounds, adopt better votes, count, maybe finalize.
    fn looking_vote(&mut self, now: LocalTime, from: ServerId, n: &Notification, out: &mut Outbox) {
        let order = self.bugs.vote_order;
        let Some(election) = self.election.as_mut() else {
            return;
        };
        if election.init.zxid == -1 || n.zxid.as_i64() == -1 {
            return; // an uninitialised database does not vote (ZK-261)
        }
        let offered = Proposal::of_notification(n);
        let mut changed = false;
        if n.election_epoch > self.logicalclock {
            // A newer round: join it, forget this round's votes, and propose the better of the
            // offered vote and our own candidacy (not our current proposal).
            self.logicalclock = n.election_epoch;
            election.recvset.clear();
            election.proposal = if order.beats(&offered, &election.init) {
                offered
            } else {
                election.init
            };
            changed = true;
        } else if n.election_epoch < self.logicalclock {
            return; // an older round (the receiver has answered it)
        } else if order.beats(&offered, &election.proposal) {
            election.proposal = offered;
            changed = true;
        }
        // (ZK-1419's order is not transitive: there the invariant does not hold.)
        assert!(
            order != VoteOrder::Total || !election.init.beats(&election.proposal),
            "a proposal never falls below our own candidacy"
        );
        election
            .recvset
            .insert(from, RecordedVote::looking(offered, n.election_epoch));
        let ours = RecordedVote::looking(election.proposal, self.logicalclock);
        let quorum = has_all_quorums(
            &self.config,
            &election.recvset,
            &ours,
            OutOfElectionEquality::LeaderAndPeerEpoch, // `ours` is LOOKING: full comparison
        );
        if changed {
            self.send_notifications(out);
        }
        if quorum {
            self.enter_finalize(now, out);
        }
    }

    /// A quorum agrees with our proposal: wait `finalizeWait` for a better vote.
    fn enter_finalize(&mut self, now: LocalTime, out: &mut Outbox) {
        let finalize_wait_ms = u64::from(self.config.finalize_wait_ms);
        let Some(election) = self.election.as_mut() else {
            return;
        };
        assert_eq!(election.poll, Poll::Notifications);
        election.poll = Poll::Finalize;
        out.push(ElectionAction::CancelTimer {
            timer: ElectionTimer::NotificationTimeout,
        });
        out.push(ElectionAction::SetTimer {
            timer: ElectionTimer::Finalize,
            at: now.plus_millis(finalize_wait_ms),
        });
    }

    /// A FOLLOWING or LEADING voter's vote (`receivedFollowingNotification`): in our round it
    /// counts in `recvset`; in any round it counts in `outofelection`, which is how a latecomer
    /// joins an established ensemble. Either way the leader must pass `checkLeader`.
    fn out_of_election_vote(
        &mut self,
        from: ServerId,
        n: &Notification,
    ) -> Option<(Vote, ServerState)> {
        let check = LeaderCheck {
            config: &self.config,
            bugs: self.bugs,
            myid: self.myid,
            logicalclock: self.logicalclock,
        };
        let election = self.election.as_mut()?;
        let theirs = RecordedVote {
            proposal: Proposal::of_notification(n),
            election_epoch: n.election_epoch,
            state: n.state,
            version: n.version,
        };
        let mut decided = false;
        if n.election_epoch == check.logicalclock {
            // ZooKeeper records it here without its version.
            let recorded = RecordedVote {
                version: 0,
                ..theirs
            };
            election.recvset.insert(from, recorded);
            decided = check.quorum_follows(&election.recvset, &theirs, n);
        }
        if !decided {
            election.outofelection.insert(from, theirs);
            if check.quorum_follows(&election.outofelection, &theirs, n) {
                self.logicalclock = n.election_epoch; // join the ensemble's round
                decided = true;
            }
        }
        let vote = Vote {
            leader: n.leader,
            zxid: n.zxid,
            election_epoch: n.election_epoch,
            peer_epoch: n.peer_epoch,
        };
        decided.then(|| (vote, self.role_behind(n.leader)))
    }

    /// Our role behind `leader`: LEADING if it is us, else FOLLOWING (OBSERVING for an
    /// observer) — `setPeerState` / `learningState`.
    fn role_behind(&self, leader: ServerId) -> ServerState {
        if leader == self.myid {
            ServerState::Leading
        } else if self.participant {
            ServerState::Following
        } else {
            ServerState::Observing
        }
    }

    /// One of our timers fired.
    pub(super) fn timer_fired(&mut self, now: LocalTime, timer: ElectionTimer, out: &mut Outbox) {
        let max_ms = u64::from(self.config.max_notification_interval_ms);
        let Some(election) = self.election.as_mut() else {
            return; // no election: a stale timer
        };
        if election.armed_timer() != timer {
            return; // replaced by the other wait: stale
        }
        match timer {
            ElectionTimer::NotificationTimeout => {
                // Exponential back-off, capped.
                election.not_timeout_ms = (election.not_timeout_ms << 1).min(max_ms);
                let at = now.plus_millis(election.not_timeout_ms);
                self.send_notifications(out);
                out.push(ElectionAction::SetTimer {
                    timer: ElectionTimer::NotificationTimeout,
                    at,
                });
            }
            ElectionTimer::Finalize => {
                // finalizeWait of silence: our proposal is the leader.
                let vote = election.proposal.to_vote(self.logicalclock);
                let state = self.role_behind(vote.leader);
                self.decide(vote, state, false, out); // the timer has fired
            }
        }
    }

    /// `lookForLeader` returns: record the vote, take the role, stop the waits, and drop what
    /// is still queued (`leaveInstance`). `cancel` disarms the wait's timer (not when it fired).
    fn decide(&mut self, vote: Vote, state: ServerState, cancel: bool, out: &mut Outbox) {
        let Some(election) = self.election.take() else {
            return;
        };
        assert!(
            self.valid_voter(vote.leader),
            "the leader is a voter: {vote:?}"
        );
        assert_eq!(
            state == ServerState::Leading,
            vote.leader == self.myid,
            "LEADING exactly when the vote is for us"
        );
        assert_eq!(
            vote.election_epoch, self.logicalclock,
            "we decide in our round (joining an ensemble adopts its round first)"
        );
        if cancel {
            out.push(ElectionAction::CancelTimer {
                timer: election.armed_timer(),
            });
        }
        out.loopback.clear();
        out.queued.clear();
        self.last_proposal = Some(election.proposal);
        self.current_vote = Some(vote);
        self.peer_state = state;
        out.push(ElectionAction::Decided { vote, state });
    }
}

/// What deciding on a FOLLOWING/LEADING vote needs to know about us.
struct LeaderCheck<'a> {
    config: &'a QuorumConfig,
    bugs: FleBugs,
    myid: ServerId,
    logicalclock: u64,
}

impl LeaderCheck<'_> {
    /// `getVoteTracker(votes, theirs).hasAllQuorums() && checkLeader(votes, n.leader,
    /// n.electionEpoch)`.
    fn quorum_follows(
        &self,
        votes: &BTreeMap<ServerId, RecordedVote>,
        theirs: &RecordedVote,
        n: &Notification,
    ) -> bool {
        let equality = self.bugs.out_of_election_equality;
        has_all_quorums(self.config, votes, theirs, equality)
            && check_leader(
                self.myid,
                self.logicalclock,
                votes,
                n.leader,
                n.election_epoch,
                self.bugs.check_leader_self,
            )
    }
}
