//! The txn records of `zookeeper.jute` in jute binary form, and a logged entry
//! (`TxnHeader` + record + optional `TxnDigest`) as `SerializeUtils.deserializeTxn` reads it.
//! Multi sub-txns are `Txn{int type; buffer data}` with the sub-record encoded in `data`.

use super::error::{JuteError, JuteErrorKind};
use super::jute::{Reader, Writer};
use crate::op_code::OpCode;
use crate::txn::{Txn, TxnDigest, TxnEntry, TxnHeader};
use crate::types::{SessionId, Xid, Zxid};

/// The txn types a header may carry for each `Txn` variant (encoders assert the pairing).
fn type_fits(op: OpCode, txn: &Txn) -> bool {
    match txn {
        Txn::Create { .. } => matches!(op, OpCode::Create | OpCode::Create2),
        Txn::CreateContainer { .. } => op == OpCode::CreateContainer,
        Txn::CreateTtl { .. } => op == OpCode::CreateTtl,
        Txn::Delete { .. } => matches!(op, OpCode::Delete | OpCode::DeleteContainer),
        Txn::SetData { .. } => matches!(op, OpCode::SetData | OpCode::Reconfig),
        Txn::CheckVersion { .. } => op == OpCode::Check,
        Txn::SetAcl { .. } => op == OpCode::SetAcl,
        Txn::CreateSession { .. } => op == OpCode::CreateSession,
        Txn::CloseSession { .. } => op == OpCode::CloseSession,
        Txn::Error { .. } => op == OpCode::Error,
        Txn::Multi { .. } => op == OpCode::Multi,
    }
}

/// Writes one txn record (the body after the header).
pub fn write_txn(w: &mut Writer, txn: &Txn) {
    match txn {
        Txn::Create {
            path,
            data,
            acl,
            ephemeral,
            parent_cversion,
        } => {
            w.string(path);
            w.buffer(data.as_deref());
            w.acls(acl);
            w.boolean(*ephemeral);
            w.int(*parent_cversion);
        }
        Txn::CreateContainer {
            path,
            data,
            acl,
            parent_cversion,
        } => {
            w.string(path);
            w.buffer(data.as_deref());
            w.acls(acl);
            w.int(*parent_cversion);
        }
        Txn::CreateTtl {
            path,
            data,
            acl,
            parent_cversion,
            ttl,
        } => {
            w.string(path);
            w.buffer(data.as_deref());
            w.acls(acl);
            w.int(*parent_cversion);
            w.long(*ttl);
        }
        Txn::Delete { path } => w.string(path),
        Txn::SetData {
            path,
            data,
            version,
        } => {
            w.string(path);
            w.buffer(data.as_deref());
            w.int(*version);
        }
        Txn::CheckVersion { path, version } => {
            w.string(path);
            w.int(*version);
        }
        Txn::SetAcl { path, acl, version } => {
            w.string(path);
            w.acls(acl);
            w.int(*version);
        }
        Txn::CreateSession { timeout_ms } => w.int(*timeout_ms),
        Txn::CloseSession { paths_to_delete } => w.strings(paths_to_delete),
        Txn::Error { err } => w.int(*err),
        Txn::Multi { txns } => write_multi(w, txns),
    }
}

fn write_multi(w: &mut Writer, txns: &[(OpCode, Txn)]) {
    w.int(i32::try_from(txns.len()).unwrap_or(i32::MAX));
    for (op, sub) in txns {
        assert!(
            type_fits(*op, sub),
            "multi sub-txn type {op:?} does not fit {sub:?}"
        );
        assert!(!matches!(sub, Txn::Multi { .. }), "a multi inside a multi");
        let mut inner = Writer::new();
        write_txn(&mut inner, sub);
        w.int(op.code());
        w.buffer(Some(&inner.bytes));
    }
}

/// The record bytes of one txn (what a multi sub-txn's `data` holds).
pub fn encode_txn(txn: &Txn) -> Vec<u8> {
    let mut w = Writer::new();
    write_txn(&mut w, txn);
    w.bytes
}

/// Writes `TxnHeader{clientId; cxid; zxid; time; type}`.
pub fn write_header(w: &mut Writer, h: &TxnHeader) {
    w.long(h.client_id.0);
    w.int(h.cxid.0);
    w.long(h.zxid.as_i64());
    w.long(h.time);
    w.int(h.txn_type.code());
}

/// The serialized entry as `FileTxnLog` checksums and stores it: header, record, digest.
pub fn encode_entry(entry: &TxnEntry) -> Vec<u8> {
    assert!(
        type_fits(entry.header.txn_type, &entry.txn),
        "txn type {:?} does not fit its record {:?}",
        entry.header.txn_type,
        entry.txn
    );
    let mut w = Writer::new();
    write_header(&mut w, &entry.header);
    write_txn(&mut w, &entry.txn);
    if let Some(d) = entry.digest {
        w.int(d.version);
        w.long(d.tree_digest);
    }
    w.bytes
}

/// Reads `TxnHeader`.
pub fn read_header(r: &mut Reader<'_>) -> Result<TxnHeader, JuteError> {
    let client_id = SessionId(r.long("clientId")?);
    let cxid = Xid(r.int("cxid")?);
    let zxid = Zxid::from_i64(r.long("zxid")?);
    let time = r.long("time")?;
    let at = r.offset();
    let code = r.int("type")?;
    let txn_type = OpCode::from_code(code).ok_or_else(|| {
        Reader::invalid_at(at, "type", format!("Unsupported Txn with type={code}"))
    })?;
    Ok(TxnHeader {
        client_id,
        cxid,
        zxid,
        time,
        txn_type,
    })
}

