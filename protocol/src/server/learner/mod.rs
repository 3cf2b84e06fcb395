//! The follower side of discovery and synchronization (`Learner` / `Follower`):
//! connect to the leader, FOLLOWERINFO → LEADERINFO → (persist `acceptedEpoch`) → ACKEPOCH,
//! then DIFF/TRUNC/SNAP, NEWLEADER → (persist `currentEpoch`) → ACK, UPTODATE.

use super::core::{PeerCore, PROTOCOL_VERSION};
use super::disk::AfterDisk;
use super::io::{Conn, ServerAction, ServerTimer};
use super::quorum_packet::QuorumPacket;
use crate::observe::{Observation, SyncMode, ZabState};
use crate::types::{Epoch, ServerId, Zxid};

/// `Learner.connectToLeader` tries this many times before giving up.
pub const CONNECT_ATTEMPTS: u32 = 5;
/// Delay between connection attempts (ZooKeeper sleeps 1 s).
pub const CONNECT_RETRY_MS: u64 = 1000;

/// Where the learner is in `Follower.followLeader`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LearnerStage {
    /// Waiting for the quorum connection.
    Connecting,
    /// FOLLOWERINFO sent, waiting for LEADERINFO.
    InfoSent,
    /// Persisting `acceptedEpoch` before ACKEPOCH.
    AcceptingEpoch,
    /// ACKEPOCH sent, waiting for the sync decision.
    EpochAcked,
    /// Receiving the sync data (after DIFF/TRUNC/SNAP, before NEWLEADER).
    Syncing,
    /// NEWLEADER received, making the sync durable before the ACK.
    NewLeaderPending,
    /// NEWLEADER ACKed, waiting for UPTODATE.
    NewLeaderAcked,
    /// UPTODATE received: broadcast.
    Broadcast,
}

/// A follower of `leader`.
#[derive(Debug)]
pub struct Learner {
    /// The leader's sid.
    pub leader: ServerId,
    /// The quorum connection, once up.
    pub conn: Option<Conn>,
    request: u64,
    attempts: u32,
    /// The epoch from LEADERINFO.
    pub new_epoch: Option<Epoch>,
    /// The NEWLEADER zxid awaiting its ACK.
    newleader_zxid: Option<Zxid>,
    /// Stage.
    pub stage: LearnerStage,
}

impl Learner {
    /// `Follower.followLeader`: start connecting to `leader`. `request` is a fresh id.
    pub fn start(core: &mut PeerCore, leader: ServerId, request: u64) -> Learner {
        core.set_zab_state(ZabState::Discovery);
        let mut learner = Learner {
            leader,
            conn: None,
            request,
            attempts: 0,
            new_epoch: None,
            newleader_zxid: None,
            stage: LearnerStage::Connecting,
        };
        learner.connect(core);
        learner
    }

    fn connect(&mut self, core: &mut PeerCore) {
        self.attempts += 1;
        self.request += 1;
        core.out.push(ServerAction::ConnectToLeader {
            leader: self.leader,
            request: self.request,
        });
    }

    /// The connection came up: send FOLLOWERINFO with `acceptedEpoch`.
    pub fn connected(&mut self, core: &mut PeerCore, request: u64, conn: Conn) {
        if request != self.request || self.stage != LearnerStage::Connecting {
            core.out.push(ServerAction::Close { conn });
            return;
        }
        self.conn = Some(conn);
        self.stage = LearnerStage::InfoSent;
        let packet = QuorumPacket::LearnerInfo {
            sid: core.myid,
            observer: false,
            zxid: Zxid::new(core.accepted_epoch, 0),
            protocol_version: PROTOCOL_VERSION,
        };
        core.send(conn, packet);
        let init_ms = u64::from(core.config.tick_time_ms) * u64::from(core.config.init_limit);
        core.set_timer(ServerTimer::InitLimit, init_ms);
    }

    /// The connection attempt failed: retry later or give up.
    pub fn connect_failed(&mut self, core: &mut PeerCore, request: u64) {
        if request != self.request || self.stage != LearnerStage::Connecting {
            return;
        }
        if self.attempts >= CONNECT_ATTEMPTS {
            core.give_up("could not connect to the leader");
        } else {
            core.set_timer(ServerTimer::LeaderConnectRetry, CONNECT_RETRY_MS);
        }
    }

    /// A timer for the learner fired.
    pub fn timer(&mut self, core: &mut PeerCore, timer: ServerTimer) {
        match timer {
            ServerTimer::LeaderConnectRetry if self.stage == LearnerStage::Connecting => {
                self.connect(core)
            }
            ServerTimer::InitLimit if self.stage != LearnerStage::Broadcast => {
                core.give_up("initLimit passed before UPTODATE")
            }
            _ => {}
        }
    }

