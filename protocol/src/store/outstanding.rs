//! The leader's view of changes prepared but not yet applied (`outstandingChanges` and
//! `outstandingChangesForPath` of `ZooKeeperServer`, with `ChangeRecord`). Prep reads a path
//! through this view first, so a create that follows an uncommitted create in the pipeline
//! sees it. Applying a txn drops every record with a zxid up to it.

use std::collections::BTreeMap;

use crate::acl::Acl;
use crate::stat::StatPersisted;
use crate::types::Zxid;

/// `ChangeRecord`: a node as it will be once the txn at `zxid` is applied; `stat == None` is a
/// deletion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRecord {
    /// The txn that makes this change (`-1`/0 for a record read from the tree).
    pub zxid: Zxid,
    /// Path.
    pub path: String,
    /// The Stat after the change; `None` when the node is deleted.
    pub stat: Option<StatPersisted>,
    /// Number of children after the change.
    pub child_count: i32,
    /// ACL.
    pub acl: Vec<Acl>,
    /// Data.
    pub data: Option<Vec<u8>>,
    /// The node's digest after the change (0 when deleted).
    pub node_digest: i64,
    /// The tree digest after the change.
    pub tree_digest: i64,
}

/// The outstanding changes, in prep order, with the latest record per path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutstandingChanges {
    pub(crate) queue: Vec<ChangeRecord>,
    pub(crate) for_path: BTreeMap<String, ChangeRecord>,
}

impl OutstandingChanges {
    /// `addChangeRecord`.
    pub fn add(&mut self, record: ChangeRecord) {
        self.for_path.insert(record.path.clone(), record.clone());
        self.queue.push(record);
    }

    /// The latest record for `path`.
    pub fn get(&self, path: &str) -> Option<&ChangeRecord> {
        self.for_path.get(path)
    }

    /// The last record's tree digest, if any.
    pub fn last_tree_digest(&self) -> Option<i64> {
        self.queue.last().map(|r| r.tree_digest)
    }

    /// Drops records with zxid ≤ `zxid` (FinalRequestProcessor after applying it).
    pub fn applied(&mut self, zxid: Zxid) {
        let n = self.queue.iter().take_while(|r| r.zxid <= zxid).count();
        for r in self.queue.drain(..n) {
            if self.for_path.get(&r.path) == Some(&r) {
                self.for_path.remove(&r.path);
            }
        }
    }

    /// Number of queued records.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is outstanding.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Drops everything (a server that stops leading).
    pub fn clear(&mut self) {
        self.queue.clear();
        self.for_path.clear();
    }
}
