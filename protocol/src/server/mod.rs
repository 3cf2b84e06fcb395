//! The ZooKeeper server (`QuorumPeer`): fast leader election, discovery, synchronization,
//! broadcast, heartbeats and sessions, as a sans-IO state machine.
//!
//! The contract with the driver is [`io`]: [`QuorumPeer::boot`] rebuilds the server from its
//! data directory's bytes, then every [`ServerInput`] returns the [`ServerAction`]s to perform.
//!
//! ```text
//!  LOOKING ──FLE decided──► LEADING  (leader::Leader: epoch quorum, LEADERINFO, ACKEPOCH quorum,
//!     ▲                               sync + NEWLEADER, NEWLEADER-ACK quorum, UPTODATE)
//!     │                  └► FOLLOWING (learner::Learner: FOLLOWERINFO, ACKEPOCH, sync,
//!     └── give_up ◄─────────           NEWLEADER ACK after currentEpoch is durable, UPTODATE)
//! ```
//!
//! STATUS: election, discovery and synchronization of an empty history are built; broadcast,
//! client sessions, heartbeats, the txn log and snapshots are not yet.

pub mod config;
pub mod core;
pub mod disk;
pub mod election;
pub mod io;
pub mod leader;
pub mod learner;
pub mod notification;
pub mod quorum_packet;
pub mod variant;

pub use config::{PeerSpec, QuorumConfig};
pub use io::{
    Conn, DataDir, DiskFailure, DiskRequest, IoToken, Port, ServerAction, ServerInput, ServerTimer,
};
pub use notification::Notification;
pub use quorum_packet::QuorumPacket;
pub use variant::{Variant, Variants};

use self::core::{PeerCore, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};
use crate::observe::{ServerState, ZabState};
use crate::types::{Epoch, LocalTime, ServerId};
use disk::{decode_epoch, AfterDisk};
use election::{split_actions, ElectionTimer, FastLeaderElection, Vote};
use leader::Leader;
use learner::Learner;

/// The role a peer plays now.
#[derive(Debug)]
enum Role {
    Looking,
    Leading(Box<Leader>),
    Following(Box<Learner>),
}

/// One ZooKeeper server.
#[derive(Debug)]
pub struct QuorumPeer {
    core: PeerCore,
    fle: FastLeaderElection,
    role: Role,
    boot_error: Option<String>,
    halted: bool,
    next_request: u64,
}

impl QuorumPeer {
    /// Rebuilds a server from its data directory (empty on first boot). Recovery failures are
    /// reported at [`ServerInput::Start`] as [`ServerAction::Halt`], as ZooKeeper exits at start-up.
    pub fn boot(config: QuorumConfig, myid: ServerId, data_dir: DataDir) -> QuorumPeer {
        let fle = FastLeaderElection::new(myid, &config);
        let mut core = PeerCore::new(config, myid);
        let mut boot_error = None;
        match read_epoch(&data_dir, ACCEPTED_EPOCH_FILE) {
            Ok(e) => core.accepted_epoch = e,
            Err(why) => boot_error = Some(why),
        }
        match read_epoch(&data_dir, CURRENT_EPOCH_FILE) {
            Ok(e) => core.current_epoch = e,
            Err(why) => boot_error = boot_error.or(Some(why)),
        }
        if core.current_epoch > core.accepted_epoch && boot_error.is_none() {
            // QuorumPeer.loadDataBase: "The current epoch is older than the accepted epoch"
            boot_error = Some(format!(
                "currentEpoch {} is newer than acceptedEpoch {}",
                core.current_epoch, core.accepted_epoch
            ));
        }
        QuorumPeer {
            core,
            fle,
            role: Role::Looking,
            boot_error,
            halted: false,
            next_request: 0,
        }
    }

    /// This server's sid.
    pub fn myid(&self) -> ServerId {
        self.core.myid
    }

