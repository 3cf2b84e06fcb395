//! Reads served from the local tree (`FinalRequestProcessor` read paths), with ZooKeeper's
//! check order and watch registration: `exists` registers its watch *before* answering NONODE
//! (the creation watch); getData/getChildren answer NONODE first, then check READ, then
//! register. `exists` checks READ on an existing node only when
//! [`StoreConfig::exists_checks_acl`](crate::store::StoreConfig) is set (3.8.4+); getACL needs READ or ADMIN and hides digest
//! passwords (`user:x`) from a caller without ADMIN.

use crate::acl::{perms, Acl, Id};
use crate::error_code::ErrorCode;
use crate::request::{
    AddWatchMode, EventType, KeeperState, MultiOp, OpResult, Request, Response, WatchedEvent,
    WatcherType,
};
use crate::session_wire::SetWatches;
use crate::store::auth::check_acl;
use crate::store::data_tree::DataTree;
use crate::store::database::{RequestContext, ZkDatabase};
use crate::store::watch::{WatchNotification, WatcherMode};
use crate::types::SessionId;

impl ZkDatabase {
    pub(crate) fn read_request(
        &mut self,
        ctx: &RequestContext,
        request: &Request,
    ) -> Result<Response, ErrorCode> {
        let exists_checks_acl = self.config.exists_checks_acl;
        let tree = &mut self.tree;
        match request {
            Request::Exists { path, watch } => exists(tree, ctx, path, *watch, exists_checks_acl),
            Request::GetData { path, watch } => {
                let (data, stat) = get_data(tree, ctx, path, *watch)?;
                Ok(Response::GetData { data, stat })
            }
            Request::GetChildren {
                path,
                watch,
                with_stat,
            } => {
                let (children, stat) = get_children(tree, ctx, path, *watch)?;
                Ok(Response::GetChildren {
                    children,
                    stat: with_stat.then_some(stat),
                })
            }
            Request::GetAcl { path } => get_acl(tree, ctx, path),
            Request::Sync { path } => Ok(Response::Sync { path: path.clone() }),
            Request::MultiRead { ops } => Ok(Response::Multi {
                results: ops.iter().map(|op| multi_read_op(tree, ctx, op)).collect(),
            }),
            Request::AddWatch { path, mode } => {
                let mode = match mode {
                    AddWatchMode::Persistent => WatcherMode::Persistent,
                    AddWatchMode::PersistentRecursive => WatcherMode::PersistentRecursive,
                };
                tree.add_watch(path, ctx.session, mode);
                Ok(Response::Empty)
            }
            Request::RemoveWatches { path, watcher_type } => {
                remove_watches(tree, ctx.session, path, *watcher_type)
            }
            Request::CheckWatches { path, watcher_type } => {
                check_watches(tree, ctx.session, path, *watcher_type)
            }
            Request::GetEphemerals { prefix_path } => {
                let all = tree.ephemerals_of(ctx.session);
                let p = prefix_path.trim();
                let ephemerals = all
                    .into_iter()
                    .filter(|e| p.is_empty() || p == "/" || e.starts_with(prefix_path.as_str()))
                    .collect();
                Ok(Response::GetEphemerals { ephemerals })
            }
            Request::GetAllChildrenNumber { path } => {
                let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
                check_acl(&tree.acl_of(node), perms::READ, &ctx.auth)?;
                Ok(Response::GetAllChildrenNumber {
                    total_number: tree.descendant_count(path) as i32,
                })
            }
            // Only the outcome: the server adds the id from `ZkDatabase::authenticate` to the
            // connection (the address does not change OK vs AUTHFAILED).
            Request::AddAuth { scheme, auth } => {
                ZkDatabase::authenticate(scheme, auth, "").map(|_| Response::Empty)
            }
            write => panic!("read of a write request: {}", write.op_code().name()),
        }
    }
}

/// `exists`: BADARGUMENTS for a NUL in the path; the watch is registered before NONODE.
fn exists(
    tree: &mut DataTree,
    ctx: &RequestContext,
    path: &str,
    watch: bool,
    checks_acl: bool,
) -> Result<Response, ErrorCode> {
    if path.contains('\0') {
        return Err(ErrorCode::BADARGUMENTS);
    }
    if let Some(node) = tree.node(path).filter(|_| checks_acl) {
        check_acl(&tree.acl_of(node), perms::READ, &ctx.auth)?;
    }
    if watch {
        tree.data_watches
            .add_watch(path, ctx.session, WatcherMode::Standard);
    }
    let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
    Ok(Response::Exists {
        stat: tree.stat_of(node),
    })
}

fn get_data(
    tree: &mut DataTree,
    ctx: &RequestContext,
    path: &str,
    watch: bool,
) -> Result<(Option<Vec<u8>>, crate::stat::Stat), ErrorCode> {
    let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
    check_acl(&tree.acl_of(node), perms::READ, &ctx.auth)?;
    let out = (node.data.clone(), tree.stat_of(node));
    if watch {
        tree.data_watches
            .add_watch(path, ctx.session, WatcherMode::Standard);
    }
    Ok(out)
}

fn get_children(
    tree: &mut DataTree,
    ctx: &RequestContext,
    path: &str,
    watch: bool,
) -> Result<(Vec<String>, crate::stat::Stat), ErrorCode> {
    let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
    check_acl(&tree.acl_of(node), perms::READ, &ctx.auth)?;
    let out = (node.children.iter().cloned().collect(), tree.stat_of(node));
    if watch {
        tree.child_watches
            .add_watch(path, ctx.session, WatcherMode::Standard);
    }
    Ok(out)
}

