//! Watches carried across a reconnect. A client keeps every watch it has not been notified of;
//! when it connects to a server again it sends them in `SetWatches` with `relativeZxid` = the
//! `lastZxidSeen` of its `ConnectRequest`, and the new server (`DataTree.setWatches`) decides
//! each one against its current tree, at some zxid P between `relativeZxid` and the zxid of the
//! first reply the client gets on the new connection:
//!
//! * an exist watch (from `exists` on a missing node) fires NodeCreated if the node exists at P;
//! * a data watch fires NodeDeleted if the node is gone, NodeDataChanged if its mzxid is after
//!   `relativeZxid`;
//! * a child watch fires NodeDeleted if the node is gone, NodeChildrenChanged if its pzxid is
//!   after `relativeZxid`;
//! * otherwise the watch is registered again and the first change after P triggers it.
//!
//! A notification fired by `setWatches` (zxid -1 in ZooKeeper 3.9) is sent before the reply to
//! any later request on that connection. A change made and undone while the client was away is
//! missed, as ZooKeeper documents ("a watch for the existence of a znode not yet created will be
//! missed if the znode is created and deleted while disconnected"), so the judge demands a
//! notification only when every possible P demands one.

use super::watches::{ChangeIndex, Received, Table};
use zabsim_protocol::request::EventType;
use zabsim_protocol::types::{SessionId, Zxid};

/// Which client-side table a watch is in: that decides what `setWatches` does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum WatchKind {
    /// `getData`, or `exists` on an existing node.
    Data,
    /// `exists` on a missing node.
    Exist,
    /// `getChildren`.
    Child,
}

impl WatchKind {
    /// The server-side table it lives in.
    pub(crate) fn table(self) -> Table {
        match self {
            WatchKind::Data | WatchKind::Exist => Table::Data,
            WatchKind::Child => Table::Child,
        }
    }
}

/// What `setWatches` does with one watch at one possible server zxid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Fires at once with this event.
    Immediate(EventType),
    /// Registered again; the next change (if any) triggers it.
    Rearmed(Option<(Zxid, EventType)>),
}

/// A watch the client carries into a new connection.
pub(crate) struct Carried<'a> {
    pub session: SessionId,
    pub kind: WatchKind,
    pub path: &'a str,
    /// The zxid of the read that set it (its state is known there).
    pub set_at: Zxid,
}

/// One connection of a session: the history line of its `Connected` event, the
/// `lastZxidSeen` it sent, and the line where the next connection starts (if any).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Connection {
    pub line: usize,
    pub relative_zxid: Zxid,
    pub ends_at_line: Option<usize>,
}

/// The judgement of a carried watch on one connection.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Judged {
    /// This notification (history line) answers it.
    Answered(usize),
    /// Nothing was due on this connection: carry it to the next one, if any.
    NotDue,
    /// Every possible server state demanded a notification that did not come in time.
    Violated(String),
}

/// The facts a judgement needs: the change index, the session's replies (line, zxid) and the
/// notifications it received.
pub(crate) struct Evidence<'a> {
    pub index: &'a ChangeIndex,
    pub replies: &'a [(usize, Zxid)],
    pub received: &'a [Received],
}

