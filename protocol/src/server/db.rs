//! The seam between the peer and its database and disk: applying committed txns (with every
//! observation the judges need and the client replies), the txn log (`SyncRequestProcessor`:
//! append, fsync, snapshot every `snapCount/2 + randRoll` txns, roll), snapshots, and boot
//! recovery (`ZKDatabase.loadDataBase`, `QuorumPeer.loadDataBase`'s epoch checks).

use super::disk::{atomic_write, Then};
use super::io::{DiskRequest, ServerAction};
use super::storage::{
    log_file_name, snapshot_file_name, DiskMirror, ACCEPTED_EPOCH, CURRENT_EPOCH,
};
use super::{store_config, QuorumPeer};
use crate::observe::{ApplyReason, Observation};
use crate::persist::epoch::encode_epoch;
use crate::persist::load::load_database;
use crate::persist::recovery::Recovered;
use crate::persist::snapshot::encode_snapshot;
use crate::persist::txn_log::{encode_record, file_header, size_with_padding, FILE_HEADER_LEN};
use crate::store::SessionChange;
use crate::txn::TxnEntry;
use crate::types::{Epoch, Zxid};

impl QuorumPeer {
    /// Applies one txn to the DataTree (`FinalRequestProcessor` / replay), reports it, adds it
    /// to `committedLog` and answers the local client waiting for it.
    pub(crate) fn apply_txn(
        &mut self,
        entry: &TxnEntry,
        reason: ApplyReason,
        out: &mut Vec<ServerAction>,
    ) {
        let applied = self.db.apply(entry);
        let zxid = entry.header.zxid;
        let digest = self.config.digest_enabled.then(|| self.db.digest());
        let me = self.myid;
        self.observe(
            out,
            Observation::TxnApplied {
                server: me,
                header: entry.header,
                reason,
                digest,
            },
        );
        match applied.session_change {
            Some(SessionChange::Created {
                session,
                timeout_ms,
            }) => self.observe(
                out,
                Observation::SessionCreated {
                    server: me,
                    session,
                    timeout_ms,
                    zxid,
                },
            ),
            Some(SessionChange::Closed { session }) => self.observe(
                out,
                Observation::SessionClosed {
                    server: me,
                    session,
                    zxid,
                },
            ),
            None => {}
        }
        for (path, session) in &applied.ephemerals_created {
            let o = Observation::EphemeralCreated {
                server: me,
                session: *session,
                path: path.clone(),
                zxid,
            };
            self.observe(out, o);
        }
        for (path, session) in &applied.ephemerals_deleted {
            let o = Observation::EphemeralDeleted {
                server: me,
                session: *session,
                path: path.clone(),
                zxid,
            };
            self.observe(out, o);
        }
        for ev in &applied.events {
            let o = Observation::WatchTriggered {
                server: me,
                session: ev.session,
                path: ev.event.path.clone(),
                event_type: ev.event.event_type,
                zxid,
            };
            self.observe(out, o);
        }
        self.add_committed(entry);
        self.clients_applied(&applied, out);
    }

    /// `ZKDatabase.addCommittedProposal`: keeps the last `commitLogCount` txns.
    pub(crate) fn add_committed(&mut self, entry: &TxnEntry) {
        if let Some(last) = self.committed_log.back() {
            if last.header.zxid >= entry.header.zxid {
                return; // replayed twice (fuzzy snapshot + log): keep the window increasing
            }
        }
        self.committed_log.push_back(entry.clone());
        while self.committed_log.len() > self.config.commit_log_count.max(1) as usize {
            self.committed_log.pop_front();
        }
    }

