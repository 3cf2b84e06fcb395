//! Txn log files (`FileTxnLog`): `log.<hex zxid of the first txn>`, a `FileHeader{magic "ZKLG";
//! version 2; dbid 0}`, then records `{long Adler32; int length; header+record+digest; byte 'B'}`,
//! then the zeros of preallocation.
//!
//! Reading follows `FileTxnIterator`: a record of length 0 (preallocated zeros), a record cut
//! short by the end of the file, a `-1` length or a missing end-of-record byte ends the file
//! ("Last transaction was partial"), and reading moves on to the next file; a complete record
//! whose Adler32 does not match is an error ("CRC check failed"), as is a record that does not
//! decode or a length beyond `jute.maxbuffer`.

use super::adler32::adler32;
use super::error::{JuteErrorKind, PersistError};
use super::jute::{Reader, Writer, MAX_LENGTH};
use super::txn_codec::{decode_entry, encode_entry};
use crate::txn::TxnEntry;

pub use super::names::log_file_name;

/// `FileTxnLog.TXNLOG_MAGIC`: `"ZKLG"` as a big-endian int.
pub const TXNLOG_MAGIC: i32 = i32::from_be_bytes(*b"ZKLG");
/// The format version both files carry.
pub const VERSION: i32 = 2;
/// Length of a `FileHeader` (int, int, long).
pub const FILE_HEADER_LEN: u64 = 16;
/// The end-of-record byte `'B'`.
pub const EOR: u8 = 0x42;

/// `FileHeader{magic; version; dbid}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    /// The magic number.
    pub magic: i32,
    /// The format version.
    pub version: i32,
    /// The database id (0 for logs, -1 for snapshots).
    pub dbid: i64,
}

/// The 16 header bytes of a new log file.
pub fn file_header(dbid: i64) -> Vec<u8> {
    let mut w = Writer::new();
    w.int(TXNLOG_MAGIC);
    w.int(VERSION);
    w.long(dbid);
    assert_eq!(w.bytes.len() as u64, FILE_HEADER_LEN);
    w.bytes
}

/// One record as `FileTxnLog.append` writes it: Adler32 of the entry bytes, their length, the
/// bytes, and `'B'`.
pub fn encode_record(entry: &TxnEntry) -> Vec<u8> {
    let body = encode_entry(entry);
    assert!(!body.is_empty(), "a txn always serializes to some bytes");
    let mut w = Writer::new();
    w.long(adler32(&body) as i64);
    w.buffer(Some(&body));
    w.byte(EOR);
    assert_eq!(w.bytes.len(), body.len() + 13);
    w.bytes
}

/// How reading a log file stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEnd {
    /// The bytes ended exactly after a record.
    EndOfFile,
    /// A zero length (preallocated space) at this offset.
    Padding {
        /// Offset of the zero record.
        offset: u64,
    },
    /// A record cut short (or with a bad end-of-record byte) at this offset: dropped.
    TornRecord {
        /// Offset where the dropped record starts.
        offset: u64,
        /// Why it counts as torn.
        reason: String,
    },
}

/// One record found in a log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// The decoded entry.
    pub entry: TxnEntry,
    /// Offset of the record's checksum.
    pub offset: u64,
    /// Offset just after its end-of-record byte.
    pub end: u64,
}

/// A parsed log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedLog {
    /// The file header.
    pub header: FileHeader,
    /// The complete records, in file order.
    pub records: Vec<LogRecord>,
    /// Why reading stopped.
    pub end: LogEnd,
}

impl ParsedLog {
    /// Offset just after the last complete record (or the header).
    pub fn valid_end(&self) -> u64 {
        self.records.last().map_or(FILE_HEADER_LEN, |r| r.end)
    }
}

/// Reads a log file's header. A file shorter than a header is an error (ZooKeeper deletes an
/// *empty* last log file; recovery handles that case before calling this).
pub fn parse_header(name: &str, bytes: &[u8]) -> Result<FileHeader, PersistError> {
    let mut r = Reader::new(bytes);
    let header = (|| {
        Ok(FileHeader {
            magic: r.int("magic")?,
            version: r.int("version")?,
            dbid: r.long("dbid")?,
        })
    })()
    .map_err(|e: super::error::JuteError| e.in_file(name, 0))?;
    if header.magic != TXNLOG_MAGIC {
        return Err(PersistError::Malformed {
            file: name.to_string(),
            offset: 0,
            field: "magic",
            problem: format!("invalid magic number {:#x} (expected ZKLG)", header.magic),
        });
    }
    Ok(header)
}

