//! Writes, in `PrepRequestProcessor`'s check order, applied at once (the model is sequential:
//! it is fed writes in zxid order, so "prepare on the pending state" is "prepare on the tree").

use super::acl;
use super::path::{self, parent_of};
use super::{is_normal_ephemeral, Fail, Judged, ReferenceTree, Znode, CONTAINER_OWNER};
use std::collections::BTreeMap;
use zabsim_protocol::acl::{perms, Acl};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{CreateMode, MultiOp, OpResult, Request, Response};
use zabsim_protocol::types::{SessionId, Zxid};

/// The arguments of one create.
struct CreateArgs<'a> {
    path: &'a str,
    data: &'a Option<Vec<u8>>,
    acl: &'a [Acl],
    flags: i32,
    with_stat: bool,
}

/// Saved originals, so that a failed multi can be rolled back.
#[derive(Default)]
struct Undo {
    nodes: BTreeMap<String, Option<Znode>>,
}

impl Undo {
    fn save(&mut self, tree: &ReferenceTree, path: &str) {
        if !self.nodes.contains_key(path) {
            self.nodes
                .insert(path.to_string(), tree.nodes.get(path).cloned());
        }
    }
}

impl ReferenceTree {
    /// Applies a write request from `session` as the txn at `zxid` with header time `time` (ms,
    /// or [`super::UNKNOWN_TIME`]) and returns what ZooKeeper replies. A request that fails
    /// still consumes `zxid` (ZooKeeper logs an `ErrorTxn`), so the model advances either way.
    pub fn write(
        &mut self,
        session: SessionId,
        request: &Request,
        zxid: Zxid,
        time: i64,
    ) -> Judged<Response> {
        self.advance(zxid);
        match request {
            Request::Create {
                path,
                data,
                acl,
                flags,
                with_stat,
                ..
            } => {
                let args = CreateArgs {
                    path,
                    data,
                    acl,
                    flags: *flags,
                    with_stat: *with_stat,
                };
                let (path, stat) = self.create(session, &args, zxid, time, None)?;
                Ok(Response::Create { path, stat })
            }
            Request::Delete { path, version } => {
                self.delete(session, path, *version, zxid, None)?;
                Ok(Response::Delete)
            }
            Request::SetData {
                path,
                data,
                version,
            } => {
                let stat = self.set_data(session, path, data, *version, zxid, time, None)?;
                Ok(Response::SetData { stat })
            }
            Request::SetAcl { path, acl, version } => {
                let stat = self.set_acl(session, path, acl, *version)?;
                Ok(Response::SetAcl { stat })
            }
            Request::Multi { ops } => self.multi(session, ops, zxid, time),
            other => Err(Fail::Undecided(format!(
                "{} is not a write",
                other.op_code().name()
            ))),
        }
    }

