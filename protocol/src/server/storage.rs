//! The server's seam to its data directory (`FileTxnSnapLog`): file names, record codecs and
//! boot recovery, plus [`DiskMirror`], the server's own view of the bytes it has written (what
//! ZooKeeper would read back through the page cache: TRUNC reloads, on-disk DIFF).
//!
//! STAND-IN: the byte formats here are placeholders until `persist/` lands
//! (`txn_log::{encode_record, parse_log}`, `snapshot::{encode_snapshot, decode_snapshot}`,
//! `epoch::{encode_epoch, decode_epoch}`, `recovery::recover`). A log record is
//! `u32 length | u64 checksum | JSON(TxnEntry)`; a snapshot is `JSON(SnapshotImage)`; epoch files
//! are ZooKeeper's decimal text. Only this file changes when the real codecs land.
//!
//! Fault model honoured: a torn tail (a record cut short) is dropped as `FileTxnLog` drops it; a
//! complete record with a bad checksum is an error (ZooKeeper refuses to start).

use crate::server::io::DataDir;
use crate::snapshot_image::SnapshotImage;
use crate::txn::TxnEntry;
use crate::types::{Epoch, Zxid};
use std::collections::BTreeMap;

/// `acceptedEpoch` file name.
pub const ACCEPTED_EPOCH: &str = "acceptedEpoch";
/// `currentEpoch` file name.
pub const CURRENT_EPOCH: &str = "currentEpoch";
const RECORD_HEADER: usize = 12;

/// `log.<hex zxid>`: the log file whose first txn is `zxid`.
pub fn log_file_name(zxid: Zxid) -> String {
    format!("log.{:x}", zxid.0)
}

/// `snapshot.<hex zxid>`.
pub fn snapshot_file_name(zxid: Zxid) -> String {
    format!("snapshot.{:x}", zxid.0)
}

/// The zxid in a `log.`/`snapshot.` file name.
pub fn zxid_of_name(name: &str, prefix: &str) -> Option<Zxid> {
    let hex = name.strip_prefix(prefix)?.strip_prefix('.')?;
    u64::from_str_radix(hex, 16).ok().map(Zxid)
}

/// An epoch file's content: the decimal long, as `QuorumPeer.writeLongToFile` writes it.
pub fn encode_epoch(epoch: Epoch) -> Vec<u8> {
    epoch.0.to_string().into_bytes()
}

/// Parses an epoch file.
pub fn decode_epoch(bytes: &[u8]) -> Result<Epoch, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not text: {e}"))?;
    let value: i64 = text
        .trim()
        .parse()
        .map_err(|e| format!("not a number {text:?}: {e}"))?;
    u32::try_from(value)
        .map(Epoch)
        .map_err(|_| format!("epoch out of range: {value}"))
}

fn checksum(bytes: &[u8]) -> u64 {
    // FNV-1a (stand-in for FileTxnLog's Adler32).
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One txn log record.
pub fn encode_record(entry: &TxnEntry) -> Vec<u8> {
    let body = serde_json::to_vec(entry).unwrap_or_default();
    assert!(!body.is_empty(), "a txn always serializes");
    let mut out = Vec::with_capacity(body.len() + RECORD_HEADER);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&checksum(&body).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// A parsed log file: each record with the byte offset just after it.
pub fn parse_log(file: &str, bytes: &[u8]) -> Result<Vec<(TxnEntry, u64)>, String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while bytes.len() - at >= RECORD_HEADER {
        let len_bytes: [u8; 4] = bytes[at..at + 4].try_into().unwrap_or_default();
        let sum_bytes: [u8; 8] = bytes[at + 4..at + 12].try_into().unwrap_or_default();
        let len = u32::from_be_bytes(len_bytes) as usize;
        let end = at + RECORD_HEADER + len;
        if len == 0 || end > bytes.len() {
            break; // torn tail (or preallocated zeros): the log ends here
        }
        let body = &bytes[at + RECORD_HEADER..end];
        if checksum(body) != u64::from_be_bytes(sum_bytes) {
            return Err(format!("{file}: checksum mismatch at offset {at}"));
        }
        let entry: TxnEntry = serde_json::from_slice(body)
            .map_err(|e| format!("{file}: bad record at offset {at}: {e}"))?;
        out.push((entry, end as u64));
        at = end;
    }
    Ok(out)
}

/// A snapshot file's bytes.
pub fn encode_snapshot(image: &SnapshotImage) -> Vec<u8> {
    serde_json::to_vec(image).unwrap_or_default()
}

/// Parses a snapshot file.
pub fn decode_snapshot(file: &str, bytes: &[u8]) -> Result<SnapshotImage, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{file}: bad snapshot: {e}"))
}

