//! `ClusterModel`: what the observations say each server holds — its durable log, the txns in
//! its DataTree, its committed prefix and epochs — plus the cluster-wide records the invariants
//! speak about (proposals, quorum commits, delivered txns, established leaders).
//!
//! The model is bookkeeping only: it never judges. Judges check an observation against the
//! model *before* calling [`ClusterModel::apply`], then read the result.
//!
//! Conventions (from the TLA+ specs): a server's *committed prefix* is the part of its DataTree
//! up to `last_committed`, which advances only on delivery — a COMMIT in broadcast, the leader's
//! own initial history when a quorum acks NEWLEADER, a learner's whole DataTree when it
//! processes UPTODATE (enters BROADCAST) — and is volatile: a crash resets it to zero. Txns a
//! learner applies during synchronization (DIFF, SNAP) are not yet delivered: the would-be
//! leader's history is committed only once it is established.

use crate::history::TimeNs;
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::observe::{ApplyReason, Observation, ServerState, ZabState};
use zabsim_protocol::txn::{TxnEntry, TxnHeader};
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

/// What the model knows about one server.
#[derive(Clone, Debug)]
pub struct ServerModel {
    /// Whether its process runs (false between `Crashed` and `RecoveryFinished`).
    pub alive: bool,
    /// Peer state.
    pub state: ServerState,
    /// Zab phase.
    pub zab_state: ZabState,
    /// Durable `acceptedEpoch`.
    pub accepted_epoch: Epoch,
    /// Durable `currentEpoch`.
    pub current_epoch: Epoch,
    /// The leader it last synchronized with.
    pub leader: Option<ServerId>,
    /// The durable txn sequence (log, or the snapshot a SNAP sync installed), in zxid order.
    pub log: Vec<TxnHeader>,
    /// The txns reflected in its DataTree, in zxid order.
    pub tree: Vec<TxnHeader>,
    /// The end of its committed prefix.
    pub last_committed: Zxid,
    /// Digest it reported after each zxid (outside recovery replay).
    pub digests: BTreeMap<Zxid, i64>,
    /// When it last entered its current peer state.
    pub state_since: TimeNs,
    /// A database a SNAP sync installed in memory and not yet written: it becomes the durable
    /// sequence when the server takes a snapshot at or after its zxid (ZooKeeper's learner writes
    /// it at NEWLEADER), and a crash before that loses it.
    pub pending_snap: Option<(Zxid, Vec<TxnHeader>)>,
}

impl ServerModel {
    fn new() -> ServerModel {
        ServerModel {
            alive: true,
            state: ServerState::Looking,
            zab_state: ZabState::Election,
            accepted_epoch: Epoch(0),
            current_epoch: Epoch(0),
            leader: None,
            log: Vec::new(),
            tree: Vec::new(),
            last_committed: Zxid::ZERO,
            digests: BTreeMap::new(),
            pending_snap: None,
            state_since: 0,
        }
    }

    /// The last zxid in its DataTree (`lastProcessedZxid`).
    pub fn last_processed(&self) -> Zxid {
        self.tree.last().map_or(Zxid::ZERO, |h| h.zxid)
    }

    /// The last zxid in its durable log.
    pub fn last_logged(&self) -> Zxid {
        self.log.last().map_or(Zxid::ZERO, |h| h.zxid)
    }

    /// The header its DataTree holds at `zxid`.
    pub fn tree_at(&self, zxid: Zxid) -> Option<&TxnHeader> {
        find(&self.tree, zxid)
    }

    /// The header its log holds at `zxid`.
    pub fn log_at(&self, zxid: Zxid) -> Option<&TxnHeader> {
        find(&self.log, zxid)
    }

    /// Whether its history (log or tree) holds `zxid`.
    pub fn holds(&self, zxid: Zxid) -> bool {
        self.log_at(zxid).is_some() || self.tree_at(zxid).is_some()
    }

    /// Whether it is an established, broadcasting leader.
    pub fn is_broadcasting_leader(&self) -> bool {
        self.alive && self.state == ServerState::Leading && self.zab_state == ZabState::Broadcast
    }
}

/// Binary search by zxid in a zxid-ordered sequence.
pub fn find(seq: &[TxnHeader], zxid: Zxid) -> Option<&TxnHeader> {
    seq.binary_search_by_key(&zxid, |h| h.zxid)
        .ok()
        .and_then(|i| seq.get(i))
}

/// Inserts or replaces by zxid, keeping the order.
fn upsert(seq: &mut Vec<TxnHeader>, header: TxnHeader) {
    match seq.last() {
        Some(last) if last.zxid >= header.zxid => {
            match seq.binary_search_by_key(&header.zxid, |h| h.zxid) {
                Ok(i) => seq[i] = header,
                Err(i) => seq.insert(i, header),
            }
        }
        _ => seq.push(header),
    }
}

