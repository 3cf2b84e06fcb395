//! One-shot watches (Programmer's Guide, "ZooKeeper Watches"): a watch set by a read that
//! returned at zxid r is triggered by the first committed txn after r that changes what it
//! watches; the client then gets exactly one notification carrying that txn's zxid, and gets it
//! before any reply that would let it see the change (a reply at that zxid or later).
//!
//! Server-side tables as in `WatchManager`: `getData` and `exists` (also on a missing node) set a
//! data watch; `getChildren` a child watch. create p → NodeCreated on p's data watches and
//! NodeChildrenChanged on the parent's child watches; delete p → NodeDeleted on p's data and
//! child watches (one notification per session: the second table is suppressed) and
//! NodeChildrenChanged on the parent; setData p → NodeDataChanged on p's data watches.

use super::persistent::{self, is_at_or_below, PersistentReg};
use super::rearm::{Carried, Connection, Evidence, Judged, WatchKind};
use super::removals::{Removal, WatchSet};
use super::NAME;
use crate::history::OpId;
use crate::reference::parent_of;
use crate::zk::{Violation, ViolationKind};
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::request::EventType;
use zabsim_protocol::txn::Txn;
use zabsim_protocol::types::{SessionId, Zxid};

/// Which server-side table a watch lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Table {
    Data,
    Child,
}

/// A watch registration: a read with `watch` that returned at `zxid`.
#[derive(Clone, Debug)]
pub(super) struct Registration {
    pub session: SessionId,
    pub kind: WatchKind,
    pub path: String,
    pub zxid: Zxid,
    pub op: OpId,
    /// The history line of the read's completion.
    pub line: usize,
    /// The history line of the read's invocation.
    pub invoke_line: usize,
}

/// A notification a client received (1-based history line).
#[derive(Clone, Debug)]
pub(super) struct Received {
    pub line: usize,
    pub session: SessionId,
    pub zxid: Zxid,
    pub event: EventType,
    pub path: String,
}

/// The (table, path) → [(zxid, event)] index of committed changes.
pub(crate) type ChangeIndex = BTreeMap<(Table, String), Vec<(Zxid, EventType)>>;

fn push(index: &mut ChangeIndex, table: Table, path: &str, zxid: Zxid, event: EventType) {
    index
        .entry((table, path.to_string()))
        .or_default()
        .push((zxid, event));
}

fn push_deleted(index: &mut ChangeIndex, path: &str, zxid: Zxid) {
    push(index, Table::Data, path, zxid, EventType::NodeDeleted);
    push(index, Table::Child, path, zxid, EventType::NodeDeleted);
    if let Some(parent) = parent_of(path) {
        push(
            index,
            Table::Child,
            parent,
            zxid,
            EventType::NodeChildrenChanged,
        );
    }
}

/// Adds one committed txn's watch-relevant changes to the index.
pub(crate) fn index_txn(index: &mut ChangeIndex, zxid: Zxid, txn: &Txn) {
    match txn {
        Txn::Create { path, .. }
        | Txn::CreateContainer { path, .. }
        | Txn::CreateTtl { path, .. } => {
            push(index, Table::Data, path, zxid, EventType::NodeCreated);
            if let Some(parent) = parent_of(path) {
                push(
                    index,
                    Table::Child,
                    parent,
                    zxid,
                    EventType::NodeChildrenChanged,
                );
            }
        }
        Txn::Delete { path } => push_deleted(index, path, zxid),
        Txn::CloseSession { paths_to_delete } => {
            for path in paths_to_delete {
                push_deleted(index, path, zxid);
            }
        }
        Txn::SetData { path, .. } => {
            push(index, Table::Data, path, zxid, EventType::NodeDataChanged)
        }
        Txn::Multi { txns } if txns.iter().all(|(_, t)| !matches!(t, Txn::Error { .. })) => {
            for (_, sub) in txns {
                index_txn(index, zxid, sub);
            }
        }
        _ => {}
    }
}

