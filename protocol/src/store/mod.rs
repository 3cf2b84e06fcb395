//! The znode store: data tree, request preparation (txn creation) and txn application, sessions, watches, ACLs.
//!
//! STATUS: partial. Only `DataTree` (node map, Stat rules on apply, `process_txn`) exists.
//! Request preparation, sessions, watches, ACL checks and digests are not built yet.

pub mod data_tree;

pub use data_tree::{DataNode, DataTree};
