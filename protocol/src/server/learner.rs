//! FOLLOWING / OBSERVING, phases 1–2 (`Learner.connectToLeader`, `registerWithLeader`,
//! `syncWithLeader`): FOLLOWERINFO, LEADERINFO → `acceptedEpoch` durable → ACKEPOCH; then
//! DIFF / TRUNC (truncate the log, reload from disk) / SNAP (install the image), PROPOSAL and
//! COMMIT during sync, NEWLEADER (snapshot if needed, log + fsync the committed txns, then
//! `currentEpoch`, then ACK: research §7.4), UPTODATE (serve; uncommitted txns go to the normal
//! log path and are acked individually, after the NEWLEADER ACK).
//!
//! `Variant::Zk4643`: at NEWLEADER `currentEpoch` is written before the synced txns' log
//! append + fsync (the ACK still waits for both).

use super::disk::Then;
use super::io::{Conn, DiskRequest, ServerAction, ServerTimer};
use super::quorum_packet::QuorumPacket;
use super::storage::{ACCEPTED_EPOCH, CURRENT_EPOCH};
use super::variant::Variant;
use super::{QuorumPeer, Role, EPOCH_NOT_AN_ACK, PROTOCOL_VERSION};
use crate::observe::{ApplyReason, Observation, SyncMode, ZabState};
use crate::persist::recovery::truncate_plan;
use crate::store::ZkDatabase;
use crate::txn::TxnEntry;
use crate::types::{Epoch, LocalTime, ServerId, SessionId, Zxid};
use std::collections::{BTreeMap, VecDeque};

/// Where the learner is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LearnerPhase {
    /// Connecting to the leader's quorum port.
    Connecting,
    /// FOLLOWERINFO sent, waiting for LEADERINFO.
    AwaitLeaderInfo,
    /// `acceptedEpoch` being persisted before ACKEPOCH.
    PersistingEpoch,
    /// ACKEPOCH sent; receiving the sync stream.
    Syncing,
    /// NEWLEADER processed (its ACK sent or pending); waiting for UPTODATE.
    AwaitUpToDate,
    /// Serving.
    Broadcast,
}

/// The learner's volatile state.
#[derive(Debug)]
pub struct Learner {
    /// The leader's sid.
    pub leader: ServerId,
    /// OBSERVING.
    pub observer: bool,
    /// The quorum connection.
    pub conn: Option<Conn>,
    /// The pending `ConnectToLeader` request id.
    pub connect_request: u64,
    /// When connecting started (the retry budget is `initLimit` ticks).
    pub connect_started: LocalTime,
    /// Phase.
    pub phase: LearnerPhase,
    /// The epoch from LEADERINFO.
    pub new_epoch: Epoch,
    /// The sync mode received.
    pub sync_mode: Option<SyncMode>,
    /// SNAP/TRUNC: take a snapshot at NEWLEADER.
    pub snapshot_needed: bool,
    /// DIFF, or after NEWLEADER: proposals go to the log rather than straight to memory.
    pub write_to_txn_log: bool,
    /// `packetsNotLogged`.
    pub packets_not_logged: VecDeque<TxnEntry>,
    /// `packetsCommitted`.
    pub packets_committed: Vec<Zxid>,
    /// Disk jobs queued at NEWLEADER still to finish before its ACK.
    pub newleader_jobs: u32,
    /// The NEWLEADER ACK was sent (socket timeout becomes `syncLimit`).
    pub newleader_acked: bool,
    /// Broadcast: proposals logged or being logged, awaiting COMMIT (`pendingTxns`).
    pub pending_txns: VecDeque<TxnEntry>,
    /// Last time anything came from the leader.
    pub last_heard: LocalTime,
    /// Session touches for the next PING reply.
    pub touches: BTreeMap<SessionId, i32>,
}

impl Learner {
    /// A learner of `leader`.
    pub fn new(leader: ServerId, observer: bool) -> Learner {
        Learner {
            leader,
            observer,
            conn: None,
            connect_request: 0,
            connect_started: LocalTime(0),
            phase: LearnerPhase::Connecting,
            new_epoch: Epoch(0),
            sync_mode: None,
            snapshot_needed: false,
            write_to_txn_log: false,
            packets_not_logged: VecDeque::new(),
            packets_committed: Vec::new(),
            newleader_jobs: 0,
            newleader_acked: false,
            pending_txns: VecDeque::new(),
            last_heard: LocalTime(0),
            touches: BTreeMap::new(),
        }
    }
}

