//! The leader side of discovery and synchronization (`Leader.lead` with its
//! `LearnerHandler`s): a quorum of FOLLOWERINFO fixes the new epoch (`getEpochToPropose`), a
//! quorum of ACKEPOCH ends discovery (`waitForEpochAck`), each learner is synced and sent
//! NEWLEADER, and a quorum of NEWLEADER ACKs establishes the leader (`waitForNewLeaderAck`),
//! after which every synced learner gets UPTODATE.

mod sync;

use super::core::{PeerCore, PROTOCOL_VERSION};
use super::disk::AfterDisk;
use super::io::{Conn, ServerTimer};
use super::quorum_packet::QuorumPacket;
use crate::observe::{Observation, ZabState};
use crate::types::{Epoch, ServerId, Zxid};
use std::collections::{BTreeMap, BTreeSet};

/// Where a `LearnerHandler` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerStage {
    /// Connected; no FOLLOWERINFO yet.
    Connected,
    /// FOLLOWERINFO received; LEADERINFO not sent yet (epoch not fixed).
    InfoReceived,
    /// LEADERINFO sent.
    LeaderInfoSent,
    /// ACKEPOCH received; waiting for the epoch quorum before syncing.
    EpochAcked,
    /// Sync data and NEWLEADER sent.
    NewLeaderSent,
    /// NEWLEADER ACKed; waiting for the leader to be established.
    NewLeaderAcked,
    /// UPTODATE sent.
    Broadcast,
}

/// One learner's connection (`LearnerHandler`).
#[derive(Debug)]
pub struct LearnerHandler {
    /// The learner's sid (after FOLLOWERINFO).
    pub sid: Option<ServerId>,
    /// The learner's last zxid (from ACKEPOCH).
    pub peer_last_zxid: Zxid,
    /// Stage.
    pub stage: HandlerStage,
}

/// The leader role.
#[derive(Debug)]
pub struct Leader {
    /// Learner connections.
    pub handlers: BTreeMap<Conn, LearnerHandler>,
    /// `connectingFollowers`: sids whose FOLLOWERINFO counted for the epoch (leader included).
    connecting: BTreeSet<ServerId>,
    /// The largest `acceptedEpoch` heard (`lastAcceptedEpoch`).
    max_accepted: Epoch,
    /// The new epoch once a quorum fixed it and `acceptedEpoch` is durable.
    pub epoch: Option<Epoch>,
    /// `electingFollowers`: ACKEPOCHs (leader included).
    epoch_acks: BTreeSet<ServerId>,
    /// Whether the ACKEPOCH quorum was reached.
    epoch_quorum: bool,
    /// `newLeaderProposal.ackSet`.
    newleader_acks: BTreeSet<ServerId>,
    /// Whether `waitForNewLeaderAck` returned.
    pub established: bool,
}

impl Leader {
    /// `Leader.lead`: the leader counts itself towards the epoch quorum.
    pub fn start(core: &mut PeerCore) -> Leader {
        core.set_zab_state(ZabState::Discovery);
        let mut leader = Leader {
            handlers: BTreeMap::new(),
            connecting: BTreeSet::from([core.myid]),
            max_accepted: core.accepted_epoch,
            epoch: None,
            epoch_acks: BTreeSet::new(),
            epoch_quorum: false,
            newleader_acks: BTreeSet::new(),
            established: false,
        };
        let init_ms = u64::from(core.config.tick_time_ms) * u64::from(core.config.init_limit);
        core.set_timer(ServerTimer::InitLimit, init_ms);
        leader.check_epoch_quorum(core);
        leader
    }

    /// A learner connected to the quorum port.
    pub fn accepted(&mut self, conn: Conn) {
        self.handlers.insert(
            conn,
            LearnerHandler {
                sid: None,
                peer_last_zxid: Zxid(0),
                stage: HandlerStage::Connected,
            },
        );
    }

    /// A learner connection closed.
    pub fn closed(&mut self, conn: Conn) {
        self.handlers.remove(&conn);
    }

    /// A timer for the leader fired.
    pub fn timer(&mut self, core: &mut PeerCore, timer: ServerTimer) {
        if timer == ServerTimer::InitLimit && !self.established {
            core.give_up("no quorum of followers within initLimit");
        }
    }

    /// A packet from a learner.
    pub fn packet(&mut self, core: &mut PeerCore, conn: Conn, packet: QuorumPacket) {
        match packet {
            QuorumPacket::LearnerInfo { sid, zxid, .. } => self.learner_info(core, conn, sid, zxid),
            QuorumPacket::AckEpoch { zxid, .. } => self.ack_epoch(core, conn, zxid),
            QuorumPacket::Ack { zxid } => self.ack(core, conn, zxid),
            _ => {}
        }
    }

    fn learner_info(&mut self, core: &mut PeerCore, conn: Conn, sid: ServerId, zxid: Zxid) {
        let Some(handler) = self.handlers.get_mut(&conn) else {
            return;
        };
        if handler.stage != HandlerStage::Connected {
            return;
        }
        handler.sid = Some(sid);
        handler.stage = HandlerStage::InfoReceived;
        if self.epoch.is_some() {
            self.send_leader_info(core, conn);
            return;
        }
        self.max_accepted = self.max_accepted.max(zxid.epoch());
        self.connecting.insert(sid);
        self.check_epoch_quorum(core);
    }

    /// `getEpochToPropose`: once a quorum is connecting, the new epoch is one past the largest
    /// `acceptedEpoch`; the leader persists it before announcing it.
    fn check_epoch_quorum(&mut self, core: &mut PeerCore) {
        let pending = core.zab_state == ZabState::Discovery && self.epoch.is_none();
        if !pending || !core.config.is_quorum(&self.connecting) || core.disk.busy() {
            return;
        }
        let new_epoch = Epoch(self.max_accepted.0 + 1);
        core.persist_accepted_epoch(new_epoch, AfterDisk::LeaderAcceptedEpoch(new_epoch));
    }