fn get_acl(tree: &DataTree, ctx: &RequestContext, path: &str) -> Result<Response, ErrorCode> {
    let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
    let acl = tree.acl_of(node);
    check_acl(&acl, perms::READ | perms::ADMIN, &ctx.auth)?;
    let stat = tree.stat_of(node);
    if check_acl(&acl, perms::ADMIN, &ctx.auth).is_ok() {
        return Ok(Response::GetAcl { acl, stat });
    }
    let masked = acl
        .into_iter()
        .map(|a| {
            if a.id.scheme != "digest" {
                return a;
            }
            let user = a.id.id.split(':').next().unwrap_or("").to_string();
            Acl {
                perms: a.perms,
                id: Id {
                    scheme: a.id.scheme,
                    id: format!("{user}:x"),
                },
            }
        })
        .collect();
    Ok(Response::GetAcl { acl: masked, stat })
}

fn multi_read_op(tree: &mut DataTree, ctx: &RequestContext, op: &MultiOp) -> OpResult {
    let result = match op {
        MultiOp::GetData { path } => {
            get_data(tree, ctx, path, false).map(|(data, stat)| OpResult::GetData { data, stat })
        }
        MultiOp::GetChildren { path } => get_children(tree, ctx, path, false)
            .map(|(children, _)| OpResult::GetChildren { children }),
        _ => Err(ErrorCode::MARSHALLINGERROR),
    };
    result.unwrap_or_else(|err| OpResult::Error { err })
}

fn remove_watches(
    tree: &mut DataTree,
    session: SessionId,
    path: &str,
    kind: WatcherType,
) -> Result<Response, ErrorCode> {
    let removed = match kind {
        WatcherType::Children => tree.child_watches.remove_watch(path, session),
        WatcherType::Data => tree.data_watches.remove_watch(path, session),
        WatcherType::Any => {
            let c = tree.child_watches.remove_watch(path, session);
            let d = tree.data_watches.remove_watch(path, session);
            c || d
        }
    };
    removed
        .then_some(Response::Empty)
        .ok_or(ErrorCode::NOWATCHER)
}

fn check_watches(
    tree: &DataTree,
    session: SessionId,
    path: &str,
    kind: WatcherType,
) -> Result<Response, ErrorCode> {
    let found = match kind {
        WatcherType::Children => tree.child_watches.contains_watcher(path, session),
        WatcherType::Data => tree.data_watches.contains_watcher(path, session),
        WatcherType::Any => {
            tree.child_watches.contains_watcher(path, session)
                || tree.data_watches.contains_watcher(path, session)
        }
    };
    found.then_some(Response::Empty).ok_or(ErrorCode::NOWATCHER)
}

impl DataTree {
    /// `setWatches`: fires what changed after `relative_zxid` (or what no longer matches) and
    /// re-registers the rest.
    pub fn set_watches(&mut self, session: SessionId, w: &SetWatches) -> Vec<WatchNotification> {
        let event = |event_type, path: &str| WatchNotification {
            session,
            event: WatchedEvent {
                event_type,
                state: KeeperState::SyncConnected,
                path: path.to_string(),
            },
        };
        let mut out = Vec::new();
        for p in &w.data_watches {
            match self.node(p) {
                None => out.push(event(EventType::NodeDeleted, p)),
                Some(n) if n.stat.mzxid > w.relative_zxid => {
                    out.push(event(EventType::NodeDataChanged, p))
                }
                Some(_) => {
                    self.data_watches
                        .add_watch(p, session, WatcherMode::Standard);
                }
            }
        }
        for p in &w.exist_watches {
            if self.node(p).is_some() {
                out.push(event(EventType::NodeCreated, p));
            } else {
                self.data_watches
                    .add_watch(p, session, WatcherMode::Standard);
            }
        }
        for p in &w.child_watches {
            match self.node(p) {
                None => out.push(event(EventType::NodeDeleted, p)),
                Some(n) if n.stat.pzxid > w.relative_zxid => {
                    out.push(event(EventType::NodeChildrenChanged, p))
                }
                Some(_) => {
                    self.child_watches
                        .add_watch(p, session, WatcherMode::Standard);
                }
            }
        }
        for (paths, mode) in [
            (&w.persistent_watches, WatcherMode::Persistent),
            (
                &w.persistent_recursive_watches,
                WatcherMode::PersistentRecursive,
            ),
        ] {
            for p in paths {
                self.child_watches.add_watch(p, session, mode);
                self.data_watches.add_watch(p, session, mode);
            }
        }
        out
    }

    /// `addWatch`: a persistent or recursive watch, in both managers (as 3.8 does).
    pub fn add_watch(&mut self, path: &str, session: SessionId, mode: WatcherMode) {
        self.data_watches.add_watch(path, session, mode);
        self.child_watches.add_watch(path, session, mode);
    }

    /// `removeCnxn`: drops every watch of the session's connection.
    pub fn remove_watcher(&mut self, session: SessionId) {
        self.data_watches.remove_session(session);
        self.child_watches.remove_session(session);
        self.watcher_auth.remove(&session);
    }

    /// Queues `n` (used by callers that deliver SetWatches results through `take_events`).
    pub fn queue_event(&mut self, n: WatchNotification) {
        self.push_event(n);
    }
}
