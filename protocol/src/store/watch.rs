//! `WatchManager` (ZooKeeper 3.8): a table path → watchers, where a watcher is a session's
//! connection to this server, plus a mode per (watcher, path): standard (one-shot),
//! persistent or persistent-recursive. The data tree keeps two managers: data watches (getData,
//! exists, addWatch) and child watches (getChildren, addWatch).
//!
//! `triggerWatch(path, type)` collects, as a set, the watchers on `path` (and, when any
//! recursive watch exists, the recursive watchers on every ancestor, except for
//! NodeChildrenChanged); standard watches are consumed. Each watcher gets the event once per
//! trigger, and only if its connection's auth grants READ on the node's ACL (ZooKeeper 3.8.4+
//! filters events by ACL). As in 3.8, a standard watch set on a path where the same session
//! holds a persistent one replaces the mode (ZOOKEEPER-4466 changed this in 3.9).

use std::collections::{BTreeMap, BTreeSet};

use crate::acl::{perms, Acl, Id};
use crate::request::{EventType, KeeperState, WatchedEvent};
use crate::store::auth::check_acl;
use crate::types::SessionId;

/// `WatcherMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WatcherMode {
    /// One-shot (getData, exists, getChildren).
    Standard,
    /// addWatch PERSISTENT.
    Persistent,
    /// addWatch PERSISTENT_RECURSIVE.
    PersistentRecursive,
}

/// One notification for one session.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WatchNotification {
    /// The session whose connection gets it.
    pub session: SessionId,
    /// The event (state SyncConnected).
    pub event: WatchedEvent,
}

/// One watch manager (data or child).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchManager {
    watch_table: BTreeMap<String, BTreeSet<SessionId>>,
    watch_to_paths: BTreeMap<SessionId, BTreeSet<String>>,
    modes: BTreeMap<(SessionId, String), WatcherMode>,
    recursive_count: usize,
}

impl WatchManager {
    /// `addWatch(path, watcher, mode)`; true when the path was new for this watcher.
    pub fn add_watch(&mut self, path: &str, session: SessionId, mode: WatcherMode) -> bool {
        self.watch_table
            .entry(path.to_string())
            .or_default()
            .insert(session);
        self.set_mode(session, path, mode);
        self.watch_to_paths
            .entry(session)
            .or_default()
            .insert(path.to_string())
    }

    fn set_mode(&mut self, session: SessionId, path: &str, mode: WatcherMode) {
        let key = (session, path.to_string());
        let old = if mode == WatcherMode::Standard {
            self.modes.remove(&key)
        } else {
            self.modes.insert(key, mode)
        };
        if old == Some(WatcherMode::PersistentRecursive) {
            self.recursive_count -= 1;
        }
        if mode == WatcherMode::PersistentRecursive {
            self.recursive_count += 1;
        }
    }

    fn mode(&self, session: SessionId, path: &str) -> WatcherMode {
        self.modes
            .get(&(session, path.to_string()))
            .copied()
            .unwrap_or(WatcherMode::Standard)
    }

    /// `removeWatcher(watcher)`: the connection closed; all its watches go.
    pub fn remove_session(&mut self, session: SessionId) {
        let Some(paths) = self.watch_to_paths.remove(&session) else {
            return;
        };
        for path in paths {
            if let Some(set) = self.watch_table.get_mut(&path) {
                set.remove(&session);
                if set.is_empty() {
                    self.watch_table.remove(&path);
                }
            }
            self.set_mode(session, &path, WatcherMode::Standard);
        }
    }

    /// `removeWatcher(path, watcher)`: true when a watch was removed.
    pub fn remove_watch(&mut self, path: &str, session: SessionId) -> bool {
        let removed_path = self
            .watch_to_paths
            .get_mut(&session)
            .is_some_and(|p| p.remove(path));
        if !removed_path {
            return false;
        }
        let removed = self
            .watch_table
            .get_mut(path)
            .is_some_and(|s| s.remove(&session));
        if self.watch_table.get(path).is_some_and(|s| s.is_empty()) {
            self.watch_table.remove(path);
        }
        if !removed {
            return false;
        }
        self.set_mode(session, path, WatcherMode::Standard);
        true
    }

    /// `containsWatcher(path, watcher)`, with 3.8's exact answer: true when any watcher is on
    /// `path`, or when this watcher's mode on `path` is recursive.
    pub fn contains_watcher(&self, path: &str, session: SessionId) -> bool {
        self.watch_table.contains_key(path)
            || self.mode(session, path) == WatcherMode::PersistentRecursive
    }

