//! Replaying the witness through the reference model: every write's txn and reply must be the
//! model's answer at its zxid, every read's reply the model's state at its reply zxid (or in its
//! window).

use super::compare::response_matches;
use super::witness::{Step, Witness};
use super::{Op, ReadWitness, NAME};
use crate::history::Outcome;
use crate::reference::{Fail, Judged, ReferenceTree, UNKNOWN_TIME};
use crate::zk::{JudgeConfig, Violation, ViolationKind};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{OpResult, Response};
use zabsim_protocol::txn::{Txn, TxnEntry};
use zabsim_protocol::types::Zxid;

/// What the replay found.
#[derive(Debug, Default)]
pub(crate) struct Replayed {
    pub violations: Vec<Violation>,
    pub undecided: Vec<String>,
}

/// A read waiting for the reference state to reach its window.
struct PendingRead {
    lo: Zxid,
    hi: Zxid,
    op: usize,
    last_expected: Option<Judged<Response>>,
}

struct Replay<'a> {
    ops: &'a [Op],
    tree: ReferenceTree,
    complete: bool,
    out: Replayed,
}

/// Replays `witness` and judges every determinate result.
/// `initial` (the txns of the data the servers boot from) is applied to the model first.
pub(crate) fn replay(
    config: &JudgeConfig,
    ops: &[Op],
    witness: &Witness,
    initial: &[TxnEntry],
) -> Replayed {
    let mut reads = pending_reads(config.read_witness, ops, witness);
    reads.sort_by_key(|r| (r.lo, r.op));
    let mut reads = reads.into_iter().peekable();
    let mut active: Vec<PendingRead> = Vec::new();
    let mut r = Replay {
        ops,
        tree: ReferenceTree::new(config.reference),
        complete: witness.complete,
        out: Replayed::default(),
    };
    for entry in initial {
        if let Err(e) = r.tree.apply_txn(entry) {
            r.complete = false;
            r.out.undecided.push(format!(
                "the initial data's txn {} does not apply to the reference model: {e}",
                entry.header.zxid
            ));
            break;
        }
    }
    for step in &witness.steps {
        while let Some(read) = reads.next_if(|read| read.lo < step.zxid) {
            active.push(read);
        }
        r.judge_reads(&mut active, Some(step.zxid));
        r.step(step);
    }
    active.extend(reads);
    r.judge_reads(&mut active, None);
    r.out
}

fn pending_reads(mode: ReadWitness, ops: &[Op], witness: &Witness) -> Vec<PendingRead> {
    let reads = ops.iter().enumerate().filter_map(|(i, op)| {
        if answers_from_watch_table(&op.request) {
            return None;
        }
        let hi = match &op.outcome {
            Some(Outcome::Ok { zxid, .. }) if !op.is_write() => *zxid,
            Some(Outcome::Error { zxid, err }) if !op.is_write() && !session_level(*err) => *zxid,
            _ => return None,
        };
        Some((i, hi))
    });
    let txnless = witness.txnless_errors.iter().filter_map(|&i| {
        let zxid = ops.get(i)?.outcome.as_ref()?.zxid()?;
        Some((i, zxid))
    });
    reads
        .chain(txnless)
        .map(|(op, hi)| {
            let lo = match mode {
                ReadWitness::Exact => hi,
                ReadWitness::Window => ops.get(op).map_or(hi, |o| o.seen_before.min(hi)),
            };
            PendingRead {
                lo,
                hi,
                op,
                last_expected: None,
            }
        })
        .collect()
}

/// `removeWatches` / `checkWatches` answer from the server's watch table for the session's
/// connection, not from the tree: their OK / NOWATCHER is the sessions judge's to decide
/// (`sessions::removals`), so the tree replay neither passes nor fails them.
fn answers_from_watch_table(request: &zabsim_protocol::request::Request) -> bool {
    use zabsim_protocol::request::Request as R;
    matches!(request, R::RemoveWatches { .. } | R::CheckWatches { .. })
}

fn session_level(err: ErrorCode) -> bool {
    matches!(
        err,
        ErrorCode::SESSIONEXPIRED
            | ErrorCode::SESSIONMOVED
            | ErrorCode::CONNECTIONLOSS
            | ErrorCode::OPERATIONTIMEOUT
    )
}