    /// A connection closed.
    pub fn closed(&mut self, core: &mut PeerCore, conn: Conn) {
        if self.conn == Some(conn) {
            core.give_up("the leader connection closed");
        }
    }

    /// A packet from the leader.
    pub fn packet(&mut self, core: &mut PeerCore, conn: Conn, packet: QuorumPacket) {
        if self.conn != Some(conn) {
            return;
        }
        match packet {
            QuorumPacket::LeaderInfo { zxid, .. } => self.leader_info(core, zxid.epoch()),
            QuorumPacket::Diff { zxid } => self.sync_mode(core, SyncMode::Diff, zxid),
            QuorumPacket::Trunc { zxid } => self.sync_mode(core, SyncMode::Trunc, zxid),
            QuorumPacket::Snap { zxid, .. } => self.sync_mode(core, SyncMode::Snap, zxid),
            QuorumPacket::NewLeader { zxid } => self.new_leader(core, zxid),
            QuorumPacket::UpToDate => self.up_to_date(core),
            QuorumPacket::Ping { .. } => core.send(
                conn,
                QuorumPacket::Ping {
                    zxid: core.last_logged_zxid,
                    touches: Vec::new(),
                },
            ),
            _ => {}
        }
    }

    /// LEADERINFO: accept a newer epoch durably, then ACKEPOCH.
    fn leader_info(&mut self, core: &mut PeerCore, new_epoch: Epoch) {
        if self.stage != LearnerStage::InfoSent {
            return;
        }
        self.new_epoch = Some(new_epoch);
        if new_epoch > core.accepted_epoch {
            self.stage = LearnerStage::AcceptingEpoch;
            core.persist_accepted_epoch(new_epoch, AfterDisk::LearnerAcceptedEpoch(new_epoch));
        } else if new_epoch == core.accepted_epoch {
            self.send_ack_epoch(core);
        } else {
            core.give_up("leader's epoch is older than our acceptedEpoch");
        }
    }

    /// `acceptedEpoch` is durable: ACKEPOCH with our `currentEpoch` and last zxid.
    pub fn accepted_epoch_durable(&mut self, core: &mut PeerCore, epoch: Epoch) {
        core.accepted_epoch_durable(epoch);
        if self.stage == LearnerStage::AcceptingEpoch {
            self.send_ack_epoch(core);
        }
    }

    fn send_ack_epoch(&mut self, core: &mut PeerCore) {
        let Some(conn) = self.conn else { return };
        self.stage = LearnerStage::EpochAcked;
        let packet = QuorumPacket::AckEpoch {
            zxid: core.last_logged_zxid,
            current_epoch: core.current_epoch,
        };
        core.send(conn, packet);
    }

    fn sync_mode(&mut self, core: &mut PeerCore, mode: SyncMode, zxid: Zxid) {
        if self.stage != LearnerStage::EpochAcked {
            return;
        }
        self.stage = LearnerStage::Syncing;
        core.set_zab_state(ZabState::Synchronization);
        core.observe(Observation::SyncModeReceived {
            learner: core.myid,
            leader: self.leader,
            mode,
            zxid,
        });
    }

    /// NEWLEADER: make `currentEpoch` durable, then ACK.
    fn new_leader(&mut self, core: &mut PeerCore, zxid: Zxid) {
        if self.stage != LearnerStage::Syncing {
            return;
        }
        self.stage = LearnerStage::NewLeaderPending;
        self.newleader_zxid = Some(zxid);
        let epoch = zxid.epoch();
        core.persist_current_epoch(epoch, AfterDisk::LearnerCurrentEpoch(epoch));
    }

    /// `currentEpoch` is durable: ACK NEWLEADER.
    pub fn current_epoch_durable(&mut self, core: &mut PeerCore, epoch: Epoch) {
        core.current_epoch_durable(epoch);
        let (Some(conn), Some(zxid)) = (self.conn, self.newleader_zxid) else {
            return;
        };
        if self.stage == LearnerStage::NewLeaderPending {
            self.stage = LearnerStage::NewLeaderAcked;
            core.send(conn, QuorumPacket::Ack { zxid });
        }
    }

    fn up_to_date(&mut self, core: &mut PeerCore) {
        if self.stage != LearnerStage::NewLeaderAcked {
            return;
        }
        self.stage = LearnerStage::Broadcast;
        core.out.push(ServerAction::CancelTimer {
            timer: ServerTimer::InitLimit,
        });
        core.set_zab_state(ZabState::Broadcast);
    }
}
