//! Jepsen-style events (invoke / ok / fail / info) and their pairing into operations, shared by
//! the Jepsen log and EDN readers. An invocation is paired with the next completion of the same
//! process (Knossos's rule). Positions on the time line are event indices, so the history is an
//! event sequence: call/return order only.

use super::edn::Edn;
use crate::history::HistoryError;
use std::collections::BTreeMap;

/// The `:type` of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// `:invoke`
    Invoke,
    /// `:ok`: it happened.
    Ok,
    /// `:fail`: it definitely did not happen (what that implies depends on the [`Dialect`]).
    Fail,
    /// `:info`: unknown outcome.
    Info,
}

impl EventType {
    /// From a keyword name.
    pub fn from_name(name: &str) -> Option<EventType> {
        Some(match name {
            "invoke" => EventType::Invoke,
            "ok" => EventType::Ok,
            "fail" => EventType::Fail,
            "info" => EventType::Info,
            _ => return None,
        })
    }
}

/// Which tool's conventions a history follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Horn & Kroening's etcd logs as Porcupine reads them: a `:fail :cas` is a completed
    /// compare-and-set that did not swap (its `from` differed from the value); `:ok :read nil`
    /// read an unset register; a `:fail :read` is a read with no result.
    JepsenLog,
    /// Knossos EDN: `:fail` means the operation did not happen (it is dropped); a read whose
    /// value is `nil` constrains nothing.
    Knossos,
}

/// One event of a Jepsen-style history.
#[derive(Clone, Debug, PartialEq)]
pub struct RawEvent {
    /// 1-based line where it starts.
    pub line: usize,
    /// The process id.
    pub process: i64,
    /// Its type.
    pub kind: EventType,
    /// `:f` (without the colon).
    pub f: String,
    /// `:key`, if the history has keys (Porcupine's kv format).
    pub key: Option<Edn>,
    /// `:value`.
    pub value: Edn,
}

/// An invocation paired with its completion.
#[derive(Clone, Debug, PartialEq)]
pub struct RawOp {
    /// The process.
    pub process: i64,
    /// `:f`.
    pub f: String,
    /// `:key`.
    pub key: Option<Edn>,
    /// The invocation's `:value`.
    pub value: Edn,
    /// The completion's type (`Info` when the history ended first) and `:value`.
    pub outcome: EventType,
    /// The completion's `:value` (`Nil` when none).
    pub result: Edn,
    /// Position of the invocation.
    pub call: u64,
    /// Position of the completion, `None` for `:info` or no completion.
    pub ret: Option<u64>,
    /// Line of the invocation.
    pub line: usize,
}

/// A Jepsen-style history read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct RawHistory {
    /// How to read `:fail` and `nil`.
    pub dialect: Dialect,
    /// Operations in invocation order.
    pub ops: Vec<RawOp>,
}

/// Pairs events into operations.
pub fn pair(events: Vec<RawEvent>, dialect: Dialect) -> Result<RawHistory, HistoryError> {
    let mut ops: Vec<RawOp> = Vec::new();
    let mut pending: BTreeMap<i64, usize> = BTreeMap::new();
    for (position, event) in events.into_iter().enumerate() {
        let position = position as u64;
        if event.kind == EventType::Invoke {
            if let Some(&open) = pending.get(&event.process) {
                let first = ops.get(open).map_or(0, |op| op.line);
                return Err(HistoryError::new(
                    event.line,
                    "process",
                    format!(
                        "process {} invokes again while its operation from line {first} is pending",
                        event.process
                    ),
                ));
            }
            pending.insert(event.process, ops.len());
            ops.push(RawOp {
                process: event.process,
                f: event.f,
                key: event.key,
                value: event.value,
                outcome: EventType::Info,
                result: Edn::Nil,
                call: position,
                ret: None,
                line: event.line,
            });
            continue;
        }
        let Some(open) = pending.remove(&event.process) else {
            return Err(HistoryError::new(
                event.line,
                "process",
                format!(
                    "a completion of process {} with no invocation",
                    event.process
                ),
            ));
        };
        let Some(op) = ops.get_mut(open) else {
            return Err(HistoryError::new(event.line, "process", "lost invocation"));
        };
        if op.f != event.f {
            return Err(HistoryError::new(
                event.line,
                "f",
                format!(
                    "completion :{} of an invocation :{} (line {})",
                    event.f, op.f, op.line
                ),
            ));
        }
        op.outcome = event.kind;
        op.result = event.value;
        op.ret = (event.kind != EventType::Info).then_some(position);
    }
    Ok(RawHistory { dialect, ops })
}
