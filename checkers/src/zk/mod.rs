//! ZooKeeper-specific judges: consistency model, durability, replica agreement, ZAB invariants,
//! liveness, sessions and watches.
//!
//! Every judge consumes the same stream — the history's [`Record`]s in file order, client
//! records and server [`Observed`](crate::history::Observed) facts interleaved by virtual time —
//! through [`Judge::observe`], then gives its [`Verdict`] in [`Judge::finish`] with the cluster's
//! [`EndState`]. Cheap checks run online, so a run can stop at the first bad step; the expensive
//! ones (replaying the reference model) run at the end.
//!
//! A judge that cannot decide says [`Verdict::Undecided`] with the reason; it never reports a
//! pass it did not establish.
//!
//! | Judge (file) | Guarantee | Source |
//! |---|---|---|
//! | `consistency` ([`consistency`]) | writes linearizable (zxid order agrees with real time); results explained by replaying the reference model in zxid order | ZooKeeper Programmer's Guide, "Consistency Guarantees" (sequential consistency, atomicity); ZooKeeper Internals, consistency section (ZOOKEEPER-3522) |
//! | | per-session FIFO: a session's replies in request order, its writes applied in order | Programmer's Guide: "updates from a client will be applied in the order that they were sent" |
//! | | reads sequentially consistent: at the state of their reply zxid, never from the future, a session's zxids never go back, even across reconnects | Programmer's Guide: "Single System Image"; Lev-Ari et al., ordered sequential consistency |
//! | | `sync` then read sees every write committed before the sync in the sync's epoch (not linearizable under a stale leader) | Programmer's Guide, `sync`; ZooKeeper Internals; ZOOKEEPER-1675 |
//! | | multi all-or-nothing; sequential names unique and increasing per parent | Programmer's Guide, "Atomicity", "Sequence Nodes" |
//! | `durability` ([`durability`]) | an acknowledged write survives every later crash, election and recovery; nothing observed is rolled back; recovery reproduces the tree at the recovered zxid | Programmer's Guide "Reliability"; zab-protocol §13.3 (2, 4); LeaderLogCompleteness (Remix) |
//! | `agreement` ([`agreement`]) | same zxid ⇒ same txn and digest on every server; convergence after the heal | Zab TLA+ `PrefixConsistency`; ZooKeeper digest (ZOOKEEPER-3512) |
//! | `zab` ([`zab`]) | Integrity, Agreement, TotalOrder, LocalPrimaryOrder, GlobalPrimaryOrder, PrimaryIntegrity | Zab paper (Junqueira, Reed, Serafini, DSN 2011) §III; `zookeeper-specifications/protocol-spec/Zab.tla` |
//! | | one established leader per epoch | Zab.tla `Leadership1`, `Leadership2` |
//! | | CommittedLogMonotonicity, ProcessConsistency, LeaderLogCompleteness, CommittedLogDurability | Disalg-ICS-NJU `zookeeper-tla-spec`, Remix (EuroSys'25) |
//! | | acceptedEpoch ≥ currentEpoch, both monotone | `QuorumPeer.loadDataBase` start-up checks; zab-protocol §3 |
//! | `liveness` ([`liveness`]) | after the heal: a leader established, syncs finished, sessions reconnected or expired, operations completed, within the scenario's bound | zab-protocol §13.3 (7); TigerBeetle VOPR liveness mode |
//! | `sessions` ([`sessions`]) | a triggered one-shot watch fires exactly once and before its client can see the change; ephemerals vanish exactly when their session ends | Programmer's Guide "ZooKeeper Watches", "Ephemeral Nodes"; zab-protocol §10 |

pub mod agreement;
pub mod cluster;
pub mod consistency;
pub mod durability;
pub mod ideal;
pub mod initial;
pub mod liveness;
pub mod sessions;
mod violation;
pub mod zab;

pub use violation::{Violation, ViolationKind};

use crate::history::{History, Record, TimeNs};
use serde::{Deserialize, Serialize};
use zabsim_protocol::observe::ServerState;
use zabsim_protocol::types::{ServerId, Zxid};

/// One record of the stream a judge consumes.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// 1-based history line.
    pub line: usize,
    /// The record.
    pub record: &'a Record,
}

