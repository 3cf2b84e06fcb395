//! The zxid witness: the committed txns in zxid order, each matched to the client operation that
//! caused it by the txn header's (session, cxid).

use super::{Op, NAME};
use crate::history::Outcome;
use crate::zk::cluster::ClusterModel;
use crate::zk::{Violation, ViolationKind};
use std::collections::BTreeMap;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::op_code::OpCode;
use zabsim_protocol::txn::{TxnEntry, TxnHeader};
use zabsim_protocol::types::{SessionId, Xid, Zxid};

/// One committed txn.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub zxid: Zxid,
    pub header: Option<TxnHeader>,
    pub entry: Option<TxnEntry>,
    /// Index into the judge's ops of the operation that caused it.
    pub op: Option<usize>,
}

/// The witness and what building it found.
#[derive(Debug, Default)]
pub(crate) struct Witness {
    pub steps: Vec<Step>,
    /// Op index → the zxid of its committed txn.
    pub op_zxid: BTreeMap<usize, Zxid>,
    /// Determinate write errors with no txn: judged like reads at their reply zxid.
    pub txnless_errors: Vec<usize>,
    /// Whether every committed txn is known (body or op): only then is a mismatch a violation.
    pub complete: bool,
    /// Reasons the witness is incomplete.
    pub gaps: Vec<String>,
    pub problems: Vec<Violation>,
}

/// Codes a write can get without a txn (rejected before or outside the leader's prep).
fn txnless_code(err: ErrorCode) -> bool {
    matches!(
        err,
        ErrorCode::SESSIONEXPIRED
            | ErrorCode::SESSIONMOVED
            | ErrorCode::CONNECTIONLOSS
            | ErrorCode::OPERATIONTIMEOUT
            | ErrorCode::MARSHALLINGERROR
            | ErrorCode::NOTREADONLY
            | ErrorCode::THROTTLEDOP
            | ErrorCode::REQUESTTIMEOUT
    )
}

impl Witness {
    /// The witness of the txns committed after `known` (the zxid up to which the initial data
    /// is given to the reference model; zero for empty data directories).
    pub fn build(model: &ClusterModel, ops: &[Op], known: Zxid) -> Witness {
        if model.proposals.is_empty() && model.delivered.is_empty() {
            return Witness::from_replies(ops);
        }
        Witness::from_observations(model, ops, known)
    }

    fn from_observations(model: &ClusterModel, ops: &[Op], known: Zxid) -> Witness {
        let mut w = Witness {
            complete: true,
            ..Witness::default()
        };
        let mut by_key: BTreeMap<(SessionId, Xid), Vec<usize>> = BTreeMap::new();
        for (i, op) in ops.iter().enumerate().filter(|(_, op)| op.is_write()) {
            by_key.entry((op.session, op.xid)).or_default().push(i);
        }
        for zxid in committed_with_implied(model)
            .into_iter()
            .filter(|z| *z > known)
        {
            let entry = model.proposals.get(&zxid).map(|(_, e)| e.clone());
            let header = entry
                .as_ref()
                .map(|e| e.header)
                .or_else(|| model.delivered.get(&zxid).copied());
            let op = header.and_then(|h| take_op(&mut by_key, &h));
            if let Some(i) = op {
                w.op_zxid.insert(i, zxid);
                w.check_reply_zxid(ops, i, zxid);
            } else if entry.is_none() {
                w.complete = false;
                w.gaps.push(format!(
                    "committed txn {zxid} has neither a Proposed body nor a matching operation"
                ));
            }
            w.steps.push(Step {
                zxid,
                header,
                entry,
                op,
            });
        }
        w.collect_unmatched(ops);
        w
    }

