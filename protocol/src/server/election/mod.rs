//! Fast Leader Election (ZooKeeper 3.9's `FastLeaderElection`) as a sans-IO state machine.
//!
//! One [`FastLeaderElection`] lives as long as the server process (its `logicalclock` is
//! volatile: a restart begins again at round 0). It plays both of ZooKeeper's FLE threads:
//!
//! ```text
//!             start(now, zxid, epoch)                    (QuorumPeer turns LOOKING)
//!                      │
//!   notification ──► receiver ──reply──► Send            (WorkerReceiver: answers stale
//!   (on_notification)  │                                  rounds, non-voters, and LOOKING
//!                      │ when LOOKING                     peers once we have decided)
//!                      ▼
//!             lookForLeader round ──► Send to all voters (sendNotifications)
//!               recvset, outofelection ─► SetTimer / CancelTimer
//!                      │                                 (NotificationTimeout, Finalize)
//!   timer ─────────────┘ (on_timer)
//!                      ▼
//!               Decided { vote, state }                  (QuorumPeer becomes LEADING /
//!                                                          FOLLOWING / OBSERVING)
//! ```
//!
//! Contract with `QuorumPeer`:
//! - call [`FastLeaderElection::start`] whenever the peer turns LOOKING (at boot and whenever it
//!   drops back from FOLLOWING/LEADING/OBSERVING), with its in-memory last zxid and its
//!   `currentEpoch`;
//! - pass every election-channel notification to [`FastLeaderElection::on_notification`], in
//!   every state: while an election runs it is a vote, afterwards FLE answers LOOKING peers with
//!   the current vote and the peer state it decided (how a newcomer learns the leader);
//! - pass [`ServerTimer::ElectionNotificationTimeout`](crate::server::ServerTimer) and
//!   `ElectionFinalize` to [`FastLeaderElection::on_timer`] (see [`ElectionTimer`]);
//! - carry out the returned [`ElectionAction`]s in order ([`ElectionAction::to_server_action`]
//!   maps all but `Decided`); on `Decided`, take the role;
//! - after syncing with (or becoming) the established leader, call
//!   [`FastLeaderElection::update_election_vote`] with the new epoch
//!   (`QuorumPeer.updateElectionVote`), so that late joiners see a consistent `peerEpoch`.
//!
//! Votes to ourselves (FLE sends its vote to every voter, itself included) never leave the
//! object: `QuorumCnxManager` loops them back, and so does FLE, receiving them right after the
//! step that sent them. `minNotificationInterval` is ZooKeeper's default, `finalizeWait`.
//!
//! What ZooKeeper does that is not modelled: dynamic reconfiguration (the vote's config bytes,
//! next-config voters), the two-node `QuorumOracleMaj`, hierarchical quorums and weights
//! (`QuorumMaj` gives every id weight 1), and the `connectAll` re-dial on a timeout when nothing
//! could be delivered: connections are the driver's, so a timeout always resends, which
//! re-queues the same latest vote a re-dial would have flushed.

mod action;
mod look_for_leader;
mod receiver;
mod tracker;
mod vote;

pub use action::{ElectionAction, ElectionTimer};
pub use vote::{Proposal, RecordedVote, Vote, NOTIFICATION_VERSION};

use crate::observe::ServerState;
use crate::server::config::QuorumConfig;
use crate::server::notification::Notification;
use crate::types::{Epoch, LocalTime, ServerId, Zxid};
use action::Outbox;
use look_for_leader::LookForLeader;

/// Fast Leader Election for one server (see the [module docs](self) for the contract).
#[derive(Debug)]
pub struct FastLeaderElection {
    myid: ServerId,
    config: QuorumConfig,
    /// Whether this server votes (`LearnerType.PARTICIPANT`); observers only learn the leader.
    participant: bool,
    /// `logicalclock`: the round, bumped by every `start`.
    logicalclock: u64,
    /// `QuorumPeer.currentVote`: the last decided vote (the server's own candidacy before the
    /// first decision).
    current_vote: Option<Vote>,
    /// `QuorumPeer.getPeerState()` as FLE knows it: LOOKING from `start` until `Decided`.
    peer_state: ServerState,
    /// The running `lookForLeader`, if any.
    election: Option<LookForLeader>,
}

impl FastLeaderElection {
    /// FLE for server `myid` of the ensemble in `config`.
    ///
    /// Panics if `myid` is not in `config` or `finalizeWait` is 0 (the caller validates
    /// `zoo.cfg`; FLE would spin on zero-length timeouts).
    pub fn new(myid: ServerId, config: &QuorumConfig) -> FastLeaderElection {
        let me = config.peers.iter().find(|p| p.sid == myid);
        assert!(
            me.is_some(),
            "{myid} is not in the ensemble {:?}",
            config.peers
        );
        assert!(config.finalize_wait_ms > 0, "finalizeWait must be positive");
        assert!(
            config.voters().next().is_some(),
            "an ensemble needs at least one voter"
        );
        FastLeaderElection {
            myid,
            config: config.clone(),
            participant: me.is_some_and(|p| !p.observer),
            logicalclock: 0,
            current_vote: None,
            peer_state: ServerState::Looking,
            election: None,
        }
    }

