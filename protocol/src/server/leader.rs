//! LEADING, phases 1–2 (`Leader.lead()` and `LearnerHandler.run()`): FOLLOWERINFO →
//! `getEpochToPropose` (quorum incl. the leader, then `acceptedEpoch` durable, then LEADERINFO),
//! ACKEPOCH → `waitForEpochAck` (quorum, then `currentEpoch` durable), then per learner
//! `syncFollower` + NEWLEADER, and `waitForNewLeaderAck` (quorum → established, UPTODATE).
//!
//! One deliberate serialisation: a handler's sync packets leave after the leader's
//! `currentEpoch` is durable (ZooKeeper lets the handler threads race that write; this is one of
//! the interleavings it allows).

use super::disk::Then;
use super::io::{Conn, ServerAction, ServerTimer};
use super::quorum_packet::QuorumPacket;
use super::storage::{ACCEPTED_EPOCH, CURRENT_EPOCH};
use super::{QuorumPeer, Role, EPOCH_NOT_AN_ACK, PROTOCOL_VERSION};
use crate::observe::{Observation, ZabState};
use crate::txn::TxnEntry;
use crate::types::{Epoch, ServerId, Zxid};
use std::collections::{BTreeMap, BTreeSet};

/// Where a `LearnerHandler` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerPhase {
    /// Waiting for FOLLOWERINFO / OBSERVERINFO.
    AwaitInfo,
    /// Sent LEADERINFO (or waiting to), waiting for ACKEPOCH.
    AwaitAckEpoch,
    /// ACKEPOCH in; sync not sent yet (the leader's `currentEpoch` is not durable yet).
    AwaitSync,
    /// Sync and NEWLEADER sent; waiting for its ACK.
    AwaitNewLeaderAck,
    /// NEWLEADER acknowledged: in broadcast (UPTODATE sent once the leader is established).
    Synced,
}

/// `LearnerHandler`: one learner connection at the leader.
#[derive(Clone, Debug)]
pub struct LearnerHandler {
    /// The learner's sid (after its info packet).
    pub sid: Option<ServerId>,
    /// OBSERVERINFO.
    pub observer: bool,
    /// Phase.
    pub phase: HandlerPhase,
    /// The learner's last zxid from ACKEPOCH.
    pub peer_last_zxid: Zxid,
    /// `tickOfNextAckDeadline`.
    pub tick_of_next_ack_deadline: u64,
    /// UPTODATE sent.
    pub up_to_date: bool,
    /// `SyncLimitCheck`: proposals sent to it and not acked yet, with when they were sent.
    pub unacked: BTreeMap<Zxid, crate::types::LocalTime>,
}

/// A proposal waiting for its quorum (`outstandingProposals`).
#[derive(Clone, Debug)]
pub struct Outstanding {
    /// The txn.
    pub entry: TxnEntry,
    /// Voters that acked it.
    pub acks: BTreeSet<ServerId>,
}

/// A `sync` forwarded by a learner, answered when `lastProposed` at its arrival commits.
#[derive(Clone, Debug)]
pub struct PendingSync {
    /// The learner's connection.
    pub conn: Conn,
    /// The SYNC packet to send.
    pub packet: QuorumPacket,
}

/// The leader's volatile state.
#[derive(Debug)]
pub struct Leader {
    myid: ServerId,
    /// Learner connections.
    pub handlers: BTreeMap<Conn, LearnerHandler>,
    /// `connectingFollowers` with their `acceptedEpoch`s.
    pub connecting: BTreeMap<ServerId, Epoch>,
    /// The epoch to propose, once a quorum of infos decided it.
    pub new_epoch: Option<Epoch>,
    /// `acceptedEpoch := newEpoch` is durable: LEADERINFO may be sent.
    pub leader_info_ready: bool,
    /// `electingFollowers`.
    pub epoch_acks: BTreeSet<ServerId>,
    /// `electionFinished` (quorum of ACKEPOCH).
    pub election_finished: bool,
    /// The leader's `currentEpoch` is durable: sync may be sent.
    pub sync_ready: bool,
    /// `newLeaderProposal.ackSet`.
    pub newleader_acks: BTreeSet<ServerId>,
    /// `quorumFormed`: the leader is established.
    pub established: bool,
    /// `outstandingProposals`.
    pub outstanding: BTreeMap<Zxid, Outstanding>,
    /// `lastCommitted`.
    pub last_committed: Zxid,
    /// `lastProposed`.
    pub last_proposed: Zxid,
    /// `pendingSyncs` keyed by the zxid they wait for.
    pub pending_syncs: BTreeMap<Zxid, Vec<PendingSync>>,
    /// The liveness loop's `tick`.
    pub tick: u64,
    /// Half-tick parity (pings every half tick, tick++ every other).
    pub half: bool,
}

