//! # zabsim-protocol
//!
//! Apache ZooKeeper's servers, client and znode store as **sans-IO state machines**: inputs in,
//! actions out. Nothing in this crate reads a clock, a file, the environment, a socket or a random
//! number generator; whatever it needs arrives as an input (with the node's *local* time), and
//! whatever it wants done (send a packet, append to a file, fsync, arm a timer, reply to a client)
//! it emits as an action for the driver (the simulator in `zabsim-sim`) to carry out.
//!
//! The vocabulary is ZooKeeper's own: [`types::Zxid`], [`types::ServerId`],
//! [`types::SessionId`], [`op_code::OpCode`], [`error_code::ErrorCode`], [`stat::Stat`],
//! [`acl::Acl`] and the txn records of [`txn`], so that a ZooKeeper committer recognises every
//! message, state and persisted field.
//!
//! The durability rule: nothing that depends on a disk write (an ACK, a vote, a reply) is emitted
//! before the driver has reported that write durable.

pub mod acl;
pub mod client;
pub mod error_code;
pub mod observe;
pub mod op_code;
pub mod persist;
pub mod request;
pub mod server;
pub mod session_wire;
pub mod snapshot_image;
pub mod stat;
pub mod store;
pub mod txn;
pub mod types;
