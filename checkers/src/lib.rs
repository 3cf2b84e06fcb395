//! # zabsim-checkers
//!
//! The judges of a zabsim run. They consume a recorded client history and the servers'
//! observations, never reach into a server's memory, and carry their own reference model of the
//! znode tree: nothing here reuses the protocol's data-tree code to judge it.
//!
//! Two kinds of error are never mixed: a malformed history is a harness error, a history that
//! breaks a guarantee is a violation. A judge that could not decide says `undecided`; it never
//! reports a pass it did not establish.

pub mod formats;
pub mod history;
pub mod lin;
pub mod reference;
pub mod zk;