impl Evidence<'_> {
    fn changes(&self, table: Table, path: &str) -> &[(Zxid, EventType)] {
        self.index
            .get(&(table, path.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    fn exists_at(&self, w: &Carried<'_>, p: Zxid) -> bool {
        let last = self.changes(Table::Data, w.path).iter().rfind(|(z, e)| {
            *z > w.set_at && *z <= p && matches!(e, EventType::NodeCreated | EventType::NodeDeleted)
        });
        match last {
            Some((_, e)) => *e == EventType::NodeCreated,
            None => w.kind != WatchKind::Exist,
        }
    }

    fn changed_between(
        &self,
        table: Table,
        path: &str,
        after: Zxid,
        upto: Zxid,
        events: &[EventType],
    ) -> bool {
        self.changes(table, path)
            .iter()
            .any(|(z, e)| *z > after && *z <= upto && events.contains(e))
    }

    fn next_change(&self, w: &Carried<'_>, p: Zxid) -> Option<(Zxid, EventType)> {
        self.changes(w.kind.table(), w.path)
            .iter()
            .find(|(z, _)| *z > p)
            .copied()
    }

    fn outcome(&self, w: &Carried<'_>, relative: Zxid, p: Zxid) -> Outcome {
        use EventType::{NodeChildrenChanged, NodeCreated, NodeDataChanged, NodeDeleted};
        let exists = self.exists_at(w, p);
        let fired = match w.kind {
            WatchKind::Exist => exists.then_some(NodeCreated),
            WatchKind::Data if !exists => Some(NodeDeleted),
            WatchKind::Data => self
                .changed_between(
                    Table::Data,
                    w.path,
                    relative,
                    p,
                    &[NodeCreated, NodeDataChanged],
                )
                .then_some(NodeDataChanged),
            WatchKind::Child if !exists => Some(NodeDeleted),
            WatchKind::Child => {
                (self.changed_between(Table::Child, w.path, relative, p, &[NodeChildrenChanged])
                    || self.changed_between(Table::Data, w.path, relative, p, &[NodeCreated]))
                .then_some(NodeChildrenChanged)
            }
        };
        match fired {
            Some(e) => Outcome::Immediate(e),
            None => Outcome::Rearmed(self.next_change(w, p)),
        }
    }

    /// Judges `w` on connection `c`.
    pub(crate) fn judge(&self, w: &Carried<'_>, c: Connection) -> Judged {
        let within = |line: usize| line > c.line && c.ends_at_line.is_none_or(|end| line < end);
        let replies: Vec<(usize, Zxid)> = self
            .replies
            .iter()
            .copied()
            .filter(|(l, _)| within(*l))
            .collect();
        let first_reply = replies.first().copied();
        // The server's zxid when it processed SetWatches: between relativeZxid and the first
        // reply's zxid on this connection (unbounded if none came).
        let upper = first_reply.map(|(_, z)| z);
        let mut candidates = vec![c.relative_zxid];
        for table in [Table::Data, Table::Child] {
            candidates.extend(
                self.changes(table, w.path)
                    .iter()
                    .map(|(z, _)| *z)
                    .filter(|z| *z > c.relative_zxid && upper.is_none_or(|u| *z <= u)),
            );
        }
        let outcomes: Vec<Outcome> = candidates
            .iter()
            .map(|p| self.outcome(w, c.relative_zxid, *p))
            .collect();
        let first_reply_at_or_after =
            |zxid: Zxid| replies.iter().find(|(_, z)| *z >= zxid).map(|(l, _)| *l);
        let table = w.kind.table();
        let note = self.received.iter().find(|r| {
            r.session == w.session && r.path == w.path && within(r.line) && in_table(table, r.event)
        });
        if let Some(n) = note {
            let explains = |o: &Outcome| match *o {
                Outcome::Immediate(e) => {
                    n.event == e && first_reply.is_none_or(|(l, _)| n.line < l)
                }
                Outcome::Rearmed(Some((z, e))) => {
                    n.event == e
                        && n.zxid == z
                        && first_reply_at_or_after(z).is_none_or(|l| n.line < l)
                }
                Outcome::Rearmed(None) => false,
            };
            return if outcomes.iter().any(explains) {
                Judged::Answered(n.line)
            } else {
                Judged::Violated(format!(
                    "the {:?} watch on {} carried into the connection on line {} (relativeZxid {}) got {:?} at {} on line {}, which no server state between {} and {} explains",
                    w.kind, w.path, c.line, c.relative_zxid, n.event, n.zxid, n.line, c.relative_zxid,
                    upper.map_or("the end".to_string(), |u| u.to_string()),
                ))
            };
        }
        let due = |o: &Outcome| match *o {
            Outcome::Immediate(_) => first_reply.is_some(),
            Outcome::Rearmed(Some((z, _))) => first_reply_at_or_after(z).is_some(),
            Outcome::Rearmed(None) => false,
        };
        if outcomes.iter().all(due) {
            Judged::Violated(format!(
                "the {:?} watch on {} carried into the connection on line {} (relativeZxid {}) was due (setWatches fires it or a later change triggers it) but never reached session {}",
                w.kind, w.path, c.line, c.relative_zxid, w.session
            ))
        } else {
            Judged::NotDue
        }
    }
}

/// Whether a notification of type `event` can come from `table`.
pub(crate) fn in_table(table: Table, event: EventType) -> bool {
    use EventType::{NodeChildrenChanged, NodeCreated, NodeDataChanged, NodeDeleted};
    match table {
        Table::Data => matches!(event, NodeCreated | NodeDataChanged | NodeDeleted),
        Table::Child => matches!(event, NodeChildrenChanged | NodeDeleted),
    }
}

#[cfg(test)]
#[path = "rearm_tests.rs"]
mod tests;
