//! `removeWatches` (and what it means for the watches it may remove) and the watch-setting
//! operations of each session, as `FinalRequestProcessor` and `WatchManager.removeWatcher`
//! (ZooKeeper 3.8) answer them: OK when the session's connection held a watch on exactly that
//! path in a table the type names (Data: the data table, which also holds exist and persistent
//! watches; Children: the child table; Any: either), NOWATCHER otherwise.
//!
//! What the judge establishes:
//!
//! * an OK needs a watch: some watch-setting op of the session on that path was invoked before
//!   the removal completed;
//! * a NOWATCHER is wrong when a persistent watch (addWatch) on that path answered OK before the
//!   removal was invoked, and nothing in between could have taken it away: no other removal of
//!   the session on the path, and no one-shot watch op on it (which in 3.8 turns the persistent
//!   mode back into a one-shot one, ZOOKEEPER-4466);
//! * a removal may excuse a missing notification only if the server could have processed it
//!   before the change: its reply zxid is below the change's zxid, or its outcome is unknown.

use super::persistent::PersistentReg;
use super::NAME;
use crate::zk::{Violation, ViolationKind};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::WatcherType;
use zabsim_protocol::types::{SessionId, Zxid};

/// A watch-setting operation as invoked (one-shot reads with `watch`, or addWatch).
#[derive(Clone, Debug)]
pub(super) struct WatchSet {
    pub session: SessionId,
    pub path: String,
    /// The history line of the invocation.
    pub invoke_line: usize,
    /// addWatch (persistent or recursive) rather than a one-shot read.
    pub persistent: bool,
    /// addWatch PERSISTENT_RECURSIVE.
    pub recursive: bool,
}

/// One `removeWatches` with its outcome.
#[derive(Clone, Debug)]
pub(super) struct Removal {
    pub session: SessionId,
    pub path: String,
    pub watcher_type: WatcherType,
    pub invoke_line: usize,
    /// The line of its completion.
    pub line: usize,
    /// The reply zxid (None: unknown outcome).
    pub zxid: Option<Zxid>,
    /// OK, NOWATCHER, or something else (None: unknown or another error).
    pub removed: Option<bool>,
}

impl Removal {
    /// Whether this removal may have taken away a `persistent` / one-shot watch of `session` on
    /// `path` in the data (`data_table`) or child table, set by an op invoked on `after_line`,
    /// before a change at `change`.
    pub(super) fn may_remove(
        &self,
        session: SessionId,
        path: &str,
        data_table: bool,
        after_line: usize,
        change: Zxid,
    ) -> bool {
        self.session == session
            && self.path == path
            && self.invoke_line > after_line
            && self.removed != Some(false)
            && self.covers(data_table)
            && self.zxid.is_none_or(|z| z < change)
    }

    fn covers(&self, data_table: bool) -> bool {
        match self.watcher_type {
            WatcherType::Any => true,
            WatcherType::Data => data_table,
            WatcherType::Children => !data_table,
        }
    }
}

/// The outcome code of a completed removeWatches, as the judge files it.
pub(super) fn removed_of(err: Option<ErrorCode>) -> Option<bool> {
    match err {
        None => Some(true),
        Some(ErrorCode::NOWATCHER) => Some(false),
        Some(_) => None,
    }
}

/// Judges every removal's answer against the watch-setting ops of its session.
pub(super) fn judge(
    removals: &[Removal],
    sets: &[WatchSet],
    persistent: &[PersistentReg],
) -> Vec<Violation> {
    let mut found = Vec::new();
    for r in removals {
        let mine = |s: &&WatchSet| s.session == r.session && s.path == r.path;
        let violation = |problem: String| {
            Violation::new(NAME, ViolationKind::Watch, problem)
                .sessions([r.session])
                .at(r.line)
        };
        match r.removed {
            Some(true) if !sets.iter().filter(mine).any(|s| s.invoke_line < r.line) => {
                found.push(violation(format!(
                    "removeWatches({}, {:?}) of session {} answered OK, but the session never set a watch there",
                    r.path, r.watcher_type, r.session
                )));
            }
            Some(true) => {}
            Some(false) => {
                let held = persistent.iter().find(|p| {
                    let invoked = p.invoke_line;
                    p.session == r.session
                        && p.path == r.path
                        && p.line < r.invoke_line
                        && (r.covers(true) || (r.covers(false) && !p.recursive))
                        && !removals.iter().any(|o| {
                            o.session == r.session
                                && o.path == r.path
                                && o.invoke_line > invoked
                                && o.invoke_line < r.invoke_line
                        })
                        && !sets.iter().filter(mine).any(|s| {
                            !s.persistent
                                && s.invoke_line > invoked
                                && s.invoke_line < r.invoke_line
                        })
                });
                if let Some(PersistentReg {
                    invoke_line: invoked,
                    ..
                }) = held
                {
                    found.push(violation(format!(
                        "removeWatches({}, {:?}) of session {} answered NOWATCHER, but the persistent watch its addWatch (invoked on line {invoked}) set was still there",
                        r.path, r.watcher_type, r.session
                    )));
                }
            }
            None => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::OpId;

    const S: SessionId = SessionId(7);

    fn removal(invoke_line: usize, removed: Option<bool>) -> Removal {
        Removal {
            session: S,
            path: "/p".into(),
            watcher_type: WatcherType::Any,
            invoke_line,
            line: invoke_line + 1,
            zxid: Some(Zxid(5)),
            removed,
        }
    }

    fn add_watch(invoke_line: usize) -> (WatchSet, PersistentReg) {
        let set = WatchSet {
            session: S,
            path: "/p".into(),
            invoke_line,
            persistent: true,
            recursive: false,
        };
        let reg = PersistentReg {
            session: S,
            path: "/p".into(),
            recursive: false,
            zxid: Zxid(3),
            op: OpId(1),
            line: invoke_line + 1,
            invoke_line,
        };
        (set, reg)
    }

    /// Goal: an OK with no watch ever set on the path is caught; with one set before, it passes.
    #[test]
    fn ok_needs_a_watch() {
        assert_eq!(judge(&[removal(10, Some(true))], &[], &[]).len(), 1);
        let (set, reg) = add_watch(2);
        assert!(judge(&[removal(10, Some(true))], &[set], &[reg]).is_empty());
    }

    /// Goal: NOWATCHER while a persistent watch is certainly held is caught; an earlier removal
    /// or a one-shot watch op in between (3.8 replaces the mode) makes it legitimate.
    #[test]
    fn nowatcher_while_a_persistent_watch_is_held_is_caught() {
        let (set, reg) = add_watch(2);
        let found = judge(
            &[removal(10, Some(false))],
            std::slice::from_ref(&set),
            std::slice::from_ref(&reg),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let earlier = removal(6, Some(true));
        let both = [earlier, removal(10, Some(false))];
        assert!(judge(
            &both,
            std::slice::from_ref(&set),
            std::slice::from_ref(&reg)
        )
        .is_empty());
        let one_shot = WatchSet {
            persistent: false,
            invoke_line: 5,
            ..set.clone()
        };
        assert!(judge(&[removal(10, Some(false))], &[set, one_shot], &[reg]).is_empty());
    }
}
