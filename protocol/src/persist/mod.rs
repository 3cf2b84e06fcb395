//! ZooKeeper's on-disk formats, byte for byte, as sans-IO functions over bytes: the jute
//! archive, txn log files, snapshot files, epoch files, boot recovery, TRUNC and purge plans.
//!
//! ```text
//! version-2/
//!   log.<hex zxid of first txn>   FileHeader "ZKLG" | {Adler32, len, TxnHeader+record+digest, 'B'}* | 0-padding
//!   snapshot.<hex zxid>           FileHeader "ZKSN" | sessions | ACL cache | nodes.. "/" | seal | digest | seal
//!   acceptedEpoch, currentEpoch   decimal text
//! ```
//!
//! - [`txn_log`]: [`txn_log::log_file_name`], [`txn_log::file_header`],
//!   [`txn_log::encode_record`], [`txn_log::parse_log`] (torn tail dropped, a bad checksum inside
//!   the log an error naming file and offset);
//! - [`snapshot`]: [`snapshot::snapshot_file_name`], [`snapshot::encode_snapshot`],
//!   [`snapshot::decode_snapshot`];
//! - [`epoch`]: [`epoch::encode_epoch`], [`epoch::decode_epoch`];
//! - [`recovery`]: [`recovery::recover`] (`FileTxnSnapLog.restore`), [`recovery::truncate_plan`]
//!   (`FileTxnLog.truncate`);
//! - [`load`]: [`load::load_database`] (snapshot + replay through the store);
//! - [`purge`]: [`purge::purge_plan`] (`PurgeTxnLog`);
//! - [`dump`]: the lines ZooKeeper's `TxnLogToolkit` and `SnapshotFormatter` print.
//!
//! Checked against the real thing: `protocol/tests/persist_corpus.rs` parses every file of a
//! real ZooKeeper 3.8.0 data directory, reproduces its tools' dumps and re-encodes identical bytes.

pub mod adler32;
pub mod dump;
pub mod epoch;
pub mod error;
pub mod jute;
pub mod load;
pub mod names;
pub mod purge;
pub mod recovery;
pub mod snapshot;
pub mod txn_codec;
pub mod txn_log;

pub use error::PersistError;
pub use names::DirView;