impl Replay<'_> {
    /// Judges the active reads against the current state (the state at every zxid before
    /// `next`); a read whose window ends before `next` and never matched is a violation.
    fn judge_reads(&mut self, active: &mut Vec<PendingRead>, next: Option<Zxid>) {
        let mut still = Vec::with_capacity(active.len());
        for mut read in active.drain(..) {
            let Some(op) = self.ops.get(read.op) else {
                continue;
            };
            let expected = if op.is_write() {
                self.tree.clone().write(
                    op.session,
                    &op.request,
                    self.tree.last_zxid(),
                    UNKNOWN_TIME,
                )
            } else {
                self.tree.read(op.session, &op.request)
            };
            match outcome_matches(&expected, op.outcome.as_ref()) {
                Some(true) => continue,
                None => {
                    self.note_undecided(op, &expected);
                    continue;
                }
                Some(false) => read.last_expected = Some(expected),
            }
            if next.is_some_and(|z| read.hi >= z) {
                still.push(read);
            } else {
                self.unexplained_read(&read);
            }
        }
        *active = still;
    }

    fn unexplained_read(&mut self, read: &PendingRead) {
        let Some(op) = self.ops.get(read.op) else {
            return;
        };
        let window = if read.lo == read.hi {
            format!("at {}", read.hi)
        } else {
            format!("anywhere in [{}, {}]", read.lo, read.hi)
        };
        let message = format!(
            "op {} ({} by session {}) got {}, but the reference state {window} gives {}",
            op.id.0,
            describe(op),
            op.session,
            show_outcome(op.outcome.as_ref()),
            show_expected(read.last_expected.as_ref()),
        );
        self.report(ViolationKind::UnexplainedResult, message, op, [read.hi]);
    }

    fn report<const N: usize>(
        &mut self,
        kind: ViolationKind,
        message: String,
        op: &Op,
        zxids: [Zxid; N],
    ) {
        if !self.complete {
            self.out.undecided.push(format!(
                "{message} (not a violation: the witness is incomplete)"
            ));
            return;
        }
        let mut v = Violation::new(NAME, kind, message)
            .ops([op.id])
            .zxids(zxids)
            .sessions([op.session]);
        v.line = op.complete_line;
        self.out.violations.push(v);
    }

    fn note_undecided(&mut self, op: &Op, expected: &Judged<Response>) {
        if let Err(Fail::Undecided(reason)) = expected {
            self.out.undecided.push(format!(
                "op {} ({}) not judged: {reason}",
                op.id.0,
                describe(op)
            ));
        }
    }

    /// Applies one committed txn.
    fn step(&mut self, step: &Step) {
        let Some(i) = step.op else {
            self.apply_body(step);
            return;
        };
        let Some(op) = self.ops.get(i) else { return };
        if let Some(Txn::Error { err }) = step.entry.as_ref().map(|e| &e.txn) {
            if ErrorCode::from_code(*err).is_some_and(session_level) {
                self.apply_body(step); // the leader's session tracker, not the tree, decided
                return;
            }
        }
        let time = step.entry.as_ref().map_or(UNKNOWN_TIME, |e| e.header.time);
        let expected = self.tree.write(op.session, &op.request, step.zxid, time);
        if let Err(Fail::Undecided(_)) = &expected {
            self.note_undecided(op, &expected);
            self.apply_body(step);
            return;
        }
        if let Some(problem) = step
            .entry
            .as_ref()
            .and_then(|e| txn_disagrees(&expected, e))
        {
            let message = format!("op {} ({}): {problem}", op.id.0, describe(op));
            self.report(ViolationKind::UnexplainedResult, message, op, [step.zxid]);
        }
        if outcome_matches(&expected, op.outcome.as_ref()) == Some(false) {
            let message = format!(
                "op {} ({} by session {}) committed at {} got {}, but the reference gives {}",
                op.id.0,
                describe(op),
                op.session,
                step.zxid,
                show_outcome(op.outcome.as_ref()),
                show_expected(Some(&expected)),
            );
            self.report(ViolationKind::UnexplainedResult, message, op, [step.zxid]);
        }
    }

    fn apply_body(&mut self, step: &Step) {
        let Some(entry) = &step.entry else {
            match step.header {
                Some(h) if h.txn_type == zabsim_protocol::op_code::OpCode::CreateSession => {
                    self.tree.create_session(h.client_id, step.zxid);
                }
                _ => self.complete = false,
            }
            return;
        };
        if let Err(problem) = self.tree.apply_txn(entry) {
            if self.complete {
                let v = Violation::new(
                    NAME,
                    ViolationKind::UnexplainedResult,
                    format!(
                        "committed txn {} cannot apply to the reference state: {problem}",
                        step.zxid
                    ),
                )
                .zxids([step.zxid]);
                self.out.violations.push(v);
            }
            self.complete = false;
        }
    }
}