impl QuorumPeer {
    pub(crate) fn learner(&mut self) -> &mut Learner {
        match &mut self.role {
            Role::Learning(l) => l,
            _ => unreachable!("learner state used while not FOLLOWING/OBSERVING"),
        }
    }

    pub(crate) fn connect_to_leader(&mut self, out: &mut Vec<ServerAction>) {
        self.next_request += 1;
        let request = self.next_request;
        let now = self.now;
        let l = self.learner();
        l.connect_request = request;
        l.connect_started = now;
        out.push(ServerAction::ConnectToLeader {
            leader: l.leader,
            request,
        });
    }

    pub(crate) fn on_leader_connected(
        &mut self,
        request: u64,
        conn: Conn,
        out: &mut Vec<ServerAction>,
    ) {
        let ok = matches!(&self.role, Role::Learning(l)
            if l.connect_request == request && l.phase == LearnerPhase::Connecting);
        if !ok {
            out.push(ServerAction::Close { conn });
            return;
        }
        let (myid, accepted, now) = (self.myid, self.accepted_epoch, self.now);
        let l = self.learner();
        l.conn = Some(conn);
        l.phase = LearnerPhase::AwaitLeaderInfo;
        l.last_heard = now;
        let observer = l.observer;
        out.push(ServerAction::SendPacket {
            conn,
            packet: QuorumPacket::LearnerInfo {
                sid: myid,
                observer,
                zxid: Zxid::new(accepted, 0),
                protocol_version: PROTOCOL_VERSION,
            },
        });
        out.push(ServerAction::SetTimer {
            timer: ServerTimer::Tick,
            at: self.now.plus_millis(self.tick_ms()),
        });
    }

    pub(crate) fn on_leader_connect_failed(&mut self, request: u64, out: &mut Vec<ServerAction>) {
        let budget = self.tick_ms() * u64::from(self.config.init_limit);
        let now = self.now;
        let Role::Learning(l) = &self.role else {
            return;
        };
        if l.connect_request != request {
            return;
        }
        if now >= l.connect_started.plus_millis(budget) {
            self.shutdown_role("could not connect to the leader", out);
        } else {
            out.push(ServerAction::SetTimer {
                timer: ServerTimer::LeaderConnectRetry,
                at: now.plus_millis(1000),
            });
        }
    }

    pub(crate) fn on_connect_retry(&mut self, out: &mut Vec<ServerAction>) {
        if let Role::Learning(l) = &self.role {
            if l.phase == LearnerPhase::Connecting {
                let started = l.connect_started;
                self.connect_to_leader(out);
                self.learner().connect_started = started;
            }
        }
    }

    pub(crate) fn learner_conn_closed(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        let l = self.learner();
        if l.conn != Some(conn) {
            return;
        }
        l.conn = None;
        if l.phase == LearnerPhase::AwaitLeaderInfo {
            // Nobody leads there yet (the connection was refused): connectToLeader retries.
            l.phase = LearnerPhase::Connecting;
            let request = l.connect_request;
            self.on_leader_connect_failed(request, out);
        } else {
            self.shutdown_role("leader connection closed", out);
        }
    }

    /// The learner's tick: the socket read timeout (`initLimit` ticks before the NEWLEADER ACK,
    /// `syncLimit` after) — the leader pings every half tick.
    pub(crate) fn learner_tick(&mut self, out: &mut Vec<ServerAction>) {
        let tick = self.tick_ms();
        out.push(ServerAction::SetTimer {
            timer: ServerTimer::Tick,
            at: self.now.plus_millis(tick),
        });
        let (init, sync) = (self.config.init_limit, self.config.sync_limit);
        let now = self.now;
        let l = self.learner();
        if l.conn.is_none() {
            return;
        }
        let limit = if l.newleader_acked { sync } else { init };
        if now > l.last_heard.plus_millis(tick * u64::from(limit)) {
            self.shutdown_role("read timeout from the leader", out);
        }
    }