    /// The new epoch is durable as `acceptedEpoch`: send LEADERINFO to every learner.
    pub fn accepted_epoch_durable(&mut self, core: &mut PeerCore, epoch: Epoch) {
        core.accepted_epoch_durable(epoch);
        self.epoch = Some(epoch);
        self.epoch_acks.insert(core.myid);
        let waiting: Vec<Conn> = self
            .handlers
            .iter()
            .filter(|(_, h)| h.stage == HandlerStage::InfoReceived)
            .map(|(c, _)| *c)
            .collect();
        for conn in waiting {
            self.send_leader_info(core, conn);
        }
        self.check_ack_epoch_quorum(core);
    }

    fn send_leader_info(&mut self, core: &mut PeerCore, conn: Conn) {
        let (Some(epoch), Some(handler)) = (self.epoch, self.handlers.get_mut(&conn)) else {
            return;
        };
        handler.stage = HandlerStage::LeaderInfoSent;
        let packet = QuorumPacket::LeaderInfo {
            zxid: Zxid::new(epoch, 0),
            protocol_version: PROTOCOL_VERSION,
        };
        core.send(conn, packet);
    }

    fn ack_epoch(&mut self, core: &mut PeerCore, conn: Conn, zxid: Zxid) {
        let Some(handler) = self.handlers.get_mut(&conn) else {
            return;
        };
        if handler.stage != HandlerStage::LeaderInfoSent {
            return;
        }
        handler.stage = HandlerStage::EpochAcked;
        handler.peer_last_zxid = zxid;
        if let Some(sid) = handler.sid {
            self.epoch_acks.insert(sid);
        }
        if self.epoch_quorum {
            self.sync_learner(core, conn);
        } else {
            self.check_ack_epoch_quorum(core);
        }
    }

    /// `waitForEpochAck`: a quorum acknowledged the epoch; persist `currentEpoch` and sync
    /// every learner that acknowledged.
    fn check_ack_epoch_quorum(&mut self, core: &mut PeerCore) {
        let Some(epoch) = self.epoch else { return };
        if self.epoch_quorum || !core.config.is_quorum(&self.epoch_acks) {
            return;
        }
        self.epoch_quorum = true;
        core.persist_current_epoch(epoch, AfterDisk::LeaderCurrentEpoch(epoch));
        core.set_zab_state(ZabState::Synchronization);
        let acked: Vec<Conn> = self
            .handlers
            .iter()
            .filter(|(_, h)| h.stage == HandlerStage::EpochAcked)
            .map(|(c, _)| *c)
            .collect();
        for conn in acked {
            self.sync_learner(core, conn);
        }
    }

    fn sync_learner(&mut self, core: &mut PeerCore, conn: Conn) {
        let Some(epoch) = self.epoch else { return };
        let Some(handler) = self.handlers.get_mut(&conn) else {
            return;
        };
        let (Some(sid), peer_last) = (handler.sid, handler.peer_last_zxid) else {
            return;
        };
        handler.stage = HandlerStage::NewLeaderSent;
        sync::sync_follower(core, conn, sid, peer_last);
        core.send(
            conn,
            QuorumPacket::NewLeader {
                zxid: Zxid::new(epoch, 0),
            },
        );
    }

    /// `currentEpoch` is durable at the leader: its own NEWLEADER ACK counts.
    pub fn current_epoch_durable(&mut self, core: &mut PeerCore, epoch: Epoch) {
        core.current_epoch_durable(epoch);
        self.newleader_acks.insert(core.myid);
        self.check_newleader_quorum(core);
    }

    fn ack(&mut self, core: &mut PeerCore, conn: Conn, zxid: Zxid) {
        let Some(handler) = self.handlers.get_mut(&conn) else {
            return;
        };
        let is_newleader_ack = self.epoch.is_some_and(|e| zxid == Zxid::new(e, 0));
        if handler.stage != HandlerStage::NewLeaderSent || !is_newleader_ack {
            return;
        }
        handler.stage = HandlerStage::NewLeaderAcked;
        if self.established {
            handler.stage = HandlerStage::Broadcast;
            core.send(conn, QuorumPacket::UpToDate);
            return;
        }
        if let Some(sid) = handler.sid {
            self.newleader_acks.insert(sid);
        }
        self.check_newleader_quorum(core);
    }

    /// `waitForNewLeaderAck`: a quorum holds the initial history durably under the new epoch.
    fn check_newleader_quorum(&mut self, core: &mut PeerCore) {
        let Some(epoch) = self.epoch else { return };
        let own_durable = self.newleader_acks.contains(&core.myid);
        if self.established || !own_durable || !core.config.is_quorum(&self.newleader_acks) {
            return;
        }
        self.established = true;
        core.observe(Observation::LeaderEstablished {
            leader: core.myid,
            epoch,
            quorum: self.newleader_acks.iter().copied().collect(),
            initial_history_zxid: core.last_logged_zxid,
        });
        core.out.push(super::io::ServerAction::CancelTimer {
            timer: ServerTimer::InitLimit,
        });
        core.set_zab_state(ZabState::Broadcast);
        for (conn, handler) in self.handlers.iter_mut() {
            if handler.stage == HandlerStage::NewLeaderAcked {
                handler.stage = HandlerStage::Broadcast;
                core.out.push(super::io::ServerAction::SendPacket {
                    conn: *conn,
                    packet: QuorumPacket::UpToDate,
                });
            }
        }
    }
}
