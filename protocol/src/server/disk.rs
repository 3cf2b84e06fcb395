//! Ordered disk work of a `QuorumPeer`: each step is one [`DiskRequest`], issued only after the
//! previous one reported done, and the continuation runs only once the last is durable.
//!
//! The epoch files (`acceptedEpoch`, `currentEpoch`) are written as ZooKeeper's
//! `QuorumPeer.writeLongToFile` does through `AtomicFileOutputStream`: write `<name>.tmp`,
//! fsync it, rename over `<name>`, fsync the directory.

use super::io::{DiskRequest, IoToken, ServerAction};
use crate::types::Epoch;
use std::collections::VecDeque;

/// What to do once a chain of disk requests is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterDisk {
    /// The learner persisted `acceptedEpoch` on LEADERINFO: send ACKEPOCH.
    LearnerAcceptedEpoch(Epoch),
    /// The leader persisted `acceptedEpoch` (`getEpochToPropose` reached a quorum).
    LeaderAcceptedEpoch(Epoch),
    /// The leader persisted `currentEpoch` after the ACKEPOCH quorum.
    LeaderCurrentEpoch(Epoch),
    /// The learner persisted `currentEpoch` on NEWLEADER: ACK it.
    LearnerCurrentEpoch(Epoch),
}

/// One chain: the requests still to issue, the one in flight and the continuation.
#[derive(Debug)]
struct DiskChain {
    remaining: VecDeque<DiskRequest>,
    in_flight: Option<IoToken>,
    then: AfterDisk,
}

/// The peer's disk queue: chains run one after another, requests within a chain in order.
#[derive(Debug, Default)]
pub struct DiskQueue {
    chains: VecDeque<DiskChain>,
    next_token: u64,
}

/// The ZooKeeper text encoding of an epoch file (`Long.toString(value)` and a newline).
pub fn encode_epoch(epoch: Epoch) -> Vec<u8> {
    format!("{}\n", epoch.0).into_bytes()
}

/// Parses an epoch file; `Err` names what is wrong.
pub fn decode_epoch(file: &str, bytes: &[u8]) -> Result<Epoch, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{file}: not UTF-8"))?;
    text.trim()
        .parse::<u32>()
        .map(Epoch)
        .map_err(|e| format!("{file}: bad epoch {:?}: {e}", text.trim()))
}

/// The four requests that atomically replace epoch file `name` with `epoch`.
pub fn epoch_file_requests(name: &str, epoch: Epoch) -> Vec<DiskRequest> {
    let tmp = format!("{name}.tmp");
    vec![
        DiskRequest::Write {
            file: tmp.clone(),
            offset: 0,
            bytes: encode_epoch(epoch),
        },
        DiskRequest::Fsync { file: tmp.clone() },
        DiskRequest::Rename {
            from: tmp,
            to: name.to_string(),
        },
        DiskRequest::FsyncDir,
    ]
}

impl DiskQueue {
    /// Queues a chain; returns the request to issue now, if the queue was idle.
    pub fn push(&mut self, requests: Vec<DiskRequest>, then: AfterDisk) -> Vec<ServerAction> {
        assert!(!requests.is_empty(), "a disk chain needs a request");
        self.chains.push_back(DiskChain {
            remaining: requests.into(),
            in_flight: None,
            then,
        });
        self.issue_next()
    }

    fn issue_next(&mut self) -> Vec<ServerAction> {
        let Some(head) = self.chains.front_mut() else {
            return Vec::new();
        };
        if head.in_flight.is_some() {
            return Vec::new();
        }
        let Some(op) = head.remaining.pop_front() else {
            return Vec::new();
        };
        self.next_token += 1;
        let io = IoToken(self.next_token);
        head.in_flight = Some(io);
        vec![ServerAction::Disk { io, op }]
    }

    /// A request finished successfully: returns the next request to issue and, when a chain
    /// completed, its continuation. Unknown tokens (from before a role change) are ignored.
    pub fn done(&mut self, io: IoToken) -> (Vec<ServerAction>, Option<AfterDisk>) {
        let Some(head) = self.chains.front_mut() else {
            return (Vec::new(), None);
        };
        if head.in_flight != Some(io) {
            return (Vec::new(), None);
        }
        head.in_flight = None;
        let mut finished = None;
        if head.remaining.is_empty() {
            finished = self.chains.pop_front().map(|c| c.then);
        }
        (self.issue_next(), finished)
    }

    /// Forgets every chain (a role change: continuations of the old role are void). Requests
    /// in flight still complete at the driver; their tokens are then ignored.
    pub fn clear(&mut self) {
        self.chains.clear();
    }

    /// Whether disk work is pending.
    pub fn busy(&self) -> bool {
        !self.chains.is_empty()
    }
}
