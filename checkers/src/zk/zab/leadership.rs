//! Epochs and leaders: Leadership1/2, LeaderLogCompleteness, CommittedLogMonotonicity at
//! BROADCAST, ProcessConsistency at NEWLEADER, PrimaryIntegrity at the first proposal, and the
//! epoch-file checks.

use super::{violation, ZabJudge};
use crate::zk::{Violation, ViolationKind};
use std::collections::BTreeSet;
use zabsim_protocol::observe::{Observation, ServerState, ZabState};
use zabsim_protocol::txn::TxnEntry;
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

impl ZabJudge {
    pub(super) fn check_epochs(&mut self, observation: &Observation) -> Option<Violation> {
        let (server, accepted, current) = match observation {
            Observation::AcceptedEpochPersisted { server, epoch } => {
                let s = self.model.server(*server);
                (*server, *epoch, s.current_epoch)
            }
            Observation::CurrentEpochPersisted { server, epoch } => {
                let s = self.model.server(*server);
                if *epoch < s.current_epoch {
                    return Some(epoch_went_back(
                        *server,
                        "currentEpoch",
                        s.current_epoch,
                        *epoch,
                    ));
                }
                let accepted = s.accepted_epoch;
                if let Some(v) = self.check_process_consistency(*server) {
                    return Some(v);
                }
                (*server, accepted, *epoch)
            }
            Observation::RecoveryFinished {
                server,
                accepted_epoch,
                current_epoch,
                ..
            } => {
                let s = self.model.server(*server);
                if *current_epoch < s.current_epoch {
                    let old = s.current_epoch;
                    return Some(epoch_went_back(
                        *server,
                        "currentEpoch",
                        old,
                        *current_epoch,
                    ));
                }
                (*server, *accepted_epoch, *current_epoch)
            }
            _ => return None,
        };
        let s = self.model.server(server);
        if accepted < s.accepted_epoch {
            return Some(epoch_went_back(
                server,
                "acceptedEpoch",
                s.accepted_epoch,
                accepted,
            ));
        }
        if current > accepted {
            return Some(
                violation(
                    ViolationKind::EpochMonotonicity,
                    format!(
                        "{server} has currentEpoch {current} > acceptedEpoch {accepted} on disk \
                         (QuorumPeer.loadDataBase refuses to start)"
                    ),
                )
                .servers([server]),
            );
        }
        None
    }

    /// Zab.tla `Leadership2` and LeaderLogCompleteness.
    pub(super) fn check_established(
        &mut self,
        leader: ServerId,
        epoch: Epoch,
    ) -> Option<Violation> {
        if let Some(&other) = self.model.epoch_leader.get(&epoch) {
            if other != leader {
                return Some(
                    violation(
                        ViolationKind::Leadership,
                        format!(
                            "two established leaders for epoch {epoch}: {other} and {leader} \
                             (Leadership2)"
                        ),
                    )
                    .servers([other, leader]),
                );
            }
        }
        let before = crate::zk::cluster::ClusterModel::committed_zxids(&self.model);
        let s = self.model.server(leader);
        let missing = before
            .iter()
            .find(|z| z.epoch() < epoch && !s.holds(**z))
            .copied()?;
        Some(
            violation(
                ViolationKind::LeaderLogCompleteness,
                format!(
                    "{leader} established as leader of epoch {epoch} without committed txn \
                     {missing}"
                ),
            )
            .servers([leader])
            .zxids([missing]),
        )
    }

    /// Zab.tla `Leadership1` at SYNCHRONIZATION/BROADCAST, CommittedLogMonotonicity at BROADCAST.
    pub(super) fn check_phase(&mut self, server: ServerId, phase: ZabState) -> Option<Violation> {
        let s = self.model.servers.get(&server)?;
        if s.state != ServerState::Leading || phase == ZabState::Election {
            return None;
        }
        let epoch = s.accepted_epoch;
        if matches!(phase, ZabState::Synchronization | ZabState::Broadcast) {
            for (&other, o) in &self.model.servers {
                let active = matches!(o.zab_state, ZabState::Synchronization | ZabState::Broadcast);
                if other != server
                    && o.alive
                    && o.state == ServerState::Leading
                    && active
                    && o.accepted_epoch == epoch
                {
                    return Some(
                        violation(
                            ViolationKind::Leadership,
                            format!(
                                "{server} and {other} both LEADING in {phase:?} with epoch \
                                 {epoch} (Leadership1)"
                            ),
                        )
                        .servers([server, other]),
                    );
                }
            }
        }
        if phase != ZabState::Broadcast {
            return None;
        }
        let missing = self
            .model
            .committed_zxids()
            .into_iter()
            .find(|z| !s.holds(*z))?;
        Some(
            violation(
                ViolationKind::CommittedLogMonotonicity,
                format!("{server} entered BROADCAST as leader without committed txn {missing}"),
            )
            .servers([server])
            .zxids([missing]),
        )
    }

