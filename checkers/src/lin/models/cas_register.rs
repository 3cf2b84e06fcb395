//! A compare-and-set register (Jepsen's `cas-register`): `read`, `write v`, `cas [from to]`.

use super::{completed, int_or_nil, unknown_f, Completed};
use crate::formats::edn::Edn;
use crate::formats::raw::{Dialect, RawHistory, RawOp};
use crate::history::HistoryError;
use crate::lin::{Model, Op};

/// The register; `initial` is its value before any operation (`None` = unset, `nil`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CasRegister {
    /// The initial value.
    pub initial: Option<i64>,
}

/// A register operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterInput {
    /// Read the value.
    Read,
    /// Write a value.
    Write(i64),
    /// Compare-and-set `from` → `to`.
    Cas(i64, i64),
}

/// A register result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOutput {
    /// The read returned this value (`None`: unset).
    Read(Option<i64>),
    /// A read whose value was not recorded (Knossos `nil`): constrains nothing.
    ReadAnything,
    /// The write happened.
    Written,
    /// Whether the compare-and-set swapped.
    Cas(bool),
}

impl Model for CasRegister {
    type State = Option<i64>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<i64> {
        self.initial
    }

    fn step(
        &self,
        s: &Option<i64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<i64>> {
        use RegisterInput as I;
        use RegisterOutput as O;
        match (input, output) {
            (I::Read, Some(O::Read(v))) => (v == s).then_some(*s),
            (I::Read, _) => Some(*s),
            (I::Write(v), _) => Some(Some(*v)),
            (I::Cas(from, to), Some(O::Cas(true))) => (*s == Some(*from)).then_some(Some(*to)),
            (I::Cas(from, _), Some(O::Cas(false))) => (*s != Some(*from)).then_some(*s),
            (I::Cas(from, to), _) => Some(if *s == Some(*from) { Some(*to) } else { *s }),
        }
    }

    fn unreachable(
        &self,
        s: &Option<i64>,
        _input: &RegisterInput,
        output: Option<&RegisterOutput>,
        writers: &[&RegisterInput],
    ) -> bool {
        let Some(RegisterOutput::Read(v)) = output else {
            return false;
        };
        // Only a pending write or cas of exactly that value could still produce it.
        v != s
            && !writers.iter().any(|w| match w {
                RegisterInput::Write(x) | RegisterInput::Cas(_, x) => Some(*x) == *v,
                RegisterInput::Read => false,
            })
    }

    fn lookahead(&self) -> bool {
        true
    }

    fn may_rescue(
        &self,
        _input: &RegisterInput,
        output: Option<&RegisterOutput>,
        writer: &RegisterInput,
    ) -> bool {
        let Some(RegisterOutput::Read(v)) = output else {
            return true;
        };
        match writer {
            RegisterInput::Write(x) | RegisterInput::Cas(_, x) => Some(*x) == *v,
            RegisterInput::Read => false,
        }
    }

    fn is_read_only(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> bool {
        matches!(input, RegisterInput::Read) || matches!(output, Some(RegisterOutput::Cas(false)))
    }

    fn unknown_is_noop(&self, input: &RegisterInput) -> bool {
        matches!(input, RegisterInput::Read)
    }

    fn keys(&self, _input: &RegisterInput) -> Vec<String> {
        Vec::new()
    }

    fn describe_op(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        let shown = |v: &Option<i64>| v.map_or("nil".to_string(), |v| v.to_string());
        match (input, output) {
            (RegisterInput::Read, Some(RegisterOutput::Read(v))) => format!("read {}", shown(v)),
            (RegisterInput::Read, _) => "read ?".into(),
            (RegisterInput::Write(v), _) => format!("write {v}"),
            (RegisterInput::Cas(a, b), Some(RegisterOutput::Cas(false))) => {
                format!("cas {a}→{b} failed")
            }
            (RegisterInput::Cas(a, b), Some(_)) => format!("cas {a}→{b}"),
            (RegisterInput::Cas(a, b), None) => format!("cas {a}→{b} ?"),
        }
    }

    fn describe_state(&self, s: &Option<i64>) -> String {
        s.map_or("nil".to_string(), |v| v.to_string())
    }
}

/// Converts a Jepsen history (`:read`, `:write`, `:cas`).
pub fn ops(history: &RawHistory) -> Result<Vec<Op<RegisterInput, RegisterOutput>>, HistoryError> {
    let mut ops = Vec::with_capacity(history.ops.len());
    for raw in &history.ops {
        let class = completed(raw, history.dialect);
        // A failed write did not happen; a failed cas (Jepsen log) did not swap.
        if class == Completed::Drop || (class == Completed::Failed && raw.f == "write") {
            continue;
        }
        let (input, output) = convert(raw, class, history.dialect)?;
        let output = if class == Completed::Unknown {
            None
        } else {
            output
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

fn convert(
    raw: &RawOp,
    class: Completed,
    dialect: Dialect,
) -> Result<(RegisterInput, Option<RegisterOutput>), HistoryError> {
    match raw.f.as_str() {
        "read" => {
            let output = match (class, dialect, &raw.result) {
                (Completed::Failed, _, _) => None,
                (_, Dialect::Knossos, Edn::Nil) => Some(RegisterOutput::ReadAnything),
                _ => Some(RegisterOutput::Read(int_or_nil(raw, &raw.result, "value")?)),
            };
            Ok((RegisterInput::Read, output))
        }
        "write" => {
            let v = int_or_nil(raw, &raw.value, "value")?
                .ok_or_else(|| HistoryError::new(raw.line, "value", "write of nil"))?;
            let output = (class == Completed::Ok).then_some(RegisterOutput::Written);
            Ok((RegisterInput::Write(v), output))
        }
        "cas" => {
            let Edn::List(pair) = &raw.value else {
                return Err(HistoryError::new(raw.line, "value", "cas needs [from to]"));
            };
            let [from, to] = pair.as_slice() else {
                return Err(HistoryError::new(raw.line, "value", "cas needs [from to]"));
            };
            let from = int_or_nil(raw, from, "value")?;
            let to = int_or_nil(raw, to, "value")?;
            let (Some(from), Some(to)) = (from, to) else {
                return Err(HistoryError::new(raw.line, "value", "cas of nil"));
            };
            Ok((
                RegisterInput::Cas(from, to),
                Some(RegisterOutput::Cas(class == Completed::Ok)),
            ))
        }
        _ => Err(unknown_f(raw, "cas-register")),
    }
}
