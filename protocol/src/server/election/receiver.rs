//! The receiving side (`FastLeaderElection.Messenger.WorkerReceiver`): every notification passes
//! here first. It answers whoever needs our vote and hands votes to the running
//! `lookForLeader` round (or queues them for the next one while LOOKING between rounds).
//!
//! Who gets an answer, and with what:
//! - a non-voter (an observer): always, with `currentVote`, our `logicalclock` and our state; its
//!   notification goes no further;
//! - while we are LOOKING, a LOOKING voter in an older round: our current proposal in our round
//!   (between rounds, the last round's final proposal, as ZooKeeper's `getVote()` still holds
//!   it);
//! - once we have decided, a LOOKING voter: `currentVote` (with the round it was decided in) and
//!   our state — the only way a newcomer learns who leads.

use super::action::Outbox;
use super::FastLeaderElection;
use crate::observe::ServerState;
use crate::server::notification::Notification;
use crate::types::{LocalTime, ServerId};

impl FastLeaderElection {
    /// Receives one notification (from the wire or looped back from ourselves).
    pub(super) fn receive(
        &mut self,
        now: LocalTime,
        from: ServerId,
        notification: Notification,
        out: &mut Outbox,
    ) {
        if self.shut_down {
            return; // the messenger is down
        }
        let looking = self.peer_state == ServerState::Looking;
        if !self.valid_voter(from) {
            self.answer_non_voter(from, out);
            return;
        }
        if looking {
            if notification.state == ServerState::Looking
                && notification.election_epoch < self.logicalclock
            {
                self.answer_older_round(from, out);
            }
            if self.election.is_some() {
                self.poll_returned(now, from, notification, out);
            } else {
                self.queue_for_next_round(from, notification);
            }
            return;
        }
        if notification.state == ServerState::Looking {
            self.answer_when_not_looking(from, out);
        }
    }

    /// No round is running yet: keep the vote for the next one, dropping the oldest beyond
    /// [`RECV_CAPACITY`](super::RECV_CAPACITY).
    fn queue_for_next_round(&mut self, from: ServerId, notification: Notification) {
        if self.pending.len() == super::RECV_CAPACITY {
            self.pending.pop_front();
        }
        self.pending.push_back((from, notification));
        assert!(self.pending.len() <= super::RECV_CAPACITY);
    }

    /// A non-voter's notification: answer with `currentVote` in our round and state.
    fn answer_non_voter(&self, from: ServerId, out: &mut Outbox) {
        let Some(current) = self.current_vote else {
            return;
        };
        let reply = Notification {
            state: self.peer_state,
            leader: current.leader,
            zxid: current.zxid,
            election_epoch: self.logicalclock,
            peer_epoch: current.peer_epoch,
            version: super::NOTIFICATION_VERSION,
        };
        out.send(self.myid, from, reply);
    }

    /// A LOOKING voter behind our round: tell it our proposal and round so it catches up.
    fn answer_older_round(&self, from: ServerId, out: &mut Outbox) {
        assert_eq!(self.peer_state, ServerState::Looking);
        // `getVote()`: the running round's proposal, or the last round's between rounds.
        let proposal = self.election.as_ref().map(|e| e.proposal);
        let Some(proposal) = proposal.or(self.last_proposal) else {
            return;
        };
        let reply = proposal.to_notification(ServerState::Looking, self.logicalclock);
        out.send(self.myid, from, reply);
    }

    /// A LOOKING voter while we lead, follow or observe: our `currentVote` and state.
    fn answer_when_not_looking(&self, from: ServerId, out: &mut Outbox) {
        assert_ne!(self.peer_state, ServerState::Looking);
        let Some(current) = self.current_vote else {
            return;
        };
        let reply = Notification {
            state: self.peer_state,
            leader: current.leader,
            zxid: current.zxid,
            election_epoch: current.election_epoch,
            peer_epoch: current.peer_epoch,
            version: super::NOTIFICATION_VERSION,
        };
        out.send(self.myid, from, reply);
    }
}