/// Reads the record for txn type `op` (`SerializeUtils.deserializeTxn`'s switch).
pub fn read_txn(r: &mut Reader<'_>, op: OpCode) -> Result<Txn, JuteError> {
    Ok(match op {
        OpCode::Create | OpCode::Create2 => Txn::Create {
            path: r.string("path")?,
            data: r.buffer("data")?,
            acl: r.acls("acl")?,
            ephemeral: r.boolean("ephemeral")?,
            parent_cversion: r.int("parentCVersion")?,
        },
        OpCode::CreateContainer => Txn::CreateContainer {
            path: r.string("path")?,
            data: r.buffer("data")?,
            acl: r.acls("acl")?,
            parent_cversion: r.int("parentCVersion")?,
        },
        OpCode::CreateTtl => Txn::CreateTtl {
            path: r.string("path")?,
            data: r.buffer("data")?,
            acl: r.acls("acl")?,
            parent_cversion: r.int("parentCVersion")?,
            ttl: r.long("ttl")?,
        },
        OpCode::Delete | OpCode::DeleteContainer => Txn::Delete {
            path: r.string("path")?,
        },
        OpCode::SetData | OpCode::Reconfig => Txn::SetData {
            path: r.string("path")?,
            data: r.buffer("data")?,
            version: r.int("version")?,
        },
        OpCode::Check => Txn::CheckVersion {
            path: r.string("path")?,
            version: r.int("version")?,
        },
        OpCode::SetAcl => Txn::SetAcl {
            path: r.string("path")?,
            acl: r.acls("acl")?,
            version: r.int("version")?,
        },
        OpCode::CreateSession => Txn::CreateSession {
            timeout_ms: r.int("timeOut")?,
        },
        OpCode::CloseSession => Txn::CloseSession {
            paths_to_delete: r.strings("paths2Delete")?,
        },
        OpCode::Error => Txn::Error { err: r.int("err")? },
        OpCode::Multi => read_multi(r)?,
        other => {
            return Err(r.error(
                "type",
                JuteErrorKind::Invalid(format!("Unsupported Txn with type={}", other.code())),
            ))
        }
    })
}

fn read_multi(r: &mut Reader<'_>) -> Result<Txn, JuteError> {
    let n = r.count("txns")?;
    let mut txns = Vec::with_capacity(n);
    for _ in 0..n {
        let at = r.offset();
        let code = r.int("type")?;
        let op = OpCode::from_code(code)
            .filter(|op| {
                !matches!(
                    op,
                    OpCode::Multi | OpCode::CreateSession | OpCode::CloseSession
                )
            })
            .ok_or_else(|| Reader::invalid_at(at, "type", format!("Invalid type of op: {code}")))?;
        let data_at = r.offset() + 4;
        let data = r.buffer("data")?.unwrap_or_default();
        let mut inner = Reader::new(&data);
        let sub = read_txn(&mut inner, op).map_err(|mut e| {
            e.offset += data_at;
            if e.is_eof() {
                e.kind = JuteErrorKind::Invalid("multi sub-txn ends early".to_string());
            }
            e
        })?;
        txns.push((op, sub));
    }
    Ok(Txn::Multi { txns })
}

/// Decodes a logged entry: header, record (with ZooKeeper's fallbacks for pre-3.5 creates and
/// closeSessions without a body), then the digest if the bytes hold one.
pub fn decode_entry(bytes: &[u8]) -> Result<TxnEntry, JuteError> {
    let mut r = Reader::new(bytes);
    let header = read_header(&mut r)?;
    let body_at = r.offset() as usize;
    let txn = match read_txn(&mut r, header.txn_type) {
        Ok(txn) => txn,
        Err(e) if e.is_eof() => legacy_txn(&bytes[body_at..], header.txn_type, e, body_at)?,
        Err(e) => return Err(e),
    };
    let digest = if r.remaining() >= 12 {
        Some(TxnDigest {
            version: r.int("version")?,
            tree_digest: r.long("treeDigest")?,
        })
    } else {
        None
    };
    Ok(TxnEntry {
        header,
        txn,
        digest,
    })
}

/// `CreateTxnV0` (no parentCVersion: `-1` triggers the fix-up on apply) and the empty
/// closeSession body of older logs.
fn legacy_txn(body: &[u8], op: OpCode, eof: JuteError, base: usize) -> Result<Txn, JuteError> {
    let rebase = |mut e: JuteError| {
        e.offset += base as u64;
        e
    };
    match op {
        OpCode::Create => {
            let mut r = Reader::new(body);
            Ok(Txn::Create {
                path: r.string("path").map_err(rebase)?,
                data: r.buffer("data").map_err(rebase)?,
                acl: r.acls("acl").map_err(rebase)?,
                ephemeral: r.boolean("ephemeral").map_err(rebase)?,
                parent_cversion: -1,
            })
        }
        OpCode::CloseSession if body.is_empty() => Ok(Txn::CloseSession {
            paths_to_delete: Vec::new(),
        }),
        _ => Err(eof),
    }
}
