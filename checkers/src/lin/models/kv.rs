//! A key-value store of strings (the MIT 6.5840 lab's, Porcupine's kv histories): `get k`
//! returns the whole value (`""` if absent), `put k v` replaces it, `append k v` appends.

use super::{completed, key_name, unknown_f, Completed};
use crate::formats::edn::Edn;
use crate::formats::raw::{RawHistory, RawOp};
use crate::history::HistoryError;
use crate::lin::append_log::{self, Decision, Entry, LogOp};
use crate::lin::{Model, Op};
use std::collections::BTreeMap;

/// The store; every key starts as `""`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Kv;

/// What a kv operation does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvAction {
    /// Read the key.
    Get,
    /// Replace the value.
    Put(String),
    /// Append to the value.
    Append(String),
}

/// A kv operation on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvInput {
    /// The key.
    pub key: String,
    /// The action.
    pub action: KvAction,
}

/// A kv result.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOutput {
    /// The value a get returned.
    Value(String),
    /// A get whose value was not recorded: constrains nothing.
    Anything,
    /// A put or append happened.
    Done,
}

impl Model for Kv {
    type State = BTreeMap<String, String>;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(
        &self,
        s: &Self::State,
        input: &KvInput,
        output: Option<&KvOutput>,
    ) -> Option<Self::State> {
        let current = s.get(&input.key).map_or("", String::as_str);
        match (&input.action, output) {
            (KvAction::Get, Some(KvOutput::Value(v))) => (v == current).then(|| s.clone()),
            (KvAction::Get, _) => Some(s.clone()),
            (KvAction::Put(v), _) => {
                let mut next = s.clone();
                next.insert(input.key.clone(), v.clone());
                Some(next)
            }
            (KvAction::Append(v), _) => {
                let mut next = s.clone();
                next.entry(input.key.clone()).or_default().push_str(v);
                Some(next)
            }
        }
    }

    fn accepts(&self, s: &Self::State, input: &KvInput, output: Option<&KvOutput>) -> bool {
        match output {
            Some(KvOutput::Value(v)) => s.get(&input.key).map_or("", String::as_str) == v,
            _ => true,
        }
    }

    fn unreachable(
        &self,
        s: &Self::State,
        input: &KvInput,
        output: Option<&KvOutput>,
        writers: &[&KvInput],
    ) -> bool {
        let Some(KvOutput::Value(v)) = output else {
            return false;
        };
        // The value can only grow by appends from the current value or from a pending put's.
        let current = s.get(&input.key).map_or("", String::as_str);
        let from_put = writers.iter().any(|w| {
            w.key == input.key && matches!(&w.action, KvAction::Put(p) if v.starts_with(p.as_str()))
        });
        !from_put && !v.starts_with(current)
    }

    fn lookahead(&self) -> bool {
        true
    }

    fn may_rescue(&self, input: &KvInput, output: Option<&KvOutput>, writer: &KvInput) -> bool {
        // From any state, appends only extend the value: only a put of a prefix of the value
        // read can lead to it.
        let Some(KvOutput::Value(v)) = output else {
            return true;
        };
        writer.key != input.key
            || matches!(&writer.action, KvAction::Put(p) if v.starts_with(p.as_str()))
    }

    fn is_read_only(&self, input: &KvInput, _output: Option<&KvOutput>) -> bool {
        input.action == KvAction::Get
    }

    fn unknown_is_noop(&self, input: &KvInput) -> bool {
        input.action == KvAction::Get
    }

    fn keys(&self, input: &KvInput) -> Vec<String> {
        vec![input.key.clone()]
    }

    fn decide(&self, ops: &[&Op<KvInput, KvOutput>]) -> Option<Decision> {
        let key = &ops.first()?.input.key;
        let mut entries = Vec::with_capacity(ops.len());
        for op in ops {
            if op.input.key != *key {
                return None; // an unpartitioned history: the search decides
            }
            let what = match (&op.input.action, &op.output) {
                (KvAction::Get, Some(KvOutput::Value(v))) => LogOp::Read(v),
                (KvAction::Get, _) => return None,
                (KvAction::Put(v), _) => LogOp::Put(v),
                (KvAction::Append(v), _) => LogOp::Append(v),
            };
            entries.push(Entry {
                op: what,
                call: op.call,
                ret: op.ret,
            });
        }
        append_log::decide(&entries)
    }

    fn describe_op(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        match (&input.action, output) {
            (KvAction::Get, Some(KvOutput::Value(v))) => format!("get {} → {v:?}", input.key),
            (KvAction::Get, _) => format!("get {} → ?", input.key),
            (KvAction::Put(v), _) => format!("put {} {v:?}", input.key),
            (KvAction::Append(v), _) => format!("append {} {v:?}", input.key),
        }
    }

    fn describe_state(&self, s: &Self::State) -> String {
        let parts: Vec<String> = s.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// Converts a Jepsen kv history (`:get`, `:put`, `:append` with `:key`).
pub fn ops(history: &RawHistory) -> Result<Vec<Op<KvInput, KvOutput>>, HistoryError> {
    let mut ops = Vec::with_capacity(history.ops.len());
    for raw in &history.ops {
        let class = completed(raw, history.dialect);
        if matches!(class, Completed::Drop | Completed::Failed) {
            continue;
        }
        let input = input(raw)?;
        let output = match class {
            Completed::Ok if input.action == KvAction::Get => Some(match &raw.result {
                Edn::Nil => KvOutput::Anything,
                Edn::Str(v) => KvOutput::Value(v.clone()),
                other => {
                    return Err(HistoryError::new(
                        raw.line,
                        "value",
                        format!("`{other}` is not a string"),
                    ))
                }
            }),
            Completed::Ok => Some(KvOutput::Done),
            _ => None,
        };
        ops.push(Op {
            client: raw.process as u64,
            input,
            ret: if output.is_some() { raw.ret } else { None },
            output,
            call: raw.call,
            line: raw.line,
        });
    }
    Ok(ops)
}

fn input(raw: &RawOp) -> Result<KvInput, HistoryError> {
    let Some(key) = &raw.key else {
        return Err(HistoryError::new(raw.line, "key", "missing"));
    };
    let string = |v: &Edn| match v {
        Edn::Str(s) => Ok(s.clone()),
        other => Err(HistoryError::new(
            raw.line,
            "value",
            format!("`{other}` is not a string"),
        )),
    };
    let action = match raw.f.as_str() {
        "get" => KvAction::Get,
        "put" => KvAction::Put(string(&raw.value)?),
        "append" => KvAction::Append(string(&raw.value)?),
        _ => return Err(unknown_f(raw, "kv")),
    };
    Ok(KvInput {
        key: key_name(key),
        action,
    })
}