impl Leader {
    /// A leader that starts discovery with its own `acceptedEpoch`.
    pub fn new(myid: ServerId, accepted_epoch: Epoch) -> Leader {
        let mut connecting = BTreeMap::new();
        connecting.insert(myid, accepted_epoch);
        Leader {
            myid,
            handlers: BTreeMap::new(),
            connecting,
            new_epoch: None,
            leader_info_ready: false,
            epoch_acks: BTreeSet::new(),
            election_finished: false,
            sync_ready: false,
            newleader_acks: BTreeSet::new(),
            established: false,
            outstanding: BTreeMap::new(),
            last_committed: Zxid::ZERO,
            last_proposed: Zxid::ZERO,
            pending_syncs: BTreeMap::new(),
            tick: 0,
            half: false,
        }
    }

    /// Resets the tick counter (`Leader.lead`: `tick = 0`).
    pub fn tick_deadline_reset(&mut self) {
        self.tick = 0;
    }

    /// A learner connected to the quorum port.
    pub fn accept(&mut self, conn: Conn) {
        self.handlers.insert(
            conn,
            LearnerHandler {
                sid: None,
                observer: false,
                phase: HandlerPhase::AwaitInfo,
                peer_last_zxid: Zxid::ZERO,
                tick_of_next_ack_deadline: 0,
                up_to_date: false,
                unacked: BTreeMap::new(),
            },
        );
    }

    /// Every learner connection.
    pub fn handler_conns(&self) -> Vec<Conn> {
        self.handlers.keys().copied().collect()
    }

    /// The leader's sid.
    pub fn myid(&self) -> ServerId {
        self.myid
    }
}

impl QuorumPeer {
    pub(crate) fn leader(&mut self) -> &mut Leader {
        match &mut self.role {
            Role::Leading(l) => l,
            _ => unreachable!("leader state used while not LEADING"),
        }
    }

    pub(crate) fn leader_packet(
        &mut self,
        conn: Conn,
        packet: QuorumPacket,
        out: &mut Vec<ServerAction>,
    ) {
        let Some(handler) = self.leader().handlers.get(&conn).cloned() else {
            return;
        };
        let tick = self.leader().tick;
        let sync_limit = u64::from(self.config.sync_limit);
        if handler.phase == HandlerPhase::Synced {
            if let Some(h) = self.leader().handlers.get_mut(&conn) {
                h.tick_of_next_ack_deadline = tick + sync_limit;
            }
        }
        match packet {
            QuorumPacket::LearnerInfo {
                sid,
                observer,
                zxid,
                ..
            } if handler.phase == HandlerPhase::AwaitInfo => {
                self.leader_learner_info(conn, sid, observer, zxid.epoch(), out)
            }
            QuorumPacket::AckEpoch {
                zxid,
                current_epoch,
            } if handler.phase == HandlerPhase::AwaitAckEpoch => {
                self.leader_ack_epoch(conn, zxid, current_epoch, out)
            }
            QuorumPacket::Ack { zxid } if handler.phase == HandlerPhase::AwaitNewLeaderAck => {
                self.leader_newleader_ack(conn, zxid, out)
            }
            packet if handler.phase == HandlerPhase::Synced => {
                self.leader_broadcast_packet(conn, packet, out)
            }
            other => {
                // A packet out of order: LearnerHandler throws and closes the socket.
                let _ = other;
                self.leader_drop_handler(conn, out);
            }
        }
    }

