//! Ephemerals vanish exactly when their session ends (zab-protocol §10; bug zoo ZK-1208,
//! ZK-2355, ZK-1367): on every server, once the closeSession of s at zxid c is applied, no
//! ephemeral of s survives past c and none is created after it; and an ephemeral is deleted
//! only by a delete (or multi) or by its own session's closeSession.

use super::NAME;
use crate::zk::{Violation, ViolationKind};
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::op_code::OpCode;
use zabsim_protocol::txn::TxnHeader;
use zabsim_protocol::types::{ServerId, SessionId, Zxid};

/// Per-server ephemeral bookkeeping.
#[derive(Debug, Default)]
pub(super) struct Ephemerals {
    /// (server, path) → (owner, creating zxid).
    live: BTreeMap<(ServerId, String), (SessionId, Zxid)>,
    /// (server, session) → closeSession zxid applied there.
    closed: BTreeMap<(ServerId, SessionId), Zxid>,
    /// Txn headers by zxid, to see what deleted an ephemeral.
    pub headers: BTreeMap<Zxid, TxnHeader>,
}

fn ephemeral_violation(
    message: String,
    server: ServerId,
    session: SessionId,
    zxid: Zxid,
) -> Violation {
    Violation::new(NAME, ViolationKind::Ephemeral, message)
        .servers([server])
        .sessions([session])
        .zxids([zxid])
}

impl Ephemerals {
    pub fn created(
        &mut self,
        server: ServerId,
        session: SessionId,
        path: &str,
        zxid: Zxid,
    ) -> Option<Violation> {
        self.live
            .insert((server, path.to_string()), (session, zxid));
        let closed = *self.closed.get(&(server, session))?;
        (zxid > closed).then(|| {
            ephemeral_violation(
                format!(
                    "{server} created ephemeral {path} of session {session} at {zxid}, after the \
                     session's closeSession at {closed}"
                ),
                server,
                session,
                zxid,
            )
        })
    }

    pub fn deleted(
        &mut self,
        server: ServerId,
        session: SessionId,
        path: &str,
        zxid: Zxid,
    ) -> Option<Violation> {
        self.live.remove(&(server, path.to_string()));
        let header = self.headers.get(&zxid)?;
        let by_delete = matches!(
            header.txn_type,
            OpCode::Delete | OpCode::DeleteContainer | OpCode::Multi
        );
        let by_own_close = header.txn_type == OpCode::CloseSession && header.client_id == session;
        if by_delete || by_own_close {
            return None;
        }
        Some(ephemeral_violation(
            format!(
                "{server} deleted ephemeral {path} of live session {session} at {zxid}, a {} of \
                 session {}",
                header.txn_type.name(),
                header.client_id
            ),
            server,
            session,
            zxid,
        ))
    }

    pub fn session_closed(&mut self, server: ServerId, session: SessionId, zxid: Zxid) {
        self.closed.insert((server, session), zxid);
    }

    /// Called when `server` applies a txn at `zxid`: every closeSession below it must have
    /// removed its ephemerals by now.
    pub fn check_outlived(&self, server: ServerId, zxid: Zxid) -> Option<Violation> {
        self.outliving(server, Some(zxid)).into_iter().next()
    }

    /// Ephemerals on `server` whose session's closeSession (below `before`, if given) was
    /// applied there.
    pub fn outliving(&self, server: ServerId, before: Option<Zxid>) -> Vec<Violation> {
        let range = (server, String::new())..;
        self.live
            .range(range)
            .take_while(|((s, _), _)| *s == server)
            .filter_map(|((_, path), (owner, _))| {
                let closed = *self.closed.get(&(server, *owner))?;
                if before.is_some_and(|z| closed >= z) {
                    return None;
                }
                Some(ephemeral_violation(
                    format!(
                        "ephemeral {path} of session {owner} outlived the session's closeSession \
                         at {closed} on {server}"
                    ),
                    server,
                    *owner,
                    closed,
                ))
            })
            .collect()
    }

    pub fn servers(&self) -> BTreeSet<ServerId> {
        self.live.keys().map(|(s, _)| *s).collect()
    }

    /// A crash wipes the in-memory tree; recovery rebuilds it and re-reports.
    pub fn forget(&mut self, server: ServerId) {
        self.live.retain(|(s, _), _| *s != server);
        self.closed.retain(|(s, _), _| *s != server);
    }
}