/// `Some(true)` if the outcome is what the model expects, `Some(false)` if not, `None` if the
/// model is undecided or the outcome says nothing (unknown).
pub(crate) fn outcome_matches(
    expected: &Judged<Response>,
    outcome: Option<&Outcome>,
) -> Option<bool> {
    let outcome = outcome?;
    if let Err(Fail::Undecided(_)) = expected {
        return None;
    }
    Some(match (expected, outcome) {
        (_, Outcome::Unknown { .. }) => return None,
        (_, Outcome::Error { err, .. }) if session_level(*err) => return None,
        (Ok(e), Outcome::Ok { response, .. }) => response_matches(e, response),
        (Err(Fail::Code(code)), Outcome::Error { err, .. }) => code == err,
        (Ok(Response::Multi { results }), Outcome::Error { err, .. }) => {
            first_multi_error(results) == Some(*err)
        }
        _ => false,
    })
}

fn first_multi_error(results: &[OpResult]) -> Option<ErrorCode> {
    results.iter().find_map(|r| match r {
        OpResult::Error { err } if *err != ErrorCode::OK => Some(*err),
        _ => None,
    })
}

/// Whether the leader's txn is the one the model's answer implies.
fn txn_disagrees(expected: &Judged<Response>, entry: &TxnEntry) -> Option<String> {
    let zxid = entry.header.zxid;
    match (expected, &entry.txn) {
        (Err(Fail::Code(code)), Txn::Error { err }) if *err == code.code() => None,
        (Err(Fail::Code(code)), txn) => Some(format!(
            "the reference fails it with {}, but the leader logged {} at {zxid}",
            code.name(),
            txn_name(txn)
        )),
        (Ok(Response::Create { path, .. }), Txn::Create { path: p, .. })
        | (Ok(Response::Create { path, .. }), Txn::CreateContainer { path: p, .. })
            if path != p =>
        {
            Some(format!(
                "the reference creates {path}, the leader's txn {p} at {zxid}"
            ))
        }
        (Ok(Response::Multi { results }), Txn::Multi { txns }) => {
            let failed_txn = txns.iter().any(|(_, t)| matches!(t, Txn::Error { .. }));
            let failed_ref = first_multi_error(results).is_some();
            (failed_txn != failed_ref).then(|| {
                format!("the reference multi failed={failed_ref}, the leader's txn at {zxid} failed={failed_txn}")
            })
        }
        (Ok(_), Txn::Error { err }) => Some(format!(
            "the reference succeeds, but the leader logged an error txn ({err}) at {zxid}"
        )),
        _ => None,
    }
}

fn txn_name(txn: &Txn) -> String {
    match txn {
        Txn::Error { err } => format!(
            "error txn {}",
            ErrorCode::from_code(*err).map_or_else(|| err.to_string(), |c| c.name().to_string())
        ),
        other => format!("{other:?}")
            .split([' ', '{', '('])
            .next()
            .unwrap_or("txn")
            .to_string(),
    }
}

fn describe(op: &Op) -> String {
    let name = op.request.op_code().name();
    match request_path(&op.request) {
        Some(path) => format!("{name} {path}"),
        None => name.to_string(),
    }
}

fn request_path(request: &zabsim_protocol::request::Request) -> Option<&str> {
    use zabsim_protocol::request::Request as R;
    match request {
        R::Create { path, .. }
        | R::Delete { path, .. }
        | R::Exists { path, .. }
        | R::GetData { path, .. }
        | R::SetData { path, .. }
        | R::GetAcl { path }
        | R::SetAcl { path, .. }
        | R::GetChildren { path, .. }
        | R::Sync { path }
        | R::GetAllChildrenNumber { path } => Some(path),
        _ => None,
    }
}

fn show_outcome(outcome: Option<&Outcome>) -> String {
    match outcome {
        Some(Outcome::Ok { response, .. }) => format!("{response:?}"),
        Some(Outcome::Error { err, .. }) => err.name().to_string(),
        Some(Outcome::Unknown { err }) => format!("unknown ({})", err.name()),
        None => "no reply".to_string(),
    }
}

fn show_expected(expected: Option<&Judged<Response>>) -> String {
    match expected {
        Some(Ok(response)) => format!("{response:?}"),
        Some(Err(Fail::Code(code))) => code.name().to_string(),
        Some(Err(Fail::Undecided(reason))) => format!("undecided ({reason})"),
        None => "nothing".to_string(),
    }
}