    /// Starts a round (`lookForLeader`): bumps `logicalclock`, proposes ourselves (a voter with
    /// `last_logged_zxid` and `current_epoch`; an observer proposes nobody), sends the proposal
    /// to every voter and arms the notification timeout at `minNotificationInterval`.
    ///
    /// Panics if an election is already running: the peer calls this once per LOOKING spell.
    pub fn start(
        &mut self,
        now: LocalTime,
        last_logged_zxid: Zxid,
        current_epoch: Epoch,
    ) -> Vec<ElectionAction> {
        assert!(
            self.election.is_none(),
            "{}: lookForLeader is already running",
            self.myid
        );
        self.logicalclock += 1;
        self.peer_state = ServerState::Looking;
        if self.current_vote.is_none() {
            // QuorumPeer.startLeaderElection: the initial current vote is our own candidacy.
            self.current_vote = Some(Vote {
                leader: self.myid,
                zxid: last_logged_zxid,
                election_epoch: 0,
                peer_epoch: current_epoch,
            });
        }
        let init = if self.participant {
            Proposal::of_server(self.myid, last_logged_zxid, current_epoch)
        } else {
            Proposal::NON_VOTER
        };
        let min_interval_ms = u64::from(self.config.finalize_wait_ms);
        self.election = Some(LookForLeader::new(init, min_interval_ms));
        let mut out = Outbox::default();
        self.send_notifications(&mut out);
        out.push(ElectionAction::SetTimer {
            timer: ElectionTimer::NotificationTimeout,
            at: now.plus_millis(min_interval_ms),
        });
        self.finish(now, out)
    }

    /// A notification from `from` arrived on the election channel.
    ///
    /// Before the first [`start`](Self::start) (and after [`shutdown`](Self::shutdown)) there is
    /// no FLE instance and the notification is dropped, like a vote sent to a server that is not
    /// up yet; the sender resends on its timeout.
    pub fn on_notification(
        &mut self,
        now: LocalTime,
        from: ServerId,
        notification: Notification,
    ) -> Vec<ElectionAction> {
        let mut out = Outbox::default();
        self.receive(now, from, notification, &mut out);
        self.finish(now, out)
    }

    /// One of FLE's timers fired. A timer that is not armed (already replaced or cancelled) is
    /// ignored.
    pub fn on_timer(&mut self, now: LocalTime, timer: ElectionTimer) -> Vec<ElectionAction> {
        let mut out = Outbox::default();
        self.timer_fired(now, timer, &mut out);
        self.finish(now, out)
    }

    /// Abandons the running election, if any, without a decision (`FastLeaderElection.shutdown`,
    /// e.g. the server is stopping). Returns the timer cancellations.
    pub fn shutdown(&mut self) -> Vec<ElectionAction> {
        let mut out = Outbox::default();
        if let Some(election) = self.election.take() {
            out.push(ElectionAction::CancelTimer {
                timer: election.armed_timer(),
            });
        }
        out.into_actions()
    }

    /// `QuorumPeer.updateElectionVote(newEpoch)`: after syncing with the leader (or, as leader,
    /// once the new epoch is established) the current vote carries the established epoch, so
    /// that votes of servers out of the election agree (ZK-1732, ZK-1805).
    pub fn update_election_vote(&mut self, peer_epoch: Epoch) {
        if let Some(vote) = self.current_vote.as_mut() {
            vote.peer_epoch = peer_epoch;
        }
    }

    /// This server's sid.
    pub fn myid(&self) -> ServerId {
        self.myid
    }

    /// The round (`logicalclock`).
    pub fn logical_clock(&self) -> u64 {
        self.logicalclock
    }

    /// `QuorumPeer.currentVote`: the last decided vote (our own candidacy before the first
    /// decision; `None` before the first `start`).
    pub fn current_vote(&self) -> Option<Vote> {
        self.current_vote
    }

    /// Whether a `lookForLeader` round is running.
    pub fn is_looking(&self) -> bool {
        self.election.is_some()
    }

    /// The peer state FLE last set: LOOKING while electing, then the decided role.
    pub fn peer_state(&self) -> ServerState {
        self.peer_state
    }

    /// What we currently propose in the running election (`getVote()`), if one runs.
    pub fn proposal(&self) -> Option<Proposal> {
        self.election.as_ref().map(|e| e.proposal)
    }

    /// Whether `sid` is a voter (`validVoter`).
    fn valid_voter(&self, sid: ServerId) -> bool {
        self.config.voters().any(|v| v == sid)
    }

    /// Receives the votes looped back to ourselves, then hands out the step's actions.
    fn finish(&mut self, now: LocalTime, mut out: Outbox) -> Vec<ElectionAction> {
        let mut received = 0;
        while let Some(notification) = out.loopback.pop_front() {
            received += 1;
            assert!(
                received <= 8,
                "{}: looped-back votes keep coming",
                self.myid
            );
            self.receive(now, self.myid, notification, &mut out);
        }
        out.into_actions()
    }
}