/// The cluster as observed.
#[derive(Clone, Debug, Default)]
pub struct ClusterModel {
    /// Per-server state.
    pub servers: BTreeMap<ServerId, ServerModel>,
    /// Every proposal broadcast, by zxid (the first one; a second is a judge's business).
    pub proposals: BTreeMap<Zxid, (ServerId, TxnEntry)>,
    /// Zxids a leader committed with a quorum of ACKs.
    pub quorum_committed: BTreeSet<Zxid>,
    /// Every delivered txn (anywhere), by zxid: the global committed sequence.
    pub delivered: BTreeMap<Zxid, TxnHeader>,
    /// The established leader of each epoch (the first one).
    pub epoch_leader: BTreeMap<Epoch, ServerId>,
    /// When each zxid was first delivered or quorum-committed.
    pub committed_at: BTreeMap<Zxid, TimeNs>,
    /// Per learner, the proposals its leader had outstanding when it chose the learner's sync:
    /// `startForwarding` re-sends them (PROPOSAL, then COMMIT) in that sync stream.
    pub sync_resent: BTreeMap<ServerId, BTreeSet<Zxid>>,
    /// The ACK set each quorum commit was decided with.
    pub commit_acks: BTreeMap<Zxid, BTreeSet<ServerId>>,
}

impl ClusterModel {
    /// An empty model.
    pub fn new() -> ClusterModel {
        ClusterModel::default()
    }

    /// The model of `server`, created on first mention.
    pub fn server(&mut self, server: ServerId) -> &mut ServerModel {
        self.servers.entry(server).or_insert_with(ServerModel::new)
    }

    /// Whether a TRUNC of `server` may cut committed `zxid` without losing it: its leader
    /// re-sends it in the same sync (it was outstanding when the leader chose the sync, as in
    /// `LearnerHandler.syncFollower`: TRUNC to `maxCommittedLog`, then `startForwarding`) and
    /// the commit did not count this server's ACK, so no copy of the commit quorum goes.
    pub fn resent_in_sync(&self, server: ServerId, zxid: Zxid) -> bool {
        self.sync_resent
            .get(&server)
            .is_some_and(|r| r.contains(&zxid))
            && self
                .commit_acks
                .get(&zxid)
                .is_some_and(|acks| !acks.contains(&server))
    }

    /// Whether `zxid` is known committed (quorum-acked or delivered somewhere).
    pub fn is_committed(&self, zxid: Zxid) -> bool {
        self.quorum_committed.contains(&zxid) || self.delivered.contains_key(&zxid)
    }

    /// Every known-committed zxid, in order.
    pub fn committed_zxids(&self) -> BTreeSet<Zxid> {
        let mut all = self.quorum_committed.clone();
        all.extend(self.delivered.keys().copied());
        all
    }

    fn mark_committed(&mut self, zxid: Zxid, time: TimeNs) {
        self.committed_at.entry(zxid).or_insert(time);
    }

    fn deliver(&mut self, header: TxnHeader, time: TimeNs) {
        self.delivered.entry(header.zxid).or_insert(header);
        self.mark_committed(header.zxid, time);
    }

