//! Elections in the ideal cluster: the first one, and fail-overs after the leader crashes —
//! possibly with a proposal it logged but never committed, which the next leader adopts if any
//! survivor logged it and which is truncated away (TRUNC) when the old leader comes back if none
//! did.

use super::{IdealCluster, Proposal, STEP_NS};
use crate::history::{
    ClientId, Completion, Invocation, OpId, Outcome, Record, SessionChange, SessionEvent,
};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::{ApplyReason, Observation, ServerState, SyncMode, ZabState};
use zabsim_protocol::request::Request;
use zabsim_protocol::txn::{TxnEntry, TxnHeader};
use zabsim_protocol::types::{Epoch, ServerId, Xid, Zxid};

impl IdealCluster {
    /// The zxid of the `n`-th committed txn (ZERO for none).
    pub(super) fn committed_zxid(&self, n: usize) -> Zxid {
        n.checked_sub(1)
            .and_then(|i| self.txns.get(i))
            .map_or(Zxid::ZERO, |e| e.header.zxid)
    }

    fn last_logged(&self, s: ServerId) -> Zxid {
        match self.extra.get(&s).and_then(|e| e.last()) {
            Some(p) => p.entry.header.zxid,
            None => self.committed_zxid(self.logged[&s]),
        }
    }

    fn quorum(&self) -> usize {
        self.servers.len() / 2 + 1
    }

    /// The first election: the first server leads epoch 1; everyone synchronizes.
    pub(super) fn elect(&mut self) {
        let survivors = self.servers.clone();
        let leader = self.leader;
        self.run_election(&survivors, leader);
    }

    /// Discovery, synchronization and establishment among `survivors` under `leader`.
    fn run_election(&mut self, survivors: &[ServerId], leader: ServerId) {
        let epoch = self.epoch;
        for &s in survivors {
            let state = if s == leader {
                ServerState::Leading
            } else {
                ServerState::Following
            };
            let current_epoch = self.server_epoch[&s];
            self.emit(Observation::ServerStateChanged {
                server: s,
                state,
                current_epoch,
            });
            self.emit(Observation::ZabStateChanged {
                server: s,
                zab_state: ZabState::Discovery,
                accepted_epoch: current_epoch,
            });
            self.emit(Observation::AcceptedEpochPersisted { server: s, epoch });
        }
        self.adopt_initial_history(survivors, leader);
        self.leader = leader;
        self.emit(Observation::CurrentEpochPersisted {
            server: leader,
            epoch,
        });
        self.server_epoch.insert(leader, epoch);
        self.emit(Observation::ZabStateChanged {
            server: leader,
            zab_state: ZabState::Synchronization,
            accepted_epoch: epoch,
        });
        for &s in survivors.iter().filter(|s| **s != leader) {
            self.sync_follower(s);
        }
        self.epoch_base = self.txns.len();
        let quorum = survivors.to_vec();
        let initial_history_zxid = self.committed_zxid(self.txns.len());
        self.emit(Observation::LeaderEstablished {
            leader,
            epoch,
            quorum,
            initial_history_zxid,
        });
        for &s in survivors {
            self.emit(Observation::ZabStateChanged {
                server: s,
                zab_state: ZabState::Broadcast,
                accepted_epoch: epoch,
            });
            self.serving.insert(s, true);
        }
    }

    /// The new leader's uncommitted proposals become part of its initial history; survivors
    /// that logged the same ones keep them.
    fn adopt_initial_history(&mut self, survivors: &[ServerId], leader: ServerId) {
        let adopted = self.extra.remove(&leader).unwrap_or_default();
        let from = self.txns.len();
        for p in &adopted {
            self.txns.push(p.entry.clone());
            self.states.push(p.state.clone());
            self.digests.push(p.digest);
        }
        self.logged.insert(leader, self.txns.len());
        self.applied.insert(leader, self.txns.len());
        for &s in survivors.iter().filter(|s| **s != leader) {
            let theirs = self.extra.remove(&s).unwrap_or_default();
            let same = theirs.iter().zip(&adopted).all(|(a, b)| a.entry == b.entry);
            assert!(
                same && theirs.len() <= adopted.len(),
                "survivors' extras are a prefix of the leader's"
            );
            if !theirs.is_empty() {
                self.logged.insert(s, from + theirs.len());
                self.applied.insert(s, from + theirs.len());
            }
        }
    }

