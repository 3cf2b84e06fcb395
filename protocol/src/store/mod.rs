//! The znode store: data tree, request preparation (txn creation) and txn application, sessions, watches, ACLs.
//!
//! STATUS: partial. `DataTree` has the node map, Stat rules on apply and `process_txn`.
//! `prep` covers create/delete/setData only (no outstanding changes, ACLs or multi).
//! Sessions, watches, ACL checks and digests are not built yet.

pub mod apply;
pub mod data_tree;
pub mod prep;
pub mod read;

pub use apply::apply;
pub use data_tree::{DataNode, DataTree};
pub use prep::prep;
pub use read::read;
