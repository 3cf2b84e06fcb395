//! The client API as ZooKeeper's jute records carry it: requests, responses and watch events.
//!
//! This is the contract between the client, the servers' request pipeline, the znode store and
//! the checkers' histories. Field names follow `zookeeper.jute` (`CreateRequest`,
//! `GetDataResponse`, `WatcherEvent`, ...).

use crate::acl::Acl;
use crate::error_code::ErrorCode;
use crate::op_code::OpCode;
use crate::stat::Stat;
use serde::{Deserialize, Serialize};

/// `CreateMode`, with ZooKeeper's flag numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CreateMode {
    /// 0
    Persistent,
    /// 1
    Ephemeral,
    /// 2
    PersistentSequential,
    /// 3
    EphemeralSequential,
    /// 4
    Container,
    /// 5
    PersistentWithTtl,
    /// 6
    PersistentSequentialWithTtl,
}

impl CreateMode {
    /// The flag number in `CreateRequest.flags`.
    pub fn flag(self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential => 2,
            CreateMode::EphemeralSequential => 3,
            CreateMode::Container => 4,
            CreateMode::PersistentWithTtl => 5,
            CreateMode::PersistentSequentialWithTtl => 6,
        }
    }

    /// `CreateMode.fromFlag`; `None` for an unknown flag (ZooKeeper answers BADARGUMENTS).
    pub fn from_flag(flag: i32) -> Option<CreateMode> {
        Some(match flag {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }

    /// Whether the node is ephemeral.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// Whether the name gets a `%010d` suffix.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// Whether the node is a TTL node.
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

/// `AddWatchMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AddWatchMode {
    /// 0: fires on data, children and deletion of the node, and stays.
    Persistent,
    /// 1: like persistent, for the node and every descendant.
    PersistentRecursive,
}

/// `WatcherType` for removeWatches / checkWatches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WatcherType {
    /// 1
    Children,
    /// 2
    Data,
    /// 3
    Any,
}

