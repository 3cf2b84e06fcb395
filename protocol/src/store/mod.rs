//! The znode store: data tree, request preparation (txn creation) and txn application, sessions, watches, ACLs.
//!
//! STATUS: partial. API for the server (all sans-IO, deterministic):
//! - [`DataTree`]: node map; `process_txn(&TxnEntry)` applies one txn with ZooKeeper's Stat
//!   rules (cversion/pzxid on child create/delete, parentCVersion taken from the CreateTxn).
//! - [`prep()`]`(&tree, session, xid, &Request, zxid, time) -> TxnEntry`: leader-side txn
//!   creation for create/create2/delete/setData, in ZooKeeper's check order; a failed check
//!   yields an `ErrorTxn`. Other writes yield `ErrorTxn(UNIMPLEMENTED)` for now. It validates
//!   against the committed tree only (no outstanding-changes view yet).
//! - [`apply()`]`(&mut tree, &TxnEntry) -> Result<Response, ErrorCode>`: apply + reply.
//! - [`read()`]`(&tree, session, &Request) -> Result<Response, ErrorCode>`: local reads.
//! - [`session`]: timeout negotiation and expiry-bucket rounding.
//!
//! NOT built yet: ACL checks and auth, multi prep, containers/TTL expiry, watches and
//! notifications, the session table, digests, SnapshotImage conversion, `/zookeeper` nodes.

pub mod apply;
pub mod data_tree;
pub mod prep;
pub mod read;
pub mod session;

pub use apply::apply;
pub use data_tree::{DataNode, DataTree};
pub use prep::prep;
pub use read::read;