    pub(crate) fn learner_packet(
        &mut self,
        conn: Conn,
        packet: QuorumPacket,
        out: &mut Vec<ServerAction>,
    ) {
        let now = self.now;
        let l = self.learner();
        if l.conn != Some(conn) {
            return;
        }
        l.last_heard = now;
        match (l.phase, packet) {
            (LearnerPhase::AwaitLeaderInfo, QuorumPacket::LeaderInfo { zxid, .. }) => {
                self.learner_leader_info(zxid.epoch(), out)
            }
            (LearnerPhase::Syncing | LearnerPhase::AwaitUpToDate, p) => {
                if let Err(e) = self.learner_sync_packet(p, out) {
                    self.shutdown_role(&e, out);
                }
            }
            (LearnerPhase::Broadcast, p) => self.learner_broadcast_packet(p, out),
            _ => self.shutdown_role("unexpected packet", out),
        }
    }

    fn learner_leader_info(&mut self, epoch: Epoch, out: &mut Vec<ServerAction>) {
        let accepted = self.accepted_epoch;
        self.learner().new_epoch = epoch;
        if epoch > accepted {
            self.learner().phase = LearnerPhase::PersistingEpoch;
            let gen = self.gen;
            self.write_epoch(
                ACCEPTED_EPOCH,
                epoch,
                Then::AcceptedEpoch { epoch, gen },
                out,
            );
        } else if epoch == accepted {
            self.learner_send_ack_epoch(EPOCH_NOT_AN_ACK, out);
        } else {
            self.shutdown_role("Leaders epoch is less than accepted epoch", out);
        }
    }

    /// ACKEPOCH with our last zxid and `currentEpoch` (or -1), then SYNCHRONIZATION.
    pub(crate) fn learner_send_ack_epoch(&mut self, current: Epoch, out: &mut Vec<ServerAction>) {
        let zxid = self.db.last_processed_zxid();
        let l = self.learner();
        l.phase = LearnerPhase::Syncing;
        if let Some(conn) = l.conn {
            out.push(ServerAction::SendPacket {
                conn,
                packet: QuorumPacket::AckEpoch {
                    zxid,
                    current_epoch: current,
                },
            });
        }
        self.set_zab(ZabState::Synchronization, out);
    }

    fn learner_sync_packet(
        &mut self,
        packet: QuorumPacket,
        out: &mut Vec<ServerAction>,
    ) -> Result<(), String> {
        let first = self.learner().sync_mode.is_none();
        match packet {
            QuorumPacket::Diff { zxid } if first => {
                self.learner_sync_mode(SyncMode::Diff, zxid, out)
            }
            QuorumPacket::Trunc { zxid } if first => {
                self.learner_sync_mode(SyncMode::Trunc, zxid, out);
                if let Err(e) = self.learner_truncate(zxid, out) {
                    // Learner.syncWithLeader: System.exit(QUORUM_PACKET_ERROR).
                    self.halt(e, out);
                }
            }
            QuorumPacket::Snap { zxid, image } if first => {
                self.learner_sync_mode(SyncMode::Snap, zxid, out);
                let config = self.db.config().clone();
                self.db = ZkDatabase::from_snapshot_image(config, &image, zxid, self.now_ms())
                    .map_err(|e| format!("bad SNAP image: {e}"))?;
                self.committed_log.clear();
                // The log after a SNAP begins a new file (its name the next zxid).
                self.log.roll = true;
                let digest = self.config.digest_enabled.then(|| self.db.digest());
                let o = Observation::SnapshotInstalled {
                    server: self.myid,
                    zxid: self.db.last_processed_zxid(),
                    digest,
                };
                self.observe(out, o);
            }
            _ if first => return Err("sync did not start with DIFF, TRUNC or SNAP".into()),
            QuorumPacket::Proposal { txn } => {
                let l = self.learner();
                if let Some(last) = l.packets_not_logged.back() {
                    let (a, b) = (last.header.zxid, txn.header.zxid);
                    // ZK-4925: a same-epoch gap aborts the sync.
                    if a.epoch() == b.epoch() && b.counter() != a.counter() + 1 {
                        return Err(format!("proposal {b} does not follow {a}"));
                    }
                }
                l.packets_not_logged.push_back(txn);
            }
            QuorumPacket::Commit { zxid } => self.learner_sync_commit(zxid, out),
            QuorumPacket::Inform { txn } => {
                // An observer's commit during sync: a proposal and its commit in one packet.
                let zxid = txn.header.zxid;
                self.learner().packets_not_logged.push_back(txn);
                self.learner_sync_commit(zxid, out);
            }
            QuorumPacket::NewLeader { zxid } => self.learner_new_leader(zxid.epoch(), out),
            QuorumPacket::UpToDate => self.learner_up_to_date(out),
            QuorumPacket::Ping { zxid, .. } => self.learner_ping(zxid, out),
            _ => {}
        }
        Ok(())
    }

