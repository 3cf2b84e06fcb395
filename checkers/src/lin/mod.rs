//! Black-box linearizability checking: Wing & Gong's search with Lowe's memoisation (WGL) and
//! Horn & Kroening's P-compositional partitioning, generic over a sequential [`Model`].
//!
//! ```text
//!  file ──formats::read_file──▶ Loaded ──models::*::ops──▶ [Op] ──check──▶ CheckReport
//!                                                           │ partition by keys (union-find)
//!                                                           ├─ Model::decide (kv: append_log)
//!                                                           └─ windows → wgl::search
//! ```
//!
//! - [`check`] drops unknown-outcome operations that cannot matter (reads), partitions the
//!   rest by the keys they touch, and searches every partition ([`wgl`]).
//! - A partition is [`Verdict::Linearizable`] with a witness order, [`Verdict::NotLinearizable`]
//!   with the longest linearizable prefix, or [`Verdict::Undecided`] when its [`Budget`] ran
//!   out — never a pass that was not established.
//! - An operation with an unknown outcome (Jepsen `:info`) may take effect at any time after
//!   its invocation, or never.
//! - A model may bring a complete decision procedure for a partition ([`Model::decide`]):
//!   the kv model's [`append_log`] decides a key with unique written values in polynomial time;
//!   its passes are re-checked by [`witness::verify`].
//! - [`windows`] searches growing prefixes of a partition before the whole: a window is a
//!   relaxation of the history, so a failing window is a small proof of a violation.
//! - [`timeline`] renders the smallest failing window of a violation as SVG.
//!
//! ```
//! use zabsim_checkers::lin::{check, CheckOptions, Op, Verdict};
//! use zabsim_checkers::lin::models::cas_register::{CasRegister, RegisterInput as I, RegisterOutput as O};
//!
//! let op = |client, input, output, call, ret| Op { client, input, output: Some(output), call, ret: Some(ret), line: 0 };
//! // Client 0 writes 1; afterwards client 1 reads 0: a stale read.
//! let history = vec![op(0, I::Write(1), O::Written, 0, 1), op(1, I::Read, O::Read(Some(0)), 2, 3)];
//! let report = check(&CasRegister { initial: Some(0) }, &history, CheckOptions::default());
//! assert_eq!(report.verdict, Verdict::NotLinearizable);
//! ```

pub mod append_log;
pub mod bitset;
mod check;
mod model;
pub mod models;
pub mod run;
pub mod table;
pub mod timeline;
pub mod wgl;
pub mod windows;
pub mod witness;

pub use check::{check, CheckOptions, CheckReport, Method, PartitionReport, Verdict};
pub use model::{Model, Op};
pub use wgl::{Budget, SearchResult, SearchStats};
