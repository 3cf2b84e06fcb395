//! Applying committed txns on a server with everything ZooKeeper reports alongside (sessions,
//! ephemerals, watches), and follower crashes and recoveries.

use super::{IdealCluster, STEP_NS};
use crate::history::{ClientId, Record, WatchNotification};
use crate::reference::{is_normal_ephemeral, ReferenceTree};
use crate::zk::sessions::watches::{index_txn, ChangeIndex};
use std::collections::BTreeSet;
use zabsim_protocol::observe::{ApplyReason, Observation, ServerState, ZabState};
use zabsim_protocol::request::{EventType, KeeperState, WatchedEvent};
use zabsim_protocol::txn::{Txn, TxnEntry};
use zabsim_protocol::types::{ServerId, SessionId};

impl IdealCluster {
    /// `server` applies committed txns until it has applied `upto` of them.
    pub(super) fn apply_on(&mut self, server: ServerId, upto: usize, reason: ApplyReason) {
        while self.applied.get(&server).copied().unwrap_or(0) < upto {
            let i = self.applied[&server];
            let entry = self.txns[i].clone();
            let digest = self.digests.get(i + 1).copied();
            self.emit(Observation::TxnApplied {
                server,
                header: entry.header,
                reason,
                digest,
            });
            self.report_side_effects(server, &entry, i);
            self.applied.insert(server, i + 1);
            self.fire_watches(server, i);
        }
    }

    fn report_side_effects(&mut self, server: ServerId, entry: &TxnEntry, i: usize) {
        let (before, after) = (self.states[i].clone(), &self.states[i + 1]);
        let zxid = entry.header.zxid;
        match &entry.txn {
            Txn::CreateSession { timeout_ms } => {
                let session = entry.header.client_id;
                self.emit(Observation::SessionCreated {
                    server,
                    session,
                    timeout_ms: *timeout_ms,
                    zxid,
                });
            }
            Txn::CloseSession { .. } => {
                let session = entry.header.client_id;
                for path in before.ephemerals_of(session) {
                    self.emit(Observation::EphemeralDeleted {
                        server,
                        session,
                        path,
                        zxid,
                    });
                }
                self.emit(Observation::SessionClosed {
                    server,
                    session,
                    zxid,
                });
            }
            _ => {
                let changes = ephemeral_changes(&before, after);
                for (path, owner, created) in changes {
                    let session = SessionId(owner);
                    if created {
                        self.emit(Observation::EphemeralCreated {
                            server,
                            session,
                            path,
                            zxid,
                        });
                    } else {
                        self.emit(Observation::EphemeralDeleted {
                            server,
                            session,
                            path,
                            zxid,
                        });
                    }
                }
            }
        }
    }

