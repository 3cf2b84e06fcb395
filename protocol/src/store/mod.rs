//! The znode store: data tree, request preparation (txn creation) and txn application, sessions, watches, ACLs.
