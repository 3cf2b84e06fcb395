//! Request preparation at the leader (`PrepRequestProcessor.pRequest2Txn`): validation in
//! ZooKeeper's check order against the outstanding-changes view, and txn creation. Every write,
//! failed or not, becomes a txn that consumes a zxid: a failed check yields an `ErrorTxn`
//! (header type `error`), except inside a multi, where the multi txn carries the sub-txns
//! prepared before the failure, the failing one's `ErrorTxn` and `RUNTIMEINCONSISTENCY` for the
//! rest (and the change records of the failed multi are rolled back).

use crate::acl::perms;
use crate::error_code::ErrorCode;
use crate::op_code::OpCode;
use crate::request::{CreateMode, MultiOp, Request};
use crate::stat::StatPersisted;
use crate::store::auth::{check_acl, fixup_acl};
use crate::store::data_tree::digest_of;
use crate::store::database::{RequestContext, WriteRequest, ZkDatabase};
use crate::store::digest::{node_digest, DIGEST_VERSION};
use crate::store::outstanding::ChangeRecord;
use crate::store::path::{self, EphemeralType, CONTAINER_EPHEMERAL_OWNER, MAX_TTL_MS};
use crate::txn::{Txn, TxnDigest, TxnEntry, TxnHeader};
use crate::types::Zxid;

/// `DigestOpCode`.
enum DigestOp {
    Add,
    Remove,
    Update,
}

/// One create, whatever request or multi op carries it.
pub(crate) struct CreateArgs<'a> {
    pub op: OpCode,
    pub path: &'a str,
    pub data: &'a Option<Vec<u8>>,
    pub acl: &'a [crate::acl::Acl],
    pub flags: i32,
    pub ttl: i64,
}

impl ZkDatabase {
    /// Prepares one write at the leader as the txn `zxid` with header time `time_ms`.
    pub(crate) fn prep_write(
        &mut self,
        ctx: &RequestContext,
        write: &WriteRequest,
        zxid: Zxid,
        time_ms: i64,
    ) -> TxnEntry {
        let txn_type = write.op_code();
        let mut header = TxnHeader {
            client_id: ctx.session,
            cxid: ctx.xid,
            zxid,
            time: time_ms,
            txn_type,
        };
        if let WriteRequest::Client(Request::Multi { ops }) = write {
            let txn = self.prep_multi(ctx, ops, zxid, time_ms);
            let digest = self.txn_digest();
            return TxnEntry {
                header,
                txn,
                digest,
            };
        }
        match self.prep_single(ctx, write, zxid, time_ms) {
            Ok((txn, set_digest)) => {
                let digest = if set_digest { self.txn_digest() } else { None };
                TxnEntry {
                    header,
                    txn,
                    digest,
                }
            }
            Err(e) => {
                header.txn_type = OpCode::Error;
                TxnEntry {
                    header,
                    txn: Txn::Error { err: e.code() },
                    digest: None,
                }
            }
        }
    }

    fn prep_single(
        &mut self,
        ctx: &RequestContext,
        write: &WriteRequest,
        zxid: Zxid,
        time_ms: i64,
    ) -> Result<(Txn, bool), ErrorCode> {
        let txn = match write {
            WriteRequest::Client(request) => self.prep_request(ctx, request, zxid, time_ms)?,
            WriteRequest::CreateSession { timeout_ms } => {
                self.session_tracker
                    .track_session(ctx.session, *timeout_ms, time_ms);
                Txn::CreateSession {
                    timeout_ms: *timeout_ms,
                }
            }
            WriteRequest::CloseSession => self.prep_close_session(ctx, zxid)?,
            WriteRequest::DeleteContainer { path } => self.prep_delete_container(path, zxid)?,
        };
        Ok((txn, true))
    }

