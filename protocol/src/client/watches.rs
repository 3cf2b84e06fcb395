//! The client's watch registrations (`ZKWatchManager`): which paths have data, exist, child and
//! persistent watches, so they can be re-registered with `SetWatches` after a reconnect.

use crate::error_code::ErrorCode;
use crate::request::{AddWatchMode, EventType, Request, WatchedEvent};
use crate::session_wire::SetWatches;
use crate::types::Zxid;
use std::collections::BTreeSet;

/// The watches this client holds.
#[derive(Clone, Debug, Default)]
pub struct ClientWatches {
    data: BTreeSet<String>,
    exist: BTreeSet<String>,
    child: BTreeSet<String>,
    persistent: BTreeSet<String>,
    recursive: BTreeSet<String>,
}

impl ClientWatches {
    /// Registers what a completed request leaves armed (ZooKeeper registers a watch only when
    /// the request succeeded, or for `exists` also on NONODE).
    pub fn on_reply(&mut self, request: &Request, err: ErrorCode) {
        match request {
            Request::GetData { path, watch: true } if err == ErrorCode::OK => {
                self.data.insert(path.clone());
            }
            Request::Exists { path, watch: true } if err == ErrorCode::OK => {
                self.data.insert(path.clone());
            }
            Request::Exists { path, watch: true } if err == ErrorCode::NONODE => {
                self.exist.insert(path.clone());
            }
            Request::GetChildren {
                path, watch: true, ..
            } if err == ErrorCode::OK => {
                self.child.insert(path.clone());
            }
            Request::AddWatch { path, mode } if err == ErrorCode::OK => {
                let set = match mode {
                    AddWatchMode::Persistent => &mut self.persistent,
                    AddWatchMode::PersistentRecursive => &mut self.recursive,
                };
                set.insert(path.clone());
            }
            _ => {}
        }
    }

    /// Removes the one-shot watches a notification consumed.
    pub fn on_event(&mut self, event: &WatchedEvent) {
        let path = &event.path;
        match event.event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                self.data.remove(path);
                self.exist.remove(path);
            }
            EventType::NodeDeleted => {
                self.data.remove(path);
                self.exist.remove(path);
                self.child.remove(path);
            }
            EventType::NodeChildrenChanged => {
                self.child.remove(path);
            }
            _ => {}
        }
    }

    /// Whether any watch is registered.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.exist.is_empty()
            && self.child.is_empty()
            && self.persistent.is_empty()
            && self.recursive.is_empty()
    }

    /// The `SetWatches2` a reconnect sends.
    pub fn set_watches(&self, relative_zxid: Zxid) -> SetWatches {
        SetWatches {
            relative_zxid,
            data_watches: self.data.iter().cloned().collect(),
            exist_watches: self.exist.iter().cloned().collect(),
            child_watches: self.child.iter().cloned().collect(),
            persistent_watches: self.persistent.iter().cloned().collect(),
            persistent_recursive_watches: self.recursive.iter().cloned().collect(),
        }
    }
}