/// What the judge needs to decide the watches.
pub(super) struct WatchFacts<'a> {
    pub registrations: &'a [Registration],
    pub received: &'a [Received],
    /// Per session, its replies as (line, zxid), in order.
    pub replies: &'a BTreeMap<SessionId, Vec<(usize, Zxid)>>,
    /// Per session, the zxid of its closeSession, if committed.
    pub closed_at: &'a BTreeMap<SessionId, Zxid>,
    /// Sessions and paths where a watch may have been set by an op with an unknown outcome.
    pub uncertain: &'a BTreeSet<(SessionId, String)>,
    /// Per session, its connections as (line of `Connected`, `lastZxidSeen`), in order.
    pub connects: &'a BTreeMap<SessionId, Vec<(usize, Zxid)>>,
    /// addWatch registrations ([`persistent`]).
    pub persistent: &'a [PersistentReg],
    /// removeWatches calls with their outcomes.
    pub removals: &'a [Removal],
    /// Every watch-setting invocation.
    pub sets: &'a [WatchSet],
    /// Sessions and roots where a recursive watch may have been set by an op with an unknown
    /// outcome (it explains notifications anywhere below).
    pub uncertain_below: &'a BTreeSet<(SessionId, String)>,
}

/// What is due for one (session, path, event, zxid).
struct Due<'a> {
    /// The one-shot watches it triggers that no removal may have taken away (a data and a
    /// child watch on a deleted node share the key, and each is carried on its own).
    /// Each with whether it is strict: a watch whose mode a later recursive addWatch may have
    /// replaced (see below) still explains what it brings, but is demanded nowhere.
    one_shot: Vec<(&'a Registration, bool)>,
    /// A persistent watch that must deliver it ([`persistent`]'s rule).
    persistent: Option<&'a PersistentReg>,
    /// The op that set some watch it triggers.
    op: OpId,
    /// How many notifications it may bring: a multi whose sub-ops change the same thing twice
    /// triggers a persistent watch twice (one `triggerWatch` per sub-txn); otherwise one.
    allowed: usize,
}

impl WatchFacts<'_> {
    /// The line of the session's first reply at `zxid` or later.
    fn first_view(&self, session: SessionId, zxid: Zxid) -> Option<usize> {
        self.replies
            .get(&session)?
            .iter()
            .find(|(_, z)| *z >= zxid)
            .map(|(line, _)| *line)
    }

    /// Whether the persistent watch `reg` must deliver `t` (see [`persistent`]).
    fn persistent_due(&self, reg: &PersistentReg, t: &persistent::Trigger) -> bool {
        let removed = self.removals.iter().any(|r| {
            r.may_remove(
                reg.session,
                &reg.path,
                t.table == Table::Data,
                reg.invoke_line,
                t.zxid,
            )
        });
        // A later watch op on the same path replaces the mode (WatcherModeManager keeps one
        // mode per watcher and path): a one-shot one, or the other persistent mode.
        let overwritten = self.sets.iter().any(|s| {
            s.session == reg.session
                && s.path == reg.path
                && (!s.persistent || s.recursive != reg.recursive)
                && s.invoke_line > reg.invoke_line
        });
        let Some(view) = self.first_view(reg.session, t.zxid) else {
            return false;
        };
        let moved = self
            .connects
            .get(&reg.session)
            .into_iter()
            .flatten()
            .any(|(line, _)| *line > reg.line && *line < view);
        !removed && !overwritten && !moved
    }
}