/// A server at the end of the run (after the heal phase).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerEnd {
    /// The server.
    pub server: ServerId,
    /// Whether its process is running.
    pub alive: bool,
    /// Its peer state, if running.
    pub state: Option<ServerState>,
    /// Its `lastProcessedZxid`.
    pub last_processed_zxid: Zxid,
    /// Its DataTree digest, if digests are on.
    pub digest: Option<i64>,
}

/// The heal phase: when faults stopped and how long the cluster has to recover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heal {
    /// Virtual time at which the last fault was healed.
    pub healed_at_ns: TimeNs,
    /// The scenario's liveness bound: everything must have settled by `healed_at_ns + bound`.
    pub bound_ns: u64,
}

/// What the judges get at the end of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndState {
    /// Virtual time at the end of the run.
    pub end_ns: TimeNs,
    /// The heal phase, if the scenario had one (liveness is judged only then).
    pub heal: Option<Heal>,
    /// Every server's final state.
    pub servers: Vec<ServerEnd>,
}

/// A judge's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Every guarantee this judge checks was established.
    Pass,
    /// At least one guarantee broke.
    Violation(Vec<Violation>),
    /// The judge could not decide; the reason says why.
    Undecided(String),
}

impl Verdict {
    /// Whether this is a pass.
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// The violations, if any.
    pub fn violations(&self) -> &[Violation] {
        match self {
            Verdict::Violation(v) => v,
            _ => &[],
        }
    }

    /// Combines what a judge found: violations win; otherwise the first undecided reason; else
    /// pass.
    pub fn from_parts(violations: Vec<Violation>, undecided: Vec<String>) -> Verdict {
        if !violations.is_empty() {
            return Verdict::Violation(violations);
        }
        match undecided.into_iter().next() {
            Some(reason) => Verdict::Undecided(reason),
            None => Verdict::Pass,
        }
    }
}

/// A judge: consumes the stream, then decides.
pub trait Judge {
    /// The judge's name (as in the table above).
    fn name(&self) -> &'static str;
    /// One record; returns a violation as soon as one is proven.
    fn observe(&mut self, event: Event<'_>) -> Option<Violation>;
    /// The verdict, given the end state. Includes the violations already returned by `observe`.
    fn finish(&mut self, end: &EndState) -> Verdict;
}

/// Settings shared by the judges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JudgeConfig {
    /// Reference-model switches (extended types, system nodes).
    pub reference: crate::reference::ReferenceConfig,
    /// How exactly a read's value is tied to its reply zxid.
    pub read_witness: consistency::ReadWitness,
}

/// Every judge, in the order of the table above.
pub fn all_judges(config: JudgeConfig) -> Vec<Box<dyn Judge>> {
    all_judges_from(config, None)
}

/// Every judge, told about the data the servers boot from (`None`: empty data directories).
pub fn all_judges_from(
    config: JudgeConfig,
    initial: Option<initial::InitialData>,
) -> Vec<Box<dyn Judge>> {
    vec![
        Box::new(consistency::ConsistencyJudge::with_initial(
            config,
            initial.clone(),
        )),
        Box::new(durability::DurabilityJudge::with_initial(initial)),
        Box::new(agreement::AgreementJudge::new()),
        Box::new(zab::ZabJudge::new()),
        Box::new(liveness::LivenessJudge::new()),
        Box::new(sessions::SessionsJudge::new()),
    ]
}

/// Runs `judges` over a whole history; returns each judge's name and verdict. With
/// `stop_at_first`, the stream stops at the first online violation (the others still finish).
pub fn judge_history(
    history: &History,
    end: &EndState,
    judges: &mut [Box<dyn Judge>],
    stop_at_first: bool,
) -> Vec<(&'static str, Verdict)> {
    'stream: for (i, record) in history.records.iter().enumerate() {
        let event = Event {
            line: i + 1,
            record,
        };
        for judge in judges.iter_mut() {
            if judge.observe(event).is_some() && stop_at_first {
                break 'stream;
            }
        }
    }
    judges
        .iter_mut()
        .map(|j| (j.name(), j.finish(end)))
        .collect()
}
