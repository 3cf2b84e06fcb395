//! Delivery: Integrity, Agreement, TotalOrder, Local/GlobalPrimaryOrder, PrimaryIntegrity and
//! CommittedLogMonotonicity when a txn is applied; CommittedLogDurability when a log shrinks.

use super::{violation, ZabJudge};
use crate::zk::{Violation, ViolationKind};
use zabsim_protocol::observe::ApplyReason;
use zabsim_protocol::txn::TxnHeader;
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

impl ZabJudge {
    /// Integrity: the header equals what a primary proposed at that zxid.
    pub(super) fn check_integrity(
        &mut self,
        server: ServerId,
        header: &TxnHeader,
        what: &str,
    ) -> Option<Violation> {
        let zxid = header.zxid;
        if self.model.proposals.is_empty() || zxid <= self.preexisting {
            return None; // no Proposed stream at all (finish() says so), or data from before the run
        }
        let problem = match self.model.proposals.get(&zxid) {
            None => format!("{server} {what} {zxid}, which no primary broadcast"),
            Some((_, entry)) if entry.header != *header => {
                format!("{server} {what} {zxid} with a header other than the one broadcast")
            }
            Some(_) => return None,
        };
        Some(
            violation(ViolationKind::Integrity, problem)
                .servers([server])
                .zxids([zxid]),
        )
    }

    /// Commits of one leader are in zxid order and of its own proposals.
    pub(super) fn check_commit(&mut self, leader: ServerId, zxid: Zxid) -> Option<Violation> {
        let epoch = zxid.epoch();
        let previous = self.last_quorum_commit.insert(epoch, zxid);
        if let Some(prev) = previous.filter(|p| *p >= zxid) {
            let msg = format!("{leader} committed {zxid} after {prev} (commits must be in order)");
            return Some(
                violation(ViolationKind::LocalPrimaryOrder, msg)
                    .servers([leader])
                    .zxids([prev, zxid]),
            );
        }
        match self.model.proposals.get(&zxid) {
            Some((proposer, _)) if *proposer != leader => Some(
                violation(
                    ViolationKind::Leadership,
                    format!("{leader} committed {zxid}, which {proposer} proposed"),
                )
                .servers([leader, *proposer])
                .zxids([zxid]),
            ),
            None if !self.model.proposals.is_empty() => Some(
                violation(
                    ViolationKind::Integrity,
                    format!("{leader} committed {zxid}, which no primary broadcast"),
                )
                .servers([leader])
                .zxids([zxid]),
            ),
            _ => None,
        }
    }

    pub(super) fn check_applied(
        &mut self,
        server: ServerId,
        header: &TxnHeader,
        reason: ApplyReason,
    ) -> Option<Violation> {
        self.applies += 1;
        if let Some(v) = self.check_integrity(server, header, "applied") {
            return Some(v);
        }
        if let Some(v) = self.check_apply_order(server, header, reason) {
            return Some(v);
        }
        if reason != ApplyReason::Commit {
            return None;
        }
        self.check_agreement(server, header)
            .or_else(|| self.check_local_primary_order(server, header.zxid))
            .or_else(|| self.check_late_primary_integrity(server, header.zxid))
            .or_else(|| self.check_leader_holds(header.zxid))
    }

    /// A server applies in zxid order (replays during recovery may repeat a fuzzy snapshot's
    /// txns, nothing else may).
    fn check_apply_order(
        &self,
        server: ServerId,
        header: &TxnHeader,
        reason: ApplyReason,
    ) -> Option<Violation> {
        let s = self.model.servers.get(&server)?;
        let last = s.last_processed();
        if header.zxid > last || reason == ApplyReason::Recovery {
            return None;
        }
        let kind = if last.epoch() == header.zxid.epoch() {
            ViolationKind::LocalPrimaryOrder
        } else {
            ViolationKind::GlobalPrimaryOrder
        };
        Some(
            violation(
                kind,
                format!("{server} applied {} after {last} ({reason:?})", header.zxid),
            )
            .servers([server])
            .zxids([last, header.zxid]),
        )
    }

