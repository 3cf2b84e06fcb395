//! `DataTree.processTxn`: applies one logged txn and reports what happened
//! (`ProcessTxnResult`). Replay-tolerant as ZooKeeper is: a create of an existing node or a
//! delete of a missing one is an error result, never a panic, and a replayed `create` that
//! meets NODEEXISTS still raises the parent's cversion/pzxid. A multi whose sub-txns contain an
//! error applies nothing: the sub-txns before the error report OK, those after
//! RUNTIMEINCONSISTENCY (as prep already wrote them). `lastProcessedZxid` advances only after
//! the whole txn.

use crate::error_code::ErrorCode;
use crate::op_code::OpCode;
use crate::stat::Stat;
use crate::store::data_tree::DataTree;
use crate::store::path::{self, EphemeralType, CONTAINER_EPHEMERAL_OWNER, MAX_TTL_MS};
use crate::txn::{Txn, TxnEntry};
use crate::types::{SessionId, Zxid};

/// `ProcessTxnResult`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessTxnResult {
    /// The txn (or sub-txn) type.
    pub txn_type: OpCode,
    /// `OK` or the error.
    pub err: ErrorCode,
    /// The path the txn touched (empty for session txns).
    pub path: String,
    /// The Stat after the change (create2/createTTL/createContainer/setData/setACL).
    pub stat: Option<Stat>,
    /// Sub-results of a multi.
    pub multi_result: Vec<ProcessTxnResult>,
}

impl ProcessTxnResult {
    fn new(txn_type: OpCode) -> ProcessTxnResult {
        ProcessTxnResult {
            txn_type,
            err: ErrorCode::OK,
            path: String::new(),
            stat: None,
            multi_result: Vec::new(),
        }
    }
}

fn code(err: i32) -> ErrorCode {
    ErrorCode::from_code(err).unwrap_or(ErrorCode::SYSTEMERROR)
}

impl DataTree {
    /// Applies `entry` (`processTxn`), advancing `last_processed_zxid`.
    pub fn process_txn(&mut self, entry: &TxnEntry) -> ProcessTxnResult {
        let h = &entry.header;
        let rc = self.process_record(h.txn_type, &entry.txn, h.client_id, h.zxid, h.time);
        if h.zxid > self.last_processed_zxid {
            self.last_processed_zxid = h.zxid;
        }
        rc
    }

    fn process_record(
        &mut self,
        txn_type: OpCode,
        txn: &Txn,
        session: SessionId,
        zxid: Zxid,
        time: i64,
    ) -> ProcessTxnResult {
        let mut rc = ProcessTxnResult::new(txn_type);
        let result = self.process_body(txn_type, txn, session, zxid, time, &mut rc);
        if let Err(e) = result {
            rc.err = e;
        }
        if txn_type == OpCode::Create && rc.err == ErrorCode::NODEEXISTS {
            if let (
                Txn::Create {
                    parent_cversion, ..
                },
                Some((parent, _)),
            ) = (txn, path::split_last_slash(&rc.path))
            {
                if let Err(e) = self.set_cversion_pzxid(parent, *parent_cversion, zxid) {
                    rc.err = e;
                }
            }
        }
        rc
    }

    fn process_body(
        &mut self,
        txn_type: OpCode,
        txn: &Txn,
        session: SessionId,
        zxid: Zxid,
        time: i64,
        rc: &mut ProcessTxnResult,
    ) -> Result<(), ErrorCode> {
        match txn {
            Txn::Create { .. } | Txn::CreateContainer { .. } | Txn::CreateTtl { .. } => {
                self.process_create(txn_type, txn, session, zxid, time, rc)?;
            }
            Txn::Delete { path } => {
                rc.path = path.clone();
                self.delete_node(path, zxid)?;
            }
            Txn::SetData {
                path,
                data,
                version,
            } => {
                rc.path = path.clone();
                rc.stat = Some(self.set_data(path, data.clone(), *version, zxid, time)?);
            }
            Txn::SetAcl { path, acl, version } => {
                rc.path = path.clone();
                rc.stat = Some(self.set_acl(path, acl, *version)?);
            }
            Txn::CloseSession { paths_to_delete } => {
                self.kill_session(session, zxid, paths_to_delete)
            }
            Txn::Error { err } => rc.err = code(*err),
            Txn::CheckVersion { path, .. } => rc.path = path.clone(),
            Txn::CreateSession { .. } => {}
            Txn::Multi { txns } => self.process_multi(txns, session, zxid, time, rc),
        }
        Ok(())
    }

    fn process_create(
        &mut self,
        txn_type: OpCode,
        txn: &Txn,
        session: SessionId,
        zxid: Zxid,
        time: i64,
        rc: &mut ProcessTxnResult,
    ) -> Result<(), ErrorCode> {
        let (path, data, acl, parent_cversion, owner) = match txn {
            Txn::Create {
                path,
                data,
                acl,
                ephemeral,
                parent_cversion,
            } => {
                let owner = if *ephemeral { session.0 } else { 0 };
                (path, data, acl, parent_cversion, owner)
            }
            Txn::CreateContainer {
                path,
                data,
                acl,
                parent_cversion,
            } => (path, data, acl, parent_cversion, CONTAINER_EPHEMERAL_OWNER),
            Txn::CreateTtl {
                path,
                data,
                acl,
                parent_cversion,
                ttl,
            } => {
                rc.path = path.clone();
                if *ttl <= 0 || *ttl > MAX_TTL_MS {
                    return Err(ErrorCode::BADARGUMENTS);
                }
                (
                    path,
                    data,
                    acl,
                    parent_cversion,
                    EphemeralType::ttl_owner(*ttl),
                )
            }
            other => panic!("process_create of {other:?}"),
        };
        rc.path = path.clone();
        let stat =
            self.create_node(path, data.clone(), acl, owner, *parent_cversion, zxid, time)?;
        // A plain create answers the path only (`CreateResponse`).
        if txn_type != OpCode::Create {
            rc.stat = Some(stat);
        }
        Ok(())
    }

    fn process_multi(
        &mut self,
        txns: &[(OpCode, Txn)],
        session: SessionId,
        zxid: Zxid,
        time: i64,
        rc: &mut ProcessTxnResult,
    ) {
        let failed = txns.iter().any(|(t, _)| *t == OpCode::Error);
        let mut post_failed = false;
        for (sub_type, sub) in txns {
            let sub_rc = if failed && *sub_type != OpCode::Error {
                let mut r = ProcessTxnResult::new(OpCode::Error);
                r.err = if post_failed {
                    ErrorCode::RUNTIMEINCONSISTENCY
                } else {
                    ErrorCode::OK
                };
                r
            } else {
                if *sub_type == OpCode::Error {
                    post_failed = true;
                }
                self.process_record(*sub_type, sub, session, zxid, time)
            };
            if sub_rc.err != ErrorCode::OK && rc.err == ErrorCode::OK {
                rc.err = sub_rc.err;
            }
            rc.multi_result.push(sub_rc);
        }
    }

    /// `killSession`: deletes the txn's paths, then any ephemeral of the session the txn did
    /// not list (older logs had no list); missing nodes are ignored.
    fn kill_session(&mut self, session: SessionId, zxid: Zxid, listed: &[String]) {
        let local = self.ephemerals.remove(&session.0).unwrap_or_default();
        for p in listed {
            let _ = self.delete_node(p, zxid);
        }
        for p in local.iter().filter(|p| !listed.contains(p)) {
            let _ = self.delete_node(p, zxid);
        }
    }
}