    /// The configuration.
    pub fn config(&self) -> &QuorumConfig {
        &self.core.config
    }

    /// `QuorumPeer.getPeerState`.
    pub fn peer_state(&self) -> ServerState {
        self.core.state
    }

    /// `QuorumPeer.getZabState`.
    pub fn zab_state(&self) -> ZabState {
        self.core.zab_state
    }

    /// The durable `acceptedEpoch`.
    pub fn accepted_epoch(&self) -> Epoch {
        self.core.accepted_epoch
    }

    /// The durable `currentEpoch`.
    pub fn current_epoch(&self) -> Epoch {
        self.core.current_epoch
    }

    /// The leader this server follows or is, once election decided.
    pub fn leader(&self) -> Option<ServerId> {
        match &self.role {
            Role::Looking => None,
            Role::Leading(_) => Some(self.core.myid),
            Role::Following(l) => Some(l.leader),
        }
    }

    /// Handles one input at local time `now`.
    pub fn handle(&mut self, now: LocalTime, input: ServerInput) -> Vec<ServerAction> {
        if self.halted {
            return Vec::new();
        }
        self.core.now = now;
        self.dispatch(input);
        while let Some(why) = self.core.go_looking.take() {
            let _ = why;
            self.look_for_leader();
        }
        std::mem::take(&mut self.core.out)
    }

    fn dispatch(&mut self, input: ServerInput) {
        match input {
            ServerInput::Start { entropy: _ } => self.start(),
            ServerInput::Timer(timer) => self.timer(timer),
            ServerInput::Notification { from, notification } => {
                let actions = self.fle.on_notification(self.core.now, from, notification);
                self.election_step(actions);
            }
            ServerInput::Accepted { conn, port } => self.accepted(conn, port),
            ServerInput::LeaderConnected { request, conn } => match &mut self.role {
                Role::Following(l) => l.connected(&mut self.core, request, conn),
                _ => self.core.out.push(ServerAction::Close { conn }),
            },
            ServerInput::LeaderConnectFailed { request } => {
                if let Role::Following(l) = &mut self.role {
                    l.connect_failed(&mut self.core, request);
                }
            }
            ServerInput::Packet { conn, packet } => match &mut self.role {
                Role::Leading(l) => l.packet(&mut self.core, conn, packet),
                Role::Following(l) => l.packet(&mut self.core, conn, packet),
                Role::Looking => self.core.out.push(ServerAction::Close { conn }),
            },
            ServerInput::Client { conn, message: _ } => {
                // Client service is not built yet: ZooKeeper refuses clients until serving.
                self.core.out.push(ServerAction::Close { conn });
            }
            ServerInput::Closed { conn } => match &mut self.role {
                Role::Leading(l) => l.closed(conn),
                Role::Following(l) => l.closed(&mut self.core, conn),
                Role::Looking => {}
            },
            ServerInput::DiskDone { io, result } => self.disk_done(io, result),
        }
    }

    fn start(&mut self) {
        if let Some(reason) = self.boot_error.take() {
            self.halt(reason);
            return;
        }
        self.look_for_leader();
    }

    fn halt(&mut self, reason: String) {
        self.halted = true;
        self.core.out.push(ServerAction::Halt { reason });
    }

    /// Leaves the current role and starts an election round.
    fn look_for_leader(&mut self) {
        self.core.disk.clear();
        self.close_role_connections();
        self.role = Role::Looking;
        if self.core.state != ServerState::Looking || self.fle.logical_clock() == 0 {
            self.core.set_peer_state(ServerState::Looking);
        }
        self.core.set_zab_state(ZabState::Election);
        if self.fle.is_looking() {
            return;
        }
        let (zxid, epoch) = (self.core.last_logged_zxid, self.core.current_epoch);
        let actions = self.fle.start(self.core.now, zxid, epoch);
        self.election_step(actions);
    }