    /// `SyncRequestProcessor` + `FileTxnLog.append`/`commit`: writes `txns` as log records and
    /// fsyncs; `then` runs once durable. A new file (after a roll, at boot, after TRUNC/SNAP) is
    /// begun with its `FileHeader` and gets a directory fsync so that it survives a crash; before
    /// each record `FilePadding` may grow the file by `preAllocSize` zeros (one zero byte written
    /// at the new end). May snapshot.
    pub(crate) fn log_txns(&mut self, txns: Vec<TxnEntry>, ack: bool, out: &mut Vec<ServerAction>) {
        let Some(first) = txns.first() else {
            return;
        };
        let mut ops = Vec::new();
        let mut new_file = false;
        if self.log.roll || self.log.current_file.is_none() {
            let name = log_file_name(first.header.zxid);
            if self.mirror.files.contains_key(&name) {
                // `new FileOutputStream(file)` truncates a file of the same name.
                ops.push(DiskRequest::Truncate {
                    file: name.clone(),
                    len: 0,
                });
            }
            ops.push(DiskRequest::Write {
                file: name.clone(),
                offset: 0,
                bytes: file_header(0),
            });
            self.log.current_file = Some(name);
            self.log.roll = false;
            self.log.position = FILE_HEADER_LEN;
            self.log.padded_size = FILE_HEADER_LEN;
            new_file = true;
        }
        let file = self.log.current_file.clone().unwrap_or_default();
        let start = self.log.position;
        let mut bytes = Vec::new();
        for txn in &txns {
            let position = start + bytes.len() as u64;
            let size =
                size_with_padding(position, self.log.padded_size, self.config.pre_alloc_size);
            if size != self.log.padded_size {
                ops.push(DiskRequest::Write {
                    file: file.clone(),
                    offset: size - 1,
                    bytes: vec![0],
                });
                self.log.padded_size = size;
            }
            bytes.extend(encode_record(txn));
        }
        self.log.position = start + bytes.len() as u64;
        self.log.since_snapshot += txns.len() as u64;
        let gen = self.gen;
        let merged = ops.is_empty()
            && self
                .disk
                .merge_log(&mut self.mirror, &file, start, &bytes, &txns, gen, ack);
        if !merged {
            ops.push(DiskRequest::Write {
                file: file.clone(),
                offset: start,
                bytes,
            });
            ops.push(DiskRequest::Fsync { file });
            if new_file {
                ops.push(DiskRequest::FsyncDir);
            }
            self.disk
                .push(&mut self.mirror, ops, Then::Logged { txns, gen, ack }, out);
        }
        if self.log.since_snapshot > self.log.snap_threshold {
            self.take_snapshot(out);
        }
    }

    /// Takes a (fuzzy) snapshot of the in-memory database, named by `lastProcessedZxid`, and
    /// rolls the log (`FileTxnLog.rollLog`: the next append begins a new file).
    pub(crate) fn take_snapshot(&mut self, out: &mut Vec<ServerAction>) {
        self.log.since_snapshot = 0;
        self.log.reroll(self.config.snap_count);
        self.log.roll = true;
        self.write_snapshot(out);
    }

    /// `FileSnap.serialize`: writes `snapshot.<lastProcessedZxid>` as a `ZKSN` file, fsyncs it
    /// and the directory. Nothing is written if a file of that name exists.
    pub(crate) fn write_snapshot(&mut self, out: &mut Vec<ServerAction>) {
        let zxid = self.db.last_processed_zxid();
        let file = snapshot_file_name(zxid);
        if self.mirror.files.contains_key(&file) {
            return;
        }
        let bytes = encode_snapshot(&self.db.to_snapshot_image());
        let ops = vec![
            DiskRequest::Write {
                file: file.clone(),
                offset: 0,
                bytes,
            },
            DiskRequest::Fsync { file },
            DiskRequest::FsyncDir,
        ];
        self.disk
            .push(&mut self.mirror, ops, Then::Snapshot { zxid }, out);
    }

    /// Queues the atomic write of an epoch file.
    pub(crate) fn write_epoch(
        &mut self,
        name: &str,
        epoch: Epoch,
        then: Then,
        out: &mut Vec<ServerAction>,
    ) {
        let ops = atomic_write(name, encode_epoch(epoch));
        self.disk.push(&mut self.mirror, ops, then, out);
    }

