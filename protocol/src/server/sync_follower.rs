//! `LearnerHandler.syncFollower`: how the leader brings one learner up to date — an empty DIFF,
//! TRUNC to `maxCommittedLog`, the committed-log walk (`queueCommittedProposals`: DIFF, or TRUNC
//! to the previous proposal within the peer's epoch, or SNAP across an epoch boundary), the
//! on-disk txn log when the peer is older than `minCommittedLog` (bounded by
//! `snapshotSizeFactor`, SNAP on a gap: ZK-2418), else SNAP. Then `startForwarding` (outstanding
//! proposals as PROPOSAL) and NEWLEADER.
//!
//! `Variant::Zk1154`: the walk never TRUNCs — a peer holding a zxid the leader never committed
//! gets a DIFF and keeps it.

use super::io::{Conn, ServerAction};
use super::leader::HandlerPhase;
use super::quorum_packet::QuorumPacket;
use super::variant::Variant;
use super::QuorumPeer;
use crate::observe::{Observation, SyncMode};
use crate::persist::snapshot::encode_snapshot;
use crate::persist::txn_log::encode_record;
use crate::txn::TxnEntry;
use crate::types::Zxid;

/// The leader's decision for one learner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncPlan {
    /// DIFF, TRUNC or SNAP.
    pub mode: SyncMode,
    /// The zxid in the DIFF/TRUNC/SNAP packet.
    pub zxid: Zxid,
    /// The committed txns to send as PROPOSAL+COMMIT (empty for SNAP).
    pub txns: Vec<TxnEntry>,
}

/// `queueCommittedProposals` over `proposals` (ascending): `None` means "fall back to SNAP".
pub fn queue_committed_proposals(
    proposals: &[TxnEntry],
    peer_last_zxid: Zxid,
    max_committed: Zxid,
    zk1154: bool,
) -> Option<SyncPlan> {
    let peer_new_epoch = peer_last_zxid.counter() == 0;
    let mut prev: Option<Zxid> = None;
    let mut plan: Option<SyncPlan> = None;
    for p in proposals {
        let zxid = p.header.zxid;
        if let Some(plan) = plan.as_mut() {
            plan.txns.push(p.clone());
            continue;
        }
        if zxid < peer_last_zxid {
            prev = Some(zxid);
            continue;
        }
        let diff = |txns: Vec<TxnEntry>| SyncPlan {
            mode: SyncMode::Diff,
            zxid: max_committed,
            txns,
        };
        plan = Some(if zxid == peer_last_zxid {
            diff(Vec::new())
        } else if peer_new_epoch || zk1154 {
            diff(vec![p.clone()])
        } else {
            // The peer has a zxid we do not: TRUNC within its epoch, else SNAP.
            match prev {
                Some(pz) if pz.epoch() == peer_last_zxid.epoch() => SyncPlan {
                    mode: SyncMode::Trunc,
                    zxid: pz,
                    txns: vec![p.clone()],
                },
                _ => return None,
            }
        });
    }
    plan
}

impl QuorumPeer {
    /// The decision of `syncFollower` for a learner whose last zxid is `peer`.
    pub(crate) fn sync_plan(&self, peer: Zxid) -> SyncPlan {
        let last = self.db.last_processed_zxid();
        let (min, max) = match (self.committed_log.front(), self.committed_log.back()) {
            (Some(a), Some(b)) => (a.header.zxid, b.header.zxid),
            _ => (last, last),
        };
        let zk1154 = self.config.variants.has(Variant::Zk1154);
        let snap = SyncPlan {
            mode: SyncMode::Snap,
            zxid: last,
            txns: Vec::new(),
        };
        if peer == last {
            return SyncPlan {
                mode: SyncMode::Diff,
                zxid: peer,
                txns: Vec::new(),
            };
        }
        if peer > max && peer.counter() != 0 {
            return SyncPlan {
                mode: SyncMode::Trunc,
                zxid: max,
                txns: Vec::new(),
            };
        }
        let window: Vec<TxnEntry> = self.committed_log.iter().cloned().collect();
        if min <= peer && peer <= max {
            return queue_committed_proposals(&window, peer, max, zk1154).unwrap_or(snap);
        }
        if peer < min && self.config.snapshot_size_factor_pct > 0 {
            if let Some(plan) = self.sync_from_disk(peer, min, max, &window, zk1154) {
                return plan;
            }
        }
        snap
    }