    fn close_role_connections(&mut self) {
        let conns: Vec<Conn> = match &self.role {
            Role::Looking => Vec::new(),
            Role::Leading(l) => l.handlers.keys().copied().collect(),
            Role::Following(l) => l.conn.into_iter().collect(),
        };
        for conn in conns {
            self.core.out.push(ServerAction::Close { conn });
        }
        for timer in [
            ServerTimer::InitLimit,
            ServerTimer::LeaderConnectRetry,
            ServerTimer::Tick,
        ] {
            self.core.out.push(ServerAction::CancelTimer { timer });
        }
    }

    fn election_step(&mut self, actions: Vec<election::ElectionAction>) {
        let (server_actions, decision) = split_actions(actions);
        self.core.out.extend(server_actions);
        if let Some((vote, state)) = decision {
            self.decided(vote, state);
        }
    }

    /// `lookForLeader` returned: take the role.
    fn decided(&mut self, vote: Vote, state: ServerState) {
        self.core.set_peer_state(state);
        self.role = match state {
            ServerState::Leading => Role::Leading(Box::new(Leader::start(&mut self.core))),
            ServerState::Following => {
                self.next_request += 1;
                let learner = Learner::start(&mut self.core, vote.leader, self.next_request * 1000);
                Role::Following(Box::new(learner))
            }
            other => {
                // Observers are not built: ZooKeeper's observer would follow without voting.
                self.core
                    .give_up(format!("role {other:?} is not supported"));
                Role::Looking
            }
        };
    }

    fn timer(&mut self, timer: ServerTimer) {
        if let Some(t) = ElectionTimer::from_server_timer(timer) {
            let actions = self.fle.on_timer(self.core.now, t);
            self.election_step(actions);
            return;
        }
        match &mut self.role {
            Role::Leading(l) => l.timer(&mut self.core, timer),
            Role::Following(l) => l.timer(&mut self.core, timer),
            Role::Looking => {}
        }
    }

    fn accepted(&mut self, conn: Conn, port: Port) {
        match (&mut self.role, port) {
            (Role::Leading(l), Port::Quorum) => l.accepted(conn),
            _ => self.core.out.push(ServerAction::Close { conn }),
        }
    }

    fn disk_done(&mut self, io: IoToken, result: Result<(), DiskFailure>) {
        if let Err(failure) = result {
            // ZooKeeper treats a failed log or epoch write as fatal.
            self.halt(format!("disk operation {io:?} failed: {failure:?}"));
            return;
        }
        let (actions, finished) = self.core.disk.done(io);
        self.core.out.extend(actions);
        let Some(then) = finished else { return };
        let core = &mut self.core;
        match (&mut self.role, then) {
            (Role::Leading(l), AfterDisk::LeaderAcceptedEpoch(e)) => {
                l.accepted_epoch_durable(core, e)
            }
            (Role::Leading(l), AfterDisk::LeaderCurrentEpoch(e)) => {
                l.current_epoch_durable(core, e)
            }
            (Role::Following(l), AfterDisk::LearnerAcceptedEpoch(e)) => {
                l.accepted_epoch_durable(core, e)
            }
            (Role::Following(l), AfterDisk::LearnerCurrentEpoch(e)) => {
                l.current_epoch_durable(core, e)
            }
            (_, other) => panic!("disk continuation {other:?} outlived its role"),
        }
    }

    /// Whether the server has accepted client work it has not answered yet (for stall
    /// detection).
    pub fn work_outstanding(&self) -> bool {
        false
    }
}

/// Reads an epoch file: missing means epoch 0 (a fresh server); unreadable or garbled halts.
fn read_epoch(data_dir: &DataDir, name: &str) -> Result<Epoch, String> {
    match data_dir.get(name) {
        None => Ok(Epoch(0)),
        Some(Err(failure)) => Err(format!("{name}: read failed: {failure:?}")),
        Some(Ok(bytes)) => decode_epoch(name, bytes),
    }
}