    fn leader_learner_info(
        &mut self,
        conn: Conn,
        sid: ServerId,
        observer: bool,
        accepted: Epoch,
        out: &mut Vec<ServerAction>,
    ) {
        let tick = self.leader().tick;
        let deadline = tick + u64::from(self.config.init_limit + self.config.sync_limit);
        let l = self.leader();
        if let Some(h) = l.handlers.get_mut(&conn) {
            h.sid = Some(sid);
            h.observer = observer;
            h.phase = HandlerPhase::AwaitAckEpoch;
            h.tick_of_next_ack_deadline = deadline;
        }
        if l.leader_info_ready {
            self.leader_send_leader_info(conn, out);
            return;
        }
        if !observer && l.new_epoch.is_none() {
            l.connecting.insert(sid, accepted);
        }
        self.leader_try_epoch_quorum(out);
    }

    /// `getEpochToPropose`: once the leader and a quorum of participants have sent their
    /// `acceptedEpoch`, the new epoch is `max + 1`, persisted before any LEADERINFO leaves.
    pub(crate) fn leader_try_epoch_quorum(&mut self, out: &mut Vec<ServerAction>) {
        let myid = self.myid;
        let l = self.leader();
        if l.new_epoch.is_some() {
            return;
        }
        let sids: BTreeSet<ServerId> = l.connecting.keys().copied().collect();
        if !sids.contains(&myid) || !self.config.is_quorum(&sids) {
            return;
        }
        let l = self.leader();
        let max = l.connecting.values().copied().max().unwrap_or_default();
        assert!(max.0 < u32::MAX - 1, "epoch space exhausted");
        let epoch = Epoch(max.0 + 1);
        l.new_epoch = Some(epoch);
        let gen = self.gen;
        self.write_epoch(
            ACCEPTED_EPOCH,
            epoch,
            Then::AcceptedEpoch { epoch, gen },
            out,
        );
    }

    /// The leader's `acceptedEpoch` is durable: release every waiting handler.
    pub(crate) fn leader_accepted_epoch_durable(&mut self, out: &mut Vec<ServerAction>) {
        let l = self.leader();
        l.leader_info_ready = true;
        let waiting: Vec<Conn> = l
            .handlers
            .iter()
            .filter(|(_, h)| h.phase == HandlerPhase::AwaitAckEpoch)
            .map(|(c, _)| *c)
            .collect();
        for conn in waiting {
            self.leader_send_leader_info(conn, out);
        }
        self.leader_try_epoch_ack_quorum(out);
    }

    fn leader_send_leader_info(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        let epoch = self.leader().new_epoch.unwrap_or_default();
        out.push(ServerAction::SendPacket {
            conn,
            packet: QuorumPacket::LeaderInfo {
                zxid: Zxid::new(epoch, 0),
                protocol_version: PROTOCOL_VERSION,
            },
        });
    }

    fn leader_ack_epoch(
        &mut self,
        conn: Conn,
        peer_last_zxid: Zxid,
        peer_epoch: Epoch,
        out: &mut Vec<ServerAction>,
    ) {
        let my_epoch = self.current_epoch;
        let my_zxid = self.db.last_processed_zxid();
        let l = self.leader();
        let Some(h) = l.handlers.get_mut(&conn) else {
            return;
        };
        h.peer_last_zxid = peer_last_zxid;
        h.phase = HandlerPhase::AwaitSync;
        let (sid, observer) = (h.sid, h.observer);
        if peer_epoch != EPOCH_NOT_AN_ACK {
            // waitForEpochAck: a learner more recent than the leader is refused.
            if peer_epoch > my_epoch || (peer_epoch == my_epoch && peer_last_zxid > my_zxid) {
                self.leader_drop_handler(conn, out);
                return;
            }
            if let (Some(sid), false) = (sid, observer) {
                if !l.election_finished {
                    l.epoch_acks.insert(sid);
                }
            }
        }
        if self.leader().sync_ready {
            self.leader_sync_learner(conn, out);
        } else {
            self.leader_try_epoch_ack_quorum(out);
        }
    }

    fn leader_try_epoch_ack_quorum(&mut self, out: &mut Vec<ServerAction>) {
        let myid = self.myid;
        let l = self.leader();
        if l.election_finished || !l.leader_info_ready {
            return;
        }
        let mut acks = l.epoch_acks.clone();
        acks.insert(myid);
        if !self.config.is_quorum(&acks) {
            return;
        }
        let l = self.leader();
        l.election_finished = true;
        let epoch = l.new_epoch.unwrap_or_default();
        let gen = self.gen;
        self.write_epoch(CURRENT_EPOCH, epoch, Then::CurrentEpoch { epoch, gen }, out);
    }

