//! [`History`]: records checked for internal consistency and paired into operations.

use super::{Completion, HistoryError, Invocation, OpId, Outcome, Record};
use std::collections::BTreeMap;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{Request, Response};

/// One client operation: its invocation and, unless the history ended first, its completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The invocation.
    pub invocation: Invocation,
    /// The completion; `None` if the history ended while it was pending (treated as unknown).
    pub completion: Option<Completion>,
    /// 1-based line of the invocation.
    pub invoke_line: usize,
    /// 1-based line of the completion.
    pub complete_line: Option<usize>,
}

impl Operation {
    /// The outcome, if the operation completed.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.completion.as_ref().map(|c| &c.outcome)
    }

    /// Whether the client got a definite answer (OK or an error reply).
    pub fn is_determinate(&self) -> bool {
        matches!(
            self.outcome(),
            Some(Outcome::Ok { .. } | Outcome::Error { .. })
        )
    }
}

/// A validated history: the records in file order plus the operations they describe.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Every record, in file order (non-decreasing virtual time).
    pub records: Vec<Record>,
    /// Operations in invocation order.
    pub ops: Vec<Operation>,
    /// Operation id to its index in `ops`.
    pub index: BTreeMap<OpId, usize>,
}

impl History {
    /// Checks and pairs `records` (line `i + 1` is `records[i]`).
    pub fn from_records(records: Vec<Record>) -> Result<History, HistoryError> {
        let mut history = History::default();
        let mut last_time = 0;
        for (i, record) in records.iter().enumerate() {
            let line = i + 1;
            if record.time_ns() < last_time {
                return Err(HistoryError::new(
                    line,
                    "time_ns",
                    format!(
                        "time {} is before the previous record's {last_time}",
                        record.time_ns()
                    ),
                ));
            }
            last_time = record.time_ns();
            match record {
                Record::Invoke(inv) => history.add_invocation(line, inv)?,
                Record::Complete(done) => history.add_completion(line, done)?,
                Record::Watch(_) | Record::Session(_) | Record::Observed(_) => {}
            }
        }
        history.records = records;
        Ok(history)
    }

    /// Reads and checks a JSON Lines history.
    pub fn read(input: impl std::io::BufRead) -> Result<History, HistoryError> {
        History::from_records(super::read_records(input)?)
    }

    /// The operation with this id.
    pub fn op(&self, id: OpId) -> Option<&Operation> {
        self.index.get(&id).and_then(|&i| self.ops.get(i))
    }

    fn add_invocation(&mut self, line: usize, inv: &Invocation) -> Result<(), HistoryError> {
        if self.index.contains_key(&inv.id) {
            return Err(HistoryError::new(
                line,
                "id",
                format!("operation id {} invoked twice", inv.id.0),
            ));
        }
        self.index.insert(inv.id, self.ops.len());
        self.ops.push(Operation {
            invocation: inv.clone(),
            completion: None,
            invoke_line: line,
            complete_line: None,
        });
        Ok(())
    }

    fn add_completion(&mut self, line: usize, done: &Completion) -> Result<(), HistoryError> {
        let Some(&i) = self.index.get(&done.id) else {
            return Err(HistoryError::new(
                line,
                "id",
                format!(
                    "completion of operation {} that was never invoked",
                    done.id.0
                ),
            ));
        };
        let Some(op) = self.ops.get_mut(i) else {
            return Err(HistoryError::new(line, "id", "index out of range"));
        };
        if op.completion.is_some() {
            return Err(HistoryError::new(
                line,
                "id",
                format!("operation {} completed twice", done.id.0),
            ));
        }
        check_outcome(line, &op.invocation.request, &done.outcome)?;
        op.completion = Some(done.clone());
        op.complete_line = Some(line);
        Ok(())
    }
}

/// An outcome must fit its request: an error code that is not OK, a body of the right kind.
fn check_outcome(line: usize, request: &Request, outcome: &Outcome) -> Result<(), HistoryError> {
    match outcome {
        Outcome::Error { err, .. } | Outcome::Unknown { err } if *err == ErrorCode::OK => Err(
            HistoryError::new(line, "outcome.err", "an error outcome with code OK"),
        ),
        Outcome::Ok { response, .. } if !response_fits(request, response) => {
            Err(HistoryError::new(
                line,
                "outcome.response",
                format!(
                    "a {} request answered with {:?}",
                    request.op_code().name(),
                    response_kind(response)
                ),
            ))
        }
        _ => Ok(()),
    }
}

fn response_kind(response: &Response) -> &'static str {
    match response {
        Response::Create { .. } => "Create",
        Response::Delete => "Delete",
        Response::Exists { .. } => "Exists",
        Response::GetData { .. } => "GetData",
        Response::SetData { .. } => "SetData",
        Response::GetAcl { .. } => "GetAcl",
        Response::SetAcl { .. } => "SetAcl",
        Response::GetChildren { .. } => "GetChildren",
        Response::Sync { .. } => "Sync",
        Response::Multi { .. } => "Multi",
        Response::Empty => "Empty",
        Response::GetEphemerals { .. } => "GetEphemerals",
        Response::GetAllChildrenNumber { .. } => "GetAllChildrenNumber",
    }
}

/// Whether `response` is the body kind ZooKeeper sends for `request`.
pub fn response_fits(request: &Request, response: &Response) -> bool {
    matches!(
        (request, response),
        (Request::Create { .. }, Response::Create { .. })
            | (Request::Delete { .. }, Response::Delete)
            | (Request::Exists { .. }, Response::Exists { .. })
            | (Request::GetData { .. }, Response::GetData { .. })
            | (Request::SetData { .. }, Response::SetData { .. })
            | (Request::GetAcl { .. }, Response::GetAcl { .. })
            | (Request::SetAcl { .. }, Response::SetAcl { .. })
            | (Request::GetChildren { .. }, Response::GetChildren { .. })
            | (Request::Sync { .. }, Response::Sync { .. })
            | (Request::Multi { .. }, Response::Multi { .. })
            | (Request::MultiRead { .. }, Response::Multi { .. })
            | (
                Request::AddWatch { .. }
                    | Request::RemoveWatches { .. }
                    | Request::CheckWatches { .. }
                    | Request::AddAuth { .. },
                Response::Empty
            )
            | (
                Request::GetEphemerals { .. },
                Response::GetEphemerals { .. }
            )
            | (
                Request::GetAllChildrenNumber { .. },
                Response::GetAllChildrenNumber { .. }
            )
    )
}
