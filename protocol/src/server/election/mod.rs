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
//! - carry out the returned [`ElectionAction`]s in order ([`split_actions`] maps them onto
//!   [`ServerAction`](crate::server::ServerAction)s and hands back the decision, if any); on a
//!   decision, take the role;
//! - if the peer turns LOOKING but waits before electing (an observer's election delay), call
//!   [`FastLeaderElection::set_looking`] first: votes arriving meanwhile are queued for the round,
//!   as ZooKeeper's `recvqueue` keeps them;
//! - after syncing with (or becoming) the established leader, call
//!   [`FastLeaderElection::update_election_vote`] with the new epoch
//!   (`QuorumPeer.updateElectionVote`), so that late joiners see a consistent `peerEpoch`.
//!
//! Votes to ourselves (FLE sends its vote to every voter, itself included) never leave the
//! object: `QuorumCnxManager` loops them back, and so does FLE, receiving them right after the
//! step that sent them. `minNotificationInterval` is ZooKeeper's default, `finalizeWait`.
//!
//! What FLE guarantees (and does not) is stated and property-tested in
//! `protocol/tests/election_properties.rs`: decided votes are real candidacies that dominate a
//! quorum's, roles match votes, and agreement on the maximal candidacy holds when every vote
//! arrives within `finalizeWait`; under arbitrary delays deciders can disagree, which Zab's
//! discovery resolves.
//!
//! A single-voter ensemble elects itself after one `finalizeWait` (its own looped-back vote is a
//! quorum):
//!
//! ```
//! use zabsim_protocol::observe::ServerState;
//! use zabsim_protocol::server::election::{ElectionAction, ElectionTimer, FastLeaderElection};
//! use zabsim_protocol::server::QuorumConfig;
//! use zabsim_protocol::types::{Epoch, LocalTime, ServerId, Zxid};
//!
//! let config = QuorumConfig::with_voters(1);
//! let mut fle = FastLeaderElection::new(ServerId(1), &config);
//! let now = LocalTime(0);
//! let actions = fle.start(now, Zxid::new(Epoch(1), 7), Epoch(1));
//! // Nothing to send (the only voter is us); the quorum starts the finalize wait.
//! let finalize_at = now.plus_millis(200);
//! assert!(actions.contains(&ElectionAction::SetTimer {
//!     timer: ElectionTimer::Finalize,
//!     at: finalize_at,
//! }));
//! let decided = fle.on_timer(finalize_at, ElectionTimer::Finalize);
//! let [ElectionAction::Decided { vote, state }] = decided.as_slice() else {
//!     panic!("expected a decision, got {decided:?}");
//! };
//! assert_eq!((vote.leader, *state), (ServerId(1), ServerState::Leading));
//! assert_eq!(vote.election_epoch, 1);
//! ```
//!
//! Historical FLE bugs (ZK-1419's vote order, ZK-1805's out-of-election equality, ZK-1514's
//! `checkLeader`) can be switched back on with [`FastLeaderElection::with_bugs`] and [`FleBugs`];
//! `protocol/tests/election_bugs.rs` shows each one failing as the bug zoo describes.
//!
//! What ZooKeeper does that is not modelled: dynamic reconfiguration (the vote's config bytes,
//! next-config voters), the two-node `QuorumOracleMaj`, hierarchical quorums and weights
//! (`QuorumMaj` gives every id weight 1), and the `connectAll` re-dial on a timeout when nothing
//! could be delivered: connections are the driver's, so a timeout always resends, which
//! re-queues the same latest vote a re-dial would have flushed.

mod action;
mod bugs;
mod look_for_leader;
mod receiver;
mod tracker;
mod vote;

pub use action::{split_actions, ElectionAction, ElectionTimer};
pub use bugs::{CheckLeaderSelf, FleBugs, OutOfElectionEquality, VoteOrder};
pub use vote::{Proposal, Vote, NOTIFICATION_VERSION};

use crate::observe::ServerState;
use crate::server::config::QuorumConfig;
use crate::server::notification::Notification;
use crate::types::{Epoch, LocalTime, ServerId, Zxid};
use action::Outbox;
use look_for_leader::LookForLeader;
use std::collections::VecDeque;

