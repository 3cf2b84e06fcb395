//! Durability ("Reliability" in the Programmer's Guide: once an update has been applied it
//! persists until overwritten):
//!
//! * an acknowledged write (an OK reply) names a committed txn, and that txn is in every later
//!   established leader's history, is never truncated, and is in the final state of every live
//!   server after the heal;
//! * nothing a client observed is rolled back: every committed txn at or below the largest zxid
//!   a client saw in a reply is in every later leader's history;
//! * a restart recovers exactly the tree the server had at the recovered zxid: the digest after
//!   `FileTxnSnapLog.restore` equals the digest that server (or, if it never applied that zxid,
//!   any server) reported at that zxid during the run; and recovery never drops a committed txn
//!   the server had logged.

use super::cluster::ClusterModel;
use super::initial::InitialData;
use super::{EndState, Event, Judge, Verdict, Violation, ViolationKind};
use crate::history::{OpId, Outcome, Record, TimeNs};
use std::collections::BTreeMap;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

const NAME: &str = "durability";

/// The durability judge.
#[derive(Debug, Default)]
pub struct DurabilityJudge {
    model: ClusterModel,
    writes: BTreeMap<OpId, bool>,
    /// Acknowledged writes: zxid → op.
    acked: BTreeMap<Zxid, OpId>,
    /// The largest reply zxid any client saw, and the op.
    observed: Option<(Zxid, OpId)>,
    violations: Vec<Violation>,
    undecided: Vec<String>,
    recoveries_unchecked: usize,
    /// Reloads whose zxid had no recorded digest yet: (server, zxid, digest, how).
    deferred: Vec<(ServerId, Zxid, i64, String)>,
    /// The data the servers boot from: its digest is the one to recover at its zxid.
    initial: Option<InitialData>,
}

impl DurabilityJudge {
    /// A fresh judge.
    pub fn new() -> DurabilityJudge {
        DurabilityJudge::default()
    }

    /// A judge for a run whose servers boot from `initial`.
    pub fn with_initial(initial: Option<InitialData>) -> DurabilityJudge {
        DurabilityJudge {
            initial,
            ..DurabilityJudge::default()
        }
    }

    fn on_completion(&mut self, id: OpId, outcome: &Outcome) -> Option<Violation> {
        let Outcome::Ok { zxid, .. } = outcome else {
            return None;
        };
        if self.observed.is_none_or(|(z, _)| *zxid > z) {
            self.observed = Some((*zxid, id));
        }
        if self.writes.get(&id) != Some(&true) {
            return None;
        }
        self.acked.insert(*zxid, id);
        if self.model.servers.is_empty() || self.model.is_committed(*zxid) {
            return None;
        }
        Some(
            Violation::new(
                NAME,
                ViolationKind::LostAcknowledgedWrite,
                format!(
                    "op {} was acknowledged at {zxid}, which was never committed",
                    id.0
                ),
            )
            .ops([id])
            .zxids([*zxid]),
        )
    }

    /// At establishment: acknowledged and observed txns of earlier epochs are all held.
    fn on_established(&self, leader: ServerId, epoch: Epoch) -> Option<Violation> {
        let s = self.model.servers.get(&leader)?;
        if let Some((zxid, op)) = self
            .acked
            .iter()
            .find(|(z, _)| z.epoch() < epoch && !s.holds(**z))
        {
            let msg = format!(
                "op {} was acknowledged at {zxid}, but {leader} became leader of epoch {epoch} \
                 without it",
                op.0
            );
            return Some(lost(msg, *op, *zxid, leader));
        }
        let (seen, op) = self.observed?;
        let missing = self
            .model
            .committed_zxids()
            .into_iter()
            .find(|z| *z <= seen && z.epoch() < epoch && !s.holds(*z))?;
        Some(
            Violation::new(
                NAME,
                ViolationKind::RolledBack,
                format!(
                    "op {} observed the state at {seen}, but {leader} became leader of epoch \
                     {epoch} without committed txn {missing}",
                    op.0
                ),
            )
            .ops([op])
            .zxids([missing, seen])
            .servers([leader]),
        )
    }

