//! Runs one op script against a fresh simulated standalone server: a `ZkDatabase` driven as
//! ZooKeeper's standalone pipeline drives it (prep then apply for writes, local reads), with
//! client-side bookkeeping a real client has (xids, last zxid seen, its watch table for
//! SetWatches on reconnect, its auth info re-sent on reconnect).
//!
//! Virtual time: ops take no time; `expire` advances time tick by tick until the session
//! tracker expires the dropped session (other connected sessions keep pinging), running the
//! container manager every 60 s of it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use zabsim_protocol::acl::Id;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{EventType, Request, Response};
use zabsim_protocol::session_wire::SetWatches;
use zabsim_protocol::store::container::CONTAINER_CHECK_INTERVAL_MS;
use zabsim_protocol::store::session::generate_passwd;
use zabsim_protocol::store::{
    RequestContext, StoreConfig, WatchNotification, WriteRequest, ZkDatabase,
};
use zabsim_protocol::types::{SessionId, Xid, Zxid};

use super::outcome::{self, Render};
use super::result::{multi_results, response_fields};
use super::script::{OpKind, ReadKind, Script, ScriptOp};
use zabsim_protocol::store::request_len::request_len;

/// `tickTime` for `apply`.
pub const TICK_TIME_MS: i32 = 2000;
/// The virtual wall time the server starts at.
const START_MS: i64 = 1_700_000_000_000;

/// The client's watch table (what `ZKWatchManager` holds and re-sends on reconnect).
#[derive(Clone, Debug, Default)]
struct ClientWatches {
    data: BTreeSet<String>,
    exist: BTreeSet<String>,
    child: BTreeSet<String>,
    persistent: BTreeSet<String>,
    recursive: BTreeSet<String>,
}

/// One script session as the client knows it.
#[derive(Clone, Debug)]
struct Session {
    id: SessionId,
    timeout_ms: i32,
    connected: bool,
    /// The client considers the session over (closed or expired).
    ended: bool,
    auth: Vec<Id>,
    xid: i32,
    last_zxid_seen: Zxid,
    watches: ClientWatches,
}