    /// TRUNC (if the learner logged proposals the leader does not have) or DIFF from the
    /// leader, then NEWLEADER (currentEpoch).
    pub(super) fn sync_follower(&mut self, s: ServerId) {
        let (leader, epoch) = (self.leader, self.epoch);
        let mut extras = self.extra.remove(&s).unwrap_or_default();
        let mut have = self.logged[&s];
        // Logged proposals a later leader adopted are committed history now.
        while extras
            .first()
            .is_some_and(|p| self.txns.get(have) == Some(&p.entry))
        {
            extras.remove(0);
            if self.applied[&s] == have {
                self.applied.insert(s, have + 1); // restored from its own log
            }
            have += 1;
        }
        let peer_last_zxid = extras
            .last()
            .map_or(self.committed_zxid(have), |p| p.entry.header.zxid);
        let last = self.committed_zxid(self.txns.len());
        self.emit(Observation::ZabStateChanged {
            server: s,
            zab_state: ZabState::Synchronization,
            accepted_epoch: epoch,
        });
        let (mode, zxid) = if extras.is_empty() {
            (SyncMode::Diff, last)
        } else {
            (SyncMode::Trunc, self.committed_zxid(have))
        };
        self.emit(Observation::SyncModeChosen {
            leader,
            learner: s,
            mode,
            peer_last_zxid,
            zxid,
        });
        self.emit(Observation::SyncModeReceived {
            learner: s,
            leader,
            mode,
            zxid,
        });
        if !extras.is_empty() {
            let digest = self.digests.get(have).copied();
            self.emit(Observation::LogTruncated {
                server: s,
                zxid,
                digest,
            });
            self.applied.insert(s, have);
        }
        for i in have..self.txns.len() {
            let header = self.txns[i].header;
            self.emit(Observation::ProposalLogged { server: s, header });
        }
        self.logged.insert(s, self.txns.len());
        self.apply_on(s, self.txns.len(), ApplyReason::Sync);
        self.emit(Observation::CurrentEpochPersisted { server: s, epoch });
        self.server_epoch.insert(s, epoch);
    }

    /// The leader crashes; the survivors elect the one with the highest last zxid (then the
    /// highest sid, as FLE does) for the next epoch; every client reconnects. Returns false
    /// (and does nothing) if the survivors are not a quorum.
    pub fn fail_over(&mut self) -> bool {
        let old = self.leader;
        let survivors: Vec<ServerId> = self
            .servers
            .iter()
            .copied()
            .filter(|s| *s != old && self.alive[s])
            .collect();
        if survivors.len() < self.quorum() {
            return false;
        }
        self.time += STEP_NS;
        self.alive.insert(old, false);
        self.serving.insert(old, false);
        self.emit(Observation::Crashed { server: old });
        self.disconnect_all();
        self.epoch = Epoch(self.epoch.0 + 1);
        for &s in &survivors {
            self.serving.insert(s, false);
            let current_epoch = self.server_epoch[&s];
            self.emit(Observation::ServerStateChanged {
                server: s,
                state: ServerState::Looking,
                current_epoch,
            });
            self.emit(Observation::ZabStateChanged {
                server: s,
                zab_state: ZabState::Election,
                accepted_epoch: current_epoch,
            });
            self.fast_forward(s);
        }
        let leader = survivors
            .iter()
            .copied()
            .max_by_key(|s| (self.last_logged(*s), *s))
            .unwrap_or(old);
        self.run_election(&survivors, leader);
        self.reconnect_all(old, leader);
        true
    }

    /// `ZKDatabase.fastForwardDataBase` on leaving FOLLOWING/LEADING: everything logged.
    fn fast_forward(&mut self, s: ServerId) {
        let logged = self.logged[&s];
        self.apply_on(s, logged, ApplyReason::FastForward);
        let extras = self.extra.get(&s).cloned().unwrap_or_default();
        for p in extras {
            let header = p.entry.header;
            self.emit(Observation::TxnApplied {
                server: s,
                header,
                reason: ApplyReason::FastForward,
                digest: Some(p.digest),
            });
        }
    }

