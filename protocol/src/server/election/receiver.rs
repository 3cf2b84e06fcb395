//! The receiving side (`FastLeaderElection.Messenger.WorkerReceiver`): every notification passes
//! here first. It answers whoever needs our vote and hands votes to the running
//! `lookForLeader` round.
//!
//! Who gets an answer, and with what:
//! - a non-voter (an observer): always, with `currentVote`, our `logicalclock` and our state; its
//!   notification goes no further;
//! - while we are LOOKING, a LOOKING voter in an older round: our current proposal in our round;
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
        let looking = self.peer_state == ServerState::Looking;
        if looking && self.election.is_none() {
            return; // no FLE instance running: nobody reads the queue
        }
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
            self.poll_returned(now, from, notification, out);
            return;
        }
        if notification.state == ServerState::Looking {
            self.answer_when_not_looking(from, out);
        }
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
        let Some(election) = self.election.as_ref() else {
            return;
        };
        assert_eq!(self.peer_state, ServerState::Looking);
        let reply = election
            .proposal
            .to_notification(ServerState::Looking, self.logicalclock);
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