    /// The leader's `currentEpoch` is durable: SYNCHRONIZATION, sync every acked learner.
    pub(crate) fn leader_current_epoch_durable(&mut self, out: &mut Vec<ServerAction>) {
        self.set_zab(ZabState::Synchronization, out);
        let epoch = self.current_epoch;
        let myid = self.myid;
        let l = self.leader();
        l.sync_ready = true;
        l.last_proposed = Zxid::new(epoch, 0);
        l.last_committed = Zxid::new(epoch, 0);
        l.newleader_acks.insert(myid);
        let ready: Vec<Conn> = l
            .handlers
            .iter()
            .filter(|(_, h)| h.phase == HandlerPhase::AwaitSync)
            .map(|(c, _)| *c)
            .collect();
        for conn in ready {
            self.leader_sync_learner(conn, out);
        }
        self.leader_try_newleader_quorum(out);
    }

    fn leader_newleader_ack(&mut self, conn: Conn, zxid: Zxid, out: &mut Vec<ServerAction>) {
        let epoch = self.current_epoch;
        let tick = self.leader().tick;
        let sync_limit = u64::from(self.config.sync_limit);
        let established = self.leader().established;
        let l = self.leader();
        let Some(h) = l.handlers.get_mut(&conn) else {
            return;
        };
        h.phase = HandlerPhase::Synced;
        h.tick_of_next_ack_deadline = tick + sync_limit;
        // ZK-4685: an ACK of a different epoch is not counted.
        if zxid == Zxid::new(epoch, 0) && !h.observer {
            if let Some(sid) = h.sid {
                l.newleader_acks.insert(sid);
            }
        }
        if established {
            self.leader_send_up_to_date(conn, out);
        } else {
            self.leader_try_newleader_quorum(out);
        }
    }

    fn leader_try_newleader_quorum(&mut self, out: &mut Vec<ServerAction>) {
        let l = self.leader();
        if l.established || !l.sync_ready {
            return;
        }
        let acks = l.newleader_acks.clone();
        if !self.config.is_quorum(&acks) {
            return;
        }
        self.leader().established = true;
        let epoch = self.current_epoch;
        let o = Observation::LeaderEstablished {
            leader: self.myid,
            epoch,
            quorum: acks.into_iter().collect(),
            initial_history_zxid: self.db.last_processed_zxid(),
        };
        self.observe(out, o);
        out.push(ServerAction::CancelTimer {
            timer: ServerTimer::InitLimit,
        });
        // startZkServer: sessions tracked from now; the vote carries the new epoch; the
        // database's lastProcessedZxid becomes (newEpoch, 0).
        self.db.start_session_tracker(self.now_ms());
        self.fle.update_election_vote(epoch);
        self.set_last_processed_zxid(Zxid::new(epoch, 0));
        self.set_zab(ZabState::Broadcast, out);
        let synced: Vec<Conn> = self
            .leader()
            .handlers
            .iter()
            .filter(|(_, h)| h.phase == HandlerPhase::Synced)
            .map(|(c, _)| *c)
            .collect();
        for conn in synced {
            self.leader_send_up_to_date(conn, out);
        }
    }

    fn leader_send_up_to_date(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        if let Some(h) = self.leader().handlers.get_mut(&conn) {
            h.up_to_date = true;
        }
        out.push(ServerAction::SendPacket {
            conn,
            packet: QuorumPacket::UpToDate,
        });
    }

    /// Closes one learner's connection (its handler thread ended).
    pub(crate) fn leader_drop_handler(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        self.leader().handlers.remove(&conn);
        out.push(ServerAction::Close { conn });
    }

    pub(crate) fn leader_conn_closed(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        let _ = out;
        self.leader().handlers.remove(&conn);
    }

    /// `initLimit` passed: discovery or sync did not finish; the leader abdicates.
    pub(crate) fn on_init_limit(&mut self, out: &mut Vec<ServerAction>) {
        if let Role::Leading(l) = &self.role {
            if !l.established {
                self.shutdown_role("initLimit passed before a quorum synced", out);
            }
        }
    }
}