    fn disconnect_all(&mut self) {
        let clients: Vec<(ClientId, zabsim_protocol::types::SessionId)> = self
            .clients
            .iter()
            .filter(|(_, c)| !c.closed)
            .map(|(id, c)| (*id, c.session))
            .collect();
        for (client, session) in clients {
            let time_ns = self.time;
            self.records.push(Record::Session(SessionEvent {
                time_ns,
                client,
                session,
                change: SessionChange::Disconnected,
            }));
        }
    }

    /// Clients reconnect (to the new leader if their server died) and re-register their
    /// watches: changes they missed fire now (`SetWatches`).
    fn reconnect_all(&mut self, dead: ServerId, leader: ServerId) {
        self.time += STEP_NS;
        let ids: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| !c.closed)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(c) = self.clients.get_mut(&id) else {
                continue;
            };
            if c.server == dead {
                c.server = leader;
            }
            let (server, session) = (c.server, c.session);
            let change = SessionChange::Connected {
                server,
                timeout_ms: 10_000,
                last_zxid_seen: Zxid::ZERO,
            };
            let time_ns = self.time;
            self.records.push(Record::Session(SessionEvent {
                time_ns,
                client: id,
                session,
                change,
            }));
            self.catch_up_watches(id);
        }
    }

    /// A write the leader proposes and logs on itself and `replicas` followers, then crashes
    /// before a quorum acks: the client sees a connection loss. Returns `None` (and does
    /// nothing) unless the client is on the leader and the survivors are a quorum.
    pub fn lose_write(
        &mut self,
        client: ClientId,
        request: Request,
        replicas: usize,
    ) -> Option<OpId> {
        let c = self
            .clients
            .get(&client)
            .filter(|c| !c.closed && c.server == self.leader)?
            .clone();
        let survivors = self
            .servers
            .iter()
            .filter(|s| **s != self.leader && self.alive[s])
            .count();
        if survivors < self.quorum() || !request.op_code().is_write() {
            return None;
        }
        let (session, xid) = (c.session, Xid(c.next_xid));
        if let Some(c) = self.clients.get_mut(&client) {
            c.next_xid += 1;
        }
        let id = OpId(self.next_op);
        self.next_op += 1;
        self.time += STEP_NS;
        let invocation = Invocation {
            id,
            time_ns: self.time,
            client,
            session,
            server: Some(c.server),
            xid,
            request: request.clone(),
        };
        self.records.push(Record::Invoke(invocation));
        self.propose_only(session, xid, &request, replicas);
        self.time += 1;
        let outcome = Outcome::Unknown {
            err: ErrorCode::CONNECTIONLOSS,
        };
        self.records.push(Record::Complete(Completion {
            id,
            time_ns: self.time,
            outcome,
        }));
        self.fail_over();
        Some(id)
    }

    fn propose_only(
        &mut self,
        session: zabsim_protocol::types::SessionId,
        cxid: Xid,
        request: &Request,
        replicas: usize,
    ) {
        let zxid = self.next_zxid();
        let mut next = self.states.last().cloned().expect("an initial state");
        let time = (self.time / 1_000_000) as i64;
        let result = next.write(session, request, zxid, time);
        let (txn_type, txn) = super::txn::txn_for(request, &result, &next);
        let header = TxnHeader {
            client_id: session,
            cxid,
            zxid,
            time,
            txn_type,
        };
        let entry = TxnEntry {
            header,
            txn,
            digest: None,
        };
        let digest = super::digest(&next);
        self.emit(Observation::Proposed {
            leader: self.leader,
            entry: entry.clone(),
        });
        let loggers: Vec<ServerId> = std::iter::once(self.leader)
            .chain(
                self.servers
                    .iter()
                    .copied()
                    .filter(|s| *s != self.leader && self.alive[s])
                    .take(replicas),
            )
            .collect();
        for s in loggers {
            self.emit(Observation::ProposalLogged { server: s, header });
            let p = Proposal {
                entry: entry.clone(),
                state: next.clone(),
                digest,
            };
            self.extra.entry(s).or_default().push(p);
        }
    }
}