/// What boot recovery found on disk.
#[derive(Clone, Debug, Default)]
pub struct Recovered {
    /// The newest valid snapshot: its file-name zxid and image.
    pub snapshot: Option<(Zxid, SnapshotImage)>,
    /// Logged txns after the snapshot, in zxid order.
    pub txns: Vec<TxnEntry>,
    /// `acceptedEpoch`, if the file exists.
    pub accepted_epoch: Option<Epoch>,
    /// `currentEpoch`, if the file exists.
    pub current_epoch: Option<Epoch>,
    /// `currentEpoch.tmp`, if it exists (ZK-4269 fallback).
    pub current_epoch_tmp: Option<Epoch>,
}

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
        let mut v: Vec<(Zxid, String)> = self
            .files
            .keys()
            .filter_map(|n| zxid_of_name(n, "log").map(|z| (z, n.clone())))
            .collect();
        v.sort();
        v
    }

    /// Snapshot file names in zxid order.
    pub fn snapshots(&self) -> Vec<(Zxid, String)> {
        let mut v: Vec<(Zxid, String)> = self
            .files
            .keys()
            .filter_map(|n| zxid_of_name(n, "snapshot").map(|z| (z, n.clone())))
            .collect();
        v.sort();
        v
    }

    /// Every logged txn with its file and end offset, in file order.
    pub fn logged(&self) -> Result<Vec<(TxnEntry, String, u64)>, String> {
        let mut out = Vec::new();
        for (_, name) in self.logs() {
            let bytes = self.files.get(&name).map(Vec::as_slice).unwrap_or(&[]);
            for (entry, end) in parse_log(&name, bytes)? {
                out.push((entry, name.clone(), end));
            }
        }
        Ok(out)
    }

    /// `FileTxnSnapLog.restore`: the newest snapshot that decodes, then every logged txn after
    /// it, plus the epoch files.
    pub fn recover(&self) -> Result<Recovered, String> {
        let mut rec = Recovered::default();
        for (zxid, name) in self.snapshots().into_iter().rev() {
            let bytes = self.files.get(&name).map(Vec::as_slice).unwrap_or(&[]);
            if let Ok(image) = decode_snapshot(&name, bytes) {
                rec.snapshot = Some((zxid, image));
                break;
            }
        }
        let from = rec.snapshot.as_ref().map_or(Zxid::ZERO, |(z, _)| *z);
        rec.txns = self
            .logged()?
            .into_iter()
            .map(|(e, _, _)| e)
            .filter(|e| e.header.zxid > from)
            .collect();
        let epoch = |name: &str| -> Result<Option<Epoch>, String> {
            match self.files.get(name) {
                None => Ok(None),
                Some(b) => decode_epoch(b)
                    .map(Some)
                    .map_err(|e| format!("{name}: {e}")),
            }
        };
        rec.accepted_epoch = epoch(ACCEPTED_EPOCH)?;
        rec.current_epoch = epoch(CURRENT_EPOCH)?;
        rec.current_epoch_tmp = epoch(&format!("{CURRENT_EPOCH}.tmp")).unwrap_or(None);
        Ok(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op_code::OpCode;
    use crate::txn::{Txn, TxnHeader};
    use crate::types::{SessionId, Xid};

    fn entry(counter: u32) -> TxnEntry {
        TxnEntry {
            header: TxnHeader {
                client_id: SessionId(1),
                cxid: Xid(1),
                zxid: Zxid::new(Epoch(1), counter),
                time: 0,
                txn_type: OpCode::CreateSession,
            },
            txn: Txn::CreateSession { timeout_ms: 4000 },
            digest: None,
        }
    }

    #[test]
    fn torn_tail_is_dropped_and_a_bad_checksum_is_an_error() {
        let mut bytes = encode_record(&entry(1));
        bytes.extend(encode_record(&entry(2)));
        let whole = bytes.len();
        bytes.truncate(whole - 3);
        let parsed = parse_log("log.1", &bytes).unwrap();
        assert_eq!(parsed.len(), 1);
        let mut bad = encode_record(&entry(1));
        let last = bad.len() - 2;
        bad[last] ^= 0x55;
        assert!(parse_log("log.1", &bad).is_err());
    }

    #[test]
    fn epoch_files_are_decimal_text() {
        assert_eq!(encode_epoch(Epoch(12)), b"12".to_vec());
        assert_eq!(decode_epoch(b"12\n"), Ok(Epoch(12)));
        assert!(decode_epoch(b"x").is_err());
    }
}
