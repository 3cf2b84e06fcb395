//! ZooKeeper's consistency guarantees — what it actually promises, which is less than
//! linearizability (Programmer's Guide, "Consistency Guarantees"; ZooKeeper Internals):
//!
//! * **Writes are linearizable**: the zxid order is the linearization, so it must agree with
//!   real time (a write that returned before another was invoked has the smaller zxid), and
//!   replaying the committed writes in zxid order through the independent
//!   [reference model](crate::reference) must reproduce every result a client got.
//! * **Per-session FIFO**: a session's replies arrive in request order and its writes get
//!   increasing zxids.
//! * **Reads are sequentially consistent**: a read returns the reference state at the zxid in its
//!   reply header ([`ReadWitness::Exact`]; or, with [`ReadWitness::Window`], at some zxid
//!   between the session's last seen zxid and the reply's), never a state containing a write that
//!   was not yet committed when the read returned, and a session's reply zxids never go back,
//!   even across reconnects (single system image).
//! * **sync then read**, as ZooKeeper really guarantees it: `sync` is a flush through the leader,
//!   not a quorum operation, so under a stale leader it is *not* linearizable (ZOOKEEPER-1675).
//!   What holds: a sync answered by a follower has a reply zxid at least that of every write
//!   that completed before the sync was invoked *in the sync's own epoch*; a later read of the
//!   session is then at least that fresh (monotonic zxids).
//! * **Atomic multi** and **sequential names unique and increasing** per parent.
//!
//! `removeWatches` and `checkWatches` answer from the server's watch table, not the tree: their
//! results are judged by the sessions judge; here they only take part in the session-order
//! checks.
//!
//! The witness is the committed txn stream from the observations (`Proposed` bodies, commits),
//! matched to client operations by the txn header's (session, cxid). Operations with an
//! unknown outcome are placed exactly where their txn committed, or nowhere. Without
//! observations the judge falls back on the reply zxids of determinate writes; it then cannot
//! see unknown writes or session txns, and a result it cannot explain is undecided, not a
//! violation.

mod compare;
mod outcomes;
mod realtime;
mod replay;
mod session;
mod witness;

use super::cluster::ClusterModel;
use super::initial::InitialData;
use super::{EndState, Event, Judge, JudgeConfig, Verdict, Violation};
use crate::history::{Outcome, Record, TimeNs};
use std::collections::BTreeMap;
use zabsim_protocol::observe::ServerState;
use zabsim_protocol::request::Request;
use zabsim_protocol::types::{ServerId, SessionId, Xid, Zxid};

const NAME: &str = "consistency";

/// How a read's value is tied to its reply zxid.
///
/// ZooKeeper's `FinalRequestProcessor` reads `lastProcessedZxid` for the reply header of a read
/// in the same step that answers it, and its `CommitProcessor` applies a committed write only
/// when no read is in flight, so the exact witness is what ZooKeeper guarantees. The window is a
/// weaker setting for servers whose pipelines do not make that guarantee.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadWitness {
    /// The value equals the reference state at exactly the reply zxid.
    #[default]
    Exact,
    /// The value equals the reference state at some zxid between the session's last seen zxid
    /// and the reply zxid.
    Window,
}

/// One operation as the judge keeps it.
#[derive(Clone, Debug)]
pub(crate) struct Op {
    pub id: crate::history::OpId,
    pub session: SessionId,
    pub server: Option<ServerId>,
    pub xid: Xid,
    pub request: Request,
    pub invoke_ns: TimeNs,
    pub outcome: Option<Outcome>,
    pub complete_ns: Option<TimeNs>,
    pub complete_line: Option<usize>,
    /// The session's largest reply zxid before this op was invoked (for the read window).
    pub seen_before: zabsim_protocol::types::Zxid,
    /// Whether the server that answered was LEADING at the reply (for sync freshness).
    pub answered_by_leader: bool,
}

impl Op {
    pub fn is_write(&self) -> bool {
        self.request.op_code().is_write()
    }

    pub fn is_determinate(&self) -> bool {
        matches!(
            self.outcome,
            Some(Outcome::Ok { .. } | Outcome::Error { .. })
        )
    }
}

/// The consistency judge.
#[derive(Debug)]
pub struct ConsistencyJudge {
    config: JudgeConfig,
    model: ClusterModel,
    ops: Vec<Op>,
    index: BTreeMap<crate::history::OpId, usize>,
    sessions: session::SessionTracker,
    violations: Vec<Violation>,
    undecided: Vec<String>,
    /// A server recovered data before this run proposed anything: the initial tree is unknown.
    preexisting: bool,
    /// The data the servers boot from, if any.
    initial: Option<InitialData>,
}