/// Judges the watches; returns the violations and how many expected notifications could not be
/// decided (the client never got far enough to have to see them).
pub(super) fn judge(facts: &WatchFacts<'_>, index: &ChangeIndex) -> (Vec<Violation>, usize) {
    let mut expected: BTreeMap<(SessionId, String, EventType, Zxid), Due<'_>> = BTreeMap::new();
    let closed_before =
        |session: &SessionId, zxid: Zxid| facts.closed_at.get(session).is_some_and(|c| *c < zxid);
    for reg in facts.registrations {
        let Some(changes) = index.get(&(reg.kind.table(), reg.path.clone())) else {
            continue;
        };
        let Some(&(zxid, event)) = changes.iter().find(|(z, _)| *z > reg.zxid) else {
            continue;
        };
        if closed_before(&reg.session, zxid) {
            continue;
        }
        let removed = facts.removals.iter().any(|r| {
            r.may_remove(
                reg.session,
                &reg.path,
                reg.kind.table() == Table::Data,
                reg.invoke_line,
                zxid,
            )
        });
        let due = expected
            .entry((reg.session, reg.path.clone(), event, zxid))
            .or_insert(Due {
                one_shot: Vec::new(),
                persistent: None,
                op: reg.op,
                allowed: 1,
            });
        // ZooKeeper 3.8 keeps one mode per (watcher, path) in each manager and addWatch puts
        // either mode in both: a later recursive addWatch turns a one-shot child watch into a
        // recursive one, which NodeChildrenChanged never triggers.
        let made_recursive = reg.kind.table() == Table::Child
            && facts.sets.iter().any(|s| {
                s.session == reg.session
                    && s.path == reg.path
                    && s.recursive
                    && s.invoke_line > reg.invoke_line
            });
        // A removal that never answered OK (its outcome unknown) leaves the client holding
        // the watch, whatever the server did: it still goes along in SetWatches, and may fire
        // there (swarm seed 5598). Explained, not demanded.
        let still_held = removed
            && facts.removals.iter().all(|r| {
                !r.may_remove(
                    reg.session,
                    &reg.path,
                    reg.kind.table() == Table::Data,
                    reg.invoke_line,
                    zxid,
                ) || r.removed.is_none()
            });
        if !removed {
            due.one_shot.push((reg, !made_recursive));
        } else if still_held {
            due.one_shot.push((reg, false));
        }
    }
    for reg in facts.persistent {
        let triggers = persistent::triggers(reg, index);
        for t in &triggers {
            if closed_before(&reg.session, t.zxid) {
                continue;
            }
            let required = facts.persistent_due(reg, t);
            let times = triggers
                .iter()
                .filter(|o| o.path == t.path && o.event == t.event && o.zxid == t.zxid)
                .count();
            let due = expected
                .entry((reg.session, t.path.clone(), t.event, t.zxid))
                .or_insert(Due {
                    one_shot: Vec::new(),
                    persistent: None,
                    op: reg.op,
                    allowed: 1,
                });
            due.allowed = due.allowed.max(times);
            if required && due.persistent.is_none() {
                due.persistent = Some(reg);
            }
        }
    }
    let mut found = Vec::new();
    let mut undecided = 0;
    let mut matched: BTreeSet<usize> = BTreeSet::new();
    // Carried watches answered per (session, path, connection start, connection end).
    let mut answered: BTreeMap<(SessionId, String, usize, Option<usize>), usize> = BTreeMap::new();
    let no_replies = Vec::new();
    for ((session, path, event, zxid), due) in &expected {
        let op = due.op;
        let replies = facts.replies.get(session).unwrap_or(&no_replies);
        let hits: Vec<&Received> = facts
            .received
            .iter()
            .filter(|r| {
                r.session == *session && r.path == *path && r.event == *event && r.zxid == *zxid
            })
            .collect();
        matched.extend(hits.iter().map(|r| r.line));
        let first_view = replies
            .iter()
            .find(|(_, z)| z >= zxid)
            .map(|(line, _)| *line);
        let what = format!(
            "the {event:?} watch on {path} (set by op {}) triggered at {zxid}",
            op.0
        );
        let violation = |problem: String| {
            Violation::new(NAME, ViolationKind::Watch, problem)
                .ops([op])
                .sessions([*session])
                .zxids([*zxid])
        };
        if hits.len() > due.allowed {
            found.push(violation(format!(
                "{what} fired {} times for session {session}",
                hits.len()
            )));
            continue;
        }
        if !hits.is_empty() {
            let late = hits
                .iter()
                .find(|h| first_view.is_some_and(|line| h.line > line));
            if let (Some(one), Some(line)) = (late, first_view) {
                found.push(violation(format!(
                    "{what} reached session {session} on line {}, after a reply at {zxid} or later on line {line}",
                    one.line
                )));
            }
            continue;
        }
        if due.one_shot.is_empty() {
            if due.persistent.is_some() {
                if let Some(line) = first_view {
                    found.push(violation(format!(
                        "{what} never reached session {session} before its reply on line {line} (persistent watch)"
                    )));
                }
            }
            continue;
        }
        for &(reg, strict) in &due.one_shot {
            // Not notified at the trigger. If the session moved to another server before it
            // could see the change, the watch went along in SetWatches: judge it there.
            let connections = connections_after(facts.connects.get(session), reg.line);
            let carried = connections
                .first()
                .is_some_and(|c| first_view.is_none_or(|l| l > c.line));
            // A watch not demanded (its server-side mode may have been replaced) is still held
            // by the client and goes along in SetWatches: the loop below only explains with it.
            if !carried && strict {
                match first_view {
                    Some(line) => found.push(violation(format!(
                        "{what} never reached session {session} before its reply on line {line}"
                    ))),
                    None => undecided += 1,
                }
                break;
            }
            let evidence = Evidence {
                index,
                replies,
                received: facts.received,
            };
            let watch = Carried {
                session: *session,
                kind: reg.kind,
                path,
                set_at: reg.zxid,
            };
            // Whether the watch must fire where it is due; once its server-side mode may have
            // been replaced it only explains what it gets, but the client still holds it and
            // carries it into every later connection.
            let mut demanded = strict;
            for c in connections {
                match evidence.judge(&watch, c) {
                    Judged::Answered(line) => {
                        matched.insert(line);
                        *answered
                            .entry((*session, path.clone(), c.line, c.ends_at_line))
                            .or_default() += 1;
                        break;
                    }
                    Judged::NotDue => {}
                    Judged::Violated(_) if !demanded => {}
                    // setWatches re-adds the session's recursive watches after its child
                    // watches, so one on the same path turns a re-armed child watch recursive
                    // (3.8's one mode per watcher and path): it never fires on this connection,
                    // and the client sends it again on the next (swarm seed 1235).
                    Judged::Violated(_)
                        if reg.kind.table() == Table::Child
                            && facts.sets.iter().any(|s| {
                                s.session == *session
                                    && s.path == *path
                                    && s.recursive
                                    && s.invoke_line < c.line
                            }) =>
                    {
                        demanded = false;
                    }
                    // A removal the session sent on this connection may have taken the
                    // re-registered watch away before the change that was due to trigger it.
                    Judged::Violated(_)
                        if facts.removals.iter().any(|r| {
                            r.session == *session
                                && r.path == *path
                                && r.invoke_line > c.line
                                && c.ends_at_line.is_none_or(|end| r.invoke_line < end)
                                && r.removed != Some(false)
                        }) =>
                    {
                        break;
                    }
                    Judged::Violated(why) => {
                        found.push(violation(format!(
                            "{what}, not delivered before the session reconnected: {why}"
                        )));
                        break;
                    }
                }
            }
        }
    }
    // setWatches fires each carried one-shot watch on its own (a data and a child watch on a
    // deleted node give two NodeDeleted): as many catch-up notifications (zxid -1) on that
    // connection as watches it answered are explained.
    for ((session, path, from, to), n) in answered {
        let catch_up = facts.received.iter().filter(|r| {
            r.session == session
                && r.path == path
                && r.zxid == Zxid::NONE
                && r.line > from
                && to.is_none_or(|end| r.line < end)
        });
        matched.extend(catch_up.take(n).map(|r| r.line));
    }
    found.extend(spurious(facts, &matched));
    (found, undecided)
}