    fn prep_request(
        &mut self,
        ctx: &RequestContext,
        request: &Request,
        zxid: Zxid,
        time_ms: i64,
    ) -> Result<Txn, ErrorCode> {
        match request {
            Request::Create {
                path,
                data,
                acl,
                flags,
                ttl,
                ..
            } => {
                let op = request.op_code();
                let ttl = if op == OpCode::CreateTtl { *ttl } else { -1 };
                let args = CreateArgs {
                    op,
                    path,
                    data,
                    acl,
                    flags: *flags,
                    ttl,
                };
                self.prep_create(ctx, &args, zxid, time_ms)
            }
            Request::Delete { path, version } => self.prep_delete(ctx, path, *version, zxid),
            Request::SetData {
                path,
                data,
                version,
            } => self.prep_set_data(ctx, path, data, *version, zxid, time_ms),
            Request::SetAcl { path, acl, version } => {
                self.prep_set_acl(ctx, path, acl, *version, zxid)
            }
            other => panic!(
                "prep of a request that is not a write: {}",
                other.op_code().name()
            ),
        }
    }

    fn prep_multi(&mut self, ctx: &RequestContext, ops: &[MultiOp], zxid: Zxid, time: i64) -> Txn {
        let saved = self.outstanding.clone();
        let mut txns = Vec::with_capacity(ops.len());
        let mut failed = false;
        for op in ops {
            if failed {
                let err = ErrorCode::RUNTIMEINCONSISTENCY.code();
                txns.push((OpCode::Error, Txn::Error { err }));
                continue;
            }
            match self.prep_multi_op(ctx, op, zxid, time) {
                Ok(sub) => txns.push(sub),
                Err(e) => {
                    failed = true;
                    self.outstanding = saved.clone();
                    txns.push((OpCode::Error, Txn::Error { err: e.code() }));
                }
            }
        }
        assert_eq!(txns.len(), ops.len(), "one sub-txn per multi op");
        Txn::Multi { txns }
    }

    fn prep_multi_op(
        &mut self,
        ctx: &RequestContext,
        op: &MultiOp,
        zxid: Zxid,
        time: i64,
    ) -> Result<(OpCode, Txn), ErrorCode> {
        let create = |op: OpCode, path, data, acl, flags: i32| {
            let op = match CreateMode::from_flag(flags) {
                Some(CreateMode::Container) => OpCode::CreateContainer,
                Some(m) if m.is_ttl() => OpCode::CreateTtl,
                _ => op,
            };
            CreateArgs {
                op,
                path,
                data,
                acl,
                flags,
                ttl: -1,
            }
        };
        match op {
            MultiOp::Create {
                path,
                data,
                acl,
                flags,
            } => {
                let args = create(OpCode::Create, path, data, acl, *flags);
                Ok((args.op, self.prep_create(ctx, &args, zxid, time)?))
            }
            // `MultiOperationRecord.deserialize` turns create2 into `Op.create`: the sub-txn
            // is a plain create and its result carries the path only.
            MultiOp::Create2 {
                path,
                data,
                acl,
                flags,
            } => {
                let args = create(OpCode::Create, path, data, acl, *flags);
                Ok((args.op, self.prep_create(ctx, &args, zxid, time)?))
            }
            MultiOp::Delete { path, version } => {
                Ok((OpCode::Delete, self.prep_delete(ctx, path, *version, zxid)?))
            }
            MultiOp::SetData {
                path,
                data,
                version,
            } => {
                let txn = self.prep_set_data(ctx, path, data, *version, zxid, time)?;
                Ok((OpCode::SetData, txn))
            }
            MultiOp::Check { path, version } => {
                Ok((OpCode::Check, self.prep_check(ctx, path, *version)?))
            }
            // A read inside a write multi: ZooKeeper fails the deserialisation.
            MultiOp::GetData { .. } | MultiOp::GetChildren { .. } => {
                Err(ErrorCode::MARSHALLINGERROR)
            }
        }
    }

    /// `getRecordForPath`: the outstanding record, else the committed node; NONODE otherwise.
    pub(crate) fn record_for_path(&self, path: &str) -> Result<ChangeRecord, ErrorCode> {
        let key = path::parent_key(path);
        if let Some(r) = self.outstanding.get(key) {
            return if r.stat.is_some() {
                Ok(r.clone())
            } else {
                Err(ErrorCode::NONODE)
            };
        }
        let node = self.tree.node(key).ok_or(ErrorCode::NONODE)?;
        Ok(ChangeRecord {
            zxid: Zxid::ZERO,
            path: key.to_string(),
            stat: Some(node.stat),
            child_count: node.children.len() as i32,
            acl: self.tree.acl_of(node),
            data: node.data.clone(),
            node_digest: digest_of(key, node),
            tree_digest: 0,
        })
    }

