//! FOLLOWING / OBSERVING, phase 3 (`Follower.processPacket`, `Observer.processPacket`):
//! PROPOSAL → `pendingTxns` + log (ACK after the fsync), COMMIT → the head of `pendingTxns`
//! must match (else the process exits: `UNMATCHED_TXN_COMMIT`) and is applied, INFORM (observer:
//! log and apply), PING → reply with session touches, SYNC and REVALIDATE → the waiting client.
//! Also the disk continuations ([`Then`]) for every role.

use super::disk::Then;
use super::io::ServerAction;
use super::quorum_packet::QuorumPacket;
use super::{QuorumPeer, Role};
use crate::observe::{ApplyReason, Observation};
use crate::txn::TxnEntry;
use crate::types::Zxid;

impl QuorumPeer {
    pub(crate) fn learner_broadcast_packet(
        &mut self,
        packet: QuorumPacket,
        out: &mut Vec<ServerAction>,
    ) {
        match packet {
            QuorumPacket::Proposal { txn } => self.learner_log_proposal(txn, out),
            QuorumPacket::Commit { zxid } => self.learner_commit(zxid, out),
            QuorumPacket::Inform { txn } => {
                self.apply_txn(&txn, ApplyReason::Commit, out);
                self.log_txns(vec![txn], false, out);
            }
            QuorumPacket::Ping { zxid, .. } => self.learner_ping(zxid, out),
            QuorumPacket::Sync {
                session, xid, path, ..
            } => self.client_sync_done(session, xid, path, out),
            QuorumPacket::Revalidate { session, valid, .. } => {
                self.client_revalidated(session, valid, out)
            }
            _ => {}
        }
    }

    /// `logRequest`: into `pendingTxns` and the log; the ACK follows the fsync.
    pub(crate) fn learner_log_proposal(&mut self, txn: TxnEntry, out: &mut Vec<ServerAction>) {
        self.learner().pending_txns.push_back(txn.clone());
        self.log_txns(vec![txn], true, out);
    }

    /// COMMIT in broadcast.
    pub(crate) fn learner_commit(&mut self, zxid: Zxid, out: &mut Vec<ServerAction>) {
        let applied_up_to = self.db.last_processed_zxid();
        let l = self.learner();
        match l.pending_txns.front() {
            Some(head) if head.header.zxid == zxid => {
                if let Some(entry) = l.pending_txns.pop_front() {
                    self.apply_txn(&entry, ApplyReason::Commit, out);
                }
            }
            Some(head) => {
                let head = head.header.zxid;
                self.halt(
                    format!("Committing zxid {zxid} but next pending txn {head}"),
                    out,
                )
            }
            None if zxid <= applied_up_to => {}
            None => self.halt(format!("Committing zxid {zxid} with no pending txn"), out),
        }
    }

    /// PING from the leader: answer with the session touches since the last one.
    pub(crate) fn learner_ping(&mut self, zxid: Zxid, out: &mut Vec<ServerAction>) {
        let l = self.learner();
        let touches = std::mem::take(&mut l.touches).into_iter().collect();
        if let Some(conn) = l.conn {
            out.push(ServerAction::SendPacket {
                conn,
                packet: QuorumPacket::Ping { zxid, touches },
            });
        }
    }

    /// A disk job is durable.
    pub(crate) fn on_durable(&mut self, then: Then, out: &mut Vec<ServerAction>) {
        let me = self.myid;
        match then {
            Then::Nothing => {}
            Then::Snapshot { zxid } => {
                self.observe(out, Observation::SnapshotTaken { server: me, zxid });
                self.snapshot_durable_purge(out);
            }
            Then::AcceptedEpoch { epoch, gen } => {
                self.accepted_epoch = epoch;
                self.observe(
                    out,
                    Observation::AcceptedEpochPersisted { server: me, epoch },
                );
                if gen != self.gen {
                    return;
                }
                match self.role {
                    Role::Leading(_) => self.leader_accepted_epoch_durable(out),
                    Role::Learning(_) => {
                        let current = self.current_epoch;
                        self.learner_send_ack_epoch(current, out)
                    }
                    Role::Looking => {}
                }
            }
            Then::CurrentEpoch { epoch, gen } => {
                self.current_epoch = epoch;
                self.observe(
                    out,
                    Observation::CurrentEpochPersisted { server: me, epoch },
                );
                if gen != self.gen {
                    return;
                }
                match self.role {
                    Role::Leading(_) => self.leader_current_epoch_durable(out),
                    Role::Learning(_) => self.learner_newleader_job_done(out),
                    Role::Looking => {}
                }
            }
            Then::Logged { txns, gen, ack } => self.on_logged(txns, gen, ack, out),
        }
    }

    fn on_logged(&mut self, txns: Vec<TxnEntry>, gen: u64, ack: bool, out: &mut Vec<ServerAction>) {
        let me = self.myid;
        for t in &txns {
            if self.log.cut_away(gen, t.header.zxid) {
                // Durable now, but a TRUNC queued behind this job (already reported as
                // LogTruncated) removes it: the log never holds it once the queue drains.
                continue;
            }
            self.observe(
                out,
                Observation::ProposalLogged {
                    server: me,
                    header: t.header,
                },
            );
        }
        if gen != self.gen {
            return;
        }
        match &self.role {
            Role::Leading(_) if ack => {
                for t in &txns {
                    self.process_ack(me, t.header.zxid, out);
                }
            }
            Role::Learning(l) if ack && !l.observer => {
                if let Some(conn) = l.conn {
                    for t in &txns {
                        out.push(ServerAction::SendPacket {
                            conn,
                            packet: QuorumPacket::Ack {
                                zxid: t.header.zxid,
                            },
                        });
                    }
                }
            }
            Role::Learning(_) if !ack => self.learner_newleader_job_done(out),
            _ => {}
        }
    }
}