    fn learner_sync_mode(&mut self, mode: SyncMode, zxid: Zxid, out: &mut Vec<ServerAction>) {
        let l = self.learner();
        l.sync_mode = Some(mode);
        l.snapshot_needed = mode != SyncMode::Diff;
        l.write_to_txn_log = mode == SyncMode::Diff;
        let leader = l.leader;
        let o = Observation::SyncModeReceived {
            learner: self.myid,
            leader,
            mode,
            zxid,
        };
        self.observe(out, o);
    }

    /// `ZKDatabase.truncateLog`: cut the log just after `zxid` and delete every later log file,
    /// then reload the database from what remains and begin a new log file at the next append.
    /// When the log holds `zxid` (the normal case) the cut is `FileTxnLog.truncate` exactly, as
    /// [`truncate_plan`] plans it. When it does not (TRUNC to `e:0`, the new leader's
    /// `lastProcessedZxid`, sent to a learner holding an uncommitted `e:1`), `FileTxnLog.truncate`
    /// would keep the first record after `zxid` — the very txn TRUNC is sent to remove — so the
    /// server cuts after the last record at or below `zxid` instead. No log at all is ZooKeeper's
    /// "No log files found to truncate": the server exits. Unlike ZooKeeper, snapshots newer than
    /// `zxid` are deleted too: reloading from one would bring the truncated txns back
    /// (ZOOKEEPER-1549).
    fn learner_truncate(&mut self, zxid: Zxid, out: &mut Vec<ServerAction>) -> Result<(), String> {
        let logs = self.mirror.logs();
        if logs.is_empty() {
            return Err(format!(
                "Not able to truncate the log to {zxid}: no log files"
            ));
        }
        let logged = self.mirror.logged().map_err(|e| e.to_string())?;
        let keep = logged.iter().rfind(|(e, _, _)| e.header.zxid <= zxid);
        let mut ops = Vec::new();
        match keep {
            Some((entry, file, end)) => {
                let (file, len, delete) = if entry.header.zxid == zxid {
                    let plan = truncate_plan(&self.mirror.files, zxid)
                        .map_err(|e| format!("Not able to truncate the log to {zxid}: {e}"))?;
                    assert_eq!(
                        (&plan.file, plan.len),
                        (file, *end),
                        "TRUNC cuts after {zxid}"
                    );
                    (plan.file, plan.len, plan.delete)
                } else {
                    let later = logs
                        .iter()
                        .skip_while(|(_, n)| n != file)
                        .skip(1)
                        .map(|(_, n)| n.clone())
                        .collect();
                    (file.clone(), *end, later)
                };
                // The cut must be durable before anything built on it (the NEWLEADER snapshot and
                // ACK): unsynced, a machine crash brings the cut txns back. ZooKeeper's
                // `FileTxnLog.truncate` does not force the file: a gap of ZooKeeper 3.9 we do not copy.
                ops.push(DiskRequest::Truncate {
                    file: file.clone(),
                    len,
                });
                ops.push(DiskRequest::Fsync { file });
                ops.extend(delete.into_iter().map(|file| DiskRequest::Delete { file }));
            }
            None => {
                // Every logged txn is above `zxid`: no log file keeps anything.
                ops.extend(
                    logs.into_iter()
                        .map(|(_, file)| DiskRequest::Delete { file }),
                );
            }
        }
        for (z, name) in self.mirror.snapshots() {
            if z > zxid {
                ops.push(DiskRequest::Delete { file: name });
            }
        }
        ops.push(DiskRequest::FsyncDir);
        self.disk.push(&mut self.mirror, ops, Then::Nothing, out);
        self.log.roll = true;
        self.log.current_file = None;
        self.log.truncated = Some((self.gen, zxid));
        let mut silent = Vec::new();
        self.reload_database(ApplyReason::Recovery, &mut silent)?;
        // Learner.syncWithLeader: setlastProcessedZxid(TRUNC zxid) after the reload (the cut can
        // leave fewer records than the zxid claims, e.g. none at all for TRUNC(e:0)).
        if zxid > self.db.last_processed_zxid() {
            self.set_last_processed_zxid(zxid);
        }
        let digest = self.config.digest_enabled.then(|| self.db.digest());
        let o = Observation::LogTruncated {
            server: self.myid,
            zxid: self.db.last_processed_zxid(),
            digest,
        };
        self.observe(out, o);
        Ok(())
    }