impl ConsistencyJudge {
    /// A fresh judge.
    pub fn new(config: JudgeConfig) -> ConsistencyJudge {
        ConsistencyJudge::with_initial(config, None)
    }

    /// A judge for a run whose servers boot from `initial`: its txns seed the reference model.
    pub fn with_initial(config: JudgeConfig, initial: Option<InitialData>) -> ConsistencyJudge {
        ConsistencyJudge {
            initial,
            config,
            model: ClusterModel::new(),
            ops: Vec::new(),
            index: BTreeMap::new(),
            sessions: session::SessionTracker::default(),
            violations: Vec::new(),
            undecided: Vec::new(),
            preexisting: false,
        }
    }

    fn known_zxid(&self) -> Zxid {
        self.initial
            .as_ref()
            .map_or(Zxid::ZERO, InitialData::known_zxid)
    }

    fn on_invoke(&mut self, inv: &crate::history::Invocation) {
        let seen_before = self.sessions.last_seen(inv.session);
        self.sessions.on_invoke(inv.session, inv.id);
        self.index.insert(inv.id, self.ops.len());
        self.ops.push(Op {
            id: inv.id,
            session: inv.session,
            server: inv.server,
            xid: inv.xid,
            request: inv.request.clone(),
            invoke_ns: inv.time_ns,
            outcome: None,
            complete_ns: None,
            complete_line: None,
            seen_before,
            answered_by_leader: false,
        });
    }

    fn on_complete(&mut self, line: usize, done: &crate::history::Completion) -> Option<Violation> {
        let &i = self.index.get(&done.id)?;
        let leader_now = |server: Option<ServerId>| {
            server
                .and_then(|s| self.model.servers.get(&s))
                .is_some_and(|s| s.state == ServerState::Leading)
        };
        let answered_by_leader = leader_now(self.ops.get(i)?.server);
        let op = self.ops.get_mut(i)?;
        op.outcome = Some(done.outcome.clone());
        op.complete_ns = Some(done.time_ns);
        op.complete_line = Some(line);
        op.answered_by_leader = answered_by_leader;
        let op = self.ops.get(i)?;
        self.sessions.on_complete(op, &self.ops)
    }
}

impl Judge for ConsistencyJudge {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, event: Event<'_>) -> Option<Violation> {
        let found = match event.record {
            Record::Invoke(inv) => {
                self.on_invoke(inv);
                None
            }
            Record::Complete(done) => self.on_complete(event.line, done),
            Record::Observed(o) => {
                if let zabsim_protocol::observe::Observation::RecoveryFinished { zxid, .. } =
                    &o.observation
                {
                    let before_any_proposal = self.model.proposals.is_empty();
                    let known = self.known_zxid();
                    // An epoch's first zxid (e, 0) names no txn: a server that synced with a
                    // leader of a new epoch before any proposal and recovered there holds
                    // nothing the model does not know.
                    let names_a_txn = zxid.counter() != 0;
                    self.preexisting |= before_any_proposal && *zxid > known && names_a_txn;
                }
                self.model.apply(o.time_ns, &o.observation);
                None
            }
            Record::Watch(_) | Record::Session(_) => None,
        }?;
        let found = found.at(event.line);
        self.violations.push(found.clone());
        Some(found)
    }

    fn finish(&mut self, _end: &EndState) -> Verdict {
        let mut witness = witness::Witness::build(&self.model, &self.ops, self.known_zxid());
        if self.preexisting {
            witness.complete = false;
            witness.gaps.push(
                "the run started from data recovered from disk, which the reference model does \
                 not know"
                    .to_string(),
            );
        }
        self.undecided.extend(witness.gaps.iter().cloned());
        let mut found = witness.problems.clone();
        found.extend(realtime::check(&self.ops, &witness, &self.model));
        found.extend(outcomes::check(&self.ops, &witness));
        let initial_txns = self
            .initial
            .as_ref()
            .and_then(|i| i.txns.as_deref())
            .unwrap_or(&[]);
        let replayed = replay::replay(&self.config, &self.ops, &witness, initial_txns);
        found.extend(replayed.violations);
        self.undecided.extend(replayed.undecided);
        self.violations.extend(found);
        if self.ops.is_empty() {
            self.undecided
                .push("no client operations in the history".to_string());
        }
        Verdict::from_parts(
            std::mem::take(&mut self.violations),
            std::mem::take(&mut self.undecided),
        )
    }
}
