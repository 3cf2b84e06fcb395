//! The txn record an ideal leader logs for a request, derived from the reference model's answer
//! (the way `PrepRequestProcessor` records absolute results: the new version, the parent's new
//! cversion, the sequential name).

use crate::reference::{parent_of, Fail, Judged, ReferenceTree};
use std::collections::BTreeMap;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::op_code::OpCode;
use zabsim_protocol::request::{CreateMode, MultiOp, OpResult, Request, Response};
use zabsim_protocol::txn::Txn;

/// The txn type and record for `request` answered `result`, with `after` the tree after it.
pub fn txn_for(
    request: &Request,
    result: &Judged<Response>,
    after: &ReferenceTree,
) -> (OpCode, Txn) {
    let code = match result {
        Err(Fail::Code(code)) => *code,
        Err(Fail::Undecided(_)) => ErrorCode::SYSTEMERROR,
        Ok(response) => return success_txn(request, response, after),
    };
    (OpCode::Error, Txn::Error { err: code.code() })
}

fn cversion_of(after: &ReferenceTree, path: &str) -> i32 {
    let parent = parent_of(path).unwrap_or("/");
    after.node(parent).map_or(0, |n| n.stored_cversion)
}

fn create_txn(
    path: &str,
    data: &Option<Vec<u8>>,
    acl: &[zabsim_protocol::acl::Acl],
    flags: i32,
    cversion: i32,
) -> Txn {
    let mode = CreateMode::from_flag(flags).unwrap_or(CreateMode::Persistent);
    let mut unique = Vec::new();
    for a in acl {
        if !unique.contains(a) {
            unique.push(a.clone());
        }
    }
    if mode == CreateMode::Container {
        return Txn::CreateContainer {
            path: path.to_string(),
            data: data.clone(),
            acl: unique,
            parent_cversion: cversion,
        };
    }
    Txn::Create {
        path: path.to_string(),
        data: data.clone(),
        acl: unique,
        ephemeral: mode.is_ephemeral(),
        parent_cversion: cversion,
    }
}

fn success_txn(request: &Request, response: &Response, after: &ReferenceTree) -> (OpCode, Txn) {
    let txn = match (request, response) {
        (
            Request::Create {
                data, acl, flags, ..
            },
            Response::Create { path, .. },
        ) => create_txn(path, data, acl, *flags, cversion_of(after, path)),
        (Request::Delete { path, .. }, _) => Txn::Delete { path: path.clone() },
        (Request::SetData { path, data, .. }, Response::SetData { stat }) => Txn::SetData {
            path: path.clone(),
            data: data.clone(),
            version: stat.version,
        },
        (Request::SetAcl { path, acl, .. }, Response::SetAcl { stat }) => Txn::SetAcl {
            path: path.clone(),
            acl: acl.clone(),
            version: stat.aversion,
        },
        (Request::Multi { ops }, Response::Multi { results }) => multi_txn(ops, results, after),
        _ => Txn::Error {
            err: ErrorCode::SYSTEMERROR.code(),
        },
    };
    (request.op_code(), txn)
}

fn multi_txn(ops: &[MultiOp], results: &[OpResult], after: &ReferenceTree) -> Txn {
    if results.iter().any(|r| matches!(r, OpResult::Error { .. })) {
        let txns = results
            .iter()
            .map(|r| {
                let err = match r {
                    OpResult::Error { err } => err.code(),
                    _ => 0,
                };
                (OpCode::Error, Txn::Error { err })
            })
            .collect();
        return Txn::Multi { txns };
    }
    // Creates under one parent each raised its cversion by one: count back from the final value.
    let mut later_creates: BTreeMap<String, i32> = BTreeMap::new();
    let mut txns = Vec::with_capacity(ops.len());
    for (op, result) in ops.iter().zip(results).rev() {
        let entry = match (op, result) {
            (
                MultiOp::Create {
                    data, acl, flags, ..
                }
                | MultiOp::Create2 {
                    data, acl, flags, ..
                },
                OpResult::Create { path, .. },
            ) => {
                let parent = parent_of(path).unwrap_or("/").to_string();
                let later = later_creates.entry(parent).or_insert(0);
                let cversion = cversion_of(after, path) - *later;
                *later += 1;
                let code = if matches!(op, MultiOp::Create { .. }) {
                    OpCode::Create
                } else {
                    OpCode::Create2
                };
                (code, create_txn(path, data, acl, *flags, cversion))
            }
            (MultiOp::Delete { path, .. }, _) => {
                (OpCode::Delete, Txn::Delete { path: path.clone() })
            }
            (MultiOp::SetData { path, data, .. }, OpResult::SetData { stat }) => (
                OpCode::SetData,
                Txn::SetData {
                    path: path.clone(),
                    data: data.clone(),
                    version: stat.version,
                },
            ),
            (MultiOp::Check { path, version }, _) => (
                OpCode::Check,
                Txn::CheckVersion {
                    path: path.clone(),
                    version: *version,
                },
            ),
            _ => (
                OpCode::Error,
                Txn::Error {
                    err: ErrorCode::SYSTEMERROR.code(),
                },
            ),
        };
        txns.push(entry);
    }
    txns.reverse();
    Txn::Multi { txns }
}
