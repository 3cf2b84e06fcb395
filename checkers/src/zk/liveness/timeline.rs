//! What liveness needs from the observations: each server's status over time, leader
//! establishments, and where each write's txn got to.

use crate::history::TimeNs;
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::observe::{Observation, ServerState, SyncMode, ZabState};
use zabsim_protocol::types::{Epoch, ServerId, SessionId, Xid, Zxid};

/// A server's status at some time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub alive: bool,
    pub state: ServerState,
    pub zab_state: ZabState,
    pub accepted_epoch: Epoch,
    pub since: TimeNs,
    pub last_sync: Option<(ServerId, SyncMode)>,
}

impl Default for Status {
    fn default() -> Status {
        Status {
            alive: true,
            state: ServerState::Looking,
            zab_state: ZabState::Election,
            accepted_epoch: Epoch(0),
            since: 0,
            last_sync: None,
        }
    }
}

/// The recorded history of the cluster.
#[derive(Debug, Default)]
pub struct Timeline {
    changes: Vec<(TimeNs, ServerId, Change)>,
    established: Vec<(TimeNs, Epoch, ServerId)>,
    proposed: BTreeMap<(SessionId, Xid), Zxid>,
    logged: BTreeMap<Zxid, BTreeSet<ServerId>>,
    committed: BTreeSet<Zxid>,
}

#[derive(Clone, Copy, Debug)]
enum Change {
    State(ServerState),
    Phase(ZabState, Epoch),
    Crashed,
    Recovered,
    Sync(ServerId, SyncMode),
}

impl Timeline {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.established.is_empty()
    }

    pub fn record(&mut self, time: TimeNs, observation: &Observation) {
        let change = match observation {
            Observation::ServerStateChanged { server, state, .. } => {
                Some((*server, Change::State(*state)))
            }
            Observation::ZabStateChanged {
                server,
                zab_state,
                accepted_epoch,
            } => Some((*server, Change::Phase(*zab_state, *accepted_epoch))),
            Observation::Crashed { server } => Some((*server, Change::Crashed)),
            Observation::RecoveryFinished { server, .. } => Some((*server, Change::Recovered)),
            Observation::SyncModeReceived {
                learner,
                leader,
                mode,
                ..
            } => Some((*learner, Change::Sync(*leader, *mode))),
            Observation::LeaderEstablished { leader, epoch, .. } => {
                self.established.push((time, *epoch, *leader));
                None
            }
            Observation::Proposed { entry, .. } => {
                let h = entry.header;
                self.proposed.insert((h.client_id, h.cxid), h.zxid);
                None
            }
            Observation::ProposalLogged { server, header } => {
                self.logged.entry(header.zxid).or_default().insert(*server);
                None
            }
            Observation::Committed { zxid, .. } => {
                self.committed.insert(*zxid);
                None
            }
            _ => None,
        };
        if let Some((server, change)) = change {
            self.changes.push((time, server, change));
        }
    }

    /// Every server's status at `time`.
    pub fn status_at(&self, time: TimeNs) -> BTreeMap<ServerId, Status> {
        let mut status: BTreeMap<ServerId, Status> = BTreeMap::new();
        for (t, server, change) in self.changes.iter().take_while(|(t, _, _)| *t <= time) {
            let s = status.entry(*server).or_default();
            match change {
                Change::State(state) => {
                    s.state = *state;
                    s.alive = true;
                    s.since = *t;
                    if *state == ServerState::Looking {
                        s.zab_state = ZabState::Election;
                    }
                }
                Change::Phase(phase, epoch) => {
                    s.zab_state = *phase;
                    s.accepted_epoch = *epoch;
                    s.since = *t;
                }
                Change::Crashed => {
                    *s = Status {
                        alive: false,
                        since: *t,
                        ..Status::default()
                    }
                }
                Change::Recovered => {
                    *s = Status {
                        since: *t,
                        ..Status::default()
                    }
                }
                Change::Sync(leader, mode) => s.last_sync = Some((*leader, *mode)),
            }
        }
        status
    }

    /// Whether `leader` had been established for `epoch` by `time`.
    pub fn established_by(&self, time: TimeNs, epoch: Epoch, leader: ServerId) -> bool {
        self.established
            .iter()
            .any(|(t, e, l)| *t <= time && *e == epoch && *l == leader)
    }

    /// Why a write of (session, cxid) has not completed, from where its txn got to.
    pub fn why_pending(&self, session: SessionId, xid: Xid) -> String {
        let Some(zxid) = self.proposed.get(&(session, xid)) else {
            return "no txn was ever proposed for it (a read, or a write that never reached a \
                    leader)"
                .to_string();
        };
        if self.committed.contains(zxid) {
            return format!("its txn {zxid} was committed, but no reply reached the client");
        }
        let logged: Vec<String> = self
            .logged
            .get(zxid)
            .map(|s| s.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        format!(
            "its txn {zxid} was proposed but never committed (logged on [{}]: a txn missing \
             from a quorum)",
            logged.join(", ")
        )
    }
}
