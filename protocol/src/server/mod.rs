//! The ZooKeeper server (`QuorumPeer`): fast leader election, discovery, synchronization,
//! broadcast, heartbeats and sessions, as a sans-IO state machine.
//!
//! The contract with the driver is [`io`]: [`QuorumPeer::boot`] keeps the data directory's
//! bytes, [`ServerInput::Start`] recovers from them (snapshot + log replay, epoch-file checks),
//! then every [`ServerInput`] returns the [`ServerAction`]s to perform.
//!
//! ```text
//!   LOOKING ──FLE decided──► LEADING  (leader.rs: discovery, sync_follower.rs, broadcast.rs)
//!      ▲                 └─► FOLLOWING / OBSERVING (learner.rs: discovery and sync,
//!      │                                            learner_broadcast.rs)
//!      └── lost quorum / leader / timeout (looking.rs: fastForwardDataBase, new FLE round)
//!   every role: clients.rs (ConnectRequest, requests, replies, watches), db.rs (apply +
//!   observations), disk.rs (one job at a time: durable in order), storage.rs (the server's
//!   view of its files; every byte format is `persist/`'s), purge.rs (autopurge)
//! ```
//!
//! Durability rule: an ACK, a LEADERINFO, an ACKEPOCH or a NEWLEADER ACK leaves only from the
//! continuation ([`disk::Then`]) of the disk job that makes its premise durable.
//!
//! Driver contract beyond [`io`]: a quorum connection [`ServerInput::Accepted`] by a server that
//! is not LEADING is closed at once (ZooKeeper has no listener then); a learner whose connection
//! closes before LEADERINFO treats it as refused and retries every second for `initLimit` ticks.
//! Disk operations are issued one at a time (the next only after the previous `DiskDone`).
//!
//! STATUS (what is modelled, and what is not yet):
//! - done: recovery with the epoch-file checks, FLE glue, discovery, DIFF/TRUNC/SNAP (committed
//!   window and on-disk log), NEWLEADER durability order (§7.4), broadcast with in-order commit,
//!   INFORM, `sync`, PING/touches, `syncLimit`/`initLimit`/SyncLimitCheck, session expiry,
//!   ConnectRequest/revalidation, per-session request order, ZK-2845 fast-forward, ZK-3642,
//!   counter rollover, variants ZK-1154 and ZK-4643;
//! - files: ZooKeeper's real `version-2` formats ([`crate::persist`]): log files with a
//!   `ZKLG` header, Adler32 records and `FilePadding` preallocation, rolled at each snapshot and
//!   after TRUNC/SNAP; `ZKSN` snapshots (`snapshot.0` written at a first boot); epoch files;
//!   boot recovery through `persist::recovery` (a torn tail dropped, a bad checksum halts, a
//!   corrupt newest snapshot skipped); TRUNC through `truncate_plan`; autopurge through
//!   `purge_plan` (every `purge_every_snapshots` snapshots, a simulation scaling of
//!   `autopurge.purgeInterval`);
//! - stand-ins: the request context carries no auth ids (addAuth is not forwarded);
//! - group commit: appends queued behind the running log job share its successor's fsync;
//! - not modelled: local sessions, reconfig, read-only mode, `loadData`'s dead-session
//!   cleanup, the observer election delay.

pub mod broadcast;
pub mod clients;
pub mod config;
pub mod db;
pub mod disk;
pub mod election;
pub mod io;
pub mod leader;
pub mod learner;
pub mod learner_broadcast;
pub mod looking;
pub mod notification;
pub mod purge;
pub mod quorum_packet;
#[cfg(test)]
mod rollover_tests;
pub mod storage;
pub mod sync_follower;
pub mod variant;

pub use config::{PeerSpec, QuorumConfig};
pub use io::{
    Conn, DataDir, DiskFailure, DiskRequest, IoToken, Port, ServerAction, ServerInput, ServerTimer,
};
pub use notification::Notification;
pub use quorum_packet::QuorumPacket;
pub use variant::{Variant, Variants};

use crate::observe::{Observation, ServerState, ZabState};
use crate::store::{StoreConfig, ZkDatabase};
use crate::txn::TxnEntry;
use crate::types::{Epoch, LocalTime, ServerId, Zxid};
use clients::Clients;
use disk::DiskQueue;
use election::FastLeaderElection;
use leader::Leader;
use learner::Learner;
use std::collections::VecDeque;
use storage::DiskMirror;

/// `ACKEPOCH`'s "-1": the learner had already accepted the proposed epoch.
pub const EPOCH_NOT_AN_ACK: Epoch = Epoch(u32::MAX);
/// `LearnerInfo`/`LEADERINFO` protocol version.
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// The role the peer plays now.
#[derive(Debug)]
pub enum Role {
    /// Before `Start`, after a halt, or LOOKING.
    Looking,
    /// LEADING.
    Leading(Box<Leader>),
    /// FOLLOWING or OBSERVING.
    Learning(Box<Learner>),
}