    fn create(
        &mut self,
        session: SessionId,
        args: &CreateArgs<'_>,
        zxid: Zxid,
        time: i64,
        undo: Option<&mut Undo>,
    ) -> Judged<(String, Option<zabsim_protocol::stat::Stat>)> {
        let mode = CreateMode::from_flag(args.flags).ok_or(ErrorCode::BADARGUMENTS)?;
        if mode.is_ttl() {
            if !self.config.extended_types {
                return Err(Fail::Code(ErrorCode::UNIMPLEMENTED));
            }
            return Err(Fail::Undecided("TTL nodes are not modelled".into()));
        }
        self.check_session(session)?;
        let parent_path = parent_of(args.path).ok_or(ErrorCode::BADARGUMENTS)?;
        let acl = acl::fixup(args.acl)?;
        let parent = self.nodes.get(parent_path).ok_or(ErrorCode::NONODE)?;
        acl::check(&parent.acl, perms::CREATE)?;
        let mut path = args.path.to_string();
        if mode.is_sequential() {
            path.push_str(&path::sequential_suffix(parent.stored_cversion));
        }
        if !path::is_valid(&path) {
            return Err(Fail::Code(ErrorCode::BADARGUMENTS));
        }
        if self.nodes.contains_key(&path) {
            return Err(Fail::Code(ErrorCode::NODEEXISTS));
        }
        if is_normal_ephemeral(parent.ephemeral_owner) {
            return Err(Fail::Code(ErrorCode::NOCHILDRENFOREPHEMERALS));
        }
        let new_cversion = parent.stored_cversion.wrapping_add(1);
        let owner = match mode {
            CreateMode::Container => CONTAINER_OWNER,
            m if m.is_ephemeral() => session.0,
            _ => 0,
        };
        let parent_path = parent_path.to_string();
        if let Some(undo) = undo {
            undo.save(self, &parent_path);
            undo.save(self, &path);
        }
        let node = Znode::new(args.data.clone(), acl, zxid, time, owner);
        let stat = node.stat();
        self.insert_node(&path, node, zxid, new_cversion);
        let with_stat = args.with_stat || matches!(mode, CreateMode::Container);
        Ok((path, with_stat.then_some(stat)))
    }