/// The session's connections that start after `line`, each with where the next one starts.
fn connections_after(all: Option<&Vec<(usize, Zxid)>>, line: usize) -> Vec<Connection> {
    let later: Vec<(usize, Zxid)> = all
        .into_iter()
        .flatten()
        .copied()
        .filter(|(l, _)| *l > line)
        .collect();
    later
        .iter()
        .enumerate()
        .map(|(i, (l, z))| Connection {
            line: *l,
            relative_zxid: *z,
            ends_at_line: later.get(i + 1).map(|(next, _)| *next),
        })
        .collect()
}

/// Notifications that no triggered watch explains.
fn spurious(facts: &WatchFacts<'_>, matched: &BTreeSet<usize>) -> Vec<Violation> {
    facts
        .received
        .iter()
        .filter(|r| !matched.contains(&r.line))
        .filter(|r| !facts.uncertain.contains(&(r.session, r.path.clone())))
        .filter(|r| {
            !facts
                .uncertain_below
                .iter()
                .any(|(s, root)| *s == r.session && is_at_or_below(&r.path, root))
        })
        .map(|r| {
            let mut v = Violation::new(
                NAME,
                ViolationKind::Watch,
                format!(
                    "session {} got {:?} on {} at {} without a watch that txn triggers",
                    r.session, r.event, r.path, r.zxid
                ),
            )
            .sessions([r.session])
            .zxids([r.zxid]);
            v.line = Some(r.line);
            v
        })
        .collect()
}

#[cfg(test)]
#[path = "watches_tests.rs"]
mod tests;