    /// Agreement and TotalOrder against G, the txns delivered anywhere.
    fn check_agreement(&self, server: ServerId, header: &TxnHeader) -> Option<Violation> {
        let zxid = header.zxid;
        let s = self.model.servers.get(&server)?;
        let g = &self.model.delivered;
        if let Some(other) = g.get(&zxid).filter(|h| *h != header) {
            let msg = format!(
                "{server} delivered {zxid} as a {} of session {}, another server delivered a {} \
                 of session {}",
                header.txn_type.name(),
                header.client_id,
                other.txn_type.name(),
                other.client_id
            );
            return Some(
                violation(ViolationKind::Agreement, msg)
                    .servers([server])
                    .zxids([zxid]),
            );
        }
        let lower = s.last_committed;
        if let Some((&skipped, _)) = g
            .range(lower..zxid)
            .find(|(z, _)| **z > lower && s.tree_at(**z).is_none())
        {
            let kind = if g.contains_key(&zxid) {
                ViolationKind::TotalOrder
            } else {
                ViolationKind::Agreement
            };
            let msg = format!(
                "{server} delivered {zxid} without {skipped}, which was delivered elsewhere"
            );
            return Some(
                violation(kind, msg)
                    .servers([server])
                    .zxids([skipped, zxid]),
            );
        }
        let extra = s
            .tree
            .iter()
            .filter(|h| h.zxid > lower && h.zxid < zxid)
            .find(|h| !g.contains_key(&h.zxid) && g.range(h.zxid..).next().is_some())?;
        Some(
            violation(
                ViolationKind::Agreement,
                format!(
                    "{server} delivered {} which the servers that delivered later txns skipped",
                    extra.zxid
                ),
            )
            .servers([server])
            .zxids([extra.zxid, zxid]),
        )
    }

    /// Delivering (e, c) needs (e, c − 1) first: the primary broadcast it before.
    fn check_local_primary_order(&self, server: ServerId, zxid: Zxid) -> Option<Violation> {
        if zxid.counter() <= 1 {
            return None;
        }
        let previous = Zxid::new(zxid.epoch(), zxid.counter() - 1);
        let s = self.model.servers.get(&server)?;
        if s.tree_at(previous).is_some() {
            return None;
        }
        Some(
            violation(
                ViolationKind::LocalPrimaryOrder,
                format!("{server} delivered {zxid} without first delivering {previous}"),
            )
            .servers([server])
            .zxids([previous, zxid]),
        )
    }

    /// An earlier-epoch txn delivered now must have been held by every later primary when it
    /// started broadcasting.
    fn check_late_primary_integrity(&self, server: ServerId, zxid: Zxid) -> Option<Violation> {
        let later = Epoch(zxid.epoch().0.saturating_add(1));
        let (epoch, _) = self
            .primary_initial
            .range(later..)
            .find(|(_, held)| !held.contains(&zxid))?;
        let primary = self.model.epoch_leader.get(epoch).copied();
        Some(
            violation(
                ViolationKind::PrimaryIntegrity,
                format!(
                    "{server} delivered {zxid}, but the primary of epoch {epoch} had started \
                     broadcasting without it"
                ),
            )
            .servers([server].into_iter().chain(primary))
            .zxids([zxid]),
        )
    }

    /// CommittedLogMonotonicity: every broadcasting leader of this epoch or later holds it. A
    /// leader holds what it proposed from the moment it proposes it (Zab.tla appends the txn to
    /// the leader's history then): a quorum of followers may commit it before the leader's own
    /// log write finishes, as in ZooKeeper.
    fn check_leader_holds(&self, zxid: Zxid) -> Option<Violation> {
        let proposer = self.model.proposals.get(&zxid).map(|(leader, _)| *leader);
        let (leader, _) = self.model.servers.iter().find(|(sid, s)| {
            s.is_broadcasting_leader()
                && s.accepted_epoch >= zxid.epoch()
                && !s.holds(zxid)
                && proposer != Some(**sid)
        })?;
        Some(
            violation(
                ViolationKind::CommittedLogMonotonicity,
                format!(
                    "{zxid} was delivered but the broadcasting leader {leader} does not hold it"
                ),
            )
            .servers([*leader])
            .zxids([zxid]),
        )
    }

    /// CommittedLogDurability on TRUNC.
    pub(super) fn check_truncation(&mut self, server: ServerId, zxid: Zxid) -> Option<Violation> {
        let s = self.model.servers.get(&server)?;
        let lost = s
            .log
            .iter()
            .chain(s.tree.iter())
            .map(|h| h.zxid)
            .filter(|z| *z > zxid && !self.model.resent_in_sync(server, *z))
            .find(|z| self.model.is_committed(*z))?;
        Some(truncated_committed(
            server,
            lost,
            &format!("TRUNC to {zxid}"),
        ))
    }

    /// CommittedLogDurability when a SNAP sync replaces the log.
    pub(super) fn check_snapshot_install(
        &mut self,
        server: ServerId,
        zxid: Zxid,
    ) -> Option<Violation> {
        let s = self.model.servers.get(&server)?;
        let leader = s.leader.and_then(|l| self.model.servers.get(&l));
        let kept = |z: Zxid| z <= zxid && leader.is_none_or(|l| l.tree_at(z).is_some());
        let lost = s
            .log
            .iter()
            .map(|h| h.zxid)
            .filter(|z| !kept(*z))
            .find(|z| self.model.is_committed(*z))?;
        Some(truncated_committed(
            server,
            lost,
            &format!("a SNAP at {zxid}"),
        ))
    }
}

fn truncated_committed(server: ServerId, lost: Zxid, how: &str) -> Violation {
    violation(
        ViolationKind::CommittedLogDurability,
        format!("{how} removed committed txn {lost} from {server}"),
    )
    .servers([server])
    .zxids([lost])
}
