//! Txn application with the reply (`FinalRequestProcessor`), partial: no watch triggers yet.

use crate::error_code::ErrorCode;
use crate::op_code::OpCode;
use crate::request::{OpResult, Response};
use crate::store::data_tree::DataTree;
use crate::txn::{Txn, TxnEntry};

/// Applies `entry` to `tree` and builds the reply for the requesting session: the Response, or
/// the error carried by an `ErrorTxn` (or met while applying, as ZooKeeper tolerates on replay).
pub fn apply(tree: &mut DataTree, entry: &TxnEntry) -> Result<Response, ErrorCode> {
    let applied = tree.process_txn(entry);
    if let Txn::Error { err } = &entry.txn {
        return Err(ErrorCode::from_code(*err).unwrap_or(ErrorCode::SYSTEMERROR));
    }
    applied?;
    Ok(match &entry.txn {
        Txn::Create { path, .. }
        | Txn::CreateContainer { path, .. }
        | Txn::CreateTtl { path, .. } => {
            let with_stat = entry.header.txn_type != OpCode::Create;
            Response::Create {
                path: path.clone(),
                stat: if with_stat {
                    tree.node(path).map(|n| n.client_stat())
                } else {
                    None
                },
            }
        }
        Txn::Delete { .. } => Response::Delete,
        Txn::SetData { path, .. } => match tree.node(path) {
            Some(n) => Response::SetData {
                stat: n.client_stat(),
            },
            None => return Err(ErrorCode::NONODE),
        },
        Txn::SetAcl { path, .. } => match tree.node(path) {
            Some(n) => Response::SetAcl {
                stat: n.client_stat(),
            },
            None => return Err(ErrorCode::NONODE),
        },
        Txn::Multi { txns } => Response::Multi {
            results: txns.iter().map(|(op, t)| op_result(tree, *op, t)).collect(),
        },
        Txn::CreateSession { .. }
        | Txn::CloseSession { .. }
        | Txn::CheckVersion { .. }
        | Txn::Error { .. } => Response::Empty,
    })
}

fn op_result(tree: &DataTree, op: OpCode, txn: &Txn) -> OpResult {
    match txn {
        Txn::Create { path, .. } => OpResult::Create {
            path: path.clone(),
            stat: if op == OpCode::Create2 {
                tree.node(path).map(|n| n.client_stat())
            } else {
                None
            },
        },
        Txn::Delete { .. } => OpResult::Delete,
        Txn::SetData { path, .. } => match tree.node(path) {
            Some(n) => OpResult::SetData {
                stat: n.client_stat(),
            },
            None => OpResult::Error {
                err: ErrorCode::NONODE,
            },
        },
        Txn::CheckVersion { .. } => OpResult::Check,
        Txn::Error { err } => OpResult::Error {
            err: ErrorCode::from_code(*err).unwrap_or(ErrorCode::SYSTEMERROR),
        },
        _ => OpResult::Error {
            err: ErrorCode::UNIMPLEMENTED,
        },
    }
}