    fn current_tree_digest(&self) -> i64 {
        self.outstanding
            .last_tree_digest()
            .unwrap_or_else(|| self.tree.tree_digest())
    }

    fn txn_digest(&self) -> Option<TxnDigest> {
        self.config.digest_enabled.then(|| TxnDigest {
            version: DIGEST_VERSION,
            tree_digest: self.current_tree_digest(),
        })
    }

    /// `precalculateDigest` + `addChangeRecord`.
    fn add_change(&mut self, kind: DigestOp, mut record: ChangeRecord) {
        let prev = match kind {
            DigestOp::Add => 0,
            DigestOp::Remove | DigestOp::Update => self
                .record_for_path(&record.path)
                .map(|r| r.node_digest)
                .unwrap_or(0),
        };
        let new = match (&kind, &record.stat) {
            (DigestOp::Remove, _) | (_, None) => 0,
            (_, Some(stat)) => node_digest(&record.path, record.data.as_deref(), stat),
        };
        record.node_digest = new;
        record.tree_digest = self
            .current_tree_digest()
            .wrapping_sub(prev)
            .wrapping_add(new);
        self.outstanding.add(record);
    }

    fn check_session(&self, ctx: &RequestContext) -> Result<(), ErrorCode> {
        self.session_tracker.check_session(ctx.session)
    }

    fn prep_create(
        &mut self,
        ctx: &RequestContext,
        args: &CreateArgs<'_>,
        zxid: Zxid,
        time: i64,
    ) -> Result<Txn, ErrorCode> {
        let mode = CreateMode::from_flag(args.flags).ok_or(ErrorCode::BADARGUMENTS)?;
        if mode.is_ttl() && !self.config.extended_types_enabled {
            return Err(ErrorCode::UNIMPLEMENTED);
        }
        let ttl_ok = if mode.is_ttl() {
            args.ttl > 0 && args.ttl <= MAX_TTL_MS
        } else {
            args.ttl < 0
        };
        if !ttl_ok {
            return Err(ErrorCode::BADARGUMENTS);
        }
        if mode.is_ephemeral() {
            self.session_tracker.check_global_session(ctx.session)?;
        } else {
            self.check_session(ctx)?;
        }
        if args.path.contains('\0') {
            return Err(ErrorCode::BADARGUMENTS);
        }
        let (parent_path, _) = path::split_last_slash(args.path).ok_or(ErrorCode::BADARGUMENTS)?;
        let acl = fixup_acl(args.acl, &ctx.auth)?;
        let parent = self.record_for_path(parent_path)?;
        check_acl(&parent.acl, perms::CREATE, &ctx.auth)?;
        let parent_stat = parent.stat.expect("record_for_path returns live nodes");
        let parent_cversion = parent_stat.cversion;
        let mut full = args.path.to_string();
        if mode.is_sequential() {
            full.push_str(&format!("{parent_cversion:010}"));
        }
        path::validate_path(&full).map_err(|_| ErrorCode::BADARGUMENTS)?;
        if self.record_for_path(&full).is_ok() {
            return Err(ErrorCode::NODEEXISTS);
        }
        let ext = self.config.extended_types_enabled;
        if EphemeralType::get(parent_stat.ephemeral_owner, ext) == EphemeralType::Normal {
            return Err(ErrorCode::NOCHILDRENFOREPHEMERALS);
        }
        let new_cversion = parent_cversion.wrapping_add(1);
        let owner = match mode {
            CreateMode::Container => CONTAINER_EPHEMERAL_OWNER,
            m if m.is_ttl() => EphemeralType::ttl_owner(args.ttl),
            m if m.is_ephemeral() => ctx.session.0,
            _ => 0,
        };
        let txn = self.create_txn(args, &full, acl.clone(), mode, new_cversion);
        self.record_create(
            parent,
            new_cversion,
            full,
            acl,
            args.data.clone(),
            owner,
            zxid,
            time,
        );
        Ok(txn)
    }

