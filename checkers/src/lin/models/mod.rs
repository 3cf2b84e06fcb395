//! The sequential specifications: a compare-and-set register, a key-value store
//! (get/put/append), a multi-register (transactions over several registers), a mutex and a
//! znode tree (ZooKeeper's operations over paths). Each model also converts the histories it
//! understands into [`Op`](super::Op)s, naming the line and field of anything it cannot read.

pub mod cas_register;
pub mod kv;
pub mod multi_register;
pub mod mutex;
pub mod znode;

use crate::formats::edn::Edn;
use crate::formats::raw::{Dialect, EventType, RawOp};
use crate::history::HistoryError;

/// How a raw operation's completion maps onto an [`Op`](super::Op).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completed {
    /// It happened and returned a result.
    Ok,
    /// It completed without effect (a `:fail` in the Jepsen log dialect).
    Failed,
    /// Unknown outcome.
    Unknown,
    /// It did not happen and constrains nothing: drop it (Knossos `:fail`).
    Drop,
}

/// The completion class of `op` under `dialect`.
pub fn completed(op: &RawOp, dialect: Dialect) -> Completed {
    match (op.outcome, dialect) {
        (EventType::Ok, _) => Completed::Ok,
        (EventType::Fail, Dialect::JepsenLog) => Completed::Failed,
        (EventType::Fail, Dialect::Knossos) => Completed::Drop,
        (EventType::Info | EventType::Invoke, _) => Completed::Unknown,
    }
}

/// An integer or nil.
pub fn int_or_nil(op: &RawOp, value: &Edn, field: &str) -> Result<Option<i64>, HistoryError> {
    match value {
        Edn::Nil => Ok(None),
        Edn::Int(i) => Ok(Some(*i)),
        other => Err(HistoryError::new(
            op.line,
            field,
            format!(
                "`{other}` is not an integer (op :{} of process {})",
                op.f, op.process
            ),
        )),
    }
}

/// A compact name of an EDN key (`:x` → `x`, `"0"` → `0`).
pub fn key_name(value: &Edn) -> String {
    match value {
        Edn::Keyword(k) | Edn::Symbol(k) | Edn::Str(k) => k.clone(),
        other => other.to_string(),
    }
}

/// An error for an `:f` a model does not know.
pub fn unknown_f(op: &RawOp, model: &str) -> HistoryError {
    HistoryError::new(
        op.line,
        "f",
        format!("`:{}` is not an operation of the {model} model", op.f),
    )
}