    /// `triggerWatch`: the sessions whose watches match (consuming standard ones). `suppress`
    /// lists watchers already notified for this change.
    pub fn trigger(&mut self, path: &str, event_type: EventType) -> BTreeSet<SessionId> {
        let mut fired = BTreeSet::new();
        let mut local = Some(path.to_string());
        let mut at_parent = false;
        while let Some(p) = local {
            self.trigger_at(&p, at_parent, event_type, &mut fired);
            if self.recursive_count == 0 {
                break;
            }
            local = parent_for_iterator(&p);
            at_parent = true;
        }
        fired
    }

    fn trigger_at(
        &mut self,
        local: &str,
        at_parent: bool,
        event_type: EventType,
        fired: &mut BTreeSet<SessionId>,
    ) {
        let Some(watchers) = self.watch_table.get(local).cloned() else {
            return;
        };
        for session in watchers {
            match self.mode(session, local) {
                WatcherMode::PersistentRecursive => {
                    if event_type != EventType::NodeChildrenChanged {
                        fired.insert(session);
                    }
                }
                _ if at_parent => {}
                WatcherMode::Persistent => {
                    fired.insert(session);
                }
                WatcherMode::Standard => {
                    fired.insert(session);
                    self.consume(local, session);
                }
            }
        }
    }

    fn consume(&mut self, path: &str, session: SessionId) {
        if let Some(set) = self.watch_table.get_mut(path) {
            set.remove(&session);
            if set.is_empty() {
                self.watch_table.remove(path);
            }
        }
        if let Some(paths) = self.watch_to_paths.get_mut(&session) {
            paths.remove(path);
            if paths.is_empty() {
                self.watch_to_paths.remove(&session);
            }
        }
    }

    /// Number of (path, watcher) pairs.
    pub fn size(&self) -> usize {
        self.watch_table.values().map(BTreeSet::len).sum()
    }

    /// The paths a session watches here, sorted (for SetWatches bookkeeping and tests).
    pub fn paths_of(&self, session: SessionId) -> Vec<(String, WatcherMode)> {
        self.watch_to_paths
            .get(&session)
            .map(|paths| {
                paths
                    .iter()
                    .map(|p| (p.clone(), self.mode(session, p)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `PathParentIterator`: `/a/b` → `/a` → `/` → end.
fn parent_for_iterator(path: &str) -> Option<String> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/".to_string()),
        Some(i) => Some(path[..i].to_string()),
        None => None,
    }
}

/// Turns fired sessions into notifications, dropping those whose auth lacks READ on `acl`
/// (`ServerCnxn.process(event, znodeAcl)`) and those in `suppress`.
pub fn notifications(
    fired: &BTreeSet<SessionId>,
    suppress: &BTreeSet<SessionId>,
    path: &str,
    event_type: EventType,
    acl: &[Acl],
    auth: &BTreeMap<SessionId, Vec<Id>>,
) -> Vec<WatchNotification> {
    let no_auth = Vec::new();
    fired
        .iter()
        .filter(|s| !suppress.contains(s))
        .filter(|s| check_acl(acl, perms::READ, auth.get(s).unwrap_or(&no_auth)).is_ok())
        .map(|s| WatchNotification {
            session: *s,
            event: WatchedEvent {
                event_type,
                state: KeeperState::SyncConnected,
                path: path.to_string(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_watch_fires_once_persistent_stays() {
        let mut m = WatchManager::default();
        let (a, b) = (SessionId(1), SessionId(2));
        m.add_watch("/x", a, WatcherMode::Standard);
        m.add_watch("/x", b, WatcherMode::Persistent);
        let fired = m.trigger("/x", EventType::NodeDataChanged);
        assert_eq!(fired, BTreeSet::from([a, b]));
        let fired = m.trigger("/x", EventType::NodeDataChanged);
        assert_eq!(fired, BTreeSet::from([b]));
    }

    #[test]
    fn recursive_watch_fires_for_descendants_but_not_child_events() {
        let mut m = WatchManager::default();
        let a = SessionId(1);
        m.add_watch("/x", a, WatcherMode::PersistentRecursive);
        assert_eq!(m.trigger("/x/y/z", EventType::NodeCreated).len(), 1);
        assert!(m.trigger("/x/y", EventType::NodeChildrenChanged).is_empty());
        assert!(m.trigger("/other", EventType::NodeCreated).is_empty());
        m.remove_session(a);
        assert!(m.trigger("/x/y", EventType::NodeCreated).is_empty());
        assert_eq!(m.size(), 0);
    }
}