/// One operation inside a `multi` (`MultiOperationRecord`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MultiOp {
    /// `create` (the result carries the path only).
    Create {
        /// Path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// ACL.
        acl: Vec<Acl>,
        /// Raw `CreateMode` flag.
        flags: i32,
    },
    /// `create2` (the result carries path and Stat).
    Create2 {
        /// Path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// ACL.
        acl: Vec<Acl>,
        /// Raw `CreateMode` flag.
        flags: i32,
    },
    /// `delete`.
    Delete {
        /// Path.
        path: String,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// `setData`.
    SetData {
        /// Path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// `check`.
    Check {
        /// Path.
        path: String,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// `getData` (multiRead only).
    GetData {
        /// Path.
        path: String,
    },
    /// `getChildren` (multiRead only).
    GetChildren {
        /// Path.
        path: String,
    },
}

/// A client request (the record after the `RequestHeader`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Request {
    /// `CreateRequest` (op create or create2) or `CreateTTLRequest` (op createTTL).
    Create {
        /// Path (before the sequential suffix).
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// ACL.
        acl: Vec<Acl>,
        /// Raw `CreateMode` flag.
        flags: i32,
        /// TTL in ms for TTL modes, otherwise -1.
        ttl: i64,
        /// Whether the reply carries the Stat (create2/createTTL/createContainer do).
        with_stat: bool,
    },
    /// `DeleteRequest`.
    Delete {
        /// Path.
        path: String,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// `ExistsRequest`.
    Exists {
        /// Path.
        path: String,
        /// Leave a watch.
        watch: bool,
    },
    /// `GetDataRequest`.
    GetData {
        /// Path.
        path: String,
        /// Leave a watch.
        watch: bool,
    },
    /// `SetDataRequest`.
    SetData {
        /// Path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// `GetACLRequest`.
    GetAcl {
        /// Path.
        path: String,
    },
    /// `SetACLRequest`.
    SetAcl {
        /// Path.
        path: String,
        /// ACL.
        acl: Vec<Acl>,
        /// Expected aversion, -1 for any.
        version: i32,
    },
    /// `GetChildrenRequest` / `GetChildren2Request`.
    GetChildren {
        /// Path.
        path: String,
        /// Leave a watch.
        watch: bool,
        /// getChildren2: the reply carries the parent's Stat.
        with_stat: bool,
    },
    /// `SyncRequest`.
    Sync {
        /// Path.
        path: String,
    },
    /// `MultiOperationRecord` for multi.
    Multi {
        /// The sub-operations (create, create2, delete, setData, check).
        ops: Vec<MultiOp>,
    },
    /// `MultiOperationRecord` for multiRead.
    MultiRead {
        /// The sub-operations (getData, getChildren).
        ops: Vec<MultiOp>,
    },
    /// `AddWatchRequest`.
    AddWatch {
        /// Path.
        path: String,
        /// Mode.
        mode: AddWatchMode,
    },
    /// `RemoveWatchesRequest`.
    RemoveWatches {
        /// Path.
        path: String,
        /// Which watches.
        watcher_type: WatcherType,
    },
    /// `CheckWatchesRequest`.
    CheckWatches {
        /// Path.
        path: String,
        /// Which watches.
        watcher_type: WatcherType,
    },
    /// `GetEphemeralsRequest`.
    GetEphemerals {
        /// Prefix path.
        prefix_path: String,
    },
    /// `GetAllChildrenNumberRequest`.
    GetAllChildrenNumber {
        /// Path.
        path: String,
    },
    /// `AuthPacket`.
    AddAuth {
        /// Scheme, e.g. `digest`.
        scheme: String,
        /// Credentials, e.g. `user:password`.
        auth: Vec<u8>,
    },
}

impl Request {
    /// The op code this request travels under.
    pub fn op_code(&self) -> OpCode {
        match self {
            Request::Create {
                flags, with_stat, ..
            } => match CreateMode::from_flag(*flags) {
                Some(CreateMode::Container) => OpCode::CreateContainer,
                Some(m) if m.is_ttl() => OpCode::CreateTtl,
                _ if *with_stat => OpCode::Create2,
                _ => OpCode::Create,
            },
            Request::Delete { .. } => OpCode::Delete,
            Request::Exists { .. } => OpCode::Exists,
            Request::GetData { .. } => OpCode::GetData,
            Request::SetData { .. } => OpCode::SetData,
            Request::GetAcl { .. } => OpCode::GetAcl,
            Request::SetAcl { .. } => OpCode::SetAcl,
            Request::GetChildren { with_stat, .. } => {
                if *with_stat {
                    OpCode::GetChildren2
                } else {
                    OpCode::GetChildren
                }
            }
            Request::Sync { .. } => OpCode::Sync,
            Request::Multi { .. } => OpCode::Multi,
            Request::MultiRead { .. } => OpCode::MultiRead,
            Request::AddWatch { .. } => OpCode::AddWatch,
            Request::RemoveWatches { .. } => OpCode::RemoveWatches,
            Request::CheckWatches { .. } => OpCode::CheckWatches,
            Request::GetEphemerals { .. } => OpCode::GetEphemerals,
            Request::GetAllChildrenNumber { .. } => OpCode::GetAllChildrenNumber,
            Request::AddAuth { .. } => OpCode::Auth,
        }
    }
}

/// The result of one sub-op of a multi or multiRead (`OpResult`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OpResult {
    /// `CreateResult` (path only, for create; with Stat for create2).
    Create {
        /// The created path.
        path: String,
        /// The Stat, for create2.
        stat: Option<Stat>,
    },
    /// `DeleteResult`.
    Delete,
    /// `SetDataResult`.
    SetData {
        /// The new Stat.
        stat: Stat,
    },
    /// `CheckResult`.
    Check,
    /// `GetDataResult` (multiRead).
    GetData {
        /// Data.
        data: Option<Vec<u8>>,
        /// Stat.
        stat: Stat,
    },
    /// `GetChildrenResult` (multiRead).
    GetChildren {
        /// Children names, sorted.
        children: Vec<String>,
    },
    /// `ErrorResult`.
    Error {
        /// The error.
        err: ErrorCode,
    },
}

/// A successful reply body (the record after a `ReplyHeader` with err OK).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Response {
    /// `CreateResponse` / `Create2Response`.
    Create {
        /// The created path (with its sequential suffix).
        path: String,
        /// The Stat, for create2 / createTTL / createContainer.
        stat: Option<Stat>,
    },
    /// Delete has an empty body.
    Delete,
    /// `ExistsResponse`.
    Exists {
        /// The Stat.
        stat: Stat,
    },
    /// `GetDataResponse`.
    GetData {
        /// Data.
        data: Option<Vec<u8>>,
        /// Stat.
        stat: Stat,
    },
    /// `SetDataResponse`.
    SetData {
        /// Stat after the write.
        stat: Stat,
    },
    /// `GetACLResponse`.
    GetAcl {
        /// ACL.
        acl: Vec<Acl>,
        /// Stat.
        stat: Stat,
    },
    /// `SetACLResponse`.
    SetAcl {
        /// Stat after the write.
        stat: Stat,
    },
    /// `GetChildrenResponse` / `GetChildren2Response`.
    GetChildren {
        /// Children names (ZooKeeper returns them unsorted; we return them sorted).
        children: Vec<String>,
        /// The parent's Stat, for getChildren2.
        stat: Option<Stat>,
    },
    /// `SyncResponse`.
    Sync {
        /// Path.
        path: String,
    },
    /// `MultiResponse` (for multi and multiRead).
    Multi {
        /// One result per sub-op.
        results: Vec<OpResult>,
    },
    /// Empty body (addWatch, removeWatches, checkWatches, auth).
    Empty,
    /// `GetEphemeralsResponse`.
    GetEphemerals {
        /// Paths of the session's ephemerals under the prefix.
        ephemerals: Vec<String>,
    },
    /// `GetAllChildrenNumberResponse`.
    GetAllChildrenNumber {
        /// Number of descendants.
        total_number: i32,
    },
}

/// `Watcher.Event.EventType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// -1
    None,
    /// 1
    NodeCreated,
    /// 2
    NodeDeleted,
    /// 3
    NodeDataChanged,
    /// 4
    NodeChildrenChanged,
    /// 5
    DataWatchRemoved,
    /// 6
    ChildWatchRemoved,
    /// 7
    PersistentWatchRemoved,
}

impl EventType {
    /// ZooKeeper's integer code.
    pub fn code(self) -> i32 {
        match self {
            EventType::None => -1,
            EventType::NodeCreated => 1,
            EventType::NodeDeleted => 2,
            EventType::NodeDataChanged => 3,
            EventType::NodeChildrenChanged => 4,
            EventType::DataWatchRemoved => 5,
            EventType::ChildWatchRemoved => 6,
            EventType::PersistentWatchRemoved => 7,
        }
    }
}

/// `Watcher.Event.KeeperState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KeeperState {
    /// 0
    Disconnected,
    /// 3
    SyncConnected,
    /// 4
    AuthFailed,
    /// 5
    ConnectedReadOnly,
    /// -112
    Expired,
    /// 7
    Closed,
}

/// `WatcherEvent{int type; int state; ustring path}`, sent with xid -1 and the zxid of the txn
/// that triggered it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WatchedEvent {
    /// What happened.
    pub event_type: EventType,
    /// The session's state.
    pub state: KeeperState,
    /// The znode path (as the client sees it).
    pub path: String,
}
