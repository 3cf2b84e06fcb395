//! ZooKeeper's operation codes (`ZooDefs.OpCode`): the `type` of request headers and txn headers.

use serde::{Deserialize, Serialize};

macro_rules! op_codes {
    ($($(#[$doc:meta])* $name:ident = $value:expr, $text:literal;)*) => {
        /// An operation code, with ZooKeeper's numeric value.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum OpCode {
            $($(#[$doc])* $name,)*
        }

        impl OpCode {
            /// The numeric code as written in request and txn headers.
            pub fn code(self) -> i32 {
                match self { $(OpCode::$name => $value,)* }
            }

            /// The operation for a numeric code, if ZooKeeper defines one.
            pub fn from_code(code: i32) -> Option<OpCode> {
                match code { $($value => Some(OpCode::$name),)* _ => None }
            }

            /// ZooKeeper's name for the operation (`Request.op2String`), e.g. `create2`.
            pub fn name(self) -> &'static str {
                match self { $(OpCode::$name => $text,)* }
            }
        }
    };
}

op_codes! {
    /// Watch notification (server to client only).
    Notification = 0, "notification";
    /// Create a znode.
    Create = 1, "create";
    /// Delete a znode.
    Delete = 2, "delete";
    /// Does a znode exist.
    Exists = 3, "exists";
    /// Read a znode's data.
    GetData = 4, "getData";
    /// Write a znode's data.
    SetData = 5, "setData";
    /// Read a znode's ACL.
    GetAcl = 6, "getACL";
    /// Write a znode's ACL.
    SetAcl = 7, "setACL";
    /// List children.
    GetChildren = 8, "getChildren";
    /// Flush the leader channel.
    Sync = 9, "sync";
    /// Client heartbeat.
    Ping = 11, "ping";
    /// List children with the parent's Stat.
    GetChildren2 = 12, "getChildren2";
    /// Version check (inside multi).
    Check = 13, "check";
    /// Atomic multi-op.
    Multi = 14, "multi";
    /// Create returning the Stat.
    Create2 = 15, "create2";
    /// Dynamic reconfiguration.
    Reconfig = 16, "reconfig";
    /// Check that watches exist.
    CheckWatches = 17, "checkWatches";
    /// Remove watches.
    RemoveWatches = 18, "removeWatches";
    /// Create a container node.
    CreateContainer = 19, "createContainer";
    /// Delete a container node (the leader's container manager).
    DeleteContainer = 20, "deleteContainer";
    /// Create a TTL node.
    CreateTtl = 21, "createTTL";
    /// Read-only multi.
    MultiRead = 22, "multiRead";
    /// Add authentication.
    Auth = 100, "auth";
    /// Re-register watches after reconnect.
    SetWatches = 101, "setWatches";
    /// SASL.
    Sasl = 102, "sasl";
    /// List the session's ephemerals.
    GetEphemerals = 103, "getEphemerals";
    /// Count all descendants.
    GetAllChildrenNumber = 104, "getAllChildrenNumber";
    /// Re-register watches including persistent ones.
    SetWatches2 = 105, "setWatches2";
    /// Add a persistent (recursive) watch.
    AddWatch = 106, "addWatch";
    /// Who am I.
    WhoAmI = 107, "whoAmI";
    /// Create a session (txn type).
    CreateSession = -10, "createSession";
    /// Close a session (txn type).
    CloseSession = -11, "closeSession";
    /// A failed write (txn type).
    Error = -1, "error";
}

impl OpCode {
    /// Whether a request of this type changes state and so becomes a txn through the leader
    /// (`Request.isQuorum` for the write types).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            OpCode::Create
                | OpCode::Create2
                | OpCode::CreateContainer
                | OpCode::CreateTtl
                | OpCode::Delete
                | OpCode::DeleteContainer
                | OpCode::SetData
                | OpCode::SetAcl
                | OpCode::Check
                | OpCode::Multi
                | OpCode::Reconfig
                | OpCode::CreateSession
                | OpCode::CloseSession
                | OpCode::Error
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in -20..120 {
            if let Some(op) = OpCode::from_code(code) {
                assert_eq!(op.code(), code);
            }
        }
        assert_eq!(OpCode::from_code(15), Some(OpCode::Create2));
        assert_eq!(OpCode::CloseSession.code(), -11);
        assert_eq!(OpCode::from_code(10), None);
    }
}
