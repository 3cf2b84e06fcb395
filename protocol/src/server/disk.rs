//! The server's disk pipeline: one operation in flight at a time, jobs in FIFO order (ZooKeeper's
//! single `SyncRequestProcessor` thread and the synchronous epoch-file writes). A job is a list
//! of [`DiskRequest`]s and a [`Then`]: what becomes true, and may be sent, once every operation
//! of the job is durable. Serialising jobs makes "durable in issue order" hold: the NEWLEADER
//! ACK's `currentEpoch` job completes only after the synced txns' append+fsync job before it.

use super::io::{DiskFailure, DiskRequest, IoToken, ServerAction};
use super::storage::DiskMirror;
use crate::txn::TxnEntry;
use crate::types::{Epoch, Zxid};
use std::collections::VecDeque;

/// What to do when a job is durable. `gen` is the role incarnation that queued it: a job that
/// outlives its role still makes its data durable, but sends nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Then {
    /// Nothing beyond the durability itself.
    Nothing,
    /// `acceptedEpoch` now holds `epoch`.
    AcceptedEpoch {
        /// The epoch.
        epoch: Epoch,
        /// The role incarnation.
        gen: u64,
    },
    /// `currentEpoch` now holds `epoch`.
    CurrentEpoch {
        /// The epoch.
        epoch: Epoch,
        /// The role incarnation.
        gen: u64,
    },
    /// These txns are durable in the log.
    Logged {
        /// The txns.
        txns: Vec<TxnEntry>,
        /// The role incarnation.
        gen: u64,
        /// Whether each must be acknowledged (broadcast proposals; not the synced ones).
        ack: bool,
    },
    /// `snapshot.<zxid>` is durable.
    Snapshot {
        /// The zxid.
        zxid: Zxid,
    },
}

#[derive(Debug)]
struct Job {
    ops: VecDeque<DiskRequest>,
    then: Then,
}

/// The queue of disk jobs.
#[derive(Debug, Default)]
pub struct DiskQueue {
    jobs: VecDeque<Job>,
    in_flight: Option<IoToken>,
    next_token: u64,
}

impl DiskQueue {
    /// Queues a job; issues its first operation if the disk is idle. Writes are applied to the
    /// mirror as they are queued (the page cache sees them at once).
    pub fn push(
        &mut self,
        mirror: &mut DiskMirror,
        ops: Vec<DiskRequest>,
        then: Then,
        out: &mut Vec<ServerAction>,
    ) {
        assert!(!ops.is_empty(), "a disk job has at least one operation");
        for op in &ops {
            apply_to_mirror(mirror, op);
        }
        self.jobs.push_back(Job {
            ops: ops.into(),
            then,
        });
        if self.in_flight.is_none() {
            self.issue_next(out);
        }
    }

    /// Group commit (`SyncRequestProcessor` batches appends under one fsync): folds a record
    /// write to `file` at `offset` into the last queued log job when that job has not started
    /// (the head job is the one in flight), its record write ends exactly at `offset`, and it
    /// completes the same way. Returns false when it cannot.
    #[allow(clippy::too_many_arguments)]
    pub fn merge_log(
        &mut self,
        mirror: &mut DiskMirror,
        file: &str,
        offset: u64,
        bytes: &[u8],
        txns: &[TxnEntry],
        then_gen: u64,
        then_ack: bool,
    ) -> bool {
        if self.jobs.len() < 2 {
            return false;
        }
        let Some(job) = self.jobs.back_mut() else {
            return false;
        };
        let Then::Logged { txns: t, gen, ack } = &mut job.then else {
            return false;
        };
        if *gen != then_gen || *ack != then_ack {
            return false;
        }
        let record_write = job.ops.iter_mut().rev().find_map(|op| match op {
            DiskRequest::Write {
                file: f,
                offset: o,
                bytes: b,
            } if f == file && *o + b.len() as u64 == offset => Some(b),
            _ => None,
        });
        let Some(b) = record_write else {
            return false;
        };
        b.extend_from_slice(bytes);
        t.extend(txns.iter().cloned());
        apply_to_mirror(
            mirror,
            &DiskRequest::Write {
                file: file.to_string(),
                offset,
                bytes: bytes.to_vec(),
            },
        );
        true
    }

    /// Whether a job is queued or running.
    pub fn busy(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// An operation finished. Returns the finished job's continuation (if that was its last
    /// operation) or the failure; issues the next operation.
    pub fn done(
        &mut self,
        io: IoToken,
        result: Result<(), DiskFailure>,
        out: &mut Vec<ServerAction>,
    ) -> Result<Option<Then>, DiskFailure> {
        if self.in_flight != Some(io) {
            return Ok(None); // a completion from a previous incarnation's queue
        }
        self.in_flight = None;
        result?;
        let finished = match self.jobs.front() {
            Some(job) if job.ops.is_empty() => self.jobs.pop_front().map(|j| j.then),
            _ => None,
        };
        self.issue_next(out);
        Ok(finished)
    }

    fn issue_next(&mut self, out: &mut Vec<ServerAction>) {
        assert!(self.in_flight.is_none(), "one disk operation at a time");
        if let Some(op) = self.jobs.front_mut().and_then(|job| job.ops.pop_front()) {
            self.next_token += 1;
            let io = IoToken(self.next_token);
            self.in_flight = Some(io);
            out.push(ServerAction::Disk { io, op });
        }
    }
}

/// The atomic file idiom (`AtomicFileWritingIdiom`): write `name.tmp`, fsync it, rename it over
/// `name`, fsync the directory.
pub fn atomic_write(name: &str, bytes: Vec<u8>) -> Vec<DiskRequest> {
    let tmp = format!("{name}.tmp");
    vec![
        DiskRequest::Write {
            file: tmp.clone(),
            offset: 0,
            bytes,
        },
        DiskRequest::Fsync { file: tmp.clone() },
        DiskRequest::Rename {
            from: tmp,
            to: name.to_string(),
        },
        DiskRequest::FsyncDir,
    ]
}

fn apply_to_mirror(mirror: &mut DiskMirror, op: &DiskRequest) {
    match op {
        DiskRequest::Append { file, bytes } => {
            mirror
                .files
                .entry(file.clone())
                .or_default()
                .extend_from_slice(bytes);
        }
        DiskRequest::Write {
            file,
            offset,
            bytes,
        } => {
            let f = mirror.files.entry(file.clone()).or_default();
            let start = *offset as usize;
            if f.len() < start + bytes.len() {
                f.resize(start + bytes.len(), 0);
            }
            f[start..start + bytes.len()].copy_from_slice(bytes);
        }
        DiskRequest::Truncate { file, len } => {
            if let Some(f) = mirror.files.get_mut(file) {
                f.truncate(*len as usize);
            }
        }
        DiskRequest::Rename { from, to } => {
            if let Some(f) = mirror.files.remove(from) {
                mirror.files.insert(to.clone(), f);
            }
        }
        DiskRequest::Delete { file } => {
            mirror.files.remove(file);
        }
        DiskRequest::Fsync { .. } | DiskRequest::FsyncDir => {}
    }
}