    /// A truncation or a SNAP never drops an acknowledged txn (a TRUNC may cut one its leader
    /// re-sends in the same sync without having counted this server's copy).
    fn on_shrink(
        &self,
        server: ServerId,
        keep_to: Zxid,
        how: &str,
        trunc: bool,
    ) -> Option<Violation> {
        let s = self.model.servers.get(&server)?;
        let resent = |z: Zxid| trunc && self.model.resent_in_sync(server, z);
        let (zxid, op) = self
            .acked
            .range(..)
            .find(|(z, _)| **z > keep_to && s.holds(**z) && !resent(**z))?;
        let msg = format!(
            "{how} on {server} dropped acknowledged write {zxid} (op {})",
            op.0
        );
        Some(
            Violation::new(NAME, ViolationKind::RolledBack, msg)
                .ops([*op])
                .zxids([*zxid])
                .servers([server]),
        )
    }

    fn on_recovery(
        &mut self,
        server: ServerId,
        zxid: Zxid,
        digest: Option<i64>,
    ) -> Option<Violation> {
        let s = self.model.servers.get(&server)?;
        if let Some(lost) = s
            .log
            .iter()
            .map(|h| h.zxid)
            .find(|z| *z > zxid && self.model.is_committed(*z))
        {
            let msg =
                format!("{server} recovered to {zxid} although its log held committed txn {lost}");
            return Some(recovery(msg, server, lost));
        }
        self.on_reload(server, zxid, digest, "recovered")
    }

    /// The tree a server rebuilt from disk at `zxid` must be the tree it (or any server) had
    /// at `zxid`. Without a recorded digest yet, the check waits for the end of the run.
    fn on_reload(
        &mut self,
        server: ServerId,
        zxid: Zxid,
        digest: Option<i64>,
        how: &str,
    ) -> Option<Violation> {
        let Some(now) = digest else {
            if zxid != Zxid::ZERO {
                self.recoveries_unchecked += 1;
            }
            return None;
        };
        let Some(then) = self.recorded_digest(server, zxid) else {
            if zxid != Zxid::ZERO {
                self.deferred.push((server, zxid, now, how.to_string()));
            }
            return None;
        };
        (now != then).then(|| reload_mismatch(server, zxid, now, then, how))
    }

    /// The digest to recover at `zxid`: the initial data's own (recorded in its files) at its
    /// zxid, else the one the server, or any server, reported when it applied `zxid`.
    fn recorded_digest(&self, server: ServerId, zxid: Zxid) -> Option<i64> {
        if let Some(digest) = self
            .initial
            .as_ref()
            .filter(|i| i.zxid == zxid)
            .and_then(|i| i.digest)
        {
            return Some(digest);
        }
        let own = self
            .model
            .servers
            .get(&server)
            .and_then(|s| s.digests.get(&zxid).copied());
        own.or_else(|| {
            self.model
                .servers
                .values()
                .find_map(|o| o.digests.get(&zxid).copied())
        })
        .or_else(|| {
            // The digest the leader computed for the tree after this txn (the proposal's
            // TxnDigest, ZOOKEEPER-3512): for a txn every server only ever replayed (logged
            // everywhere, the ensemble crashed before the COMMIT, the next leader's history).
            let (_, entry) = self.model.proposals.get(&zxid)?;
            entry.digest.map(|d| d.tree_digest)
        })
    }

    /// Deferred reload checks: a digest recorded later settles them; a zxid never applied
    /// anywhere is fine if it was never committed (it was truncated away), undecided otherwise.
    fn check_deferred(&mut self) -> Vec<Violation> {
        let mut found = Vec::new();
        for (server, zxid, now, how) in std::mem::take(&mut self.deferred) {
            match self.recorded_digest(server, zxid) {
                Some(then) if then != now => {
                    found.push(reload_mismatch(server, zxid, now, then, &how))
                }
                Some(_) => {}
                None if self.model.is_committed(zxid) => self.recoveries_unchecked += 1,
                None => {}
            }
        }
        found
    }