    fn delete(
        &mut self,
        session: SessionId,
        path: &str,
        version: i32,
        zxid: Zxid,
        undo: Option<&mut Undo>,
    ) -> Judged<()> {
        self.check_session(session)?;
        if path::is_special(path) {
            return Err(Fail::Code(ErrorCode::BADARGUMENTS));
        }
        let parent_path = parent_of(path).ok_or(ErrorCode::BADARGUMENTS)?;
        let parent = self.nodes.get(parent_path).ok_or(ErrorCode::NONODE)?;
        acl::check(&parent.acl, perms::DELETE)?;
        let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
        check_version(node.version, version)?;
        if !node.children.is_empty() {
            return Err(Fail::Code(ErrorCode::NOTEMPTY));
        }
        let parent_path = parent_path.to_string();
        if let Some(undo) = undo {
            undo.save(self, &parent_path);
            undo.save(self, path);
        }
        self.remove_node(path, zxid);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn set_data(
        &mut self,
        session: SessionId,
        path: &str,
        data: &Option<Vec<u8>>,
        version: i32,
        zxid: Zxid,
        time: i64,
        undo: Option<&mut Undo>,
    ) -> Judged<zabsim_protocol::stat::Stat> {
        self.check_session(session)?;
        if !path::is_valid(path) {
            return Err(Fail::Code(ErrorCode::BADARGUMENTS));
        }
        let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
        acl::check(&node.acl, perms::WRITE)?;
        let new_version = check_version(node.version, version)?;
        if let Some(undo) = undo {
            undo.save(self, path);
        }
        let node = self.nodes.get_mut(path).ok_or(ErrorCode::NONODE)?;
        node.data = data.clone();
        node.version = new_version;
        node.mtime = time;
        node.mzxid = zxid;
        Ok(node.stat())
    }

    fn set_acl(
        &mut self,
        session: SessionId,
        path: &str,
        new_acl: &[Acl],
        version: i32,
    ) -> Judged<zabsim_protocol::stat::Stat> {
        self.check_session(session)?;
        if !path::is_valid(path) {
            return Err(Fail::Code(ErrorCode::BADARGUMENTS));
        }
        let fixed = acl::fixup(new_acl)?;
        let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
        acl::check(&node.acl, perms::ADMIN)?;
        let new_aversion = check_version(node.aversion, version)?;
        let node = self.nodes.get_mut(path).ok_or(ErrorCode::NONODE)?;
        node.acl = fixed;
        node.aversion = new_aversion;
        Ok(node.stat())
    }

    fn check(&self, session: SessionId, path: &str, version: i32) -> Judged<()> {
        self.check_session(session)?;
        if !path::is_valid(path) {
            return Err(Fail::Code(ErrorCode::BADARGUMENTS));
        }
        let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
        acl::check(&node.acl, perms::READ)?;
        check_version(node.version, version)?;
        Ok(())
    }

    fn multi(
        &mut self,
        session: SessionId,
        ops: &[MultiOp],
        zxid: Zxid,
        time: i64,
    ) -> Judged<Response> {
        let mut undo = Undo::default();
        let saved_ephemerals = self.ephemerals.clone();
        let mut results = Vec::with_capacity(ops.len());
        let mut failure = None;
        for (i, op) in ops.iter().enumerate() {
            match self.multi_op(session, op, zxid, time, &mut undo) {
                Ok(result) => results.push(result),
                Err(Fail::Code(code)) => {
                    failure = Some((i, code));
                    break;
                }
                Err(undecided) => {
                    self.rollback(undo, saved_ephemerals);
                    return Err(undecided);
                }
            }
        }
        let Some((failed, code)) = failure else {
            return Ok(Response::Multi { results });
        };
        self.rollback(undo, saved_ephemerals);
        let results = (0..ops.len())
            .map(|i| OpResult::Error {
                err: match i.cmp(&failed) {
                    std::cmp::Ordering::Less => ErrorCode::OK,
                    std::cmp::Ordering::Equal => code,
                    std::cmp::Ordering::Greater => ErrorCode::RUNTIMEINCONSISTENCY,
                },
            })
            .collect();
        Ok(Response::Multi { results })
    }

    fn multi_op(
        &mut self,
        session: SessionId,
        op: &MultiOp,
        zxid: Zxid,
        time: i64,
        undo: &mut Undo,
    ) -> Judged<OpResult> {
        match op {
            MultiOp::Create {
                path,
                data,
                acl,
                flags,
            }
            | MultiOp::Create2 {
                path,
                data,
                acl,
                flags,
            } => {
                // `MultiOperationRecord.deserialize` turns create2 into `Op.create`, whose opcode
                // comes from the mode: a plain create's result carries the path only (a
                // container's or TTL node's carries the Stat too, see `create`).
                let with_stat = CreateMode::from_flag(*flags).is_some_and(|m| m.is_ttl());
                let args = CreateArgs {
                    path,
                    data,
                    acl,
                    flags: *flags,
                    with_stat,
                };
                let (path, stat) = self.create(session, &args, zxid, time, Some(undo))?;
                Ok(OpResult::Create { path, stat })
            }
            MultiOp::Delete { path, version } => {
                self.delete(session, path, *version, zxid, Some(undo))?;
                Ok(OpResult::Delete)
            }
            MultiOp::SetData {
                path,
                data,
                version,
            } => {
                let stat = self.set_data(session, path, data, *version, zxid, time, Some(undo))?;
                Ok(OpResult::SetData { stat })
            }
            MultiOp::Check { path, version } => {
                self.check(session, path, *version)?;
                Ok(OpResult::Check)
            }
            MultiOp::GetData { .. } | MultiOp::GetChildren { .. } => Err(Fail::Undecided(
                "a read inside a write multi (the client refuses to send it)".into(),
            )),
        }
    }

    fn rollback(
        &mut self,
        undo: Undo,
        saved_ephemerals: BTreeMap<SessionId, std::collections::BTreeSet<String>>,
    ) {
        for (path, original) in undo.nodes {
            match original {
                Some(node) => {
                    self.nodes.insert(path, node);
                }
                None => {
                    self.nodes.remove(&path);
                }
            }
        }
        self.ephemerals = saved_ephemerals;
    }
}

/// `checkAndIncVersion`: -1 matches any version; the next version skips -1.
fn check_version(current: i32, expected: i32) -> Judged<i32> {
    if expected != -1 && expected != current {
        return Err(Fail::Code(ErrorCode::BADVERSION));
    }
    let next = current.wrapping_add(1);
    Ok(if next == -1 { 0 } else { next })
}
