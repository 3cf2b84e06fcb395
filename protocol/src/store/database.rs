//! `ZkDatabase`: the one façade a server drives. It owns the data tree, the session table
//! (`sessionsWithTimeouts`), the leader's outstanding changes and session tracker.
//!
//! ```text
//!   leader:    prep(ctx, write, zxid, time) ──► TxnEntry ──(propose, log, commit)──┐
//!   every server:                               apply(&TxnEntry) ──► Applied ◄─────┘
//!   any server: read(ctx, &Request) ──► Result<Response, ErrorCode>  (+ watch registration)
//! ```
//!
//! Sans-IO and deterministic: times are passed in (ms), nothing is read from a clock.

use std::collections::BTreeMap;

use crate::acl::Id;
use crate::error_code::ErrorCode;
use crate::op_code::OpCode;
use crate::request::{Request, Response};
use crate::session_wire::SetWatches;
use crate::store::auth;
use crate::store::data_tree::DataTree;
use crate::store::outstanding::OutstandingChanges;
use crate::store::session::{negotiate_timeout, SessionTracker};
use crate::store::watch::WatchNotification;
use crate::txn::{Txn, TxnEntry};
use crate::types::{SessionId, Xid, Zxid};

/// Server settings the store needs (zoo.cfg and JVM properties).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// `myid` (the top byte of session ids this server creates).
    pub server_id: u64,
    /// `tickTime`, ms.
    pub tick_time_ms: i32,
    /// `minSessionTimeout` (default 2×tickTime).
    pub min_session_timeout_ms: i32,
    /// `maxSessionTimeout` (default 20×tickTime).
    pub max_session_timeout_ms: i32,
    /// `zookeeper.extendedTypesEnabled` (TTL nodes).
    pub extended_types_enabled: bool,
    /// `zookeeper.digest.enabled` (default true): txns carry the tree digest.
    pub digest_enabled: bool,
    /// `jute.maxbuffer` (default 0xfffff): the largest request packet a server accepts.
    pub jute_max_buffer: usize,
    /// `znode.container.maxNeverUsedIntervalMs` (default 0: never-used containers stay).
    pub container_max_never_used_interval_ms: i64,
    /// Whether `exists` checks READ on an existing node (added in ZooKeeper 3.8.4; the Debian
    /// 3.8.0 server the differential tests compare with does not). Default false.
    pub exists_checks_acl: bool,
}

impl StoreConfig {
    /// ZooKeeper's defaults for `tick_time_ms`.
    pub fn new(server_id: u64, tick_time_ms: i32) -> StoreConfig {
        StoreConfig {
            server_id,
            tick_time_ms,
            min_session_timeout_ms: tick_time_ms * 2,
            max_session_timeout_ms: tick_time_ms * 20,
            extended_types_enabled: false,
            digest_enabled: true,
            jute_max_buffer: 0xfffff,
            container_max_never_used_interval_ms: 0,
            exists_checks_acl: false,
        }
    }
}

/// Who sends a request: the session, its request id and its connection's auth info (the ids
/// `addAuth` added, plus `ip:<address>` as every ZooKeeper connection has).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestContext {
    /// The session.
    pub session: SessionId,
    /// The request's xid (`cxid` in the txn header).
    pub xid: Xid,
    /// The connection's auth info.
    pub auth: Vec<Id>,
}

/// A write to prepare at the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteRequest {
    /// A client write: create (any mode), delete, setData, setACL or multi.
    Client(Request),
    /// `createSession` with the negotiated timeout.
    CreateSession {
        /// Negotiated timeout, ms.
        timeout_ms: i32,
    },
    /// `closeSession` (client close or expiry).
    CloseSession,
    /// `deleteContainer` from the container manager (session 0).
    DeleteContainer {
        /// The container or expired TTL node.
        path: String,
    },
}

impl WriteRequest {
    /// The request's op code (the txn type unless prep fails).
    pub fn op_code(&self) -> OpCode {
        match self {
            WriteRequest::Client(r) => r.op_code(),
            WriteRequest::CreateSession { .. } => OpCode::CreateSession,
            WriteRequest::CloseSession => OpCode::CloseSession,
            WriteRequest::DeleteContainer { .. } => OpCode::DeleteContainer,
        }
    }
}

/// A change to the session table made by a txn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionChange {
    /// createSession applied.
    Created {
        /// Session.
        session: SessionId,
        /// Timeout, ms.
        timeout_ms: i32,
    },
    /// closeSession applied.
    Closed {
        /// Session.
        session: SessionId,
    },
}

/// What applying one txn did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The txn's zxid (the reply header's zxid).
    pub zxid: Zxid,
    /// The session that sent it.
    pub session: SessionId,
    /// Its xid.
    pub xid: Xid,
    /// The reply: the response or the error (`FinalRequestProcessor`).
    pub response: Result<Response, ErrorCode>,
    /// Watch notifications, in the order ZooKeeper sends them, per session.
    pub events: Vec<WatchNotification>,
    /// Ephemeral nodes created (path, owner).
    pub ephemerals_created: Vec<(String, SessionId)>,
    /// Ephemeral nodes deleted (path, owner).
    pub ephemerals_deleted: Vec<(String, SessionId)>,
    /// The session table change, if any.
    pub session_change: Option<SessionChange>,
}