    fn check(&mut self, time: TimeNs, observation: &Observation) -> Option<Violation> {
        let _ = time;
        match observation {
            Observation::LeaderEstablished { leader, epoch, .. } => {
                self.on_established(*leader, *epoch)
            }
            Observation::LogTruncated {
                server,
                zxid,
                digest,
            } => self
                .on_shrink(*server, *zxid, &format!("TRUNC to {zxid}"), true)
                .or_else(|| self.on_reload(*server, *zxid, *digest, "reloaded after TRUNC")),
            Observation::SnapshotInstalled { server, zxid, .. } => {
                self.on_shrink(*server, *zxid, &format!("a SNAP at {zxid}"), false)
            }
            Observation::RecoveryFinished {
                server,
                zxid,
                digest,
                ..
            } => self.on_recovery(*server, *zxid, *digest),
            _ => None,
        }
    }

    fn check_end(&self, end: &EndState) -> Vec<Violation> {
        let mut found = Vec::new();
        if end.heal.is_none() {
            return found;
        }
        for s in end.servers.iter().filter(|s| s.alive) {
            let model = self.model.servers.get(&s.server);
            let missing = self.acked.iter().find(|(z, _)| {
                **z > s.last_processed_zxid || model.is_some_and(|m| m.tree_at(**z).is_none())
            });
            if let Some((zxid, op)) = missing {
                let msg = format!(
                    "after the heal {} (at {}) lacks acknowledged write {zxid} (op {})",
                    s.server, s.last_processed_zxid, op.0
                );
                found.push(lost(msg, *op, *zxid, s.server));
            }
        }
        found
    }
}

fn lost(message: String, op: OpId, zxid: Zxid, server: ServerId) -> Violation {
    Violation::new(NAME, ViolationKind::LostAcknowledgedWrite, message)
        .ops([op])
        .zxids([zxid])
        .servers([server])
}

fn reload_mismatch(server: ServerId, zxid: Zxid, now: i64, then: i64, how: &str) -> Violation {
    recovery(
        format!("{server} {how} at {zxid} with digest {now:#x}, but the tree at {zxid} had digest {then:#x}"),
        server,
        zxid,
    )
}

fn recovery(message: String, server: ServerId, zxid: Zxid) -> Violation {
    Violation::new(NAME, ViolationKind::RecoveryMismatch, message)
        .servers([server])
        .zxids([zxid])
}

impl Judge for DurabilityJudge {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, event: Event<'_>) -> Option<Violation> {
        let found = match event.record {
            Record::Invoke(inv) => {
                self.writes.insert(inv.id, inv.request.op_code().is_write());
                None
            }
            Record::Complete(done) => self.on_completion(done.id, &done.outcome),
            Record::Observed(observed) => {
                let found = self.check(observed.time_ns, &observed.observation);
                self.model.apply(observed.time_ns, &observed.observation);
                found
            }
            Record::Watch(_) | Record::Session(_) => None,
        }?;
        let found = found.at(event.line);
        self.violations.push(found.clone());
        Some(found)
    }

    fn finish(&mut self, end: &EndState) -> Verdict {
        let found = self.check_end(end);
        self.violations.extend(found);
        let found = self.check_deferred();
        self.violations.extend(found);
        if self.model.servers.is_empty() && !self.acked.is_empty() {
            self.undecided.push(
                "no server observations: acknowledged writes cannot be traced through leaders"
                    .into(),
            );
        }
        if end.heal.is_none() && !self.acked.is_empty() {
            self.undecided.push(
                "no heal phase: the final state was not checked for acknowledged writes".into(),
            );
        }
        if self.recoveries_unchecked > 0 {
            self.undecided.push(format!(
                "{} reloads from disk (restart or TRUNC) had no digest to compare with",
                self.recoveries_unchecked
            ));
        }
        Verdict::from_parts(
            std::mem::take(&mut self.violations),
            std::mem::take(&mut self.undecided),
        )
    }
}