/// The txn log's bookkeeping (`FileTxnLog` + `SyncRequestProcessor` snapshot policy).
#[derive(Debug, Default)]
pub struct LogState {
    /// The log file being appended to.
    pub current_file: Option<String>,
    /// Where the next record of the current file goes (just after the last one queued).
    pub position: u64,
    /// The current file's size with its preallocated zeros (`FilePadding.currentSize`).
    pub padded_size: u64,
    /// Roll to a new file at the next append (after a snapshot).
    pub roll: bool,
    /// Txns logged since the last snapshot.
    pub since_snapshot: u64,
    /// `snapCount/2 + randRoll`: the count that triggers a snapshot.
    pub snap_threshold: u64,
    /// The seeded generator behind `randRoll` (from `Start`'s entropy).
    pub roll_state: u64,
    /// Durable snapshots since the last autopurge.
    pub snapshots_since_purge: u32,
    /// The last TRUNC: the role incarnation that queued it and the zxid it cut to. A log job
    /// of an earlier incarnation still in the disk queue then holds records the cut removes.
    pub truncated: Option<(u64, Zxid)>,
}

impl LogState {
    /// Whether a record of `zxid` logged by a job of incarnation `gen` is removed by the last
    /// TRUNC (queued after that job, so executed after it).
    pub fn cut_away(&self, gen: u64, zxid: Zxid) -> bool {
        matches!(self.truncated, Some((g, z)) if gen < g && zxid > z)
    }
}

impl LogState {
    /// `SyncRequestProcessor.resetSnapshotStats`: a fresh `randRoll` in `[0, snapCount/2)`.
    pub fn reroll(&mut self, snap_count: u32) {
        // splitmix64: deterministic, seeded by the driver's entropy.
        self.roll_state = self.roll_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.roll_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let half = u64::from(snap_count / 2).max(1);
        self.snap_threshold = half + z % half;
    }
}

/// One ZooKeeper server.
#[derive(Debug)]
pub struct QuorumPeer {
    config: QuorumConfig,
    myid: ServerId,
    boot_dir: Option<DataDir>,
    halted: bool,
    state: ServerState,
    zab: ZabState,
    accepted_epoch: Epoch,
    current_epoch: Epoch,
    db: ZkDatabase,
    mirror: DiskMirror,
    disk: DiskQueue,
    log: LogState,
    /// `committedLog`: the last `commitLogCount` committed txns.
    committed_log: VecDeque<TxnEntry>,
    fle: FastLeaderElection,
    role: Role,
    /// Role incarnation: bumped on every role change; stale continuations send nothing.
    gen: u64,
    clients: Clients,
    next_request: u64,
    now: LocalTime,
}

impl QuorumPeer {
    /// Keeps the data directory for recovery at [`ServerInput::Start`]. Recovery failures are
    /// reported there as [`ServerAction::Halt`], as ZooKeeper exits at start-up.
    pub fn boot(config: QuorumConfig, myid: ServerId, data_dir: DataDir) -> QuorumPeer {
        let fle = FastLeaderElection::new(myid, &config);
        let store = store_config(&config, myid);
        QuorumPeer {
            myid,
            boot_dir: Some(data_dir),
            halted: false,
            state: ServerState::Looking,
            zab: ZabState::Election,
            accepted_epoch: Epoch(0),
            current_epoch: Epoch(0),
            db: ZkDatabase::new(store, 0),
            mirror: DiskMirror::default(),
            disk: DiskQueue::default(),
            log: LogState::default(),
            committed_log: VecDeque::new(),
            fle,
            role: Role::Looking,
            gen: 0,
            clients: Clients::default(),
            next_request: 0,
            now: LocalTime(0),
            config,
        }
    }

    /// This server's sid.
    pub fn myid(&self) -> ServerId {
        self.myid
    }

    /// The configuration.
    pub fn config(&self) -> &QuorumConfig {
        &self.config
    }

    /// The peer state.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// The Zab phase.
    pub fn zab_state(&self) -> ZabState {
        self.zab
    }

    /// `acceptedEpoch` (in memory; durable once its observation was emitted).
    pub fn accepted_epoch(&self) -> Epoch {
        self.accepted_epoch
    }

    /// `currentEpoch`.
    pub fn current_epoch(&self) -> Epoch {
        self.current_epoch
    }

    /// The znode database (read-only).
    pub fn database(&self) -> &ZkDatabase {
        &self.db
    }