    /// The on-disk DIFF: log txns from `peer` up to the committed window, then the window.
    fn sync_from_disk(
        &self,
        peer: Zxid,
        min: Zxid,
        max: Zxid,
        window: &[TxnEntry],
        zk1154: bool,
    ) -> Option<SyncPlan> {
        let logged: Vec<TxnEntry> = self
            .mirror
            .logged()
            .ok()?
            .into_iter()
            .map(|e| e.0)
            .collect();
        // The log must reach back to the peer's zxid (getProposalsFromTxnLog starts there).
        if logged.first().is_none_or(|e| e.header.zxid > peer) {
            return None;
        }
        // ZK-2418: the disk must reach the committed window, else there is a gap.
        if !logged.iter().any(|e| e.header.zxid >= min) {
            return None;
        }
        let mut from_disk: Vec<TxnEntry> =
            logged.into_iter().filter(|e| e.header.zxid < min).collect();
        let size: usize = from_disk.iter().map(|e| encode_record(e).len()).sum();
        let snap_size = encode_snapshot(&self.db.to_snapshot_image()).len();
        if size * 100 > snap_size * self.config.snapshot_size_factor_pct as usize {
            return None;
        }
        from_disk.extend(window.iter().cloned());
        queue_committed_proposals(&from_disk, peer, max, zk1154)
    }

    /// Sends a learner its sync (DIFF/TRUNC/SNAP, txns, outstanding proposals) and NEWLEADER.
    pub(crate) fn leader_sync_learner(&mut self, conn: Conn, out: &mut Vec<ServerAction>) {
        let Some(h) = self.leader().handlers.get(&conn).cloned() else {
            return;
        };
        assert_eq!(h.phase, HandlerPhase::AwaitSync, "sync sent twice");
        let plan = self.sync_plan(h.peer_last_zxid);
        let me = self.myid;
        if let Some(learner) = h.sid {
            let o = Observation::SyncModeChosen {
                leader: me,
                learner,
                mode: plan.mode,
                peer_last_zxid: h.peer_last_zxid,
                zxid: plan.zxid,
            };
            self.observe(out, o);
        }
        let first = match plan.mode {
            SyncMode::Diff => QuorumPacket::Diff { zxid: plan.zxid },
            SyncMode::Trunc => QuorumPacket::Trunc { zxid: plan.zxid },
            SyncMode::Snap => QuorumPacket::Snap {
                zxid: plan.zxid,
                image: Box::new(self.db.to_snapshot_image()),
            },
        };
        let mut send = |packet| out.push(ServerAction::SendPacket { conn, packet });
        send(first);
        for txn in plan.txns {
            let zxid = txn.header.zxid;
            send(QuorumPacket::Proposal { txn });
            send(QuorumPacket::Commit { zxid });
        }
        let epoch = self.current_epoch;
        let l = self.leader();
        if !h.observer {
            // startForwarding: the outstanding proposals, uncommitted.
            for o in l.outstanding.values() {
                out.push(ServerAction::SendPacket {
                    conn,
                    packet: QuorumPacket::Proposal {
                        txn: o.entry.clone(),
                    },
                });
            }
        }
        if let Some(hm) = l.handlers.get_mut(&conn) {
            hm.phase = HandlerPhase::AwaitNewLeaderAck;
        }
        out.push(ServerAction::SendPacket {
            conn,
            packet: QuorumPacket::NewLeader {
                zxid: Zxid::new(epoch, 0),
            },
        });
    }
}