/// Parses a whole log file (`name` is used in errors).
pub fn parse_log(name: &str, bytes: &[u8]) -> Result<ParsedLog, PersistError> {
    let header = parse_header(name, bytes)?;
    let mut records = Vec::new();
    let mut at = FILE_HEADER_LEN as usize;
    let end = loop {
        match next_record(name, bytes, at)? {
            Step::Record(record) => {
                at = record.end as usize;
                records.push(record);
            }
            Step::End(end) => break end,
        }
    };
    Ok(ParsedLog {
        header,
        records,
        end,
    })
}

enum Step {
    Record(LogRecord),
    End(LogEnd),
}

fn torn(offset: usize, reason: &str) -> Step {
    Step::End(LogEnd::TornRecord {
        offset: offset as u64,
        reason: reason.to_string(),
    })
}

/// One step of `FileTxnIterator.next` at offset `at`.
fn next_record(name: &str, bytes: &[u8], at: usize) -> Result<Step, PersistError> {
    assert!(at <= bytes.len(), "record offset beyond the file");
    let rest = &bytes[at..];
    if rest.is_empty() {
        return Ok(Step::End(LogEnd::EndOfFile));
    }
    let mut r = Reader::new(rest);
    let Ok(stored) = r.long("crcvalue") else {
        return Ok(torn(at, "checksum cut short"));
    };
    let Ok(len) = r.int("txnEntry") else {
        return Ok(torn(at, "length cut short"));
    };
    if len == 0 {
        return Ok(Step::End(LogEnd::Padding { offset: at as u64 }));
    }
    if len == -1 {
        return Ok(torn(at, "null record"));
    }
    if !(0..=MAX_LENGTH).contains(&len) {
        let e = r.error("txnEntry", JuteErrorKind::UnreasonableLength(len));
        return Err(super::error::JuteError { offset: 8, ..e }.in_file(name, at as u64));
    }
    let len = len as usize;
    if r.remaining() < len + 1 {
        return Ok(torn(at, "record cut short"));
    }
    let body = &rest[12..12 + len];
    if rest[12 + len] != EOR {
        return Ok(torn(
            at,
            "Last transaction was partial (no end-of-record byte)",
        ));
    }
    let computed = adler32(body);
    if stored as u64 != computed {
        return Err(PersistError::ChecksumMismatch {
            file: name.to_string(),
            offset: at as u64,
            stored: stored as u64,
            computed,
        });
    }
    let entry = decode_entry(body).map_err(|e| e.in_file(name, at as u64 + 12))?;
    Ok(Step::Record(LogRecord {
        entry,
        offset: at as u64,
        end: (at + 13 + len) as u64,
    }))
}

/// `FilePadding.calculateFileSizeWithPadding`: the size a log file must have before a record is
/// written at `position`, given its current (padded) size. Within 4 KiB of the end it grows by
/// `pre_alloc_size` (or, past the end, to the next multiple of it above `position`); 0 turns
/// preallocation off. `FilePadding.padFile` grows the file by writing one zero byte at the new
/// size minus one.
pub fn size_with_padding(position: u64, file_size: u64, pre_alloc_size: u64) -> u64 {
    if pre_alloc_size == 0 || position + 4096 < file_size {
        return file_size;
    }
    if position > file_size {
        let size = position + pre_alloc_size;
        size - size % pre_alloc_size
    } else {
        file_size + pre_alloc_size
    }
}

#[cfg(test)]
mod padding_tests {
    use super::*;

    #[test]
    fn padding_grows_in_pre_alloc_steps_near_the_end() {
        // A new file: the header is written, then the first pad adds a whole step
        // (a real 3.8 log with preAllocSize 16 KiB is 16,400 bytes).
        assert_eq!(size_with_padding(16, 16, 16384), 16 + 16384);
        // Far from the end: unchanged.
        assert_eq!(size_with_padding(100, 16400, 16384), 16400);
        // Within 4 KiB of the end: one more step (the corpus's 32,784-byte log).
        assert_eq!(size_with_padding(12400, 16400, 16384), 32784);
        // Past the end (one huge record): the next multiple above the position.
        assert_eq!(size_with_padding(40000, 16400, 16384), 49152);
        assert_eq!(size_with_padding(40000, 16400, 0), 16400);
    }
}
