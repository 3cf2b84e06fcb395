//! `cluster.data_dir`: reading the `version-2` directory a scenario's servers boot from. The
//! directory must exist, be readable and recover (`FileTxnSnapLog.restore`): a directory that
//! would make every server halt at start-up is a bad scenario, not a run.

use std::collections::BTreeMap;
use std::path::Path;
use zabsim_checkers::zk::initial::InitialData;
use zabsim_protocol::persist::names::{sorted_files, LOG_PREFIX};
use zabsim_protocol::persist::recovery::recover;
use zabsim_protocol::persist::txn_log::parse_log;
use zabsim_protocol::txn::TxnEntry;
use zabsim_protocol::types::Zxid;

/// The directory's regular files, name → bytes, or what is wrong with it (naming the path).
pub fn read(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read the data directory: {e}", dir.display()))?;
    let mut files = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let name = entry
            .file_name()
            .into_string()
            .map_err(|n| format!("{}: file name is not UTF-8: {n:?}", dir.display()))?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.insert(name, bytes);
    }
    if files.is_empty() {
        return Err(format!(
            "{}: no files (not a version-2 directory?)",
            dir.display()
        ));
    }
    recover(&files).map_err(|e| format!("{}: cannot be recovered: {e}", dir.display()))?;
    Ok(files)
}

/// What the judges are told about `files` (see [`InitialData`]): the recovered zxid, the digest
/// the files record there (the last replayed record's `TxnDigest`, else the snapshot's digest
/// section when it names that zxid), and, when the logs hold the whole history from an empty
/// tree (a `snapshot.0` and an unbroken chain of records up to the recovered zxid), its txns.
/// `None` for empty disks or files that do not recover.
pub fn initial_data(files: &BTreeMap<String, Vec<u8>>) -> Option<InitialData> {
    if files.is_empty() {
        return None;
    }
    let rec = recover(files).ok()?;
    let zxid = rec.last_processed_zxid;
    let from_log = rec
        .txns
        .last()
        .filter(|t| t.header.zxid == zxid)
        .and_then(|t| t.digest.map(|d| d.tree_digest));
    let from_snapshot = rec
        .snapshot
        .as_ref()
        .and_then(|s| s.image.digest.filter(|d| d.zxid == zxid))
        .map(|d| d.digest);
    Some(InitialData {
        zxid,
        digest: from_log.or(from_snapshot),
        txns: whole_history(files, zxid),
    })
}

/// Every logged txn from the first one after `snapshot.0` to `last`, if nothing is missing.
fn whole_history(files: &BTreeMap<String, Vec<u8>>, last: Zxid) -> Option<Vec<TxnEntry>> {
    if !files.contains_key("snapshot.0") {
        return None;
    }
    let mut txns: Vec<TxnEntry> = Vec::new();
    for (_, name) in sorted_files(files, LOG_PREFIX) {
        let bytes = files.get(&name)?;
        if bytes.is_empty() {
            continue;
        }
        for record in parse_log(&name, bytes).ok()?.records {
            let z = record.entry.header.zxid;
            if z > last || txns.last().is_some_and(|t| t.header.zxid >= z) {
                continue; // beyond what recovery replays, or a repeat
            }
            let follows = match txns.last() {
                None => z.counter() == 1,
                Some(prev) => {
                    let p = prev.header.zxid;
                    (p.epoch() == z.epoch() && z.counter() == p.counter() + 1)
                        || (z.epoch() > p.epoch() && z.counter() == 1)
                }
            };
            if !follows {
                return None;
            }
            txns.push(record.entry);
        }
    }
    (txns.last().map(|t| t.header.zxid) == Some(last)).then_some(txns)
}