    fn check_reply_zxid(&mut self, ops: &[Op], i: usize, zxid: Zxid) {
        let Some(op) = ops.get(i) else { return };
        let reply = match &op.outcome {
            Some(Outcome::Ok { zxid, .. }) => *zxid,
            Some(Outcome::Error { zxid, err }) if !txnless_code(*err) => *zxid,
            _ => return,
        };
        if reply != zxid {
            self.problems.push(
                Violation::new(
                    NAME,
                    ViolationKind::MissingTxn,
                    format!(
                        "op {} was answered with zxid {reply}, but its txn committed at {zxid}",
                        op.id.0
                    ),
                )
                .ops([op.id])
                .zxids([reply, zxid]),
            );
        }
    }

    /// Determinate writes without a committed txn.
    fn collect_unmatched(&mut self, ops: &[Op]) {
        for (i, op) in ops.iter().enumerate() {
            if !op.is_write() || self.op_zxid.contains_key(&i) {
                continue;
            }
            match &op.outcome {
                Some(Outcome::Ok { zxid, .. }) => self.problems.push(
                    Violation::new(
                        NAME,
                        ViolationKind::MissingTxn,
                        format!(
                            "op {} ({}) was acknowledged OK at {zxid}, but no committed txn of \
                             session {} has cxid {}",
                            op.id.0,
                            op.request.op_code().name(),
                            op.session,
                            op.xid.0
                        ),
                    )
                    .ops([op.id])
                    .zxids([*zxid])
                    .sessions([op.session]),
                ),
                Some(Outcome::Error { err, .. }) if !txnless_code(*err) => {
                    self.txnless_errors.push(i)
                }
                _ => {}
            }
        }
    }

    /// Without observations: determinate writes by reply zxid.
    fn from_replies(ops: &[Op]) -> Witness {
        let mut w = Witness {
            complete: false,
            gaps: vec![
                "no txn observations: writes are placed by their reply zxids; unknown writes and \
                 session txns are invisible"
                    .to_string(),
            ],
            ..Witness::default()
        };
        let mut by_zxid: BTreeMap<Zxid, usize> = BTreeMap::new();
        for (i, op) in ops.iter().enumerate().filter(|(_, op)| op.is_write()) {
            let Some(Outcome::Ok { zxid, .. }) = &op.outcome else {
                if matches!(&op.outcome, Some(Outcome::Error { err, .. }) if !txnless_code(*err)) {
                    w.txnless_errors.push(i);
                }
                continue;
            };
            if let Some(&other) = by_zxid.get(zxid) {
                let ids = [ops[other].id, op.id];
                w.problems.push(
                    Violation::new(
                        NAME,
                        ViolationKind::MissingTxn,
                        format!(
                            "ops {} and {} were both acknowledged at {zxid}",
                            ids[0].0, ids[1].0
                        ),
                    )
                    .ops(ids)
                    .zxids([*zxid]),
                );
                continue;
            }
            by_zxid.insert(*zxid, i);
        }
        for (zxid, i) in by_zxid {
            w.op_zxid.insert(i, zxid);
            w.steps.push(Step {
                zxid,
                header: None,
                entry: None,
                op: Some(i),
            });
        }
        w
    }
}

/// The known-committed zxids plus those implied by in-order commit: a proposal below a committed
/// zxid of the same epoch is committed too.
fn committed_with_implied(model: &ClusterModel) -> Vec<Zxid> {
    let mut all = model.committed_zxids();
    let max_per_epoch: BTreeMap<_, Zxid> = all.iter().map(|z| (z.epoch(), *z)).collect();
    for zxid in model.proposals.keys() {
        if max_per_epoch
            .get(&zxid.epoch())
            .is_some_and(|max| zxid < max)
        {
            all.insert(*zxid);
        }
    }
    all.into_iter().collect()
}

/// The first unmatched write op with this header's session and cxid.
fn take_op(by_key: &mut BTreeMap<(SessionId, Xid), Vec<usize>>, h: &TxnHeader) -> Option<usize> {
    if matches!(h.txn_type, OpCode::CreateSession | OpCode::CloseSession) {
        return None;
    }
    let candidates = by_key.get_mut(&(h.client_id, h.cxid))?;
    if candidates.is_empty() {
        return None;
    }
    Some(candidates.remove(0))
}
