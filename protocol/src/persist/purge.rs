//! `PurgeTxnLog.purge`: keep the `snap_retain_count` newest snapshots that look complete; let Z
//! be the oldest kept one's zxid; delete snapshots below Z and log files starting below Z,
//! except the newest log file starting at or before Z (it may hold txns after Z, ZOOKEEPER-2574).

use super::names::{sorted_files, zxid_from_name, DirView, LOG_PREFIX, SNAPSHOT_PREFIX};
use super::snapshot::looks_complete;
use crate::types::Zxid;

/// ZooKeeper's minimum `autopurge.snapRetainCount`.
pub const MIN_SNAP_RETAIN_COUNT: usize = 3;

/// The files a purge deletes, sorted by name. `snap_retain_count` must be at least 3 (ZooKeeper
/// refuses less; the configuration clamps it).
pub fn purge_plan(dir: &impl DirView, snap_retain_count: usize) -> Vec<String> {
    assert!(
        snap_retain_count >= MIN_SNAP_RETAIN_COUNT,
        "snapRetainCount must be at least 3, got {snap_retain_count}"
    );
    let valid: Vec<Zxid> = sorted_files(dir, SNAPSHOT_PREFIX)
        .into_iter()
        .rev()
        .filter(|(_, n)| matches!(dir.file(n), Some(Ok(b)) if looks_complete(b)))
        .take(snap_retain_count)
        .map(|(z, _)| z)
        .collect();
    let Some(&least) = valid.last() else {
        return Vec::new();
    };
    // `getLogFiles(least)`: the newest log starting at or before `least`, and all after it.
    let logs = sorted_files(dir, LOG_PREFIX);
    let retained_from = logs
        .iter()
        .filter(|(z, _)| *z <= least)
        .map(|(z, _)| *z)
        .max()
        .unwrap_or(Zxid::ZERO);
    let mut out: Vec<String> = dir
        .file_names()
        .into_iter()
        .filter(|name| {
            let below = |prefix: &str| {
                name.starts_with(&format!("{prefix}."))
                    && zxid_from_name(name, prefix).is_none_or(|z| z < least)
            };
            let log_retained = zxid_from_name(name, LOG_PREFIX).is_some_and(|z| z >= retained_from);
            (below(LOG_PREFIX) && !log_retained) || below(SNAPSHOT_PREFIX)
        })
        .collect();
    out.sort();
    assert!(out
        .iter()
        .all(|n| zxid_from_name(n, SNAPSHOT_PREFIX) != Some(least)));
    out
}
