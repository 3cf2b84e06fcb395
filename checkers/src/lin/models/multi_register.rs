//! A multi-register (Knossos's `multi-register`): transactions `[[:read k v] [:write k v] ...]`
//! over named integer registers, all starting at `initial`. A read of `nil` constrains nothing.

use super::{completed, int_or_nil, key_name, unknown_f, Completed};
use crate::formats::edn::Edn;
use crate::formats::raw::{RawHistory, RawOp};
use crate::history::HistoryError;
use crate::lin::{Model, Op};
use std::collections::BTreeMap;

/// The registers; each starts at `initial`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MultiRegister {
    /// The initial value of every register.
    pub initial: i64,
}

/// One step of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Micro {
    /// Read a register; `None` when the value is not known.
    Read(String, Option<i64>),
    /// Write a register.
    Write(String, i64),
}

/// A transaction: the invocation's steps; the output is the completion's steps.
pub type Txn = Vec<Micro>;

impl Model for MultiRegister {
    type State = BTreeMap<String, i64>;
    type Input = Txn;
    type Output = Txn;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(&self, s: &Self::State, input: &Txn, output: Option<&Txn>) -> Option<Self::State> {
        let mut next = s.clone();
        for micro in output.unwrap_or(input) {
            match micro {
                Micro::Read(k, Some(v)) => {
                    if next.get(k).copied().unwrap_or(self.initial) != *v {
                        return None;
                    }
                }
                Micro::Read(_, None) => {}
                Micro::Write(k, v) => {
                    next.insert(k.clone(), *v);
                }
            }
        }
        Some(next)
    }

    fn is_read_only(&self, input: &Txn, output: Option<&Txn>) -> bool {
        output
            .unwrap_or(input)
            .iter()
            .all(|m| matches!(m, Micro::Read(..)))
    }

    fn unknown_is_noop(&self, input: &Txn) -> bool {
        input.iter().all(|m| matches!(m, Micro::Read(..)))
    }

    fn keys(&self, input: &Txn) -> Vec<String> {
        input
            .iter()
            .map(|m| match m {
                Micro::Read(k, _) | Micro::Write(k, _) => k.clone(),
            })
            .collect()
    }

    fn describe_op(&self, input: &Txn, output: Option<&Txn>) -> String {
        let steps: Vec<String> = output
            .unwrap_or(input)
            .iter()
            .map(|m| match m {
                Micro::Read(k, Some(v)) => format!("r {k} {v}"),
                Micro::Read(k, None) => format!("r {k} ?"),
                Micro::Write(k, v) => format!("w {k} {v}"),
            })
            .collect();
        format!(
            "txn [{}]{}",
            steps.join(", "),
            if output.is_none() { " ?" } else { "" }
        )
    }

    fn describe_state(&self, s: &Self::State) -> String {
        let parts: Vec<String> = s.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{{{}}} (others {})", parts.join(", "), self.initial)
    }
}

/// Converts a Jepsen `:txn` history.
pub fn ops(history: &RawHistory) -> Result<Vec<Op<Txn, Txn>>, HistoryError> {
    let mut ops = Vec::with_capacity(history.ops.len());
    for raw in &history.ops {
        let class = completed(raw, history.dialect);
        if matches!(class, Completed::Drop | Completed::Failed) {
            continue;
        }
        if raw.f != "txn" {
            return Err(unknown_f(raw, "multi-register"));
        }
        let input = txn(raw, &raw.value)?;
        let output = match class {
            Completed::Ok => Some(txn(raw, &raw.result)?),
            _ => None,
        };
        if let Some(out) = &output {
            if !same_shape(&input, out) {
                return Err(HistoryError::new(
                    raw.line,
                    "value",
                    "completion differs in shape from its invocation",
                ));
            }
        }
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

fn same_shape(a: &Txn, b: &Txn) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (Micro::Read(k, _), Micro::Read(l, _)) => k == l,
            (Micro::Write(k, v), Micro::Write(l, w)) => k == l && v == w,
            _ => false,
        })
}

fn txn(raw: &RawOp, value: &Edn) -> Result<Txn, HistoryError> {
    let bad = |what: String| HistoryError::new(raw.line, "value", what);
    let Edn::List(steps) = value else {
        return Err(bad(format!("`{value}` is not a transaction")));
    };
    let mut out = Vec::with_capacity(steps.len());
    for step in steps {
        let Edn::List(parts) = step else {
            return Err(bad(format!("`{step}` is not [f k v]")));
        };
        let [Edn::Keyword(f), k, v] = parts.as_slice() else {
            return Err(bad(format!("`{step}` is not [f k v]")));
        };
        let v = int_or_nil(raw, v, "value")?;
        out.push(match (f.as_str(), v) {
            ("read", v) => Micro::Read(key_name(k), v),
            ("write", Some(v)) => Micro::Write(key_name(k), v),
            _ => {
                return Err(bad(format!(
                    "`{step}` is not a read or a write of an integer"
                )))
            }
        });
    }
    Ok(out)
}
