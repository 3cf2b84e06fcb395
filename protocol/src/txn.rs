//! Transactions: ZooKeeper's `TxnHeader` and the txn records of `zookeeper.jute`
//! (`org.apache.zookeeper.txn`). Every write, failed or not, becomes one of these and consumes a
//! zxid. The byte encoding (jute) lives in the persistence module; these are the values.

use crate::acl::Acl;
use crate::op_code::OpCode;
use crate::types::{SessionId, Xid, Zxid};
use serde::{Deserialize, Serialize};

/// jute `TxnHeader{long clientId; int cxid; long zxid; long time; int type}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxnHeader {
    /// The session that issued the request (0 for server-internal txns).
    pub client_id: SessionId,
    /// The client's request id.
    pub cxid: Xid,
    /// The txn's zxid.
    pub zxid: Zxid,
    /// The leader's time when it prepared the txn, ms.
    pub time: i64,
    /// The txn type (an op code).
    pub txn_type: OpCode,
}

/// jute `TxnDigest{int version; long treeDigest}`: the data tree digest after applying the txn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxnDigest {
    /// Digest algorithm version (ZooKeeper 3.6+ uses 2).
    pub version: i32,
    /// The digest value.
    pub tree_digest: i64,
}

/// A txn record: the body that follows a `TxnHeader`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Txn {
    /// `CreateTxn{path; data; acl; ephemeral; parentCVersion}` (types create and create2).
    Create {
        /// Absolute path, sequential suffix already applied.
        path: String,
        /// The node's data (`None` is jute's null buffer).
        data: Option<Vec<u8>>,
        /// The node's ACL.
        acl: Vec<Acl>,
        /// Whether the node is ephemeral (owned by the header's session).
        ephemeral: bool,
        /// The parent's cversion after this create.
        parent_cversion: i32,
    },
    /// `CreateContainerTxn{path; data; acl; parentCVersion}`.
    CreateContainer {
        /// Absolute path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// ACL.
        acl: Vec<Acl>,
        /// The parent's cversion after this create.
        parent_cversion: i32,
    },
    /// `CreateTTLTxn{path; data; acl; parentCVersion; ttl}`.
    CreateTtl {
        /// Absolute path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// ACL.
        acl: Vec<Acl>,
        /// The parent's cversion after this create.
        parent_cversion: i32,
        /// Time to live, ms.
        ttl: i64,
    },
    /// `DeleteTxn{path}` (types delete and deleteContainer).
    Delete {
        /// Absolute path.
        path: String,
    },
    /// `SetDataTxn{path; data; version}`: `version` is the new version.
    SetData {
        /// Absolute path.
        path: String,
        /// New data.
        data: Option<Vec<u8>>,
        /// The node's data version after the write.
        version: i32,
    },
    /// `CheckVersionTxn{path; version}` (inside multi).
    CheckVersion {
        /// Absolute path.
        path: String,
        /// The expected version.
        version: i32,
    },
    /// `SetACLTxn{path; acl; version}`: `version` is the new aversion.
    SetAcl {
        /// Absolute path.
        path: String,
        /// New ACL.
        acl: Vec<Acl>,
        /// The node's aversion after the write.
        version: i32,
    },
    /// `CreateSessionTxn{timeOut}`.
    CreateSession {
        /// The negotiated session timeout, ms.
        timeout_ms: i32,
    },
    /// `CloseSessionTxn{paths2Delete}`: the ephemerals deleted with the session. (Older logs have
    /// an empty body for closeSession; decoders accept both.)
    CloseSession {
        /// Paths of the session's ephemerals, deleted by this txn.
        paths_to_delete: Vec<String>,
    },
    /// `ErrorTxn{err}`: a write that failed at the leader still consumes a zxid.
    Error {
        /// The error code number.
        err: i32,
    },
    /// `MultiTxn{vector<Txn{int type; buffer data}> txns}`: each sub-txn with its type.
    Multi {
        /// The sub-txns, in order.
        txns: Vec<(OpCode, Txn)>,
    },
}

/// A complete logged transaction: header, record and (optionally) the digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxnEntry {
    /// The header.
    pub header: TxnHeader,
    /// The record.
    pub txn: Txn,
    /// The tree digest after applying it, when digests are enabled.
    pub digest: Option<TxnDigest>,
}
