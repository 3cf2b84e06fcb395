//! The trace: one compact record per event, and a running hash that fingerprints the run.
//!
//! Contract: the fingerprint is FNV-1a (64-bit) over a canonical little-endian encoding of every
//! record's structured fields — sequence number, virtual time, node, kind, two numeric fields —
//! so it is stable across Rust versions, platforms and trace modes (never `DefaultHasher`). The
//! free-text `detail` is kept only in [`TraceMode::Full`] and is not hashed: a hash-only run and
//! a full run of the same seed have the same fingerprint. Two runs with equal fingerprints took
//! the same steps; when they differ, full records name the first difference.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::process::NodeId;
use super::time::SimTime;

/// FNV-1a, 64-bit: offset basis and prime from the reference description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv1a64(u64);

impl Default for Fnv1a64 {
    fn default() -> Self {
        Fnv1a64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds in bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Folds in a `u64`, little-endian.
    pub fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// FNV-1a of a byte string (for stable digests of labels and payloads).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a64::new();
    h.write(bytes);
    h.finish()
}

/// Whether full records are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceMode {
    /// Only the running hash (fastest).
    #[default]
    HashOnly,
    /// Every record, with its detail text (for `--out` and determinism diffs).
    Full,
}

/// What a record describes. The numbering is part of the fingerprint: append, never reorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum RecordKind {
    /// A process was built and started. a = incarnation.
    Start = 1,
    /// A process's machine crashed. a = pending disk operations lost.
    Crash = 2,
    /// A process was killed (its machine survives). a = incarnation.
    Kill = 3,
    /// A node was paused.
    Pause = 4,
    /// A node resumed. a = deferred events.
    Resume = 5,
    /// A connection was opened. a = conn, b = peer.
    Connect = 6,
    /// A connection was accepted. a = conn, b = peer.
    Accept = 7,
    /// A connection attempt succeeded. a = conn, b = peer.
    Connected = 8,
    /// A connection attempt failed. a = conn, b = peer.
    ConnectFailed = 9,
    /// A message was sent. a = conn, b = payload digest.
    Send = 10,
    /// A message was delivered. a = conn, b = payload digest.
    Deliver = 11,
    /// A message was lost (broken connection or out-of-model drop). a = conn, b = digest.
    Drop = 12,
    /// A process closed a connection. a = conn.
    Close = 13,
    /// A connection broke. a = conn, b = messages lost in flight.
    Break = 14,
    /// An end learned its connection ended. a = conn, b = reason.
    Disconnected = 15,
    /// A timer was armed. a = timer, b = global deadline.
    TimerSet = 16,
    /// A timer was cancelled. a = timer.
    TimerCancel = 17,
    /// A timer fired. a = timer.
    TimerFire = 18,
    /// A disk operation was issued. a = io, b = operation code.
    IoIssue = 19,
    /// A disk operation completed. a = io, b = 0 on success, 1 on error.
    IoDone = 20,
    /// A fault was applied. a = fault code, b = fault-specific.
    Fault = 21,
    /// A process-level observation (`Ctx::note`). a = label digest, b = value.
    Note = 22,
    /// A control event for the driver (fault timeline, nemesis). a = token.
    Control = 23,
    /// An event deferred while its process was paused is delivered. a = deferred left.
    Redeliver = 24,
}

/// One trace record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the trace, from zero.
    pub seq: u64,
    /// Global virtual time.
    pub time: SimTime,
    /// The node concerned, if any.
    pub node: Option<NodeId>,
    /// What happened.
    pub kind: RecordKind,
    /// First numeric field (meaning per kind).
    pub a: u64,
    /// Second numeric field (meaning per kind).
    pub b: u64,
    /// Human-readable detail (full mode only; not hashed).
    pub detail: String,
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let node = match self.node {
            Some(n) => n.to_string(),
            None => "-".to_string(),
        };
        write!(
            f,
            "#{} {} {} {:?} a={} b={} {}",
            self.seq, self.time, node, self.kind, self.a, self.b, self.detail
        )
    }
}

/// The run's trace.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    mode: TraceMode,
    hash: Fnv1a64,
    len: u64,
    records: Vec<Record>,
}

impl Trace {
    /// An empty trace in `mode`.
    pub fn new(mode: TraceMode) -> Trace {
        Trace {
            mode,
            ..Trace::default()
        }
    }

    /// The mode.
    pub fn mode(&self) -> TraceMode {
        self.mode
    }

    /// True if detail text should be built (full mode).
    pub fn wants_detail(&self) -> bool {
        self.mode == TraceMode::Full
    }

    /// Appends a record. `detail` is only called in full mode.
    pub fn record(
        &mut self,
        time: SimTime,
        node: Option<NodeId>,
        kind: RecordKind,
        a: u64,
        b: u64,
        detail: impl FnOnce() -> String,
    ) {
        let seq = self.len;
        self.len += 1;
        let mut buf = [0u8; 37];
        buf[0..8].copy_from_slice(&seq.to_le_bytes());
        buf[8..16].copy_from_slice(&time.0.to_le_bytes());
        buf[16..20].copy_from_slice(&node.map_or(u32::MAX, |n| n.0).to_le_bytes());
        buf[20] = kind as u8;
        buf[21..29].copy_from_slice(&a.to_le_bytes());
        buf[29..37].copy_from_slice(&b.to_le_bytes());
        self.hash.write(&buf);
        if self.mode == TraceMode::Full {
            self.records.push(Record {
                seq,
                time,
                node,
                kind,
                a,
                b,
                detail: detail(),
            });
        }
    }

    /// The fingerprint so far.
    pub fn hash(&self) -> u64 {
        self.hash.finish()
    }

    /// Number of records appended (in either mode).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The kept records (empty in hash-only mode).
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The first record where `self` and `other` differ (comparing the hashed fields and the
    /// detail), or the first record one has and the other lacks. `None` if equal.
    pub fn first_difference<'a>(
        &'a self,
        other: &'a Trace,
    ) -> Option<(Option<&'a Record>, Option<&'a Record>)> {
        let n = self.records.len().max(other.records.len());
        (0..n)
            .map(|i| (self.records.get(i), other.records.get(i)))
            .find(|(a, b)| a != b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn hash_is_the_same_in_both_modes_and_detail_is_not_hashed() {
        let mut a = Trace::new(TraceMode::HashOnly);
        let mut b = Trace::new(TraceMode::Full);
        a.record(SimTime(5), Some(NodeId(1)), RecordKind::Send, 3, 4, || {
            "x".into()
        });
        b.record(SimTime(5), Some(NodeId(1)), RecordKind::Send, 3, 4, || {
            "y".into()
        });
        assert_eq!(a.hash(), b.hash());
        assert_eq!(b.records().len(), 1);
        assert!(a.records().is_empty());
    }

    #[test]
    fn first_difference_names_the_diverging_record() {
        let mut a = Trace::new(TraceMode::Full);
        let mut b = Trace::new(TraceMode::Full);
        for t in [&mut a, &mut b] {
            t.record(SimTime(1), None, RecordKind::Control, 0, 0, String::new);
        }
        a.record(SimTime(2), None, RecordKind::Control, 1, 0, String::new);
        b.record(SimTime(2), None, RecordKind::Control, 2, 0, String::new);
        let (x, y) = a.first_difference(&b).unwrap();
        assert_eq!((x.unwrap().seq, x.unwrap().a, y.unwrap().a), (1, 1, 2));
        assert_ne!(a.hash(), b.hash());
    }
}
