//! Boot recovery (`FileTxnSnapLog.restore`) and TRUNC planning (`FileTxnLog.truncate`).
//!
//! Recovery: try the newest snapshots that pass the cheap completeness check (at most
//! [`MAX_SNAPSHOTS_TRIED`]), newest first; the first that decodes with valid seals wins and its
//! *file name* gives the zxid. Then replay the logs: the last file starting at or before
//! `snapshot_zxid` (it holds `snapshot_zxid + 1`) plus every later file, skipping records up to the first with zxid `> snapshot_zxid`, and taking every
//! record after it (fuzzy snapshots make some of them already applied; the store's replay is
//! idempotent). A torn tail ends a file; a bad checksum or an undecodable record is an error.
//! No snapshot but logs: an error (ZOOKEEPER-2325). No snapshot and no logs: an empty database at
//! zxid 0, for which ZooKeeper writes `snapshot.0` before serving.

use super::epoch::decode_epoch;
use super::error::PersistError;
use super::names::SNAPSHOT_PREFIX;
use super::names::{sorted_files, DirView, ACCEPTED_EPOCH, CURRENT_EPOCH, LOG_PREFIX};
use super::snapshot::{decode_snapshot, looks_complete};
use super::txn_log::{parse_log, LogEnd, ParsedLog};
use crate::snapshot_image::SnapshotImage;
use crate::txn::TxnEntry;
use crate::types::{Epoch, Zxid};

/// `FileSnap.deserialize` tries at most this many snapshots.
pub const MAX_SNAPSHOTS_TRIED: usize = 100;

/// The snapshot recovery started from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredSnapshot {
    /// Its file name.
    pub file: String,
    /// The zxid in its name (`lastProcessedZxid` when serialization started).
    pub zxid: Zxid,
    /// Its content.
    pub image: SnapshotImage,
}

/// One log file as recovery read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFileInfo {
    /// File name.
    pub name: String,
    /// The zxid in its name (its first txn).
    pub start_zxid: Zxid,
    /// Number of complete records.
    pub records: usize,
    /// Zxid of its last complete record.
    pub last_zxid: Option<Zxid>,
    /// Offset just after its last complete record.
    pub valid_end: u64,
    /// The file's length.
    pub len: u64,
    /// How reading it ended.
    pub end: LogEnd,
}

/// What boot recovery found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// The snapshot loaded; `None` for a fresh, empty database (write `snapshot.0`).
    pub snapshot: Option<RecoveredSnapshot>,
    /// Snapshots passed over (incomplete or corrupt), newest first, with why.
    pub skipped_snapshots: Vec<(String, PersistError)>,
    /// The txns to replay after the snapshot, in log order.
    pub txns: Vec<TxnEntry>,
    /// `lastProcessedZxid` after replay: the snapshot's zxid raised by every replayed txn
    /// (the last *logged* zxid, committed or not).
    pub last_processed_zxid: Zxid,
    /// The log files replay read, ascending (the server appends to a new file, TRUNC cuts them).
    pub logs: Vec<LogFileInfo>,
    /// Every log file in the directory with its first zxid, ascending.
    pub all_logs: Vec<(Zxid, String)>,
    /// The newest log file, empty (it lost even its header): ZooKeeper deletes it.
    pub empty_tail_log: Option<String>,
    /// `acceptedEpoch`, if the file exists.
    pub accepted_epoch: Option<Epoch>,
    /// `currentEpoch`, if the file exists.
    pub current_epoch: Option<Epoch>,
    /// `currentEpoch.tmp`, if it exists and parses (the ZOOKEEPER-4269 fallback).
    pub current_epoch_tmp: Option<Epoch>,
}

fn read<'a>(dir: &'a impl DirView, name: &str) -> Result<Option<&'a [u8]>, PersistError> {
    match dir.file(name) {
        None => Ok(None),
        Some(Ok(bytes)) => Ok(Some(bytes)),
        Some(Err(failure)) => Err(PersistError::Unreadable {
            file: name.to_string(),
            failure,
        }),
    }
}

/// `FileTxnSnapLog.restore` over a directory view.
pub fn recover(dir: &impl DirView) -> Result<Recovered, PersistError> {
    let (snapshot, skipped_snapshots) = choose_snapshot(dir)?;
    let mut all_logs = sorted_files(dir, LOG_PREFIX);
    let mut empty_tail_log = None;
    if let Some((_, newest)) = all_logs.last() {
        if read(dir, newest)?.is_some_and(<[u8]>::is_empty) {
            empty_tail_log = Some(newest.clone());
            all_logs.pop();
        }
    }
    if snapshot.is_none() && !all_logs.is_empty() {
        let logs = all_logs.into_iter().map(|(_, n)| n).collect();
        return Err(PersistError::NoSnapshotButLogs { logs });
    }
    let snap_zxid = snapshot.as_ref().map_or(Zxid::ZERO, |s| s.zxid);
    let (txns, logs) = replay(dir, &all_logs, snap_zxid)?;
    let last_processed_zxid = txns
        .iter()
        .map(|t| t.header.zxid)
        .fold(snap_zxid, Zxid::max);
    let epoch = |name: &str| -> Result<Option<Epoch>, PersistError> {
        read(dir, name)?.map(|b| decode_epoch(name, b)).transpose()
    };
    let tmp = format!("{CURRENT_EPOCH}.tmp");
    Ok(Recovered {
        snapshot,
        skipped_snapshots,
        txns,
        last_processed_zxid,
        logs,
        all_logs,
        empty_tail_log,
        accepted_epoch: epoch(ACCEPTED_EPOCH)?,
        current_epoch: epoch(CURRENT_EPOCH)?,
        current_epoch_tmp: epoch(&tmp).ok().flatten(),
    })
}