    /// Whether the server halted (ZooKeeper exited).
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// Handles one input at local time `now`.
    pub fn handle(&mut self, now: LocalTime, input: ServerInput) -> Vec<ServerAction> {
        let mut out = Vec::new();
        if self.halted {
            return out;
        }
        self.now = now;
        match input {
            ServerInput::Start { entropy } => self.start(entropy, &mut out),
            ServerInput::Timer(timer) => self.on_timer(timer, &mut out),
            ServerInput::Notification { from, notification } => {
                let actions = self.fle.on_notification(now, from, notification);
                self.run_election_actions(actions, &mut out);
            }
            ServerInput::Accepted { conn, port } => self.on_accepted(conn, port, &mut out),
            ServerInput::LeaderConnected { request, conn } => {
                self.on_leader_connected(request, conn, &mut out)
            }
            ServerInput::LeaderConnectFailed { request } => {
                self.on_leader_connect_failed(request, &mut out)
            }
            ServerInput::Packet { conn, packet } => self.on_packet(conn, packet, &mut out),
            ServerInput::Client { conn, message } => self.on_client(conn, message, &mut out),
            ServerInput::Closed { conn } => self.on_closed(conn, &mut out),
            ServerInput::DiskDone { io, result } => self.on_disk_done(io, result, &mut out),
        }
        out
    }

    /// Whether the server has accepted client work it has not answered yet (for stall
    /// detection).
    pub fn work_outstanding(&self) -> bool {
        self.clients.work_outstanding()
    }

    fn on_timer(&mut self, timer: ServerTimer, out: &mut Vec<ServerAction>) {
        if let Some(t) = election::ElectionTimer::from_server_timer(timer) {
            let actions = self.fle.on_timer(self.now, t);
            self.run_election_actions(actions, out);
            return;
        }
        match timer {
            ServerTimer::Tick => self.on_tick(out),
            ServerTimer::InitLimit => self.on_init_limit(out),
            ServerTimer::LeaderConnectRetry => self.on_connect_retry(out),
            _ => {}
        }
    }

    fn on_tick(&mut self, out: &mut Vec<ServerAction>) {
        match self.role {
            Role::Leading(_) => self.leader_tick(out),
            Role::Learning(_) => self.learner_tick(out),
            Role::Looking => {}
        }
    }

    fn on_packet(&mut self, conn: Conn, packet: QuorumPacket, out: &mut Vec<ServerAction>) {
        match self.role {
            Role::Leading(_) => self.leader_packet(conn, packet, out),
            Role::Learning(_) => self.learner_packet(conn, packet, out),
            Role::Looking => {}
        }
    }

    fn on_accepted(&mut self, conn: Conn, port: Port, out: &mut Vec<ServerAction>) {
        match port {
            Port::Client => self.clients.accept(conn),
            Port::Quorum => match &mut self.role {
                Role::Leading(l) => l.accept(conn),
                _ => out.push(ServerAction::Close { conn }),
            },
        }
    }

    fn on_closed(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        if self.clients.is_client(conn) {
            self.client_closed(conn);
            return;
        }
        match self.role {
            Role::Leading(_) => self.leader_conn_closed(conn, out),
            Role::Learning(_) => self.learner_conn_closed(conn, out),
            Role::Looking => {}
        }
    }

    fn on_disk_done(
        &mut self,
        io: IoToken,
        result: Result<(), DiskFailure>,
        out: &mut Vec<ServerAction>,
    ) {
        match self.disk.done(io, result, out) {
            Err(failure) => self.halt(format!("disk failure {failure:?}"), out),
            Ok(None) => {}
            Ok(Some(then)) => self.on_durable(then, out),
        }
    }

    /// `System.exit`: the server stops for good.
    pub(crate) fn halt(&mut self, reason: String, out: &mut Vec<ServerAction>) {
        self.halted = true;
        out.push(ServerAction::Halt { reason });
    }

    pub(crate) fn observe(&self, out: &mut Vec<ServerAction>, o: Observation) {
        out.push(ServerAction::Observe(o));
    }

    pub(crate) fn set_state(&mut self, state: ServerState, out: &mut Vec<ServerAction>) {
        self.state = state;
        let o = Observation::ServerStateChanged {
            server: self.myid,
            state,
            current_epoch: self.current_epoch,
        };
        self.observe(out, o);
    }

    pub(crate) fn set_zab(&mut self, zab: ZabState, out: &mut Vec<ServerAction>) {
        self.zab = zab;
        let o = Observation::ZabStateChanged {
            server: self.myid,
            zab_state: zab,
            accepted_epoch: self.accepted_epoch,
        };
        self.observe(out, o);
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.now.as_millis()
    }

    pub(crate) fn tick_ms(&self) -> u64 {
        u64::from(self.config.tick_time_ms)
    }
}

fn store_config(config: &QuorumConfig, myid: ServerId) -> StoreConfig {
    let mut store = StoreConfig::new(myid.0, config.tick_time_ms as i32);
    store.min_session_timeout_ms = config.min_session_timeout_ms as i32;
    store.max_session_timeout_ms = config.max_session_timeout_ms as i32;
    store.digest_enabled = config.digest_enabled;
    store
}