    fn learner_sync_commit(&mut self, zxid: Zxid, out: &mut Vec<ServerAction>) {
        let l = self.learner();
        if l.write_to_txn_log {
            l.packets_committed.push(zxid);
            return;
        }
        if l.packets_not_logged.front().map(|e| e.header.zxid) == Some(zxid) {
            if let Some(entry) = l.packets_not_logged.pop_front() {
                self.apply_txn(&entry, ApplyReason::Sync, out);
            }
        }
    }

    /// NEWLEADER: snapshot if needed, log+fsync the committed txns, `currentEpoch`, then ACK.
    fn learner_new_leader(&mut self, epoch: Epoch, out: &mut Vec<ServerAction>) {
        let gen = self.gen;
        if self.learner().snapshot_needed {
            self.take_snapshot(out);
        }
        let l = self.learner();
        l.write_to_txn_log = true;
        l.phase = LearnerPhase::AwaitUpToDate;
        let committed = std::mem::take(&mut l.packets_committed);
        let mut synced = Vec::new();
        for zxid in committed {
            let l = self.learner();
            if let Some(pos) = l
                .packets_not_logged
                .iter()
                .position(|e| e.header.zxid == zxid)
            {
                if let Some(entry) = l.packets_not_logged.remove(pos) {
                    synced.push(entry);
                }
            }
        }
        for entry in &synced {
            self.apply_txn(entry, ApplyReason::Sync, out);
        }
        let epoch_first = self.config.variants.has(Variant::Zk4643);
        let mut jobs = 1;
        if epoch_first {
            self.write_epoch(CURRENT_EPOCH, epoch, Then::CurrentEpoch { epoch, gen }, out);
        }
        if !synced.is_empty() {
            jobs += 1;
            self.log_txns(synced, false, out);
        }
        if !epoch_first {
            self.write_epoch(CURRENT_EPOCH, epoch, Then::CurrentEpoch { epoch, gen }, out);
        }
        self.learner().newleader_jobs = jobs;
    }

    /// A NEWLEADER job is durable; the last one sends the ACK.
    pub(crate) fn learner_newleader_job_done(&mut self, out: &mut Vec<ServerAction>) {
        let l = self.learner();
        if l.newleader_jobs == 0 {
            return;
        }
        l.newleader_jobs -= 1;
        if l.newleader_jobs > 0 {
            return;
        }
        l.newleader_acked = true;
        let zxid = Zxid::new(l.new_epoch, 0);
        if let Some(conn) = l.conn {
            out.push(ServerAction::SendPacket {
                conn,
                packet: QuorumPacket::Ack { zxid },
            });
        }
    }

    fn learner_up_to_date(&mut self, out: &mut Vec<ServerAction>) {
        let l = self.learner();
        l.phase = LearnerPhase::Broadcast;
        let epoch = l.new_epoch;
        let rest: Vec<TxnEntry> = l.packets_not_logged.drain(..).collect();
        let commits = std::mem::take(&mut l.packets_committed);
        if let Some(conn) = l.conn {
            out.push(ServerAction::SendPacket {
                conn,
                packet: QuorumPacket::Ack {
                    zxid: Zxid::new(epoch, 0),
                },
            });
        }
        self.fle.update_election_vote(epoch);
        self.set_zab(ZabState::Broadcast, out);
        for txn in rest {
            self.learner_log_proposal(txn, out);
        }
        for zxid in commits {
            self.learner_commit(zxid, out);
        }
    }
}