    /// Updates the model with one observation at `time`.
    pub fn apply(&mut self, time: TimeNs, observation: &Observation) {
        match observation {
            Observation::ServerStateChanged { server, state, .. } => {
                let s = self.server(*server);
                s.state = *state;
                s.state_since = time;
                s.alive = true;
                if *state == ServerState::Looking {
                    s.leader = None;
                }
            }
            Observation::ZabStateChanged {
                server, zab_state, ..
            } => self.zab_state_changed(time, *server, *zab_state),
            Observation::AcceptedEpochPersisted { server, epoch } => {
                self.server(*server).accepted_epoch = *epoch;
            }
            Observation::CurrentEpochPersisted { server, epoch } => {
                self.server(*server).current_epoch = *epoch;
            }
            Observation::LeaderEstablished {
                leader,
                epoch,
                initial_history_zxid,
                ..
            } => self.establish(time, *leader, *epoch, *initial_history_zxid),
            Observation::Proposed { leader, entry } => {
                self.proposals
                    .entry(entry.header.zxid)
                    .or_insert_with(|| (*leader, entry.clone()));
            }
            Observation::ProposalLogged { server, header } => {
                upsert(&mut self.server(*server).log, *header);
            }
            Observation::Committed { zxid, acks, .. } => {
                self.commit_acks
                    .entry(*zxid)
                    .or_insert_with(|| acks.iter().copied().collect());
                self.quorum_committed.insert(*zxid);
                self.mark_committed(*zxid, time);
            }
            Observation::TxnApplied {
                server,
                header,
                reason,
                digest,
            } => self.applied(time, *server, *header, *reason, *digest),
            Observation::SyncModeChosen {
                leader, learner, ..
            } => {
                let outstanding: BTreeSet<Zxid> = self
                    .proposals
                    .iter()
                    .filter(|(z, (l, _))| l == leader && !self.quorum_committed.contains(z))
                    .map(|(z, _)| *z)
                    .collect();
                self.sync_resent.insert(*learner, outstanding);
            }
            Observation::SyncModeReceived {
                learner, leader, ..
            } => {
                self.server(*learner).leader = Some(*leader);
            }
            Observation::SnapshotInstalled {
                server,
                zxid,
                digest,
            } => self.snapshot_installed(*server, *zxid, *digest),
            Observation::LogTruncated { server, zxid, .. } => {
                let s = self.server(*server);
                s.log.retain(|h| h.zxid <= *zxid);
                s.tree.retain(|h| h.zxid <= *zxid);
                s.last_committed = s.last_committed.min(*zxid);
            }
            Observation::Crashed { server } => {
                let s = self.server(*server);
                s.alive = false;
                s.pending_snap = None;
                s.tree.clear();
                s.last_committed = Zxid::ZERO;
                s.leader = None;
                s.state = ServerState::Looking;
                s.zab_state = ZabState::Election;
                s.state_since = time;
            }
            Observation::RecoveryFinished {
                server,
                zxid,
                accepted_epoch,
                current_epoch,
                ..
            } => {
                let s = self.server(*server);
                s.alive = true;
                s.tree = s.log.iter().filter(|h| h.zxid <= *zxid).copied().collect();
                s.accepted_epoch = *accepted_epoch;
                s.current_epoch = *current_epoch;
                s.state_since = time;
            }
            Observation::SnapshotTaken { server, zxid } => {
                // The snapshot holds the DataTree at `zxid`; recovery loads it and replays only
                // the log after it. So the durable history is now the tree up to `zxid` followed
                // by the logged txns after it — this covers a SNAP-installed database (durable
                // only from here) and txns a TRUNC/SNAP sync applied without logging them
                // (`Learner.syncWithLeader` with `snapshotNeeded`: the NEWLEADER snapshot).
                let s = self.server(*server);
                if s.pending_snap.as_ref().is_some_and(|(z, _)| z <= zxid) {
                    s.pending_snap = None;
                }
                let mut durable: Vec<TxnHeader> =
                    s.tree.iter().filter(|h| h.zxid <= *zxid).copied().collect();
                durable.extend(s.log.iter().filter(|h| h.zxid > *zxid).copied());
                s.log = durable;
            }
            Observation::SessionCreated { .. }
            | Observation::SessionExpired { .. }
            | Observation::SessionClosed { .. }
            | Observation::EphemeralCreated { .. }
            | Observation::EphemeralDeleted { .. }
            | Observation::WatchTriggered { .. } => {}
        }
    }

    /// A learner entering BROADCAST has processed UPTODATE: everything in its DataTree is now
    /// committed (the leader sends UPTODATE only after a quorum acked NEWLEADER).
    fn zab_state_changed(&mut self, time: TimeNs, server: ServerId, zab_state: ZabState) {
        let s = self.server(server);
        s.zab_state = zab_state;
        let learner = matches!(s.state, ServerState::Following | ServerState::Observing);
        if zab_state != ZabState::Broadcast || !learner {
            return;
        }
        let newly: Vec<TxnHeader> = s
            .tree
            .iter()
            .filter(|h| h.zxid > s.last_committed)
            .copied()
            .collect();
        s.last_committed = s.last_processed();
        for header in newly {
            self.deliver(header, time);
        }
    }

    fn establish(&mut self, time: TimeNs, leader: ServerId, epoch: Epoch, initial: Zxid) {
        self.epoch_leader.entry(epoch).or_insert(leader);
        let s = self.server(leader);
        let initial_history: Vec<TxnHeader> = s
            .tree
            .iter()
            .filter(|h| h.zxid <= initial)
            .copied()
            .collect();
        s.last_committed = s.last_committed.max(initial);
        for header in initial_history {
            self.deliver(header, time);
        }
    }

    fn applied(
        &mut self,
        time: TimeNs,
        server: ServerId,
        header: TxnHeader,
        reason: ApplyReason,
        digest: Option<i64>,
    ) {
        let s = self.server(server);
        upsert(&mut s.tree, header);
        if reason == ApplyReason::Recovery {
            // Replayed from its own disk, so it is in its log even if the write was never
            // reported durable: a killed process's unsynced writes survive in the page cache.
            upsert(&mut s.log, header);
        }
        if let (Some(d), false) = (digest, reason == ApplyReason::Recovery) {
            s.digests.insert(header.zxid, d);
        }
        if reason == ApplyReason::Commit {
            s.last_committed = s.last_committed.max(header.zxid);
            self.deliver(header, time);
        }
    }

