//! Replica agreement: at every step, the same zxid means the same txn and the same DataTree
//! digest on every server (ZooKeeper's digest feature, ZOOKEEPER-3512, exists for exactly this);
//! after the heal phase all live servers converge to one point of the history and one digest
//! (a new leader's `(epoch, 0)` marker, which a SNAP hands on, is the point of the last txn).
//!
//! Digests are compared after ordinary applies, SNAP installs and at the end; applies replayed
//! during recovery are compared by txn only (a fuzzy snapshot makes the digests in the middle of
//! a replay meaningless). Without any digest the judge can only establish txn agreement and
//! says so (undecided), rather than passing.

use super::{EndState, Event, Judge, Verdict, Violation, ViolationKind};
use crate::history::Record;
use std::collections::BTreeMap;
use std::ops::Bound;
use zabsim_protocol::observe::{ApplyReason, Observation};
use zabsim_protocol::txn::TxnHeader;
use zabsim_protocol::types::{ServerId, Zxid};

const NAME: &str = "agreement";

/// The replica agreement judge.
#[derive(Debug, Default)]
pub struct AgreementJudge {
    /// First txn seen applied at each zxid, and by whom.
    txns: BTreeMap<Zxid, (TxnHeader, ServerId)>,
    /// First digest seen after each zxid, and by whom.
    digests: BTreeMap<Zxid, (i64, ServerId)>,
    violations: Vec<Violation>,
    applies: usize,
}

impl AgreementJudge {
    /// A fresh judge.
    pub fn new() -> AgreementJudge {
        AgreementJudge::default()
    }

    fn check_txn(&mut self, server: ServerId, header: &TxnHeader) -> Option<Violation> {
        let zxid = header.zxid;
        let (first, by) = self.txns.entry(zxid).or_insert((*header, server));
        if first == header {
            return None;
        }
        Some(
            Violation::new(
                NAME,
                ViolationKind::ReplicaDivergence,
                format!(
                    "at {zxid}: {by} applied a {} of session {}, {server} a {} of session {}",
                    first.txn_type.name(),
                    first.client_id,
                    header.txn_type.name(),
                    header.client_id
                ),
            )
            .servers([*by, server])
            .zxids([zxid]),
        )
    }

    fn check_digest(&mut self, server: ServerId, zxid: Zxid, digest: i64) -> Option<Violation> {
        let (first, by) = self.digests.entry(zxid).or_insert((digest, server));
        if *first == digest {
            return None;
        }
        Some(
            Violation::new(
                NAME,
                ViolationKind::ReplicaDivergence,
                format!(
                    "diverging digests at {zxid}: {by} has {first:#x}, {server} has {digest:#x}"
                ),
            )
            .servers([*by, server])
            .zxids([zxid]),
        )
    }

    fn check(&mut self, observation: &Observation) -> Option<Violation> {
        match observation {
            Observation::TxnApplied {
                server,
                header,
                reason,
                digest,
            } => {
                self.applies += 1;
                let found = self.check_txn(*server, header);
                match (found, digest, reason) {
                    (Some(v), _, _) => Some(v),
                    (None, Some(d), r) if *r != ApplyReason::Recovery => {
                        self.check_digest(*server, header.zxid, *d)
                    }
                    _ => None,
                }
            }
            Observation::SnapshotInstalled {
                server,
                zxid,
                digest: Some(d),
            } => self.check_digest(*server, *zxid, *d),
            _ => None,
        }
    }

    /// Whether two servers' last zxids name the same point of the history. A zxid with counter
    /// 0 names no txn: it is a new leader's `lastProcessedZxid` (`Leader.startZkServer` sets it
    /// to `(epoch, 0)`), which a SNAP from that leader hands on. It is the same point as a lower
    /// zxid when no server applied a txn in between.
    fn same_point(&self, a: Zxid, b: Zxid) -> bool {
        let (lo, hi) = (a.min(b), a.max(b));
        lo == hi
            || (hi.counter() == 0
                && self
                    .txns
                    .range((Bound::Excluded(lo), Bound::Included(hi)))
                    .next()
                    .is_none())
    }

    fn check_convergence(&mut self, end: &EndState) -> Vec<Violation> {
        let live: Vec<_> = end.servers.iter().filter(|s| s.alive).collect();
        let mut found = Vec::new();
        let Some(first) = live.first() else {
            return found;
        };
        for s in &live[1..] {
            let same = self.same_point(s.last_processed_zxid, first.last_processed_zxid);
            if !same || s.digest != first.digest {
                found.push(
                    Violation::new(
                        NAME,
                        ViolationKind::NotConverged,
                        format!(
                            "after the heal {} is at {} (digest {:?}) and {} at {} (digest {:?})",
                            first.server,
                            first.last_processed_zxid,
                            first.digest,
                            s.server,
                            s.last_processed_zxid,
                            s.digest
                        ),
                    )
                    .servers([first.server, s.server])
                    .zxids([first.last_processed_zxid, s.last_processed_zxid]),
                );
            }
        }
        found
    }
}

impl Judge for AgreementJudge {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, event: Event<'_>) -> Option<Violation> {
        let Record::Observed(observed) = event.record else {
            return None;
        };
        let found = self.check(&observed.observation)?.at(event.line);
        self.violations.push(found.clone());
        Some(found)
    }

    fn finish(&mut self, end: &EndState) -> Verdict {
        let mut undecided = Vec::new();
        for s in end.servers.iter().filter(|s| s.alive) {
            if let Some(d) = s.digest {
                if let Some(v) = self.check_digest(s.server, s.last_processed_zxid, d) {
                    self.violations.push(v);
                }
            }
        }
        let reached_deadline = end
            .heal
            .is_some_and(|h| end.end_ns >= h.healed_at_ns.saturating_add(h.bound_ns));
        if end.heal.is_some() && !reached_deadline {
            // A guard rail or a stall ended the run before the cluster had its time to settle:
            // convergence was not established, and not disproved either.
            undecided.push(format!(
                "the run ended at {} ns, before the liveness deadline: convergence not judged",
                end.end_ns
            ));
        }
        if reached_deadline {
            let found = self.check_convergence(end);
            self.violations.extend(found);
            if end.servers.iter().all(|s| !s.alive) {
                undecided.push("no live server at the end to check convergence".into());
            }
        }
        if self.applies == 0 && end.servers.is_empty() {
            undecided.push("no applied txns and no end state: nothing to compare".into());
        } else if self.digests.is_empty() {
            undecided.push(
                "no digests were reported: txn agreement holds, digest agreement is unchecked"
                    .into(),
            );
        }
        Verdict::from_parts(std::mem::take(&mut self.violations), undecided)
    }
}