    /// The change records of a create: the parent (one more child, new cversion and pzxid)
    /// and the new node.
    #[allow(clippy::too_many_arguments)]
    fn record_create(
        &mut self,
        mut parent: ChangeRecord,
        new_cversion: i32,
        path: String,
        acl: Vec<crate::acl::Acl>,
        data: Option<Vec<u8>>,
        owner: i64,
        zxid: Zxid,
        time: i64,
    ) {
        parent.zxid = zxid;
        parent.child_count += 1;
        if let Some(s) = parent.stat.as_mut() {
            s.cversion = new_cversion;
            s.pzxid = zxid;
        }
        self.add_change(DigestOp::Update, parent);
        let stat = StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time,
            mtime: time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            pzxid: zxid,
        };
        let record = ChangeRecord {
            zxid,
            path,
            stat: Some(stat),
            child_count: 0,
            acl,
            data,
            node_digest: 0,
            tree_digest: 0,
        };
        self.add_change(DigestOp::Add, record);
    }

    fn create_txn(
        &self,
        args: &CreateArgs<'_>,
        full: &str,
        acl: Vec<crate::acl::Acl>,
        mode: CreateMode,
        parent_cversion: i32,
    ) -> Txn {
        let (path, data) = (full.to_string(), args.data.clone());
        match args.op {
            OpCode::CreateContainer => Txn::CreateContainer {
                path,
                data,
                acl,
                parent_cversion,
            },
            OpCode::CreateTtl => Txn::CreateTtl {
                path,
                data,
                acl,
                parent_cversion,
                ttl: args.ttl,
            },
            _ => Txn::Create {
                path,
                data,
                acl,
                ephemeral: mode.is_ephemeral(),
                parent_cversion,
            },
        }
    }

    /// `getParentPathAndValidate`.
    fn parent_and_validate(path: &str) -> Result<&str, ErrorCode> {
        if path.contains('\0') || path::is_special_path(path) {
            return Err(ErrorCode::BADARGUMENTS);
        }
        Ok(path::split_last_slash(path)
            .ok_or(ErrorCode::BADARGUMENTS)?
            .0)
    }

    fn prep_delete(
        &mut self,
        ctx: &RequestContext,
        path: &str,
        version: i32,
        zxid: Zxid,
    ) -> Result<Txn, ErrorCode> {
        self.check_session(ctx)?;
        let parent_path = Self::parent_and_validate(path)?;
        let parent = self.record_for_path(parent_path)?;
        check_acl(&parent.acl, perms::DELETE, &ctx.auth)?;
        let node = self.record_for_path(path)?;
        let node_version = node.stat.map_or(0, |s| s.version);
        check_and_inc_version(node_version, version)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NOTEMPTY);
        }
        self.record_delete(parent, path, zxid);
        Ok(Txn::Delete {
            path: path.to_string(),
        })
    }

    fn record_delete(&mut self, mut parent: ChangeRecord, path: &str, zxid: Zxid) {
        parent.zxid = zxid;
        parent.child_count -= 1;
        if let Some(s) = parent.stat.as_mut() {
            s.pzxid = zxid;
        }
        self.add_change(DigestOp::Update, parent);
        let gone = ChangeRecord {
            zxid,
            path: path.to_string(),
            stat: None,
            child_count: -1,
            acl: Vec::new(),
            data: None,
            node_digest: 0,
            tree_digest: 0,
        };
        self.add_change(DigestOp::Remove, gone);
    }

    fn prep_delete_container(&mut self, path: &str, zxid: Zxid) -> Result<Txn, ErrorCode> {
        let parent_path = Self::parent_and_validate(path)?;
        let node = self.record_for_path(path)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NOTEMPTY);
        }
        let owner = node.stat.map_or(0, |s| s.ephemeral_owner);
        if EphemeralType::get(owner, self.config.extended_types_enabled) == EphemeralType::Normal {
            return Err(ErrorCode::BADVERSION);
        }
        let parent = self.record_for_path(parent_path)?;
        self.record_delete(parent, path, zxid);
        Ok(Txn::Delete {
            path: path.to_string(),
        })
    }

    fn prep_set_data(
        &mut self,
        ctx: &RequestContext,
        path: &str,
        data: &Option<Vec<u8>>,
        version: i32,
        zxid: Zxid,
        time: i64,
    ) -> Result<Txn, ErrorCode> {
        self.check_session(ctx)?;
        path::validate_path(path).map_err(|_| ErrorCode::BADARGUMENTS)?;
        let mut node = self.record_for_path(path)?;
        check_acl(&node.acl, perms::WRITE, &ctx.auth)?;
        let stat = node.stat.as_mut().expect("live record");
        let new_version = check_and_inc_version(stat.version, version)?;
        stat.version = new_version;
        stat.mtime = time;
        stat.mzxid = zxid;
        node.zxid = zxid;
        node.data = data.clone();
        self.add_change(DigestOp::Update, node);
        Ok(Txn::SetData {
            path: path.to_string(),
            data: data.clone(),
            version: new_version,
        })
    }

    fn prep_set_acl(
        &mut self,
        ctx: &RequestContext,
        path: &str,
        acl: &[crate::acl::Acl],
        version: i32,
        zxid: Zxid,
    ) -> Result<Txn, ErrorCode> {
        self.check_session(ctx)?;
        path::validate_path(path).map_err(|_| ErrorCode::BADARGUMENTS)?;
        let acl = fixup_acl(acl, &ctx.auth)?;
        let mut node = self.record_for_path(path)?;
        check_acl(&node.acl, perms::ADMIN, &ctx.auth)?;
        let stat = node.stat.as_mut().expect("live record");
        let new_version = check_and_inc_version(stat.aversion, version)?;
        stat.aversion = new_version;
        node.zxid = zxid;
        node.acl = acl.clone();
        self.add_change(DigestOp::Update, node);
        Ok(Txn::SetAcl {
            path: path.to_string(),
            acl,
            version: new_version,
        })
    }

    fn prep_check(
        &mut self,
        ctx: &RequestContext,
        path: &str,
        version: i32,
    ) -> Result<Txn, ErrorCode> {
        self.check_session(ctx)?;
        path::validate_path(path).map_err(|_| ErrorCode::BADARGUMENTS)?;
        let node = self.record_for_path(path)?;
        check_acl(&node.acl, perms::READ, &ctx.auth)?;
        let current = node.stat.map_or(0, |s| s.version);
        Ok(Txn::CheckVersion {
            path: path.to_string(),
            version: check_and_inc_version(current, version)?,
        })
    }

    fn prep_close_session(&mut self, ctx: &RequestContext, zxid: Zxid) -> Result<Txn, ErrorCode> {
        let mut es = self.tree.ephemerals_of(ctx.session);
        for c in &self.outstanding.queue {
            match c.stat {
                None => {
                    es.remove(&c.path);
                }
                Some(s) if s.ephemeral_owner == ctx.session.0 => {
                    es.insert(c.path.clone());
                }
                Some(_) => {}
            }
        }
        for p in &es {
            if let Ok(parent_path) = Self::parent_and_validate(p) {
                if let Ok(mut parent) = self.record_for_path(parent_path) {
                    parent.zxid = zxid;
                    if let Some(s) = parent.stat.as_mut() {
                        s.pzxid = zxid;
                    }
                    self.add_change(DigestOp::Update, parent);
                }
            }
            let gone = ChangeRecord {
                zxid,
                path: p.clone(),
                stat: None,
                child_count: 0,
                acl: Vec::new(),
                data: None,
                node_digest: 0,
                tree_digest: 0,
            };
            self.add_change(DigestOp::Remove, gone);
        }
        self.session_tracker.set_session_closing(ctx.session);
        Ok(Txn::CloseSession {
            paths_to_delete: es.into_iter().collect(),
        })
    }
}

/// `checkAndIncVersion`: BADVERSION unless `expected` is -1 or the current version; the new
/// version wraps like Java's `int`.
pub fn check_and_inc_version(current: i32, expected: i32) -> Result<i32, ErrorCode> {
    if expected != -1 && expected != current {
        return Err(ErrorCode::BADVERSION);
    }
    Ok(current.wrapping_add(1))
}