/// The run of one script.
#[derive(Debug)]
pub struct Runner {
    db: ZkDatabase,
    now_ms: i64,
    next_container_check_ms: i64,
    sessions: BTreeMap<String, Session>,
    names: BTreeMap<SessionId, String>,
    /// Session ids in the order they connected.
    connect_order: Vec<SessionId>,
    events: Vec<(SessionId, WatchNotification, &'static str)>,
}

/// The client's address: every connection's auth info starts with `ip:<address>`.
const CLIENT_IP: &str = "127.0.0.1";

fn ip_auth() -> Vec<Id> {
    vec![Id {
        scheme: "ip".into(),
        id: CLIENT_IP.into(),
    }]
}

impl Runner {
    /// A fresh standalone server.
    pub fn new(extended_types: bool) -> Runner {
        let mut config = StoreConfig::new(1, TICK_TIME_MS);
        config.extended_types_enabled = extended_types;
        Runner {
            db: ZkDatabase::new(config, START_MS),
            now_ms: START_MS,
            next_container_check_ms: START_MS + CONTAINER_CHECK_INTERVAL_MS,
            sessions: BTreeMap::new(),
            names: BTreeMap::new(),
            connect_order: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Runs `script` and renders its outcome.
    pub fn run(script: &Script) -> Value {
        let mut r = Runner::new(script.extended_types);
        for name in &script.sessions {
            r.connect(name, script.session_timeout_ms);
        }
        let base = r.db.last_processed_zxid();
        let mut raw = Vec::with_capacity(script.ops.len());
        for (i, op) in script.ops.iter().enumerate() {
            raw.push(r.run_op(i, op));
        }
        let render = Render {
            base,
            names: &r.names,
        };
        let results: Vec<Value> = raw.into_iter().map(|res| res.render(&render)).collect();
        let sessions: Map<String, Value> = r
            .sessions
            .iter()
            .map(|(n, s)| (n.clone(), json!({"negotiated_timeout_ms": s.timeout_ms})))
            .collect();
        json!({
            "name": script.name,
            "base_zxid_abs": base.as_i64(),
            "sessions": sessions,
            "results": results,
            "final_tree": r.final_tree(&render),
        })
    }

    fn next_zxid(&self) -> Zxid {
        Zxid(self.db.last_processed_zxid().0 + 1)
    }

    fn connect(&mut self, name: &str, requested_ms: i32) -> i32 {
        let timeout_ms = self.db.negotiate_timeout(requested_ms);
        let id = self
            .db
            .session_tracker
            .create_session(timeout_ms, self.now_ms);
        let ctx = RequestContext {
            session: id,
            xid: Xid(0),
            auth: ip_auth(),
        };
        let entry = self.db.prep(
            &ctx,
            &WriteRequest::CreateSession { timeout_ms },
            self.next_zxid(),
            self.now_ms,
        );
        let applied = self.db.apply(&entry);
        assert!(
            applied.response.is_ok(),
            "createSession failed: {applied:?}"
        );
        self.db.set_connection_auth(id, ip_auth());
        self.names.insert(id, name.to_string());
        self.connect_order.push(id);
        self.sessions.insert(
            name.to_string(),
            Session {
                id,
                timeout_ms,
                connected: true,
                ended: false,
                auth: ip_auth(),
                xid: 0,
                last_zxid_seen: entry.header.zxid,
                watches: ClientWatches::default(),
            },
        );
        timeout_ms
    }

    fn run_op(&mut self, i: usize, op: &ScriptOp) -> OpOutcome {
        self.events.clear();
        let mut out = OpOutcome::new(i, op);
        let connected = self.sessions.get(&op.session).is_some_and(|s| s.connected);
        match &op.kind {
            OpKind::Connect { timeout_ms } => {
                let t = self.connect(&op.session, *timeout_ms);
                out.ok_with("negotiated_timeout_ms", json!(t));
            }
            OpKind::Drop if connected => {
                self.disconnect(&op.session);
                out.ok();
            }
            OpKind::Reconnect { bad_password } => {
                self.reconnect(&op.session, *bad_password, &mut out)
            }
            OpKind::Expire => self.expire(&op.session, &mut out),
            _ if !connected => out.special("CLIENT_NOT_CONNECTED"),
            OpKind::Close => self.close(&op.session, &mut out),
            OpKind::AddAuth { scheme, auth } => self.add_auth(&op.session, scheme, auth, &mut out),
            kind => self.request(&op.session, kind, &mut out),
        }
        out.events = std::mem::take(&mut self.events);
        // As a client sees them: the acting session's notifications before its reply, then the
        // other sessions', each session's in delivery order (a stable sort).
        let rank = |when: &str| match when {
            "before_reply" => 0,
            "after_reply" => 1,
            _ => 2,
        };
        let order = &self.connect_order;
        out.events.sort_by_key(|(s, _, when)| {
            (
                rank(when),
                order.iter().position(|x| x == s).unwrap_or(usize::MAX),
            )
        });
        out
    }

    fn ctx(&mut self, name: &str) -> RequestContext {
        let s = self
            .sessions
            .get_mut(name)
            .expect("session exists when connected");
        s.xid += 1;
        RequestContext {
            session: s.id,
            xid: Xid(s.xid),
            auth: s.auth.clone(),
        }
    }

    fn request(&mut self, name: &str, kind: &OpKind, out: &mut OpOutcome) {
        let request = to_request(kind);
        if request_len(&request) > self.db.config().jute_max_buffer {
            // NIOServerCnxn: "Len error", the connection is closed without a reply.
            self.disconnect(name);
            out.special("CONNECTION_LOST");
            return;
        }
        let ctx = self.ctx(name);
        let (zxid, response) = if request.op_code().is_write() {
            let entry = self.db.prep(
                &ctx,
                &WriteRequest::Client(request.clone()),
                self.next_zxid(),
                self.now_ms,
            );
            let applied = self.db.apply(&entry);
            self.deliver(ctx.session, &applied.events, "before_reply", "after_reply");
            (applied.zxid, applied.response)
        } else {
            let response = self.db.read(&ctx, &request);
            (self.db.last_processed_zxid(), response)
        };
        self.client_watches_after(name, kind, &response);
        self.seen(name, zxid);
        out.reply(zxid, response);
    }

    fn seen(&mut self, name: &str, zxid: Zxid) {
        if let Some(s) = self.sessions.get_mut(name) {
            s.last_zxid_seen = s.last_zxid_seen.max(zxid);
        }
    }

    /// Delivers notifications to connected sessions and updates their client watch tables.
    fn deliver(
        &mut self,
        actor: SessionId,
        events: &[WatchNotification],
        own: &'static str,
        other: &'static str,
    ) {
        for n in events {
            let Some(name) = self.names.get(&n.session).cloned() else {
                continue;
            };
            let Some(s) = self.sessions.get_mut(&name) else {
                continue;
            };
            if !s.connected {
                continue;
            }
            let w = &mut s.watches;
            let p = &n.event.path;
            match n.event.event_type {
                EventType::NodeCreated | EventType::NodeDataChanged => {
                    w.data.remove(p);
                    w.exist.remove(p);
                }
                EventType::NodeDeleted => {
                    w.data.remove(p);
                    w.exist.remove(p);
                    w.child.remove(p);
                }
                EventType::NodeChildrenChanged => {
                    w.child.remove(p);
                }
                _ => {}
            }
            let when = if n.session == actor { own } else { other };
            self.events.push((n.session, n.clone(), when));
        }
    }

    fn client_watches_after(
        &mut self,
        name: &str,
        kind: &OpKind,
        response: &Result<Response, ErrorCode>,
    ) {
        let Some(s) = self.sessions.get_mut(name) else {
            return;
        };
        let w = &mut s.watches;
        match (kind, response) {
            (
                OpKind::Read {
                    which: ReadKind::Exists,
                    path,
                    watch: true,
                },
                Ok(_),
            ) => {
                w.data.insert(path.clone());
            }
            (
                OpKind::Read {
                    which: ReadKind::Exists,
                    path,
                    watch: true,
                },
                Err(ErrorCode::NONODE),
            ) => {
                w.exist.insert(path.clone());
            }
            (
                OpKind::Read {
                    which: ReadKind::Get,
                    path,
                    watch: true,
                },
                Ok(_),
            ) => {
                w.data.insert(path.clone());
            }
            (
                OpKind::Read {
                    path, watch: true, ..
                },
                Ok(_),
            ) => {
                w.child.insert(path.clone());
            }
            (OpKind::AddWatch { path, mode }, Ok(_)) => {
                if *mode == zabsim_protocol::request::AddWatchMode::Persistent {
                    w.persistent.insert(path.clone());
                } else {
                    w.recursive.insert(path.clone());
                }
            }
            (
                OpKind::Watches {
                    remove: true, path, ..
                },
                Ok(_),
            ) => {
                for set in [
                    &mut w.data,
                    &mut w.exist,
                    &mut w.child,
                    &mut w.persistent,
                    &mut w.recursive,
                ] {
                    set.remove(path);
                }
            }
            _ => {}
        }
    }

    fn disconnect(&mut self, name: &str) {
        if let Some(s) = self.sessions.get_mut(name) {
            s.connected = false;
            self.db.remove_connection(s.id);
        }
    }

    fn close(&mut self, name: &str, out: &mut OpOutcome) {
        let ctx = self.ctx(name);
        let entry = self.db.prep(
            &ctx,
            &WriteRequest::CloseSession,
            self.next_zxid(),
            self.now_ms,
        );
        let applied = self.db.apply(&entry);
        self.deliver(ctx.session, &applied.events, "before_reply", "after_reply");
        self.disconnect(name);
        if let Some(s) = self.sessions.get_mut(name) {
            s.ended = true;
        }
        out.reply(applied.zxid, applied.response.map(|_| Response::Empty));
    }

    fn add_auth(&mut self, name: &str, scheme: &str, auth: &[u8], out: &mut OpOutcome) {
        match ZkDatabase::authenticate(scheme, auth, CLIENT_IP) {
            Ok(id) => {
                let s = self.sessions.get_mut(name).expect("connected session");
                if !s.auth.contains(&id) {
                    s.auth.push(id);
                }
                let (sid, auth) = (s.id, s.auth.clone());
                self.db.set_connection_auth(sid, auth);
                out.ok();
            }
            Err(e) => {
                // The server answers AUTHFAILED and closes the connection.
                self.disconnect(name);
                out.error(e);
            }
        }
    }

    fn reconnect(&mut self, name: &str, bad_password: bool, out: &mut OpOutcome) {
        let Some(s) = self.sessions.get(name).cloned() else {
            out.special("CLIENT_NOT_CONNECTED");
            return;
        };
        if s.connected {
            self.disconnect(name);
        }
        let alive = self.db.sessions_with_timeouts().contains_key(&s.id)
            && self.db.session_tracker.check_session(s.id).is_ok();
        let password_ok = !bad_password && generate_passwd(s.id) == generate_passwd(s.id);
        if s.ended || !alive || !password_ok {
            if let Some(x) = self.sessions.get_mut(name) {
                x.ended = true;
            }
            out.special("SESSION_EXPIRED_ON_CONNECT");
            return;
        }
        self.db
            .session_tracker
            .touch_session(s.id, s.timeout_ms, self.now_ms);
        self.db.set_connection_auth(s.id, s.auth.clone());
        if let Some(x) = self.sessions.get_mut(name) {
            x.connected = true;
        }
        let w = &s.watches;
        let set = SetWatches {
            relative_zxid: s.last_zxid_seen,
            data_watches: w.data.iter().cloned().collect(),
            exist_watches: w.exist.iter().cloned().collect(),
            child_watches: w.child.iter().cloned().collect(),
            persistent_watches: w.persistent.iter().cloned().collect(),
            persistent_recursive_watches: w.recursive.iter().cloned().collect(),
        };
        let fired = self.db.set_watches(s.id, &set);
        self.deliver(s.id, &fired, "before_reply", "after_reply");
        out.ok_with("negotiated_timeout_ms", json!(s.timeout_ms));
    }

    fn expire(&mut self, name: &str, out: &mut OpOutcome) {
        let Some(target) = self.sessions.get(name).map(|s| s.id) else {
            out.special("CLIENT_NOT_CONNECTED");
            return;
        };
        self.disconnect(name);
        let mut steps = 0;
        while self.db.sessions_with_timeouts().contains_key(&target) {
            steps += 1;
            assert!(steps < 10_000, "session {target} never expires");
            self.now_ms = self.db.session_tracker.next_expiration_ms();
            self.ping_connected();
            for s in self.db.session_tracker.expire(self.now_ms) {
                self.server_write(s, WriteRequest::CloseSession);
                if let Some(n) = self.names.get(&s).cloned() {
                    if let Some(x) = self.sessions.get_mut(&n) {
                        x.ended = true;
                    }
                }
            }
            self.container_check();
        }
        out.ok();
    }

    fn ping_connected(&mut self) {
        let live: Vec<(SessionId, i32)> = self
            .sessions
            .values()
            .filter(|s| s.connected)
            .map(|s| (s.id, s.timeout_ms))
            .collect();
        for (id, t) in live {
            self.db.session_tracker.touch_session(id, t, self.now_ms);
        }
    }

    fn container_check(&mut self) {
        while self.now_ms >= self.next_container_check_ms {
            self.next_container_check_ms += CONTAINER_CHECK_INTERVAL_MS;
            for path in self.db.container_candidates(self.now_ms) {
                self.server_write(SessionId(0), WriteRequest::DeleteContainer { path });
            }
        }
    }

    /// A server-originated write (expiry closeSession, container deletion).
    fn server_write(&mut self, session: SessionId, write: WriteRequest) {
        let ctx = RequestContext {
            session,
            xid: Xid(0),
            auth: Vec::new(),
        };
        let entry = self.db.prep(&ctx, &write, self.next_zxid(), self.now_ms);
        let applied = self.db.apply(&entry);
        self.deliver(session, &applied.events, "during_wait", "during_wait");
    }

    fn final_tree(&self, render: &Render<'_>) -> Value {
        let tree = self.db.tree();
        let mut out = Map::new();
        for (path, node) in tree.nodes() {
            out.insert(
                path.clone(),
                json!({
                    "data": outcome::data(&node.data),
                    "stat": render.stat(&tree.stat_of(node)),
                    "children": node.children.iter().collect::<Vec<_>>(),
                }),
            );
        }
        Value::Object(out)
    }
}

/// The request an op sends.
fn to_request(kind: &OpKind) -> Request {
    match kind.clone() {
        OpKind::Create {
            path,
            data,
            acl,
            flags,
            ttl,
        } => Request::Create {
            path,
            data,
            acl,
            flags,
            ttl,
            // The Java client's and kazoo's plain `create` send op create (path only);
            // createContainer and createTTL always answer with the Stat.
            with_stat: false,
        },
        OpKind::Delete { path, version } => Request::Delete { path, version },
        OpKind::Read { which, path, watch } => match which {
            ReadKind::Exists => Request::Exists { path, watch },
            ReadKind::Get => Request::GetData { path, watch },
            ReadKind::Children => Request::GetChildren {
                path,
                watch,
                with_stat: true,
            },
            ReadKind::ChildrenNoStat => Request::GetChildren {
                path,
                watch,
                with_stat: false,
            },
        },
        OpKind::Set {
            path,
            data,
            version,
        } => Request::SetData {
            path,
            data,
            version,
        },
        OpKind::GetAcl { path } => Request::GetAcl { path },
        OpKind::SetAcl { path, acl, version } => Request::SetAcl { path, acl, version },
        OpKind::Multi(ops) => Request::Multi { ops },
        OpKind::MultiRead(ops) => Request::MultiRead { ops },
        OpKind::Sync { path } => Request::Sync { path },
        OpKind::AddWatch { path, mode } => Request::AddWatch { path, mode },
        OpKind::Watches {
            remove: true,
            path,
            watcher_type,
        } => Request::RemoveWatches { path, watcher_type },
        OpKind::Watches {
            remove: false,
            path,
            watcher_type,
        } => Request::CheckWatches { path, watcher_type },
        OpKind::GetEphemerals { path } => Request::GetEphemerals { prefix_path: path },
        OpKind::AllChildrenNumber { path } => Request::GetAllChildrenNumber { path },
        other => panic!("not a request op: {other:?}"),
    }
}

/// One op's result before rendering (zxids are rendered relative to the base).
#[derive(Debug)]
pub struct OpOutcome {
    i: usize,
    session: String,
    op: String,
    err: String,
    code: Option<i32>,
    zxid: Option<Zxid>,
    response: Option<Response>,
    extra: Vec<(&'static str, Value)>,
    events: Vec<(SessionId, WatchNotification, &'static str)>,
}

impl OpOutcome {
    fn new(i: usize, op: &ScriptOp) -> OpOutcome {
        OpOutcome {
            i,
            session: op.session.clone(),
            op: op.name.clone(),
            err: "OK".into(),
            code: Some(0),
            zxid: None,
            response: None,
            extra: Vec::new(),
            events: Vec::new(),
        }
    }

    fn ok(&mut self) {
        self.err = "OK".into();
        self.code = Some(0);
    }

    fn ok_with(&mut self, key: &'static str, v: Value) {
        self.ok();
        self.extra.push((key, v));
    }

    fn error(&mut self, e: ErrorCode) {
        self.err = e.name().into();
        self.code = Some(e.code());
    }

    fn special(&mut self, name: &str) {
        self.err = name.into();
        self.code = None;
    }

    fn reply(&mut self, zxid: Zxid, response: Result<Response, ErrorCode>) {
        self.zxid = Some(zxid);
        match response {
            Ok(r) => {
                self.ok();
                self.response = Some(r);
            }
            Err(e) => self.error(e),
        }
    }

    fn render(self, render: &Render<'_>) -> Value {
        let mut m = Map::new();
        m.insert("i".into(), json!(self.i));
        m.insert("session".into(), json!(self.session));
        m.insert("op".into(), json!(self.op));
        m.insert("err".into(), json!(self.err));
        if let Some(code) = self.code {
            m.insert("code".into(), json!(code));
        }
        if let Some(z) = self.zxid {
            m.insert("zxid".into(), render.zxid(z));
        }
        if let Some(r) = &self.response {
            if let Response::Multi { results } = r {
                m.insert("results".into(), multi_results(results, render));
            } else {
                response_fields(r, render, &mut m);
            }
        }
        for (k, v) in self.extra {
            m.insert(k.into(), v);
        }
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|(s, n, when)| {
                json!({
                    "session": render.names.get(s).cloned().unwrap_or_else(|| format!("{:016x}", s.0)),
                    "type": format!("{:?}", n.event.event_type),
                    "path": n.event.path,
                    "state": format!("{:?}", n.event.state),
                    "when": when,
                })
            })
            .collect();
        m.insert("events".into(), Value::Array(events));
        Value::Object(m)
    }
}
