//! File names in a `version-2` directory (`Util.makeLogName`, `Util.makeSnapshotName`,
//! `Util.getZxidFromName`) and [`DirView`], the read-only view of a directory that recovery,
//! truncation and purge plan against.

use crate::server::io::{DataDir, DiskFailure};
use crate::types::Zxid;
use std::collections::BTreeMap;

/// Prefix of txn log files.
pub const LOG_PREFIX: &str = "log";
/// Prefix of snapshot files.
pub const SNAPSHOT_PREFIX: &str = "snapshot";
/// `acceptedEpoch` file name.
pub const ACCEPTED_EPOCH: &str = "acceptedEpoch";
/// `currentEpoch` file name.
pub const CURRENT_EPOCH: &str = "currentEpoch";

/// `log.<hex zxid>`: the log file whose first txn is `zxid`.
pub fn log_file_name(zxid: Zxid) -> String {
    format!("{LOG_PREFIX}.{:x}", zxid.0)
}

/// `snapshot.<hex zxid>`.
pub fn snapshot_file_name(zxid: Zxid) -> String {
    format!("{SNAPSHOT_PREFIX}.{:x}", zxid.0)
}

/// `Util.getZxidFromName`: split on `.`, the first part must be `prefix`, the second a hex long.
/// (`snapshot.1a.gz` parses; `log.xyz` does not.)
pub fn zxid_from_name(name: &str, prefix: &str) -> Option<Zxid> {
    let mut parts = name.split('.');
    if parts.next()? != prefix {
        return None;
    }
    let hex = parts.next()?;
    let value = i64::from_str_radix(hex, 16).ok()?;
    (value >= 0).then(|| Zxid::from_i64(value))
}

/// A read-only view of a `version-2` directory: what recovery, truncation and purge look at.
pub trait DirView {
    /// Every file name.
    fn file_names(&self) -> Vec<String>;
    /// A file's bytes, its read failure, or `None` if it does not exist.
    fn file(&self, name: &str) -> Option<Result<&[u8], DiskFailure>>;
}

impl DirView for DataDir {
    fn file_names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }

    fn file(&self, name: &str) -> Option<Result<&[u8], DiskFailure>> {
        self.get(name)
            .map(|r| r.as_ref().map(Vec::as_slice).map_err(Clone::clone))
    }
}

impl DirView for BTreeMap<String, Vec<u8>> {
    fn file_names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }

    fn file(&self, name: &str) -> Option<Result<&[u8], DiskFailure>> {
        self.get(name).map(|b| Ok(b.as_slice()))
    }
}

/// The files with `prefix`, sorted by the zxid in their names (ascending), as `sortDataDir`.
pub fn sorted_files(dir: &impl DirView, prefix: &str) -> Vec<(Zxid, String)> {
    let mut out: Vec<(Zxid, String)> = dir
        .file_names()
        .into_iter()
        .filter_map(|n| zxid_from_name(&n, prefix).map(|z| (z, n)))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let z = Zxid(0x1_0000_0086);
        assert_eq!(log_file_name(z), "log.100000086");
        assert_eq!(snapshot_file_name(Zxid(0)), "snapshot.0");
        assert_eq!(
            zxid_from_name("snapshot.100000086", SNAPSHOT_PREFIX),
            Some(z)
        );
        assert_eq!(
            zxid_from_name("snapshot.100000086.gz", SNAPSHOT_PREFIX),
            Some(z)
        );
        assert_eq!(zxid_from_name("log.100000086", SNAPSHOT_PREFIX), None);
        assert_eq!(zxid_from_name("log.zz", LOG_PREFIX), None);
        assert_eq!(zxid_from_name("acceptedEpoch", LOG_PREFIX), None);
    }
}
