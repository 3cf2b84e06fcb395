//! Applying committed txns on a server with everything ZooKeeper reports alongside (sessions,
//! ephemerals, watches), and follower crashes and recoveries.

use super::{IdealCluster, STEP_NS};
use crate::history::{Record, WatchNotification};
use crate::reference::{is_normal_ephemeral, ReferenceTree};
use crate::zk::sessions::watches::{index_txn, ChangeIndex};
use std::collections::BTreeSet;
use zabsim_protocol::observe::{ApplyReason, Observation, ServerState, ZabState};
use zabsim_protocol::request::{EventType, KeeperState, WatchedEvent};
use zabsim_protocol::txn::{Txn, TxnEntry};
use zabsim_protocol::types::{ServerId, SessionId, Zxid};

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
            self.fire_watches(server, &entry);
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

    /// Watches of clients on `server` that this txn triggers fire now, once per session, path
    /// and event.
    fn fire_watches(&mut self, server: ServerId, entry: &TxnEntry) {
        let mut index = ChangeIndex::new();
        index_txn(&mut index, entry.header.zxid, &entry.txn);
        let zxid = entry.header.zxid;
        for (id, client) in self.clients.clone() {
            if client.server != server || client.closed {
                continue;
            }
            let mut fired: BTreeSet<(String, EventType)> = BTreeSet::new();
            let mut remaining = client.watches.clone();
            for ((table, path), events) in &index {
                if let Some((_, event)) = events
                    .first()
                    .filter(|_| client.watches.contains(&(*table, path.clone())))
                {
                    fired.insert((path.clone(), *event));
                    remaining.remove(&(*table, path.clone()));
                }
            }
            if let Some(c) = self.clients.get_mut(&id) {
                c.watches = remaining;
            }
            for (path, event_type) in fired {
                let session = client.session;
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
                self.records.push(Record::Watch(WatchNotification {
                    time_ns: self.time,
                    client: id,
                    session,
                    zxid,
                    event,
                }));
                self.time += 1;
            }
        }
    }

    /// A follower without clients crashes.
    pub fn crash(&mut self, server: ServerId) {
        let has_clients = self
            .clients
            .values()
            .any(|c| c.server == server && !c.closed);
        if server == self.leader || has_clients || self.alive.get(&server) != Some(&true) {
            return;
        }
        self.time += STEP_NS;
        self.alive.insert(server, false);
        self.emit(Observation::Crashed { server });
    }

    /// A crashed follower restarts: replays its log, rejoins, and syncs by DIFF.
    pub fn recover(&mut self, server: ServerId) {
        if self.alive.get(&server) != Some(&false) {
            return;
        }
        self.time += STEP_NS;
        let logged = self.logged[&server];
        let zxid = self.zxid_of(logged);
        let zxid = if logged == 0 { Zxid::ZERO } else { zxid };
        let digest = self.digests.get(logged).copied();
        let epoch = self.epoch;
        self.alive.insert(server, true);
        self.applied.insert(server, logged);
        self.emit(Observation::RecoveryFinished {
            server,
            zxid,
            digest,
            accepted_epoch: epoch,
            current_epoch: epoch,
        });
        self.emit(Observation::ServerStateChanged {
            server,
            state: ServerState::Looking,
            current_epoch: epoch,
        });
        self.emit(Observation::ServerStateChanged {
            server,
            state: ServerState::Following,
            current_epoch: epoch,
        });
        self.emit(Observation::ZabStateChanged {
            server,
            zab_state: ZabState::Discovery,
            accepted_epoch: epoch,
        });
        self.sync_follower(server);
        self.emit(Observation::ZabStateChanged {
            server,
            zab_state: ZabState::Broadcast,
            accepted_epoch: epoch,
        });
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
