//! `PeerCore`: the part of a `QuorumPeer` every role shares — identity, configuration, the
//! persisted epochs (the paper's `f.p` = `acceptedEpoch`, `f.a` = `currentEpoch`), the last
//! logged zxid, the disk queue and the actions of the step being handled.

use super::config::QuorumConfig;
use super::disk::{epoch_file_requests, AfterDisk, DiskQueue};
use super::io::{Conn, ServerAction, ServerTimer};
use super::quorum_packet::QuorumPacket;
use crate::observe::{Observation, ServerState, ZabState};
use crate::types::{Epoch, LocalTime, ServerId, Zxid};

/// `acceptedEpoch` file name.
pub const ACCEPTED_EPOCH_FILE: &str = "acceptedEpoch";
/// `currentEpoch` file name.
pub const CURRENT_EPOCH_FILE: &str = "currentEpoch";
/// `Leader` / `Learner` protocol version 0x10000.
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// State every role reads and writes.
#[derive(Debug)]
pub struct PeerCore {
    /// `zoo.cfg`.
    pub config: QuorumConfig,
    /// This server's sid.
    pub myid: ServerId,
    /// `acceptedEpoch` as durably stored.
    pub accepted_epoch: Epoch,
    /// `currentEpoch` as durably stored.
    pub current_epoch: Epoch,
    /// The last zxid in the txn log (`getLastLoggedZxid`).
    pub last_logged_zxid: Zxid,
    /// `QuorumPeer.state`.
    pub state: ServerState,
    /// `QuorumPeer.zabState`.
    pub zab_state: ZabState,
    /// Ordered disk work.
    pub disk: DiskQueue,
    /// Local time of the step being handled.
    pub now: LocalTime,
    /// Actions of the step being handled.
    pub out: Vec<ServerAction>,
    /// Set by a role that gives up (lost leader, lost quorum): the peer turns LOOKING.
    pub go_looking: Option<String>,
}

impl PeerCore {
    /// A fresh core for `myid` with the recovered epochs and last zxid.
    pub fn new(config: QuorumConfig, myid: ServerId) -> PeerCore {
        PeerCore {
            config,
            myid,
            accepted_epoch: Epoch(0),
            current_epoch: Epoch(0),
            last_logged_zxid: Zxid(0),
            state: ServerState::Looking,
            zab_state: ZabState::Election,
            disk: DiskQueue::default(),
            now: LocalTime(0),
            out: Vec::new(),
            go_looking: None,
        }
    }

    /// Reports a fact for the judges.
    pub fn observe(&mut self, observation: Observation) {
        self.out.push(ServerAction::Observe(observation));
    }

    /// `QuorumPeer.setPeerState`.
    pub fn set_peer_state(&mut self, state: ServerState) {
        self.state = state;
        self.observe(Observation::ServerStateChanged {
            server: self.myid,
            state,
            current_epoch: self.current_epoch,
        });
    }

    /// `QuorumPeer.setZabState`.
    pub fn set_zab_state(&mut self, zab_state: ZabState) {
        if self.zab_state == zab_state {
            return;
        }
        self.zab_state = zab_state;
        self.observe(Observation::ZabStateChanged {
            server: self.myid,
            zab_state,
            accepted_epoch: self.accepted_epoch,
        });
    }

    /// Sends a quorum packet.
    pub fn send(&mut self, conn: Conn, packet: QuorumPacket) {
        self.out.push(ServerAction::SendPacket { conn, packet });
    }

    /// Arms a timer `after_ms` from now.
    pub fn set_timer(&mut self, timer: ServerTimer, after_ms: u64) {
        let at = self.now.plus_millis(after_ms);
        self.out.push(ServerAction::SetTimer { timer, at });
    }

    /// Starts the atomic write of `acceptedEpoch`; `then` runs once it is durable.
    pub fn persist_accepted_epoch(&mut self, epoch: Epoch, then: AfterDisk) {
        let actions = self
            .disk
            .push(epoch_file_requests(ACCEPTED_EPOCH_FILE, epoch), then);
        self.out.extend(actions);
    }

    /// Starts the atomic write of `currentEpoch`; `then` runs once it is durable.
    pub fn persist_current_epoch(&mut self, epoch: Epoch, then: AfterDisk) {
        let actions = self
            .disk
            .push(epoch_file_requests(CURRENT_EPOCH_FILE, epoch), then);
        self.out.extend(actions);
    }

    /// Records that `acceptedEpoch` is durable.
    pub fn accepted_epoch_durable(&mut self, epoch: Epoch) {
        self.accepted_epoch = epoch;
        self.observe(Observation::AcceptedEpochPersisted {
            server: self.myid,
            epoch,
        });
    }

    /// Records that `currentEpoch` is durable.
    pub fn current_epoch_durable(&mut self, epoch: Epoch) {
        assert!(
            epoch <= self.accepted_epoch,
            "{}: currentEpoch {epoch:?} beyond acceptedEpoch {:?}",
            self.myid,
            self.accepted_epoch
        );
        self.current_epoch = epoch;
        self.observe(Observation::CurrentEpochPersisted {
            server: self.myid,
            epoch,
        });
    }

    /// Asks the peer to leave its role and look for a leader.
    pub fn give_up(&mut self, why: impl Into<String>) {
        if self.go_looking.is_none() {
            self.go_looking = Some(why.into());
        }
    }
}