/// Fast Leader Election for one server (see the [module docs](self) for the contract).
#[derive(Debug)]
pub struct FastLeaderElection {
    myid: ServerId,
    config: QuorumConfig,
    /// Historical bugs switched back on (none by default).
    bugs: FleBugs,
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
    /// Votes received while LOOKING with no round running (`recvqueue`), taken by the next
    /// `start`. Bounded like `QuorumCnxManager`'s receive queue: the oldest is dropped.
    pending: VecDeque<(ServerId, Notification)>,
    /// The last round's final proposal (ZooKeeper's `proposedLeader`, `proposedZxid` and
    /// `proposedEpoch` outlive `lookForLeader`), answered to older-round voters between rounds.
    last_proposal: Option<Proposal>,
    /// `shutdown` was called: nothing is received any more (the messenger threads are down).
    shut_down: bool,
}

/// `QuorumCnxManager.RECV_CAPACITY`: votes kept while no round takes them.
pub const RECV_CAPACITY: usize = 100;

impl FastLeaderElection {
    /// FLE for server `myid` of the ensemble in `config`.
    ///
    /// Panics if `myid` is not in `config`, or `finalizeWait` or `maxNotificationInterval` is 0
    /// (the caller validates `zoo.cfg`; FLE would spin on zero-length timeouts).
    pub fn new(myid: ServerId, config: &QuorumConfig) -> FastLeaderElection {
        FastLeaderElection::with_bugs(myid, config, FleBugs::default())
    }

    /// FLE with historical bugs switched back on (see [`FleBugs`]); panics as [`new`](Self::new).
    pub fn with_bugs(myid: ServerId, config: &QuorumConfig, bugs: FleBugs) -> FastLeaderElection {
        let me = config.peers.iter().find(|p| p.sid == myid);
        assert!(
            me.is_some(),
            "{myid} is not in the ensemble {:?}",
            config.peers
        );
        assert!(config.finalize_wait_ms > 0, "finalizeWait must be positive");
        assert!(
            config.max_notification_interval_ms > 0,
            "maxNotificationInterval must be positive"
        );
        assert!(
            config.voters().next().is_some(),
            "an ensemble needs at least one voter"
        );
        FastLeaderElection {
            myid,
            config: config.clone(),
            bugs,
            participant: me.is_some_and(|p| !p.observer),
            logicalclock: 0,
            current_vote: None,
            peer_state: ServerState::Looking,
            election: None,
            pending: VecDeque::new(),
            last_proposal: None,
            shut_down: false,
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
        self.shut_down = false;
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
        // Votes that arrived before the round are already in the queue, ahead of our own.
        out.queued = std::mem::take(&mut self.pending);
        self.finish(now, out)
    }

    /// `QuorumPeer.setPeerState(LOOKING)` ahead of [`start`](Self::start), when the peer waits
    /// before electing (an observer's `observerElectionDelay`): from now on votes are queued for
    /// the next round, and answered as a LOOKING server answers them. Not needed when `start`
    /// follows in the same step.
    pub fn set_looking(&mut self) {
        assert!(self.election.is_none(), "{}: a round is running", self.myid);
        self.peer_state = ServerState::Looking;
    }

    /// A notification from `from` arrived on the election channel.
    ///
    /// While LOOKING with no round running (before the first [`start`](Self::start), or after
    /// [`set_looking`](Self::set_looking)) a voter's vote is queued for the next round, as
    /// ZooKeeper's `recvqueue` keeps it; after [`shutdown`](Self::shutdown) nothing is received.
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
    /// e.g. the server is stopping). Until the next [`start`](Self::start) nothing is received
    /// (ZooKeeper builds a new FLE then). Returns the timer cancellations.
    pub fn shutdown(&mut self) -> Vec<ElectionAction> {
        let mut out = Outbox::default();
        if let Some(election) = self.election.take() {
            self.last_proposal = Some(election.proposal);
            out.push(ElectionAction::CancelTimer {
                timer: election.armed_timer(),
            });
        }
        self.pending.clear();
        self.shut_down = true;
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

    /// Takes the queued votes, then receives the votes looped back to ourselves, then hands out
    /// the step's actions.
    fn finish(&mut self, now: LocalTime, mut out: Outbox) -> Vec<ElectionAction> {
        // Each vote taken can change our proposal at most once, and each change loops one vote
        // back; our own looped-back votes never change it. Hence the bound below.
        let loopback_max = out.queued.len() + out.loopback.len() + 1;
        while let Some((from, notification)) = out.queued.pop_front() {
            self.poll_returned(now, from, notification, &mut out);
        }
        let mut received = 0;
        while let Some(notification) = out.loopback.pop_front() {
            received += 1;
            assert!(
                received <= loopback_max,
                "{}: looped-back votes keep coming ({received})",
                self.myid
            );
            self.receive(now, self.myid, notification, &mut out);
        }
        out.into_actions()
    }
}
