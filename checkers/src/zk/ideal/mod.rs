//! Ideal runs: histories and observations generated from the reference model by a lock-step
//! "cluster" that does everything right. Every judge must pass them; the judges' self-tests
//! mutate them and check that the mutation is caught by the judge meant to catch it.
//!
//! The cluster: the first server leads epoch 1 after a full discovery and synchronization;
//! every write is proposed, logged on every running server, committed and applied by the
//! leader at once; followers apply committed txns lazily (so reads on them are stale, as
//! ZooKeeper allows) and catch up before they answer a write or a sync of their own client.
//! Watches fire when the client's server applies the triggering txn, before any later reply,
//! and after a reconnect for what the client missed (`SetWatches`). Faults it models:
//!
//! * a follower without clients crashes and recovers (log replay, then DIFF);
//! * the leader crashes ([`IdealCluster::fail_over`]): survivors fast-forward their logs, elect
//!   the highest last zxid for the next epoch, synchronize, and every client reconnects;
//! * the leader crashes with a write proposed but not committed
//!   ([`IdealCluster::lose_write`]): its client sees a connection loss; if a survivor logged it,
//!   the next leader adopts it (it commits after all), otherwise the old leader truncates it
//!   (TRUNC) when it comes back.

mod apply;
mod digest;
mod election;
mod txn;

pub use digest::digest;

use super::{EndState, Heal, ServerEnd};
use crate::history::{
    ClientId, Completion, Invocation, OpId, Outcome, Record, SessionChange, SessionEvent, TimeNs,
};
use crate::reference::{Fail, ReferenceConfig, ReferenceTree};
use crate::zk::sessions::watches::Table;
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::{Observation, ServerState};
use zabsim_protocol::op_code::OpCode;
use zabsim_protocol::request::{Request, Response};
use zabsim_protocol::txn::{Txn, TxnEntry, TxnHeader};
use zabsim_protocol::types::{Epoch, ServerId, SessionId, Xid, Zxid};

/// Time between actions, ns.
const STEP_NS: TimeNs = 1_000_000;

/// A client of the ideal cluster.
#[derive(Clone, Debug)]
struct Client {
    session: SessionId,
    server: ServerId,
    next_xid: i32,
    watches: BTreeSet<(Table, String)>,
    /// Committed txns already considered for this client's watches.
    watch_upto: usize,
    closed: bool,
}

/// A proposal logged on some servers but never committed (its leader crashed first).
#[derive(Clone, Debug)]
struct Proposal {
    entry: TxnEntry,
    state: ReferenceTree,
    digest: i64,
}

/// The ideal cluster and the records it has produced.
#[derive(Debug)]
pub struct IdealCluster {
    servers: Vec<ServerId>,
    leader: ServerId,
    epoch: Epoch,
    time: TimeNs,
    records: Vec<Record>,
    txns: Vec<TxnEntry>,
    states: Vec<ReferenceTree>,
    digests: Vec<i64>,
    applied: BTreeMap<ServerId, usize>,
    logged: BTreeMap<ServerId, usize>,
    alive: BTreeMap<ServerId, bool>,
    /// Whether the server serves clients (not while it runs an election).
    serving: BTreeMap<ServerId, bool>,
    /// Each server's durable epoch (acceptedEpoch = currentEpoch between elections).
    server_epoch: BTreeMap<ServerId, Epoch>,
    /// Uncommitted proposals in each server's log, after its committed prefix.
    extra: BTreeMap<ServerId, Vec<Proposal>>,
    clients: BTreeMap<ClientId, Client>,
    next_op: u64,
    /// Committed txns of earlier epochs (the current epoch's counters start after them).
    epoch_base: usize,
}

impl IdealCluster {
    /// `servers` servers (at least one) and `clients` connected clients, spread round-robin.
    pub fn new(servers: u64, clients: u32, config: ReferenceConfig) -> IdealCluster {
        assert!(servers >= 1, "an ensemble needs a server");
        let ids: Vec<ServerId> = (1..=servers).map(ServerId).collect();
        let tree = ReferenceTree::new(config);
        let mut c = IdealCluster {
            leader: ids[0],
            epoch: Epoch(1),
            time: STEP_NS,
            records: Vec::new(),
            txns: Vec::new(),
            digests: vec![digest(&tree)],
            states: vec![tree],
            applied: ids.iter().map(|s| (*s, 0)).collect(),
            logged: ids.iter().map(|s| (*s, 0)).collect(),
            alive: ids.iter().map(|s| (*s, true)).collect(),
            serving: ids.iter().map(|s| (*s, true)).collect(),
            server_epoch: ids.iter().map(|s| (*s, Epoch(0))).collect(),
            extra: BTreeMap::new(),
            clients: BTreeMap::new(),
            next_op: 1,
            epoch_base: 0,
            servers: ids,
        };
        c.elect();
        for k in 0..clients {
            c.connect(ClientId(k));
        }
        c
    }

