//! Txn application and the reply (`FinalRequestProcessor` for writes): applies the txn to the
//! tree, drops the outstanding changes it settles, updates the session table, and turns the
//! `ProcessTxnResult` into the client's reply. A top-level `ErrorTxn` answers its error; a
//! multi always answers OK in the header, its results carrying OK / the error /
//! RUNTIMEINCONSISTENCY per op.

use crate::error_code::ErrorCode;
use crate::op_code::OpCode;
use crate::request::{OpResult, Response};
use crate::store::database::{Applied, ZkDatabase};
use crate::store::path::EphemeralType;
use crate::store::process_txn::ProcessTxnResult;
use crate::txn::{Txn, TxnEntry};
use crate::types::SessionId;

/// An ephemeral path with its owner.
type Owned = (String, SessionId);

impl ZkDatabase {
    pub(crate) fn apply_txn(&mut self, entry: &TxnEntry) -> Applied {
        // Only creates, deletes, closeSession and multi can change ephemerals.
        let may_change = matches!(
            entry.txn,
            Txn::Create {
                ephemeral: true,
                ..
            } | Txn::Delete { .. }
                | Txn::CloseSession { .. }
                | Txn::Multi { .. }
        );
        let before = if may_change {
            self.tree.ephemerals.clone()
        } else {
            Default::default()
        };
        let rc = self.tree.process_txn(entry);
        self.outstanding.applied(entry.header.zxid);
        let session_change = self.apply_session_change(entry);
        let events = self.tree.take_events();
        let (created, deleted) = if may_change {
            self.ephemeral_diff(&before)
        } else {
            (Vec::new(), Vec::new())
        };
        let response = reply(entry, &rc);
        Applied {
            zxid: entry.header.zxid,
            session: entry.header.client_id,
            xid: entry.header.cxid,
            response,
            events,
            ephemerals_created: created,
            ephemerals_deleted: deleted,
            session_change,
        }
    }

    fn ephemeral_diff(
        &self,
        before: &std::collections::BTreeMap<i64, std::collections::BTreeSet<String>>,
    ) -> (Vec<Owned>, Vec<Owned>) {
        let ext = self.tree.extended_types;
        let flatten = |m: &std::collections::BTreeMap<i64, std::collections::BTreeSet<String>>| {
            m.iter()
                .filter(|(o, _)| EphemeralType::get(**o, ext) == EphemeralType::Normal)
                .flat_map(|(o, ps)| ps.iter().map(move |p| (p.clone(), SessionId(*o))))
                .collect::<std::collections::BTreeSet<_>>()
        };
        let (old, new) = (flatten(before), flatten(&self.tree.ephemerals));
        let created = new.difference(&old).cloned().collect();
        let deleted = old.difference(&new).cloned().collect();
        (created, deleted)
    }
}

/// The reply for an applied txn.
fn reply(entry: &TxnEntry, rc: &ProcessTxnResult) -> Result<Response, ErrorCode> {
    if let Txn::Error { err } = &entry.txn {
        return Err(ErrorCode::from_code(*err).unwrap_or(ErrorCode::SYSTEMERROR));
    }
    if entry.header.txn_type == OpCode::Multi {
        return Ok(Response::Multi {
            results: rc.multi_result.iter().map(op_result).collect(),
        });
    }
    if rc.err != ErrorCode::OK {
        return Err(rc.err);
    }
    Ok(match entry.header.txn_type {
        OpCode::Create => Response::Create {
            path: rc.path.clone(),
            stat: None,
        },
        OpCode::Create2 | OpCode::CreateTtl | OpCode::CreateContainer => Response::Create {
            path: rc.path.clone(),
            stat: rc.stat,
        },
        OpCode::Delete | OpCode::DeleteContainer => Response::Delete,
        OpCode::SetData => Response::SetData {
            stat: rc.stat.ok_or(ErrorCode::SYSTEMERROR)?,
        },
        OpCode::SetAcl => Response::SetAcl {
            stat: rc.stat.ok_or(ErrorCode::SYSTEMERROR)?,
        },
        _ => Response::Empty,
    })
}

fn op_result(rc: &ProcessTxnResult) -> OpResult {
    match rc.txn_type {
        OpCode::Check => OpResult::Check,
        OpCode::Create => OpResult::Create {
            path: rc.path.clone(),
            stat: None,
        },
        OpCode::Create2 | OpCode::CreateTtl | OpCode::CreateContainer => OpResult::Create {
            path: rc.path.clone(),
            stat: rc.stat,
        },
        OpCode::Delete | OpCode::DeleteContainer => OpResult::Delete,
        OpCode::SetData => match rc.stat {
            Some(stat) => OpResult::SetData { stat },
            None => OpResult::Error { err: rc.err },
        },
        _ => OpResult::Error { err: rc.err },
    }
}