type Chosen = (Option<RecoveredSnapshot>, Vec<(String, PersistError)>);

/// `FileSnap.findNValidSnapshots(100)` then `deserialize` newest first.
fn choose_snapshot(dir: &impl DirView) -> Result<Chosen, PersistError> {
    let mut skipped = Vec::new();
    let mut candidates = Vec::new();
    for (zxid, name) in sorted_files(dir, SNAPSHOT_PREFIX).into_iter().rev() {
        match dir.file(&name) {
            Some(Ok(bytes)) if looks_complete(bytes) => candidates.push((zxid, name, bytes)),
            Some(Ok(_)) => skipped.push((name.clone(), incomplete(&name))),
            Some(Err(failure)) => {
                let file = name.clone();
                skipped.push((name, PersistError::Unreadable { file, failure }));
            }
            None => {}
        }
        if candidates.len() == MAX_SNAPSHOTS_TRIED {
            break;
        }
    }
    if candidates.is_empty() {
        return Ok((None, skipped));
    }
    let mut tried = Vec::new();
    for (zxid, file, bytes) in candidates {
        match decode_snapshot(&file, bytes) {
            Ok(image) => return Ok((Some(RecoveredSnapshot { file, zxid, image }), skipped)),
            Err(e) => {
                tried.push((file.clone(), Box::new(e.clone())));
                skipped.push((file, e));
            }
        }
    }
    Err(PersistError::NoValidSnapshot { tried })
}

fn incomplete(name: &str) -> PersistError {
    PersistError::Malformed {
        file: name.to_string(),
        offset: 0,
        field: "seal",
        problem: "incomplete snapshot: does not end with a seal".to_string(),
    }
}

/// The files `FileTxnIterator(zxid)` reads: the last one starting below `zxid`, then every later one.
fn files_from(all: &[(Zxid, String)], zxid: Zxid) -> &[(Zxid, String)] {
    let first = all
        .iter()
        .rposition(|(start, _)| *start < zxid)
        .unwrap_or(0);
    &all[first..]
}

fn parse(dir: &impl DirView, name: &str) -> Result<ParsedLog, PersistError> {
    let bytes = read(dir, name)?.unwrap_or(&[]);
    parse_log(name, bytes)
}

/// `fastForwardFromEdits`: every record from the first one after `snap_zxid`.
fn replay(
    dir: &impl DirView,
    all: &[(Zxid, String)],
    snap_zxid: Zxid,
) -> Result<(Vec<TxnEntry>, Vec<LogFileInfo>), PersistError> {
    let target = Zxid(snap_zxid.0.saturating_add(1));
    let mut txns = Vec::new();
    let mut infos = Vec::new();
    let mut started = false;
    for (start_zxid, name) in files_from(all, target) {
        let parsed = parse(dir, name)?;
        for record in &parsed.records {
            started = started || record.entry.header.zxid >= target;
            if started {
                txns.push(record.entry.clone());
            }
        }
        infos.push(LogFileInfo {
            name: name.clone(),
            start_zxid: *start_zxid,
            records: parsed.records.len(),
            last_zxid: parsed.records.last().map(|r| r.entry.header.zxid),
            valid_end: parsed.valid_end(),
            len: read(dir, name)?.map_or(0, |b| b.len() as u64),
            end: parsed.end,
        });
    }
    assert!(txns.first().is_none_or(|t| t.header.zxid > snap_zxid));
    Ok((txns, infos))
}

/// What `FileTxnLog.truncate(zxid)` does to the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruncatePlan {
    /// The file to cut.
    pub file: String,
    /// Its new length: just after the first record with zxid `>=` the target.
    pub len: u64,
    /// Every later log file, to delete.
    pub delete: Vec<String>,
}

/// Plans TRUNC to `zxid` as ZooKeeper does it: position after the first record whose zxid is
/// `>= zxid` (normally the record with exactly that zxid), cut that file there and delete every
/// later log file. Snapshots are not touched. No such record is an error, as in ZooKeeper.
pub fn truncate_plan(dir: &impl DirView, zxid: Zxid) -> Result<TruncatePlan, PersistError> {
    let all = sorted_files(dir, LOG_PREFIX);
    let files = files_from(&all, zxid);
    for (i, (_, name)) in files.iter().enumerate() {
        if read(dir, name)?.is_some_and(<[u8]>::is_empty) && i + 1 == files.len() {
            break;
        }
        let parsed = parse(dir, name)?;
        if let Some(record) = parsed.records.iter().find(|r| r.entry.header.zxid >= zxid) {
            let delete = files[i + 1..].iter().map(|(_, n)| n.clone()).collect();
            return Ok(TruncatePlan {
                file: name.clone(),
                len: record.end,
                delete,
            });
        }
    }
    Err(PersistError::NothingToTruncate { zxid: zxid.0 })
}
