//! The znode store: ZooKeeper 3.8's data tree, request preparation, txn application, reads,
//! sessions, watches, ACLs, digests and snapshot images, as sans-IO code.
//!
//! The server drives one [`ZkDatabase`]:
//! - leader: [`ZkDatabase::prep`]`(ctx, write, zxid, time) -> TxnEntry` validates in
//!   `PrepRequestProcessor`'s order against the outstanding changes (so a request sees the
//!   uncommitted ones before it) and makes the txn (an `ErrorTxn` when a check fails);
//! - every server: [`ZkDatabase::apply`]`(&TxnEntry) -> Applied` (reply, watch notifications,
//!   ephemeral and session changes), in zxid order;
//! - reads: [`ZkDatabase::read`], [`ZkDatabase::set_watches`], [`ZkDatabase::remove_connection`];
//! - sessions: [`ZkDatabase::session_tracker`] (`SessionTracker`: create, touch, expire),
//!   [`ZkDatabase::negotiate_timeout`], [`session::generate_passwd`];
//! - containers/TTL: [`ZkDatabase::container_candidates`] → `WriteRequest::DeleteContainer`;
//! - persistence: [`ZkDatabase::to_snapshot_image`], [`ZkDatabase::from_snapshot_image`],
//!   [`ZkDatabase::digest`], [`ZkDatabase::last_processed_zxid`];
//! - auth and limits: [`ZkDatabase::authenticate`] (digest, ip),
//!   [`request_len::request_len`] against [`StoreConfig::jute_max_buffer`].
//!
//! Caller contract: `prep` takes writes only (`Request::op_code().is_write()`, plus session and
//! container requests), `read` takes reads only; anything else is a server bug and panics.
//! Watch notifications in [`Applied::events`] must reach their sessions before the reply to
//! the request that caused them; ZooKeeper sends them with zxid -1 in the reply header.
//!
//! Checked against the real thing: replaying the logs of a real ZooKeeper 3.8.0 ensemble
//! (`protocol/tests/store_corpus.rs`) reproduces every logged txn digest, the final tree and the
//! snapshot's ACL cache; `zabsim apply` answers op scripts exactly as a real 3.8.0 server does
//! (`sim/tests/cli_apply_real.rs`).

pub mod acl_cache;
pub mod apply;
pub mod auth;
pub mod container;
pub mod data_tree;
pub mod database;
pub mod digest;
pub mod outstanding;
pub mod path;
pub mod prep;
pub mod process_txn;
pub mod read;
pub mod request_len;
pub mod session;
pub mod snapshot;
pub mod watch;

pub use data_tree::{DataNode, DataTree};
pub use database::{Applied, RequestContext, SessionChange, StoreConfig, WriteRequest, ZkDatabase};
pub use process_txn::ProcessTxnResult;
pub use session::SessionTracker;
pub use snapshot::ImageError;
pub use watch::{WatchNotification, WatcherMode};