/// The znode database of one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkDatabase {
    pub(crate) tree: DataTree,
    pub(crate) sessions_with_timeouts: BTreeMap<SessionId, i32>,
    pub(crate) outstanding: OutstandingChanges,
    /// The session tracker (expiry is decided by the leader's / standalone server's tracker).
    pub session_tracker: SessionTracker,
    pub(crate) config: StoreConfig,
}

impl ZkDatabase {
    /// A fresh database (the system nodes only), its tracker started at `now_ms`.
    pub fn new(config: StoreConfig, now_ms: i64) -> ZkDatabase {
        ZkDatabase {
            tree: DataTree::new(config.extended_types_enabled),
            sessions_with_timeouts: BTreeMap::new(),
            outstanding: OutstandingChanges::default(),
            session_tracker: SessionTracker::new(config.server_id, config.tick_time_ms, now_ms),
            config,
        }
    }

    /// The settings.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The data tree (read-only).
    pub fn tree(&self) -> &DataTree {
        &self.tree
    }

    /// Leader: turns a write into its txn (never fails: a failed check is an `ErrorTxn`).
    pub fn prep(
        &mut self,
        ctx: &RequestContext,
        write: &WriteRequest,
        zxid: Zxid,
        time_ms: i64,
    ) -> TxnEntry {
        self.prep_write(ctx, write, zxid, time_ms)
    }

    /// Every server: applies a committed txn in zxid order and builds the reply.
    pub fn apply(&mut self, entry: &TxnEntry) -> Applied {
        self.apply_txn(entry)
    }

    /// Answers a read (exists, getData, getChildren(2), getACL, sync, multiRead, addWatch,
    /// removeWatches, checkWatches, getEphemerals, getAllChildrenNumber), registering the
    /// watch the request asks for under `ctx.session`.
    pub fn read(&mut self, ctx: &RequestContext, request: &Request) -> Result<Response, ErrorCode> {
        self.read_request(ctx, request)
    }

    /// Re-registers a reconnected session's watches (`setWatches`), returning the
    /// notifications for changes after `relative_zxid`.
    pub fn set_watches(
        &mut self,
        session: SessionId,
        watches: &SetWatches,
    ) -> Vec<WatchNotification> {
        self.tree.set_watches(session, watches)
    }

    /// The session's connection to this server closed: its watches and auth go.
    pub fn remove_connection(&mut self, session: SessionId) {
        self.tree.remove_watcher(session);
    }

    /// Records the auth info of a session connected to this server (watch delivery needs
    /// READ on the node for the watcher's ids).
    pub fn set_connection_auth(&mut self, session: SessionId, auth: Vec<Id>) {
        self.tree.watcher_auth.insert(session, auth);
    }

    /// `addAuth` from a client at `client_ip`: the id the scheme + credentials authenticate
    /// as (to add to the connection's auth info), or AUTHFAILED.
    pub fn authenticate(
        scheme: &str,
        credentials: &[u8],
        client_ip: &str,
    ) -> Result<Id, ErrorCode> {
        auth::authenticate(scheme, credentials, client_ip)
    }

    /// The negotiated timeout for a requested one.
    pub fn negotiate_timeout(&self, requested_ms: i32) -> i32 {
        negotiate_timeout(
            requested_ms,
            self.config.min_session_timeout_ms,
            self.config.max_session_timeout_ms,
        )
    }

    /// `sessionsWithTimeouts`: the replicated session table.
    pub fn sessions_with_timeouts(&self) -> &BTreeMap<SessionId, i32> {
        &self.sessions_with_timeouts
    }

    /// The tree digest (version 2).
    pub fn digest(&self) -> i64 {
        self.tree.tree_digest()
    }

    /// `lastProcessedZxid`.
    pub fn last_processed_zxid(&self) -> Zxid {
        self.tree.last_processed_zxid
    }

    /// Drops the outstanding changes (the server stops leading, or a new leader starts).
    pub fn clear_outstanding_changes(&mut self) {
        self.outstanding.clear();
    }

    /// Number of outstanding change records.
    pub fn outstanding_changes(&self) -> usize {
        self.outstanding.len()
    }

    /// Starts session tracking as a new leader or standalone server does: a fresh tracker at
    /// `now_ms` tracking every session of the table.
    pub fn start_session_tracker(&mut self, now_ms: i64) {
        let mut t = SessionTracker::new(self.config.server_id, self.config.tick_time_ms, now_ms);
        for (s, to) in &self.sessions_with_timeouts {
            t.track_session(*s, *to, now_ms);
        }
        self.session_tracker = t;
    }

    /// Whether a txn of this type changes the session table.
    pub(crate) fn apply_session_change(&mut self, entry: &TxnEntry) -> Option<SessionChange> {
        let session = entry.header.client_id;
        match (&entry.header.txn_type, &entry.txn) {
            (OpCode::CreateSession, Txn::CreateSession { timeout_ms }) => {
                self.sessions_with_timeouts.insert(session, *timeout_ms);
                Some(SessionChange::Created {
                    session,
                    timeout_ms: *timeout_ms,
                })
            }
            (OpCode::CloseSession, _) => {
                self.sessions_with_timeouts.remove(&session);
                self.session_tracker.remove_session(session);
                Some(SessionChange::Closed { session })
            }
            _ => None,
        }
    }
}