    /// A follower persisting `currentEpoch` has accepted NEWLEADER: its log must be a prefix of
    /// its leader's history.
    fn check_process_consistency(&mut self, server: ServerId) -> Option<Violation> {
        let s = self.model.servers.get(&server)?;
        if !matches!(s.state, ServerState::Following | ServerState::Observing) {
            return None;
        }
        let leader_id = s.leader?;
        let leader = self.model.servers.get(&leader_id)?;
        let bound = s.last_logged();
        let mut leader_history: BTreeSet<Zxid> = BTreeSet::new();
        leader_history.extend(leader.log.iter().map(|h| h.zxid).filter(|z| *z <= bound));
        leader_history.extend(leader.tree.iter().map(|h| h.zxid).filter(|z| *z <= bound));
        let follower: BTreeSet<Zxid> = s.log.iter().map(|h| h.zxid).collect();
        let differs = |z: &Zxid| {
            let mine = s.log_at(*z);
            let theirs = leader.log_at(*z).or_else(|| leader.tree_at(*z));
            mine != theirs
        };
        let bad = follower
            .symmetric_difference(&leader_history)
            .next()
            .copied()
            .or_else(|| follower.iter().find(|z| differs(z)).copied())?;
        Some(
            violation(
                ViolationKind::ProcessConsistency,
                format!(
                    "{server} accepted NEWLEADER from {leader_id} but their histories differ at \
                     {bad} (the follower's log is not a prefix of the leader's)"
                ),
            )
            .servers([server, leader_id])
            .zxids([bad]),
        )
    }

    /// Only the established leader of epoch(z) proposes z; a primary's proposals are consecutive;
    /// PrimaryIntegrity at its first proposal.
    pub(super) fn check_proposed(
        &mut self,
        leader: ServerId,
        entry: &TxnEntry,
    ) -> Option<Violation> {
        let zxid = entry.header.zxid;
        let epoch = zxid.epoch();
        if let Some((other, earlier)) = self.model.proposals.get(&zxid) {
            if earlier.header != entry.header {
                let kind = if *other == leader {
                    ViolationKind::LocalPrimaryOrder
                } else {
                    ViolationKind::Leadership
                };
                let msg =
                    format!("{zxid} proposed twice with different txns by {other} and {leader}");
                return Some(violation(kind, msg).servers([*other, leader]).zxids([zxid]));
            }
        }
        if self.model.epoch_leader.get(&epoch) != Some(&leader) {
            let msg = format!(
                "{leader} proposed {zxid} but is not the established leader of epoch {epoch}"
            );
            return Some(
                violation(ViolationKind::Leadership, msg)
                    .servers([leader])
                    .zxids([zxid]),
            );
        }
        let expected = match self.last_proposed.get(&epoch) {
            Some(last) => last.counter().wrapping_add(1),
            None => 1,
        };
        self.last_proposed.insert(epoch, zxid);
        if zxid.counter() != expected {
            let msg = format!("{leader} proposed {zxid} but its next zxid was counter {expected}");
            return Some(
                violation(ViolationKind::LocalPrimaryOrder, msg)
                    .servers([leader])
                    .zxids([zxid]),
            );
        }
        if expected == 1 {
            return self.record_primary_initial(leader, epoch);
        }
        None
    }

    fn record_primary_initial(&mut self, leader: ServerId, epoch: Epoch) -> Option<Violation> {
        let s = self.model.servers.get(&leader)?;
        let held: BTreeSet<Zxid> = s
            .tree
            .iter()
            .map(|h| h.zxid)
            .filter(|z| z.epoch() < epoch)
            .collect();
        let missing = self
            .model
            .delivered
            .keys()
            .find(|z| z.epoch() < epoch && !held.contains(z))
            .copied();
        self.primary_initial.insert(epoch, held);
        let missing = missing?;
        Some(
            violation(
                ViolationKind::PrimaryIntegrity,
                format!(
                    "{leader} began broadcasting epoch {epoch} without having delivered {missing}, \
                     which another server delivered"
                ),
            )
            .servers([leader])
            .zxids([missing]),
        )
    }
}

fn epoch_went_back(server: ServerId, file: &str, old: Epoch, new: Epoch) -> Violation {
    violation(
        ViolationKind::EpochMonotonicity,
        format!("{server}'s durable {file} went back from {old} to {new}"),
    )
    .servers([server])
}