    /// The clients.
    pub fn clients(&self) -> Vec<ClientId> {
        self.clients.keys().copied().collect()
    }

    /// The servers.
    pub fn servers(&self) -> &[ServerId] {
        &self.servers
    }

    fn emit(&mut self, observation: Observation) {
        self.records
            .push(Record::Observed(crate::history::Observed {
                time_ns: self.time,
                observation,
            }));
        self.time += 1;
    }

    /// The zxid the leader gives its next proposal.
    fn next_zxid(&self) -> Zxid {
        let counter = self.txns.len() - self.epoch_base + 1;
        Zxid::new(self.epoch, counter as u32)
    }

    fn zxid_of(&self, applied: usize) -> Zxid {
        applied
            .checked_sub(1)
            .and_then(|i| self.txns.get(i))
            .map_or(Zxid::new(self.epoch, 0), |e| e.header.zxid)
    }

    fn connect(&mut self, client: ClientId) {
        let server = self.servers[client.0 as usize % self.servers.len()];
        let session = SessionId(0x1000 + i64::from(client.0));
        let (_, _) = self.commit(session, Xid(0), OpCode::CreateSession, |tree, zxid, _| {
            tree.create_session(session, zxid);
            Txn::CreateSession { timeout_ms: 10_000 }
        });
        self.apply_on(
            server,
            self.txns.len(),
            zabsim_protocol::observe::ApplyReason::Commit,
        );
        self.clients.insert(
            client,
            Client {
                session,
                server,
                next_xid: 1,
                watches: BTreeSet::new(),
                watch_upto: self.applied[&server],
                closed: false,
            },
        );
        self.time += STEP_NS;
        let change = SessionChange::Connected {
            server,
            timeout_ms: 10_000,
            last_zxid_seen: Zxid::ZERO,
        };
        self.records.push(Record::Session(SessionEvent {
            time_ns: self.time,
            client,
            session,
            change,
        }));
    }

    /// Proposes, logs, commits and applies on the leader one txn built by `build` on a copy of
    /// the latest state; returns its index and the new state's copy.
    fn commit(
        &mut self,
        session: SessionId,
        cxid: Xid,
        txn_type: OpCode,
        build: impl FnOnce(&mut ReferenceTree, Zxid, i64) -> Txn,
    ) -> (usize, Zxid) {
        let zxid = self.next_zxid();
        let mut next = self
            .states
            .last()
            .cloned()
            .unwrap_or_else(|| ReferenceTree::new(ReferenceConfig::default()));
        let time = (self.time / 1_000_000) as i64;
        let txn = build(&mut next, zxid, time);
        let header = TxnHeader {
            client_id: session,
            cxid,
            zxid,
            time,
            txn_type,
        };
        let header = if matches!(txn, Txn::Error { .. }) {
            TxnHeader {
                txn_type: OpCode::Error,
                ..header
            }
        } else {
            header
        };
        let entry = TxnEntry {
            header,
            txn,
            digest: None,
        };
        self.emit(Observation::Proposed {
            leader: self.leader,
            entry: entry.clone(),
        });
        let running: Vec<ServerId> = self
            .servers
            .iter()
            .copied()
            .filter(|s| self.alive[s])
            .collect();
        for s in &running {
            self.emit(Observation::ProposalLogged { server: *s, header });
            self.logged.insert(*s, self.txns.len() + 1);
        }
        self.emit(Observation::Committed {
            leader: self.leader,
            zxid,
            acks: running,
        });
        self.digests.push(digest(&next));
        self.states.push(next);
        self.txns.push(entry);
        let leader = self.leader;
        self.apply_on(
            leader,
            self.txns.len(),
            zabsim_protocol::observe::ApplyReason::Commit,
        );
        (self.txns.len(), zxid)
    }

    /// A client request, answered at once. Returns `None` if the client's session is closed.
    pub fn request(&mut self, client: ClientId, request: Request) -> Option<OpId> {
        let c = self.clients.get_mut(&client).filter(|c| !c.closed)?;
        let (session, server, xid) = (c.session, c.server, Xid(c.next_xid));
        c.next_xid += 1;
        let id = OpId(self.next_op);
        self.next_op += 1;
        self.time += STEP_NS;
        let invocation = Invocation {
            id,
            time_ns: self.time,
            client,
            session,
            server: Some(server),
            xid,
            request: request.clone(),
        };
        self.records.push(Record::Invoke(invocation));
        let outcome = if request.op_code().is_write() {
            self.write(session, server, xid, &request)
        } else {
            self.read(client, session, server, &request)
        };
        self.time += 1;
        self.records.push(Record::Complete(Completion {
            id,
            time_ns: self.time,
            outcome,
        }));
        Some(id)
    }

