//! `ZKWatchManager`: the client's record of the watches it has set, which reply registers which
//! watch, which watches a notification consumes, and what `SetWatches` re-registers on reconnect.

use crate::error_code::ErrorCode;
use crate::request::{AddWatchMode, EventType, Request, WatchedEvent, WatcherType};
use crate::session_wire::SetWatches;
use crate::types::Zxid;
use std::collections::BTreeSet;

/// The client's watches by kind (paths).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZkWatchManager {
    /// One-shot data watches (getData, exists on an existing node).
    pub data_watches: BTreeSet<String>,
    /// One-shot exist watches (exists on a missing node).
    pub exist_watches: BTreeSet<String>,
    /// One-shot child watches (getChildren).
    pub child_watches: BTreeSet<String>,
    /// Persistent watches (addWatch PERSISTENT).
    pub persistent_watches: BTreeSet<String>,
    /// Persistent recursive watches (addWatch PERSISTENT_RECURSIVE).
    pub persistent_recursive_watches: BTreeSet<String>,
}

impl ZkWatchManager {
    /// `WatchRegistration.register`: the reply to `request` came back with `err`.
    pub fn register(&mut self, request: &Request, err: ErrorCode) {
        let ok = err == ErrorCode::OK;
        match request {
            Request::GetData {
                path, watch: true, ..
            } if ok => {
                self.data_watches.insert(path.clone());
            }
            Request::Exists { path, watch: true } if ok => {
                self.data_watches.insert(path.clone());
            }
            Request::Exists { path, watch: true } if err == ErrorCode::NONODE => {
                self.exist_watches.insert(path.clone());
            }
            Request::GetChildren {
                path, watch: true, ..
            } if ok => {
                self.child_watches.insert(path.clone());
            }
            Request::AddWatch { path, mode } if ok => {
                match mode {
                    AddWatchMode::Persistent => self.persistent_watches.insert(path.clone()),
                    AddWatchMode::PersistentRecursive => {
                        self.persistent_recursive_watches.insert(path.clone())
                    }
                };
            }
            Request::RemoveWatches { path, watcher_type } if ok => {
                self.remove(path, *watcher_type);
            }
            _ => {}
        }
    }

    fn remove(&mut self, path: &str, watcher_type: WatcherType) {
        if matches!(watcher_type, WatcherType::Data | WatcherType::Any) {
            self.data_watches.remove(path);
            self.exist_watches.remove(path);
        }
        if matches!(watcher_type, WatcherType::Children | WatcherType::Any) {
            self.child_watches.remove(path);
        }
        if watcher_type == WatcherType::Any {
            self.persistent_watches.remove(path);
            self.persistent_recursive_watches.remove(path);
        }
    }

    /// `materialize`: consumes the one-shot watches `event` triggers and says whether any
    /// watcher (one-shot or persistent) wants it. State events (type None) always reach the
    /// application.
    pub fn materialize(&mut self, event: &WatchedEvent) -> bool {
        let path = event.path.as_str();
        let one_shot = match event.event_type {
            EventType::None => return true,
            EventType::NodeDataChanged | EventType::NodeCreated => {
                let d = self.data_watches.remove(path);
                self.exist_watches.remove(path) | d
            }
            EventType::NodeChildrenChanged => self.child_watches.remove(path),
            EventType::NodeDeleted => {
                let d = self.data_watches.remove(path);
                let e = self.exist_watches.remove(path);
                self.child_watches.remove(path) | d | e
            }
            EventType::DataWatchRemoved
            | EventType::ChildWatchRemoved
            | EventType::PersistentWatchRemoved => true,
        };
        let persistent = self.persistent_watches.contains(path);
        let recursive = event.event_type != EventType::NodeChildrenChanged
            && self
                .persistent_recursive_watches
                .iter()
                .any(|root| is_at_or_below(path, root));
        one_shot || persistent || recursive
    }

    /// Whether no watch is set.
    pub fn is_empty(&self) -> bool {
        self.data_watches.is_empty()
            && self.exist_watches.is_empty()
            && self.child_watches.is_empty()
            && self.persistent_watches.is_empty()
            && self.persistent_recursive_watches.is_empty()
    }

    /// The `SetWatches2` to send on reconnect, if any watch is set.
    pub fn set_watches(&self, relative_zxid: Zxid) -> Option<SetWatches> {
        if self.is_empty() {
            return None;
        }
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
        Some(SetWatches {
            relative_zxid,
            data_watches: list(&self.data_watches),
            exist_watches: list(&self.exist_watches),
            child_watches: list(&self.child_watches),
            persistent_watches: list(&self.persistent_watches),
            persistent_recursive_watches: list(&self.persistent_recursive_watches),
        })
    }
}

/// Whether `path` is `root` or a descendant of it.
fn is_at_or_below(path: &str, root: &str) -> bool {
    root == "/"
        || path == root
        || (path.starts_with(root) && path.as_bytes().get(root.len()) == Some(&b'/'))
}
