//! Online per-session checks: replies in FIFO order, reply zxids never going back (single system
//! image, across reconnects too: a server refuses a client whose `lastZxidSeen` is ahead of it).

use super::{Op, NAME};
use crate::history::{OpId, Outcome};
use crate::zk::{Violation, ViolationKind};
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::types::{SessionId, Zxid};

/// Per-session bookkeeping.
#[derive(Debug, Default)]
pub(crate) struct SessionTracker {
    /// Largest reply zxid each session received, and the op that carried it.
    seen: BTreeMap<SessionId, (Zxid, OpId)>,
    /// Each session's operations without a completion yet, by invocation order.
    pending: BTreeMap<SessionId, BTreeSet<(usize, OpId)>>,
    next_order: usize,
    order: BTreeMap<OpId, usize>,
}

/// Error codes that do not come from the session's server pipeline in order (the client
/// library or a session-level rejection), so their reply zxid says nothing about the view.
pub(crate) fn is_session_level(err: ErrorCode) -> bool {
    matches!(
        err,
        ErrorCode::SESSIONEXPIRED
            | ErrorCode::SESSIONMOVED
            | ErrorCode::CONNECTIONLOSS
            | ErrorCode::OPERATIONTIMEOUT
    )
}

impl SessionTracker {
    /// The largest reply zxid the session has received so far.
    pub fn last_seen(&self, session: SessionId) -> Zxid {
        self.seen.get(&session).map_or(Zxid::ZERO, |(z, _)| *z)
    }

    /// An operation was invoked.
    pub fn on_invoke(&mut self, session: SessionId, id: OpId) {
        let order = self.next_order;
        self.next_order += 1;
        self.order.insert(id, order);
        self.pending.entry(session).or_default().insert((order, id));
    }

    /// An operation completed: FIFO and monotonic-zxid checks.
    pub fn on_complete(&mut self, op: &Op, _ops: &[Op]) -> Option<Violation> {
        let order = *self.order.get(&op.id)?;
        let pending = self.pending.entry(op.session).or_default();
        pending.remove(&(order, op.id));
        let zxid = match &op.outcome {
            Some(Outcome::Ok { zxid, .. }) => *zxid,
            Some(Outcome::Error { zxid, err }) if !is_session_level(*err) => *zxid,
            _ => return None,
        };
        if let Some(&(_, earlier)) = pending.iter().next().filter(|(o, _)| *o < order) {
            return Some(
                Violation::new(
                    NAME,
                    ViolationKind::SessionOrder,
                    format!(
                        "session {} got the reply to op {} before the reply to op {}, which it \
                         sent first",
                        op.session, op.id.0, earlier.0
                    ),
                )
                .ops([earlier, op.id])
                .sessions([op.session]),
            );
        }
        if zxid == Zxid::ZERO {
            return None;
        }
        let (max, by) = self
            .seen
            .get(&op.session)
            .copied()
            .unwrap_or((Zxid::ZERO, op.id));
        if zxid < max {
            return Some(
                Violation::new(
                    NAME,
                    ViolationKind::SessionWentBack,
                    format!(
                        "session {} saw {max} (op {}) and then {zxid} (op {})",
                        op.session, by.0, op.id.0
                    ),
                )
                .ops([by, op.id])
                .zxids([max, zxid])
                .sessions([op.session]),
            );
        }
        self.seen.insert(op.session, (zxid, op.id));
        None
    }
}
