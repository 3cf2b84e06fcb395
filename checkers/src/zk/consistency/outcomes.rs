//! Checks on the shape of the outcomes themselves, which hold whatever the witness: a multi's
//! results are all-or-nothing, and sequential names are unique and increase with zxid under
//! each parent — each incarnation of it: a parent deleted and created again starts its child
//! counter (the stored cversion) from 0, so names repeat across incarnations.

use super::witness::Witness;
use super::{Op, NAME};
use crate::history::{OpId, Outcome};
use crate::zk::{Violation, ViolationKind};
use std::collections::BTreeMap;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{CreateMode, MultiOp, OpResult, Request, Response};
use zabsim_protocol::txn::Txn;
use zabsim_protocol::types::Zxid;

pub(crate) fn check(ops: &[Op], witness: &Witness) -> Vec<Violation> {
    let mut found: Vec<Violation> = ops.iter().filter_map(multi_shape).collect();
    found.extend(sequential_names(ops, witness));
    found
}

/// A multi's results: all successes, or `OK`… then the failing code then
/// `RUNTIMEINCONSISTENCY`… (ZooKeeper's `DataTree.processTxn` for a failed multi).
fn multi_shape(op: &Op) -> Option<Violation> {
    let (Request::Multi { ops: subs }, Some(Outcome::Ok { response, .. })) =
        (&op.request, &op.outcome)
    else {
        return None;
    };
    let Response::Multi { results } = response else {
        return None;
    };
    let errors: Vec<Option<ErrorCode>> = results
        .iter()
        .map(|r| match r {
            OpResult::Error { err } => Some(*err),
            _ => None,
        })
        .collect();
    let ok = results.len() == subs.len()
        && (errors.iter().all(Option::is_none) || failed_shape(&errors));
    if ok {
        return None;
    }
    let mut v = Violation::new(
        NAME,
        ViolationKind::MultiNotAtomic,
        format!(
            "multi op {} of {} sub-ops answered {:?}: neither all applied nor all failed",
            op.id.0,
            subs.len(),
            results
        ),
    )
    .ops([op.id])
    .sessions([op.session]);
    v.line = op.complete_line;
    Some(v)
}

fn failed_shape(errors: &[Option<ErrorCode>]) -> bool {
    let Some(failing) = errors.iter().position(|e| *e != Some(ErrorCode::OK)) else {
        return false;
    };
    let code = errors.get(failing).copied().flatten();
    code.is_some_and(|c| c != ErrorCode::OK)
        && errors
            .iter()
            .skip(failing + 1)
            .all(|e| *e == Some(ErrorCode::RUNTIMEINCONSISTENCY))
}

/// The zxids at which each path was deleted, from the committed txn bodies the witness holds.
fn deletions(witness: &Witness) -> BTreeMap<String, Vec<Zxid>> {
    fn collect(txn: &Txn, zxid: Zxid, out: &mut BTreeMap<String, Vec<Zxid>>) {
        match txn {
            Txn::Delete { path } => out.entry(path.clone()).or_default().push(zxid),
            Txn::CloseSession { paths_to_delete } => {
                for path in paths_to_delete {
                    out.entry(path.clone()).or_default().push(zxid);
                }
            }
            Txn::Multi { txns } if txns.iter().all(|(_, t)| !matches!(t, Txn::Error { .. })) => {
                for (_, sub) in txns {
                    collect(sub, zxid, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for step in &witness.steps {
        if let Some(entry) = &step.entry {
            collect(&entry.txn, step.zxid, &mut out);
        }
    }
    out
}

/// A sequential name given: (the create's zxid if placed, the op, the name).
type Given = (Option<Zxid>, OpId, String);

/// Every sequential name a client was given, with the op and (if placed) its zxid, by parent
/// incarnation (how many times the parent was deleted before). A name whose zxid is unknown is
/// judged only under a parent that was never deleted.
fn sequential_names(ops: &[Op], witness: &Witness) -> Vec<Violation> {
    let deleted = deletions(witness);
    let mut given: BTreeMap<(String, usize), Vec<Given>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        let zxid = witness.op_zxid.get(&i).copied();
        for path in sequential_results(op) {
            let Some((parent, name)) = split_sequential(&path) else {
                continue;
            };
            let deaths = deleted.get(&parent).map_or(&[][..], Vec::as_slice);
            let incarnation = match zxid {
                Some(z) => deaths.iter().filter(|d| **d < z).count(),
                None if deaths.is_empty() => 0,
                None => continue,
            };
            given
                .entry((parent, incarnation))
                .or_default()
                .push((zxid, op.id, name));
        }
    }
    let mut found = Vec::new();
    for ((parent, _), mut names) in given {
        let mut seen: BTreeMap<&str, OpId> = BTreeMap::new();
        for (_, id, name) in &names {
            if let Some(first) = seen.insert(name, *id) {
                found.push(
                    Violation::new(
                        NAME,
                        ViolationKind::SequentialName,
                        format!(
                            "sequential name {parent}/{name} given to ops {} and {}",
                            first.0, id.0
                        ),
                    )
                    .ops([first, *id]),
                );
            }
        }
        names.retain(|(z, _, _)| z.is_some());
        names.sort();
        for pair in names.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if seq_number(&a.2) >= seq_number(&b.2) && a.2 != b.2 {
                found.push(
                    Violation::new(
                        NAME,
                        ViolationKind::SequentialName,
                        format!(
                            "under {parent}, op {} got {} at an earlier zxid than op {} got {}",
                            a.1 .0, a.2, b.1 .0, b.2
                        ),
                    )
                    .ops([a.1, b.1])
                    .zxids(a.0.into_iter().chain(b.0)),
                );
            }
        }
    }
    found
}

/// Paths a successful op created in a sequential mode.
fn sequential_results(op: &Op) -> Vec<String> {
    let Some(Outcome::Ok { response, .. }) = &op.outcome else {
        return Vec::new();
    };
    let sequential =
        |flags: i32| CreateMode::from_flag(flags).is_some_and(CreateMode::is_sequential);
    match (&op.request, response) {
        (Request::Create { flags, .. }, Response::Create { path, .. }) if sequential(*flags) => {
            vec![path.clone()]
        }
        (Request::Multi { ops: subs }, Response::Multi { results }) => subs
            .iter()
            .zip(results)
            .filter_map(|(sub, result)| match (sub, result) {
                (
                    MultiOp::Create { flags, .. } | MultiOp::Create2 { flags, .. },
                    OpResult::Create { path, .. },
                ) if sequential(*flags) => Some(path.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `/a/b-0000000012` → (`/a`, `b-0000000012`), if it ends with ten digits.
fn split_sequential(path: &str) -> Option<(String, String)> {
    let slash = path.rfind('/')?;
    let name = &path[slash + 1..];
    let digits = name.get(name.len().checked_sub(10)?..)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parent = if slash == 0 { "/" } else { &path[..slash] };
    Some((parent.to_string(), name.to_string()))
}

fn seq_number(name: &str) -> i64 {
    name.get(name.len().saturating_sub(10)..)
        .and_then(|d| d.parse().ok())
        .unwrap_or(-1)
}
