//! Request preparation at the leader (ZooKeeper's `PrepRequestProcessor`), partial: create,
//! delete and setData against the committed tree only (no outstanding-changes view yet, no
//! ACL checks, no multi). Every write, failed or not, becomes a txn that consumes a zxid.

use crate::error_code::ErrorCode;
use crate::op_code::OpCode;
use crate::request::{CreateMode, Request};
use crate::store::data_tree::{split_path, DataTree};
use crate::txn::{Txn, TxnEntry, TxnHeader};
use crate::types::{SessionId, Xid, Zxid};

/// Turns a write request into its txn; a failed check becomes an `ErrorTxn` with the error.
pub fn prep(
    tree: &DataTree,
    session: SessionId,
    xid: Xid,
    request: &Request,
    zxid: Zxid,
    time: i64,
) -> TxnEntry {
    let (txn_type, result) = match request {
        Request::Create {
            path,
            data,
            acl,
            flags,
            with_stat,
            ..
        } => {
            let op = if *with_stat {
                OpCode::Create2
            } else {
                OpCode::Create
            };
            (op, prep_create(tree, path, data, acl, *flags))
        }
        Request::Delete { path, version } => (OpCode::Delete, prep_delete(tree, path, *version)),
        Request::SetData {
            path,
            data,
            version,
        } => (OpCode::SetData, prep_set_data(tree, path, data, *version)),
        _ => (OpCode::Error, Err(ErrorCode::UNIMPLEMENTED)),
    };
    let (txn_type, txn) = match result {
        Ok(txn) => (txn_type, txn),
        Err(e) => (OpCode::Error, Txn::Error { err: e.code() }),
    };
    TxnEntry {
        header: TxnHeader {
            client_id: session,
            cxid: xid,
            zxid,
            time,
            txn_type,
        },
        txn,
        digest: None,
    }
}

fn prep_create(
    tree: &DataTree,
    path: &str,
    data: &Option<Vec<u8>>,
    acl: &[crate::acl::Acl],
    flags: i32,
) -> Result<Txn, ErrorCode> {
    let mode = CreateMode::from_flag(flags).ok_or(ErrorCode::BADARGUMENTS)?;
    if !path.starts_with('/') || (path.len() > 1 && path.ends_with('/') && !mode.is_sequential()) {
        return Err(ErrorCode::BADARGUMENTS);
    }
    let (parent_path, _) = split_path(path);
    let parent = tree.node(parent_path).ok_or(ErrorCode::NONODE)?;
    let parent_cversion = parent.stat.cversion;
    let full = if mode.is_sequential() {
        format!("{path}{parent_cversion:010}")
    } else {
        path.to_string()
    };
    if tree.node(&full).is_some() {
        return Err(ErrorCode::NODEEXISTS);
    }
    if parent.stat.ephemeral_owner != 0 {
        return Err(ErrorCode::NOCHILDRENFOREPHEMERALS);
    }
    if acl.is_empty() {
        return Err(ErrorCode::INVALIDACL);
    }
    Ok(Txn::Create {
        path: full,
        data: data.clone(),
        acl: acl.to_vec(),
        ephemeral: mode.is_ephemeral(),
        parent_cversion: parent_cversion.wrapping_add(1),
    })
}

fn prep_delete(tree: &DataTree, path: &str, version: i32) -> Result<Txn, ErrorCode> {
    if path == "/" || !path.starts_with('/') {
        return Err(ErrorCode::BADARGUMENTS);
    }
    let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
    if version != -1 && node.stat.version != version {
        return Err(ErrorCode::BADVERSION);
    }
    if !node.children.is_empty() {
        return Err(ErrorCode::NOTEMPTY);
    }
    Ok(Txn::Delete {
        path: path.to_string(),
    })
}

fn prep_set_data(
    tree: &DataTree,
    path: &str,
    data: &Option<Vec<u8>>,
    version: i32,
) -> Result<Txn, ErrorCode> {
    let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
    if version != -1 && node.stat.version != version {
        return Err(ErrorCode::BADVERSION);
    }
    Ok(Txn::SetData {
        path: path.to_string(),
        data: data.clone(),
        version: node.stat.version.wrapping_add(1),
    })
}
