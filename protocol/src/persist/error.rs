//! `PersistError`: why a file or a data directory cannot be read safely. Every variant names the
//! file and, where there is one, the byte offset and the field, as the house rules ask.

use crate::server::io::DiskFailure;
use std::fmt;

/// Why bytes do not decode (without the file name: [`JuteError::in_file`] adds it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JuteError {
    /// Byte offset where the field starts.
    pub offset: u64,
    /// The jute field being read (`"path"`, `"txnEntry"`, ...).
    pub field: &'static str,
    /// What is wrong.
    pub kind: JuteErrorKind,
}

/// The kinds of decoding failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JuteErrorKind {
    /// The bytes ended inside the field (`EOFException`).
    Eof,
    /// A length prefix that is negative or beyond `jute.maxbuffer` (`Unreasonable length`).
    UnreasonableLength(i32),
    /// Anything else: bad magic, unknown txn type, null where a value is required, ...
    Invalid(String),
}

impl JuteError {
    /// Whether the bytes simply ran out (a torn tail rather than corruption).
    pub fn is_eof(&self) -> bool {
        self.kind == JuteErrorKind::Eof
    }

    /// The same error, attributed to `file` at `base + offset`.
    pub fn in_file(self, file: &str, base: u64) -> PersistError {
        PersistError::Malformed {
            file: file.to_string(),
            offset: base + self.offset,
            field: self.field,
            problem: match self.kind {
                JuteErrorKind::Eof => "unexpected end of data".to_string(),
                JuteErrorKind::UnreasonableLength(n) => format!("Unreasonable length = {n}"),
                JuteErrorKind::Invalid(text) => text,
            },
        }
    }
}

/// Why a data directory (or one of its files) cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersistError {
    /// A file's bytes do not parse.
    Malformed {
        /// File name (relative to `version-2/`).
        file: String,
        /// Byte offset of the offending field.
        offset: u64,
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A complete log record whose Adler32 does not match (`FileTxnLog`: "CRC check failed").
    ChecksumMismatch {
        /// Log file name.
        file: String,
        /// Offset of the record.
        offset: u64,
        /// Checksum stored in the file.
        stored: u64,
        /// Checksum of the record's bytes.
        computed: u64,
    },
    /// A snapshot seal whose checksum does not match (`SnapStream`: "CRC corruption").
    SealMismatch {
        /// Snapshot file name.
        file: String,
        /// Offset of the seal.
        offset: u64,
        /// Checksum stored in the seal.
        stored: u64,
        /// Checksum of the bytes before the seal.
        computed: u64,
    },
    /// A file the recovery needs could not be read.
    Unreadable {
        /// File name.
        file: String,
        /// The read failure.
        failure: DiskFailure,
    },
    /// Snapshots exist but none of them loads (`FileSnap`: "Not able to find valid snapshots").
    NoValidSnapshot {
        /// Each snapshot tried, newest first, with why it failed.
        tried: Vec<(String, Box<PersistError>)>,
    },
    /// Txn logs exist but there is no snapshot (ZOOKEEPER-2325: ZooKeeper refuses to start).
    NoSnapshotButLogs {
        /// The log files found.
        logs: Vec<String>,
    },
    /// A format ZooKeeper can write but this codec does not read (compressed snapshots).
    Unsupported {
        /// File name.
        file: String,
        /// What is not supported.
        what: String,
    },
    /// TRUNC to a zxid the log does not reach (`FileTxnLog.truncate`: "No log files found to
    /// truncate").
    NothingToTruncate {
        /// The requested zxid.
        zxid: u64,
    },
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Malformed {
                file,
                offset,
                field,
                problem,
            } => write!(f, "{file}: offset {offset}: field `{field}`: {problem}"),
            PersistError::ChecksumMismatch {
                file,
                offset,
                stored,
                computed,
            } => write!(
                f,
                "{file}: offset {offset}: CRC check failed (stored Adler32 {stored:#x}, computed {computed:#x})"
            ),
            PersistError::SealMismatch {
                file,
                offset,
                stored,
                computed,
            } => write!(
                f,
                "{file}: offset {offset}: CRC corruption in snapshot seal (stored {stored:#x}, computed {computed:#x})"
            ),
            PersistError::Unreadable { file, failure } => {
                write!(f, "{file}: cannot be read: {failure:?}")
            }
            PersistError::NoValidSnapshot { tried } => {
                write!(f, "not able to find a valid snapshot among {} tried", tried.len())?;
                for (name, why) in tried {
                    write!(f, "; {name}: {why}")?;
                }
                Ok(())
            }
            PersistError::NoSnapshotButLogs { logs } => write!(
                f,
                "no snapshot found but txn logs exist ({}): refusing to start with an empty tree (ZOOKEEPER-2325)",
                logs.join(", ")
            ),
            PersistError::Unsupported { file, what } => write!(f, "{file}: unsupported: {what}"),
            PersistError::NothingToTruncate { zxid } => write!(
                f,
                "no log record at or after zxid {zxid:#x} to truncate at (No log files found to truncate)"
            ),
        }
    }
}

impl std::error::Error for PersistError {}
