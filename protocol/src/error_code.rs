//! ZooKeeper's error codes (`KeeperException.Code`), with their numbers and names.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        /// A ZooKeeper result code as carried in reply headers and `ErrorTxn`.
        #[allow(clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
        }

        impl ErrorCode {
            /// The numeric code.
            pub fn code(self) -> i32 {
                match self { $(ErrorCode::$name => $value,)* }
            }

            /// The code for a number, if ZooKeeper defines one.
            pub fn from_code(code: i32) -> Option<ErrorCode> {
                match code { $($value => Some(ErrorCode::$name),)* _ => None }
            }

            /// ZooKeeper's name, e.g. `NONODE`.
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name),)* }
            }
        }
    };
}

error_codes! {
    /// Everything is OK.
    OK = 0;
    /// A system error.
    SYSTEMERROR = -1;
    /// A runtime inconsistency (later ops of a failed multi).
    RUNTIMEINCONSISTENCY = -2;
    /// A data inconsistency.
    DATAINCONSISTENCY = -3;
    /// The connection to the server was lost.
    CONNECTIONLOSS = -4;
    /// Error while marshalling or unmarshalling data.
    MARSHALLINGERROR = -5;
    /// Operation is unimplemented.
    UNIMPLEMENTED = -6;
    /// Operation timeout.
    OPERATIONTIMEOUT = -7;
    /// Invalid arguments.
    BADARGUMENTS = -8;
    /// No quorum of the new config.
    NEWCONFIGNOQUORUM = -13;
    /// A reconfig is in progress.
    RECONFIGINPROGRESS = -14;
    /// Unknown session (internal).
    UNKNOWNSESSION = -12;
    /// API errors start here.
    APIERROR = -100;
    /// The node does not exist.
    NONODE = -101;
    /// Not authenticated.
    NOAUTH = -102;
    /// Version conflict.
    BADVERSION = -103;
    /// Ephemeral nodes may not have children.
    NOCHILDRENFOREPHEMERALS = -108;
    /// The node already exists.
    NODEEXISTS = -110;
    /// The node has children.
    NOTEMPTY = -111;
    /// The session has been expired by the server.
    SESSIONEXPIRED = -112;
    /// Invalid callback.
    INVALIDCALLBACK = -113;
    /// Invalid ACL.
    INVALIDACL = -114;
    /// Client authentication failed.
    AUTHFAILED = -115;
    /// Session moved to another server.
    SESSIONMOVED = -118;
    /// State-changing request passed to a read-only server.
    NOTREADONLY = -119;
    /// Attempt to create an ephemeral node on a local session.
    EPHEMERALONLOCALSESSION = -120;
    /// Attempt to remove a watcher that does not exist.
    NOWATCHER = -121;
    /// Request not completed within the max allowed time.
    REQUESTTIMEOUT = -122;
    /// Reconfig is disabled.
    RECONFIGDISABLED = -123;
    /// The session was closed because it requires SASL authentication.
    SESSIONCLOSEDREQUIRESASLAUTH = -124;
    /// Quota exceeded.
    QUOTAEXCEEDED = -125;
    /// The operation was throttled.
    THROTTLEDOP = -127;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_match_zookeeper() {
        assert_eq!(ErrorCode::NONODE.code(), -101);
        assert_eq!(ErrorCode::from_code(-110), Some(ErrorCode::NODEEXISTS));
        assert_eq!(ErrorCode::NOTEMPTY.name(), "NOTEMPTY");
        assert_eq!(ErrorCode::from_code(-9), None);
    }
}