    /// Rebuilds the database from the mirror (boot, or after TRUNC): `FileTxnSnapLog.restore`
    /// ([`persist::recovery::recover`](crate::persist::recovery::recover)), the snapshot loaded
    /// by [`load_database`], then every replayed txn applied and reported with `reason`.
    pub(crate) fn reload_database(
        &mut self,
        reason: ApplyReason,
        out: &mut Vec<ServerAction>,
    ) -> Result<Recovered, String> {
        let rec = self.mirror.recover().map_err(|e| e.to_string())?;
        let config = store_config(&self.config, self.myid);
        let snapshot_only = Recovered {
            txns: Vec::new(),
            ..rec.clone()
        };
        self.db =
            load_database(&snapshot_only, config, self.now_ms()).map_err(|e| e.to_string())?;
        self.committed_log.clear();
        for entry in &rec.txns {
            if entry.header.zxid > self.db.last_processed_zxid() {
                self.apply_txn(entry, reason, out);
            }
        }
        Ok(rec)
    }

    /// `ServerInput::Start`: recovery, the epoch-file checks, then LOOKING.
    pub(crate) fn start(&mut self, entropy: u64, out: &mut Vec<ServerAction>) {
        let Some(dir) = self.boot_dir.take() else {
            return; // a second Start is ignored
        };
        self.log.roll_state = entropy;
        self.log.reroll(self.config.snap_count);
        self.clients.init_session_ids(self.myid, self.now_ms());
        if let Err(e) = self.recover(&dir, out) {
            self.halt(format!("recovery failed: {e}"), out);
            return;
        }
        self.look_for_leader(out);
    }

    fn recover(&mut self, dir: &super::DataDir, out: &mut Vec<ServerAction>) -> Result<(), String> {
        self.mirror = DiskMirror::from_data_dir(dir)?;
        let rec = self.reload_database(ApplyReason::Recovery, out)?;
        if let Some(empty) = &rec.empty_tail_log {
            // FileTxnSnapLog.restore deletes a newest log that lost even its header.
            let ops = vec![
                DiskRequest::Delete {
                    file: empty.clone(),
                },
                DiskRequest::FsyncDir,
            ];
            self.disk.push(&mut self.mirror, ops, Then::Nothing, out);
        }
        if rec.snapshot.is_none() {
            // An empty data directory: "Initialize a new snapshot.0" before serving.
            self.write_snapshot(out);
        }
        let last = self.db.last_processed_zxid();
        let data_epoch = last.epoch();
        let mut current = match rec.current_epoch {
            Some(e) => e,
            None => {
                self.write_epoch(CURRENT_EPOCH, data_epoch, Then::Nothing, out);
                data_epoch
            }
        };
        if data_epoch > current {
            match rec.current_epoch_tmp {
                Some(tmp) if tmp >= data_epoch => current = tmp,
                _ => {
                    return Err(format!(
                        "The current epoch, {current}, is older than the last zxid, {last}"
                    ))
                }
            }
        }
        let accepted = match rec.accepted_epoch {
            Some(e) => e,
            None => {
                self.write_epoch(ACCEPTED_EPOCH, data_epoch, Then::Nothing, out);
                data_epoch
            }
        };
        if accepted < current {
            return Err(format!(
                "The accepted epoch, {accepted} is less than the current epoch, {current}"
            ));
        }
        self.accepted_epoch = accepted;
        self.current_epoch = current;
        // The next log file starts after what is on disk.
        self.log.roll = true;
        let digest = self.config.digest_enabled.then(|| self.db.digest());
        self.observe(
            out,
            Observation::RecoveryFinished {
                server: self.myid,
                zxid: last,
                digest,
                accepted_epoch: accepted,
                current_epoch: current,
            },
        );
        Ok(())
    }

    /// `ZKDatabase.setlastProcessedZxid` (the leader's `startZkServer`). SEAM: reaches into the
    /// store's tree until `ZkDatabase` offers a setter.
    pub(crate) fn set_last_processed_zxid(&mut self, zxid: Zxid) {
        assert!(
            zxid >= self.db.last_processed_zxid(),
            "lastProcessedZxid never goes back"
        );
        self.db.tree.last_processed_zxid = zxid;
    }

    /// The logged txns newer than `zxid` (`fastForwardDataBase`'s input).
    pub(crate) fn logged_after(&self, zxid: Zxid) -> Vec<TxnEntry> {
        match self.mirror.logged() {
            Ok(v) => v
                .into_iter()
                .map(|(e, _, _)| e)
                .filter(|e| e.header.zxid > zxid)
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}