    fn snapshot_installed(&mut self, server: ServerId, zxid: Zxid, digest: Option<i64>) {
        let leader = self.servers.get(&server).and_then(|s| s.leader);
        let base: Vec<TxnHeader> = match leader.and_then(|l| self.servers.get(&l)) {
            Some(l) => l.tree.iter().filter(|h| h.zxid <= zxid).copied().collect(),
            None => self.delivered.range(..=zxid).map(|(_, h)| *h).collect(),
        };
        let s = self.server(server);
        s.tree = base.clone();
        // Durable only once the snapshot is written (`SnapshotTaken`); until then the disk
        // holds the old log, and txns logged after the install join the image then.
        s.pending_snap = Some((zxid, base));
        s.last_committed = s.last_committed.min(zxid);
        if let Some(d) = digest {
            s.digests.insert(zxid, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zabsim_protocol::op_code::OpCode;
    use zabsim_protocol::types::{SessionId, Xid};

    fn header(n: u64) -> TxnHeader {
        TxnHeader {
            client_id: SessionId(1),
            cxid: Xid(n as i32),
            zxid: Zxid(n),
            time: 0,
            txn_type: OpCode::SetData,
        }
    }

    fn sync_apply(model: &mut ClusterModel, server: ServerId, n: u64) {
        let o = Observation::TxnApplied {
            server,
            header: header(n),
            reason: ApplyReason::Sync,
            digest: None,
        };
        model.apply(0, &o);
    }

    /// A TRUNC/SNAP sync applies txns without logging them; the NEWLEADER snapshot makes them
    /// durable, and only it.
    #[test]
    fn txns_applied_in_sync_become_durable_with_the_snapshot() {
        let s = ServerId(3);
        let mut model = ClusterModel::new();
        model.apply(
            0,
            &Observation::ProposalLogged {
                server: s,
                header: header(1),
            },
        );
        sync_apply(&mut model, s, 1);
        sync_apply(&mut model, s, 2);
        sync_apply(&mut model, s, 3);
        assert_eq!(model.servers[&s].last_logged(), Zxid(1));
        model.apply(
            0,
            &Observation::SnapshotTaken {
                server: s,
                zxid: Zxid(2),
            },
        );
        let logged: Vec<Zxid> = model.servers[&s].log.iter().map(|h| h.zxid).collect();
        assert_eq!(
            logged,
            vec![Zxid(1), Zxid(2)],
            "3 was applied after the snapshot"
        );
        model.apply(0, &Observation::Crashed { server: s });
        assert_eq!(model.servers[&s].last_logged(), Zxid(2));
    }

    fn propose(model: &mut ClusterModel, leader: ServerId, n: u64) {
        let entry = TxnEntry {
            header: header(n),
            txn: zabsim_protocol::txn::Txn::Error { err: 0 },
            digest: None,
        };
        model.apply(0, &Observation::Proposed { leader, entry });
    }

    fn commit(model: &mut ClusterModel, leader: ServerId, n: u64, acks: &[u64]) {
        let acks = acks.iter().map(|a| ServerId(*a)).collect();
        let o = Observation::Committed {
            leader,
            zxid: Zxid(n),
            acks,
        };
        model.apply(0, &o);
    }

    /// Swarm seeds 6719, 7288, 7800, 8021: a TRUNC may cut a txn the leader had outstanding
    /// when it chose the sync (re-sent in the stream) if the commit did not count this server.
    #[test]
    fn a_trunc_may_cut_only_a_resent_txn_committed_without_this_server() {
        let (leader, learner) = (ServerId(3), ServerId(2));
        let mut model = ClusterModel::new();
        propose(&mut model, leader, 1);
        commit(&mut model, leader, 1, &[1, 3]);
        propose(&mut model, leader, 2);
        propose(&mut model, leader, 3);
        let o = Observation::SyncModeChosen {
            leader,
            learner,
            mode: zabsim_protocol::observe::SyncMode::Trunc,
            peer_last_zxid: Zxid(3),
            zxid: Zxid(1),
        };
        model.apply(0, &o);
        propose(&mut model, leader, 4);
        commit(&mut model, leader, 2, &[1, 3]);
        commit(&mut model, leader, 3, &[2, 3]);
        commit(&mut model, leader, 4, &[1, 3]);
        assert!(
            !model.resent_in_sync(learner, Zxid(1)),
            "committed before the sync"
        );
        assert!(
            model.resent_in_sync(learner, Zxid(2)),
            "re-sent, committed by s1+s3"
        );
        assert!(
            !model.resent_in_sync(learner, Zxid(3)),
            "its commit counted s2's ACK"
        );
        assert!(
            !model.resent_in_sync(learner, Zxid(4)),
            "proposed after the sync"
        );
    }
}