    /// Watches of clients served by `server` that committed txn `i` triggers fire now, once
    /// per session, path and event (only while the server serves clients).
    fn fire_watches(&mut self, server: ServerId, i: usize) {
        if self.serving.get(&server) != Some(&true) {
            return;
        }
        let ids: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| c.server == server && !c.closed && c.watch_upto == i)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.fire_for_client(id, i);
        }
    }

    /// Considers committed txn `i` for one client's watches.
    fn fire_for_client(&mut self, id: ClientId, i: usize) {
        let Some(entry) = self.txns.get(i).cloned() else {
            return;
        };
        let Some(client) = self.clients.get(&id).cloned() else {
            return;
        };
        let mut index = ChangeIndex::new();
        index_txn(&mut index, entry.header.zxid, &entry.txn);
        let mut fired: BTreeSet<(String, EventType)> = BTreeSet::new();
        let mut remaining = client.watches.clone();
        for ((table, path), events) in &index {
            let key = (*table, path.clone());
            if let Some((_, event)) = events.first().filter(|_| client.watches.contains(&key)) {
                fired.insert((path.clone(), *event));
                remaining.remove(&key);
            }
        }
        if let Some(c) = self.clients.get_mut(&id) {
            c.watches = remaining;
            c.watch_upto = i + 1;
        }
        let (server, session, zxid) = (client.server, client.session, entry.header.zxid);
        for (path, event_type) in fired {
            self.emit(Observation::WatchTriggered {
                server,
                session,
                path: path.clone(),
                event_type,
                zxid,
            });
            let event = WatchedEvent {
                event_type,
                state: KeeperState::SyncConnected,
                path,
            };
            let time_ns = self.time;
            self.records.push(Record::Watch(WatchNotification {
                time_ns,
                client: id,
                session,
                zxid,
                event,
            }));
            self.time += 1;
        }
    }

    /// After a reconnect (`SetWatches`): the changes the client's server applied that its
    /// watches have not seen yet fire now.
    pub(super) fn catch_up_watches(&mut self, id: ClientId) {
        let Some(c) = self.clients.get(&id) else {
            return;
        };
        let upto = self.applied.get(&c.server).copied().unwrap_or(0);
        for i in c.watch_upto..upto {
            self.fire_for_client(id, i);
        }
    }

    /// A follower without clients crashes (if a quorum stays up).
    pub fn crash(&mut self, server: ServerId) {
        let has_clients = self
            .clients
            .values()
            .any(|c| c.server == server && !c.closed);
        let up = self.alive.values().filter(|a| **a).count();
        let quorum = self.servers.len() / 2 + 1;
        if server == self.leader
            || has_clients
            || self.alive.get(&server) != Some(&true)
            || up <= quorum
        {
            return;
        }
        self.time += STEP_NS;
        self.alive.insert(server, false);
        self.serving.insert(server, false);
        self.emit(Observation::Crashed { server });
    }

    /// A crashed server restarts: restores its log (with any proposal it logged but never saw
    /// committed), rejoins the current leader and syncs by TRUNC or DIFF.
    pub fn recover(&mut self, server: ServerId) {
        if self.alive.get(&server) != Some(&false) {
            return;
        }
        self.time += STEP_NS;
        let logged = self.logged[&server];
        let extras = self.extra.get(&server).cloned().unwrap_or_default();
        let (zxid, digest) = match extras.last() {
            Some(p) => (p.entry.header.zxid, Some(p.digest)),
            None => (
                self.committed_zxid(logged),
                self.digests.get(logged).copied(),
            ),
        };
        let (mine, epoch) = (self.server_epoch[&server], self.epoch);
        self.alive.insert(server, true);
        self.applied.insert(server, logged);
        self.emit(Observation::RecoveryFinished {
            server,
            zxid,
            digest,
            accepted_epoch: mine,
            current_epoch: mine,
        });
        self.emit(Observation::ServerStateChanged {
            server,
            state: ServerState::Looking,
            current_epoch: mine,
        });
        self.emit(Observation::ServerStateChanged {
            server,
            state: ServerState::Following,
            current_epoch: mine,
        });
        self.emit(Observation::ZabStateChanged {
            server,
            zab_state: ZabState::Discovery,
            accepted_epoch: mine,
        });
        if mine < epoch {
            self.emit(Observation::AcceptedEpochPersisted { server, epoch });
        }
        self.sync_follower(server);
        self.emit(Observation::ZabStateChanged {
            server,
            zab_state: ZabState::Broadcast,
            accepted_epoch: epoch,
        });
        self.serving.insert(server, true);
    }
}

/// Session-owned ephemerals created (true) or deleted (false) between two states.
fn ephemeral_changes(before: &ReferenceTree, after: &ReferenceTree) -> Vec<(String, i64, bool)> {
    let owned = |t: &ReferenceTree| -> BTreeSet<(String, i64)> {
        t.all_ephemerals()
            .into_iter()
            .map(|(p, s)| (p, s.0))
            .collect()
    };
    let (b, a) = (owned(before), owned(after));
    let mut out: Vec<(String, i64, bool)> = a
        .difference(&b)
        .map(|(p, s)| (p.clone(), *s, true))
        .collect();
    out.extend(b.difference(&a).map(|(p, s)| (p.clone(), *s, false)));
    out.retain(|(_, s, _)| is_normal_ephemeral(*s));
    out
}
