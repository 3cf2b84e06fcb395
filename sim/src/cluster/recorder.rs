//! The run's shared recorder: the history (client records and server observations, stamped with
//! global virtual time) and message counts. Shared by every node of one world through an
//! `Rc<RefCell<…>>` — the simulation is single-threaded, and a node's crash must not lose what was
//! already recorded.

use super::wire::Wire;
use crate::kernel::Payload;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use zabsim_checkers::history::{Observed, Record};
use zabsim_protocol::observe::{Observation, ServerState};
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

/// What the observations say about one server now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerView {
    /// Its peer state (`None` before the first report and after a crash).
    pub state: Option<ServerState>,
    /// Its `currentEpoch` as of its last state change.
    pub epoch: Epoch,
    /// The last zxid it applied (or recovered, installed, truncated to).
    pub last_zxid: Zxid,
    /// The digest reported with it.
    pub digest: Option<i64>,
}

/// The recorder shared by every node of a world.
pub type SharedRecorder = Rc<RefCell<Recorder>>;

/// Messages and bytes of one message type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MessageCount {
    /// Messages sent.
    pub messages: u64,
    /// Bytes sent.
    pub bytes: u64,
}

/// Everything recorded during one run.
#[derive(Debug, Default)]
pub struct Recorder {
    /// The history, in the order it happened.
    pub records: Vec<Record>,
    /// Messages and bytes by type name.
    pub messages: BTreeMap<&'static str, MessageCount>,
    /// Servers that halted, with the reason.
    pub halts: Vec<(ServerId, String)>,
    /// Each server as its observations describe it.
    pub servers: BTreeMap<ServerId, ServerView>,
}

impl Recorder {
    /// A new shared recorder.
    pub fn shared() -> SharedRecorder {
        Rc::new(RefCell::new(Recorder::default()))
    }

    /// Appends a record. Records arrive in virtual-time order (one thread, one clock).
    pub fn push(&mut self, record: Record) {
        debug_assert!(
            self.records
                .last()
                .is_none_or(|last| last.time_ns() <= record.time_ns()),
            "history records arrive in time order"
        );
        self.records.push(record);
    }

    /// Records a server observation at global time `time_ns`.
    pub fn observe(&mut self, time_ns: u64, observation: Observation) {
        self.track(&observation);
        self.push(Record::Observed(Observed {
            time_ns,
            observation,
        }));
    }

    fn track(&mut self, observation: &Observation) {
        let view = self.servers.entry(observation.server()).or_default();
        match observation {
            Observation::ServerStateChanged {
                state,
                current_epoch,
                ..
            } => {
                view.state = Some(*state);
                view.epoch = *current_epoch;
            }
            Observation::Crashed { .. } => view.state = None,
            Observation::TxnApplied { header, digest, .. } => {
                view.last_zxid = header.zxid;
                view.digest = *digest;
            }
            Observation::SnapshotInstalled { zxid, digest, .. }
            | Observation::LogTruncated { zxid, digest, .. }
            | Observation::RecoveryFinished { zxid, digest, .. } => {
                view.last_zxid = *zxid;
                view.digest = *digest;
            }
            _ => {}
        }
    }

    /// The servers whose latest reported state is LEADING, newest epoch first.
    pub fn leaders(&self) -> Vec<ServerId> {
        let mut leaders: Vec<(Epoch, ServerId)> = self
            .servers
            .iter()
            .filter(|(_, v)| v.state == Some(ServerState::Leading))
            .map(|(sid, v)| (v.epoch, *sid))
            .collect();
        leaders.sort_by(|a, b| b.cmp(a));
        leaders.into_iter().map(|(_, sid)| sid).collect()
    }

    /// Counts one message sent.
    pub fn count_message(&mut self, msg: &Wire) {
        let entry = self.messages.entry(msg.type_name()).or_default();
        entry.messages += 1;
        entry.bytes += msg.size_bytes();
    }

    /// Records that a server stopped itself.
    pub fn halted(&mut self, server: ServerId, reason: String) {
        self.halts.push((server, reason));
    }
}
