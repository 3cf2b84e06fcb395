//! The ZAB invariants, checked online as observations arrive so that a run stops at the first
//! bad step.
//!
//! Terms: a txn ⟨v, z⟩ is *broadcast* by the primary (established leader) of epoch(z) when it
//! emits `Proposed`; a server *delivers* it when it is applied as committed (see
//! [`ClusterModel`]); `G` is the set of txns delivered anywhere so far.
//!
//! Properties from the Zab paper (Junqueira, Reed, Serafini, "Zab: High-performance broadcast for
//! primary-backup systems", DSN 2011, §III) as restated in
//! `zookeeper-specifications/protocol-spec/Zab.tla`:
//!
//! * **Integrity** — a server delivers (or logs) ⟨v, z⟩ only if some primary broadcast ⟨v, z⟩:
//!   every applied or logged header equals the proposed header at that zxid.
//! * **Agreement** (with Zab.tla's `PrefixConsistency`) — if p delivers a and q delivers b then
//!   p delivers b or q delivers a: no two servers deliver different txns at one zxid, and no
//!   server delivers a txn past a zxid that others delivered and it skipped for good.
//! * **TotalOrder** — if a server delivers a before b, every server that delivers b delivers a
//!   before b: a delivery of b by q while G holds an a < b that q never delivered, b ∈ G.
//! * **LocalPrimaryOrder** — if a primary broadcasts a before b, a server delivering b delivers
//!   a before b: a primary's proposals are consecutive zxids of its epoch, its commits in order,
//!   and a delivery of (e, c) requires (e, c − 1) first; an apply within an epoch never goes back.
//! * **GlobalPrimaryOrder** — a txn of an earlier epoch is never delivered after one of a later
//!   epoch (an apply that goes back across epochs).
//! * **PrimaryIntegrity** — if the primary of epoch e broadcasts a, and some server delivers b
//!   broadcast by a primary of an earlier epoch, the epoch-e primary delivered b before
//!   broadcasting a: at its first proposal, its DataTree holds every delivered txn of earlier
//!   epochs, and no earlier-epoch txn is delivered later that it lacked.
//! * **Leadership** — Zab.tla `Leadership1`: no two servers LEADING in SYNCHRONIZATION or
//!   BROADCAST with one epoch; `Leadership2`: at most one established leader per epoch; and only
//!   the established leader of epoch e proposes zxids of epoch e.
//!
//! Implementation invariants from the authors' specs (Disalg-ICS-NJU `zookeeper-tla-spec`,
//! Remix, EuroSys'25):
//!
//! * **LeaderLogCompleteness** — a leader, when established, holds every txn ever committed
//!   (quorum-acked or delivered) in an earlier epoch.
//! * **CommittedLogMonotonicity** — a leader in BROADCAST always holds every committed txn: when
//!   it enters BROADCAST and whenever a txn of its epoch or earlier is delivered.
//! * **ProcessConsistency** — a follower that accepted NEWLEADER (persisted `currentEpoch`) has
//!   a log that is a prefix of its leader's history.
//! * **CommittedLogDurability** — a truncation (TRUNC, or a SNAP replacing the log) never
//!   removes a committed txn.
//!
//! And the start-up checks of `QuorumPeer.loadDataBase` (**EpochMonotonicity**): the durable
//! `acceptedEpoch` and `currentEpoch` never go back and `currentEpoch ≤ acceptedEpoch`.

mod delivery;
mod leadership;

use super::cluster::ClusterModel;
use super::{EndState, Event, Judge, Verdict, Violation, ViolationKind};
use crate::history::Record;
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::observe::Observation;
use zabsim_protocol::types::{Epoch, Zxid};

const NAME: &str = "zab";

/// The ZAB invariants judge.
#[derive(Debug, Default)]
pub struct ZabJudge {
    model: ClusterModel,
    violations: Vec<Violation>,
    /// Per epoch: the zxids of earlier epochs its primary held at its first proposal.
    primary_initial: BTreeMap<Epoch, BTreeSet<Zxid>>,
    /// Per epoch: the last zxid proposed and the last committed.
    last_proposed: BTreeMap<Epoch, Zxid>,
    last_quorum_commit: BTreeMap<Epoch, Zxid>,
    applies: usize,
    /// The largest zxid a server recovered before anything was proposed in this run: data the
    /// run started with, which no primary of this run broadcast.
    preexisting: Zxid,
}

impl ZabJudge {
    /// A fresh judge.
    pub fn new() -> ZabJudge {
        ZabJudge::default()
    }

    /// The cluster model it keeps (for reports).
    pub fn model(&self) -> &ClusterModel {
        &self.model
    }

    fn check(&mut self, observation: &Observation) -> Option<Violation> {
        match observation {
            Observation::AcceptedEpochPersisted { .. }
            | Observation::CurrentEpochPersisted { .. }
            | Observation::RecoveryFinished { .. } => self.check_epochs(observation),
            Observation::LeaderEstablished { leader, epoch, .. } => {
                self.check_established(*leader, *epoch)
            }
            Observation::ZabStateChanged {
                server, zab_state, ..
            } => self.check_phase(*server, *zab_state),
            Observation::Proposed { leader, entry } => self.check_proposed(*leader, entry),
            Observation::ProposalLogged { server, header } => {
                self.check_integrity(*server, header, "logged")
            }
            Observation::Committed { leader, zxid, .. } => self.check_commit(*leader, *zxid),
            Observation::TxnApplied {
                server,
                header,
                reason,
                ..
            } => self.check_applied(*server, header, *reason),
            Observation::LogTruncated { server, zxid, .. } => self.check_truncation(*server, *zxid),
            Observation::SnapshotInstalled { server, zxid, .. } => {
                self.check_snapshot_install(*server, *zxid)
            }
            _ => None,
        }
    }
}

fn violation(kind: ViolationKind, message: String) -> Violation {
    Violation::new(NAME, kind, message)
}

impl Judge for ZabJudge {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, event: Event<'_>) -> Option<Violation> {
        let Record::Observed(observed) = event.record else {
            return None;
        };
        if let Observation::RecoveryFinished { zxid, .. } = &observed.observation {
            if self.model.proposals.is_empty() {
                self.preexisting = self.preexisting.max(*zxid);
            }
        }
        let found = self.check(&observed.observation).map(|v| v.at(event.line));
        self.model.apply(observed.time_ns, &observed.observation);
        if let Some(v) = &found {
            self.violations.push(v.clone());
        }
        found
    }

    fn finish(&mut self, _end: &EndState) -> Verdict {
        let mut undecided = Vec::new();
        if self.applies > 0 && self.model.proposals.is_empty() {
            undecided.push(
                "txns were applied but no Proposed observation was recorded: Integrity and the \
                 primary-order properties cannot be checked"
                    .to_string(),
            );
        }
        if self.model.servers.is_empty() {
            undecided.push("no server observations in the history".to_string());
        }
        Verdict::from_parts(std::mem::take(&mut self.violations), undecided)
    }
}