    fn write(
        &mut self,
        session: SessionId,
        server: ServerId,
        xid: Xid,
        request: &Request,
    ) -> Outcome {
        let mut answer = None;
        let (index, zxid) = self.commit(session, xid, request.op_code(), |tree, zxid, time| {
            let result = tree.write(session, request, zxid, time);
            let (_, txn) = txn::txn_for(request, &result, tree);
            answer = Some(result);
            txn
        });
        self.apply_on(server, index, zabsim_protocol::observe::ApplyReason::Commit);
        match answer {
            Some(Ok(response)) => Outcome::Ok { zxid, response },
            Some(Err(Fail::Code(err))) => Outcome::Error { zxid, err },
            _ => Outcome::Error {
                zxid,
                err: ErrorCode::SYSTEMERROR,
            },
        }
    }

    fn read(
        &mut self,
        client: ClientId,
        session: SessionId,
        server: ServerId,
        request: &Request,
    ) -> Outcome {
        if let Request::Sync { path } = request {
            self.apply_on(
                server,
                self.txns.len(),
                zabsim_protocol::observe::ApplyReason::Commit,
            );
            let zxid = self.zxid_of(self.txns.len());
            return Outcome::Ok {
                zxid,
                response: Response::Sync { path: path.clone() },
            };
        }
        let applied = self.applied[&server];
        let zxid = self.zxid_of(applied);
        let result = self.states[applied].read(session, request);
        self.register_watch(client, request, &result);
        match result {
            Ok(response) => Outcome::Ok { zxid, response },
            Err(Fail::Code(err)) => Outcome::Error { zxid, err },
            Err(Fail::Undecided(_)) => Outcome::Error {
                zxid,
                err: ErrorCode::UNIMPLEMENTED,
            },
        }
    }

    fn register_watch(
        &mut self,
        client: ClientId,
        request: &Request,
        result: &Result<Response, Fail>,
    ) {
        let watch = match (request, result) {
            (Request::GetData { path, watch: true }, Ok(_))
            | (Request::Exists { path, watch: true }, Ok(_) | Err(Fail::Code(ErrorCode::NONODE))) => {
                Some((Table::Data, path.clone()))
            }
            (
                Request::GetChildren {
                    path, watch: true, ..
                },
                Ok(_),
            ) => Some((Table::Child, path.clone())),
            _ => None,
        };
        if let (Some(w), Some(c)) = (watch, self.clients.get_mut(&client)) {
            c.watches.insert(w);
        }
    }

    /// A follower applies one more committed txn, if it lags.
    pub fn advance(&mut self, server: ServerId) {
        let next = self.applied.get(&server).copied().unwrap_or(0) + 1;
        if self.alive.get(&server) == Some(&true) && next <= self.txns.len() {
            self.apply_on(server, next, zabsim_protocol::observe::ApplyReason::Commit);
        }
    }

    /// The client closes its session (a closeSession txn deletes its ephemerals).
    pub fn close(&mut self, client: ClientId) {
        let Some(c) = self.clients.get(&client).filter(|c| !c.closed).cloned() else {
            return;
        };
        let session = c.session;
        let (index, _) = self.commit(
            session,
            Xid(c.next_xid),
            OpCode::CloseSession,
            |tree, zxid, _| {
                let paths_to_delete = tree.close_session(session, zxid);
                Txn::CloseSession { paths_to_delete }
            },
        );
        self.apply_on(
            c.server,
            index,
            zabsim_protocol::observe::ApplyReason::Commit,
        );
        if let Some(c) = self.clients.get_mut(&client) {
            c.closed = true;
            c.watches.clear();
        }
        self.time += STEP_NS;
        self.records.push(Record::Session(SessionEvent {
            time_ns: self.time,
            client,
            session,
            change: SessionChange::Closed,
        }));
    }

    /// Ends the run: every server recovers and catches up; the heal is now, with `bound_ns`.
    pub fn finish(mut self, bound_ns: u64) -> (Vec<Record>, EndState) {
        for s in self.servers.clone() {
            if self.alive[&s] {
                self.apply_on(
                    s,
                    self.txns.len(),
                    zabsim_protocol::observe::ApplyReason::Commit,
                );
            } else {
                self.recover(s);
            }
        }
        let healed_at_ns = self.time;
        let last = self.zxid_of(self.txns.len());
        let digest = self.digests.last().copied();
        let servers = self
            .servers
            .iter()
            .map(|s| ServerEnd {
                server: *s,
                alive: true,
                state: Some(if *s == self.leader {
                    ServerState::Leading
                } else {
                    ServerState::Following
                }),
                last_processed_zxid: last,
                digest,
            })
            .collect();
        let end = EndState {
            end_ns: healed_at_ns + bound_ns + 1,
            heal: Some(Heal {
                healed_at_ns,
                bound_ns,
            }),
            servers,
        };
        (self.records, end)
    }
}
