//! The content of a ZooKeeper snapshot, independent of its byte encoding: the contract between
//! the znode store (which builds and loads it) and the persistence codec (which writes and reads
//! `snapshot.<zxid>` files).

use crate::acl::Acl;
use crate::stat::StatPersisted;
use crate::types::{SessionId, Zxid};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One znode as a snapshot stores it: `path`, then `DataNode{data; acl; stat}` where `acl` is a
/// reference into the ACL cache.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotNode {
    /// Absolute path (`""` for the root, as ZooKeeper writes it).
    pub path: String,
    /// The data (`None` is jute's null buffer).
    pub data: Option<Vec<u8>>,
    /// The ACL cache reference (`-1` means open ACL in ZooKeeper's `ReferenceCountedACLCache`).
    pub acl_ref: i64,
    /// The persisted stat.
    pub stat: StatPersisted,
}

/// `ZxidDigest{zxid; digestVersion; digest}` written after the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ZxidDigest {
    /// The zxid the digest belongs to.
    pub zxid: Zxid,
    /// The digest version.
    pub digest_version: i32,
    /// The digest.
    pub digest: i64,
}

/// A whole snapshot: sessions, ACL cache, nodes in pre-order, optional digest and last zxid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotImage {
    /// `sessionsWithTimeouts`: session id → timeout (ms), in ascending id order.
    pub sessions: Vec<(SessionId, i32)>,
    /// The ACL cache: reference → ACL list.
    pub acl_cache: BTreeMap<i64, Vec<Acl>>,
    /// The nodes in pre-order (parents before children).
    pub nodes: Vec<SnapshotNode>,
    /// The digest section, when present.
    pub digest: Option<ZxidDigest>,
    /// The serialized `lastProcessedZxid` section, when present.
    pub last_processed_zxid: Option<Zxid>,
}
