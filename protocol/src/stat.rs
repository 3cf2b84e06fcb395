//! A znode's metadata: the persisted form (`StatPersisted`) and the client-visible `Stat`.

use crate::types::{SessionId, Zxid};
use serde::{Deserialize, Serialize};

/// jute `StatPersisted`: what a snapshot stores per node. `cversion` here is the stored child
/// counter; the client-visible `Stat` derives from it (see the store's rules).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatPersisted {
    /// Zxid of the txn that created the node.
    pub czxid: Zxid,
    /// Zxid of the txn that last modified the node's data.
    pub mzxid: Zxid,
    /// Creation time, ms since the epoch (from the txn header).
    pub ctime: i64,
    /// Last data modification time, ms.
    pub mtime: i64,
    /// Data version.
    pub version: i32,
    /// Child version.
    pub cversion: i32,
    /// ACL version.
    pub aversion: i32,
    /// Owner session of an ephemeral node, 0 otherwise (TTL and container nodes use special
    /// values, as ZooKeeper's `EphemeralType` encodes them).
    pub ephemeral_owner: i64,
    /// Zxid of the txn that last changed the node's children.
    pub pzxid: Zxid,
}

/// jute `Stat`: the client-visible metadata of a znode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stat {
    /// Zxid of the txn that created the node.
    pub czxid: Zxid,
    /// Zxid of the txn that last modified the node's data.
    pub mzxid: Zxid,
    /// Creation time, ms.
    pub ctime: i64,
    /// Modification time, ms.
    pub mtime: i64,
    /// Data version.
    pub version: i32,
    /// Child version.
    pub cversion: i32,
    /// ACL version.
    pub aversion: i32,
    /// Owner session of an ephemeral node, 0 otherwise.
    pub ephemeral_owner: i64,
    /// Length of the data in bytes.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
    /// Zxid of the txn that last changed the node's children.
    pub pzxid: Zxid,
}

impl Stat {
    /// The owner as a session id, if the node is a plain ephemeral.
    pub fn owner(&self) -> Option<SessionId> {
        (self.ephemeral_owner != 0).then_some(SessionId(self.ephemeral_owner))
    }
}
