//! The server's view of its own `version-2` files ([`DiskMirror`]): what it has written, as
//! ZooKeeper would read it back through the page cache (TRUNC reloads, the on-disk DIFF, purge).
//! Every byte format comes from [`crate::persist`]: `FileTxnLog` records with Adler32 after a
//! `ZKLG` file header, `ZKSN` snapshots, the decimal epoch files; recovery is
//! [`persist::recovery::recover`](crate::persist::recovery::recover).

use crate::persist::names::{sorted_files, LOG_PREFIX, SNAPSHOT_PREFIX};
use crate::persist::recovery::{recover, Recovered};
use crate::persist::txn_log::parse_log;
use crate::persist::PersistError;
use crate::server::io::DataDir;
use crate::txn::TxnEntry;
use crate::types::Zxid;
use std::collections::BTreeMap;

pub use crate::persist::names::{log_file_name, snapshot_file_name, ACCEPTED_EPOCH, CURRENT_EPOCH};

/// A server's view of the files it has written: name → bytes, updated when a write is issued.
#[derive(Clone, Debug, Default)]
pub struct DiskMirror {
    /// File contents.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl DiskMirror {
    /// The mirror of a data directory as read at boot. A file that could not be read is an
    /// error naming it.
    pub fn from_data_dir(dir: &DataDir) -> Result<DiskMirror, String> {
        let mut files = BTreeMap::new();
        for (name, content) in dir {
            match content {
                Ok(bytes) => {
                    files.insert(name.clone(), bytes.clone());
                }
                Err(e) => return Err(format!("{name}: read failed: {e:?}")),
            }
        }
        Ok(DiskMirror { files })
    }

    /// Log file names in zxid order.
    pub fn logs(&self) -> Vec<(Zxid, String)> {
        sorted_files(&self.files, LOG_PREFIX)
    }

    /// Snapshot file names in zxid order.
    pub fn snapshots(&self) -> Vec<(Zxid, String)> {
        sorted_files(&self.files, SNAPSHOT_PREFIX)
    }

    /// Every logged txn with its file and end offset, in file order (a torn tail or the
    /// preallocated zeros end a file; a bad checksum is an error naming file and offset).
    pub fn logged(&self) -> Result<Vec<(TxnEntry, String, u64)>, PersistError> {
        let mut out = Vec::new();
        for (_, name) in self.logs() {
            let bytes = self.files.get(&name).map(Vec::as_slice).unwrap_or(&[]);
            if bytes.is_empty() {
                continue; // a log that lost even its header (recovery deletes it)
            }
            for record in parse_log(&name, bytes)?.records {
                out.push((record.entry, name.clone(), record.end));
            }
        }
        Ok(out)
    }

    /// `FileTxnSnapLog.restore` over the mirror.
    pub fn recover(&self) -> Result<Recovered, PersistError> {
        recover(&self.files)
    }
}
