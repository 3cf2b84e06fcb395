//! A mutex (Jepsen's lock tests): `acquire` succeeds only when free, `release` only when held.

use super::{completed, unknown_f, Completed};
use crate::formats::raw::RawHistory;
use crate::history::HistoryError;
use crate::lin::{Model, Op};

/// The lock, initially free.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Mutex;

/// A lock operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexInput {
    /// Take the lock.
    Acquire,
    /// Give it back.
    Release,
}

impl Model for Mutex {
    type State = bool;
    type Input = MutexInput;
    type Output = ();

    fn init(&self) -> bool {
        false
    }

    fn step(&self, held: &bool, input: &MutexInput, _output: Option<&()>) -> Option<bool> {
        match input {
            MutexInput::Acquire => (!*held).then_some(true),
            MutexInput::Release => (*held).then_some(false),
        }
    }

    fn is_read_only(&self, _input: &MutexInput, _output: Option<&()>) -> bool {
        false
    }

    fn unknown_is_noop(&self, _input: &MutexInput) -> bool {
        false
    }

    fn keys(&self, _input: &MutexInput) -> Vec<String> {
        Vec::new()
    }

    fn describe_op(&self, input: &MutexInput, output: Option<&()>) -> String {
        let unknown = if output.is_none() { " ?" } else { "" };
        match input {
            MutexInput::Acquire => format!("acquire{unknown}"),
            MutexInput::Release => format!("release{unknown}"),
        }
    }

    fn describe_state(&self, held: &bool) -> String {
        if *held { "held" } else { "free" }.to_string()
    }
}

/// Converts a Jepsen lock history (`:acquire`, `:release`); failed operations are dropped.
pub fn ops(history: &RawHistory) -> Result<Vec<Op<MutexInput, ()>>, HistoryError> {
    let mut ops = Vec::with_capacity(history.ops.len());
    for raw in &history.ops {
        let class = completed(raw, history.dialect);
        if matches!(class, Completed::Drop | Completed::Failed) {
            continue;
        }
        let input = match raw.f.as_str() {
            "acquire" => MutexInput::Acquire,
            "release" => MutexInput::Release,
            _ => return Err(unknown_f(raw, "mutex")),
        };
        let output = (class == Completed::Ok).then_some(());
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
