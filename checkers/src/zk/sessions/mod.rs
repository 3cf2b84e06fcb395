//! Sessions and watches: each triggered one-shot watch fires exactly once and before its
//! client can observe the change ([`watches`]); persistent and recursive watches (addWatch)
//! fire for every change they cover while their connection lasts ([`persistent`]);
//! removeWatches answers OK or NOWATCHER as the session's watches demand ([`removals`]);
//! ephemerals vanish exactly when their session closes or expires and never outlive it
//! ([`ephemerals`]).

mod ephemerals;
mod persistent;
mod rearm;
mod removals;
pub(crate) mod watches;

use super::cluster::ClusterModel;
use super::{EndState, Event, Judge, Verdict, Violation};
use crate::history::{Completion, Invocation, OpId, Outcome, Record, SessionChange};
use persistent::PersistentReg;
use rearm::WatchKind;
use removals::{Removal, WatchSet};
use std::collections::{BTreeMap, BTreeSet};
use watches::{ChangeIndex, Received, Registration};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::request::{AddWatchMode, EventType, Request, WatcherType};
use zabsim_protocol::txn::Txn;
use zabsim_protocol::types::{SessionId, Zxid};

const NAME: &str = "sessions";

/// What the judge remembers of an invocation.
#[derive(Debug)]
struct Pending {
    session: SessionId,
    watch: Option<(WatchKind, String)>,
    is_exists: bool,
    /// addWatch: the path and whether it is recursive.
    persistent: Option<(String, bool)>,
    /// removeWatches: the path and type.
    removal: Option<(String, WatcherType)>,
    invoke_line: usize,
}

/// The sessions and watches judge.
#[derive(Debug, Default)]
pub struct SessionsJudge {
    model: ClusterModel,
    ephemerals: ephemerals::Ephemerals,
    pending: BTreeMap<OpId, Pending>,
    registrations: Vec<Registration>,
    uncertain: BTreeSet<(SessionId, String)>,
    received: Vec<Received>,
    replies: BTreeMap<SessionId, Vec<(usize, Zxid)>>,
    connects: BTreeMap<SessionId, Vec<(usize, Zxid)>>,
    closed_at: BTreeMap<SessionId, Zxid>,
    /// Ephemerals any server reported deleted, by zxid (an old-format closeSession txn does not
    /// list its paths).
    deleted_at: BTreeMap<Zxid, BTreeSet<String>>,
    persistent: Vec<PersistentReg>,
    removals: Vec<Removal>,
    sets: Vec<WatchSet>,
    uncertain_below: BTreeSet<(SessionId, String)>,
    violations: Vec<Violation>,
}

impl SessionsJudge {
    /// A fresh judge.
    pub fn new() -> SessionsJudge {
        SessionsJudge::default()
    }

    fn on_invoke(&mut self, line: usize, inv: &Invocation) {
        let watch = match &inv.request {
            Request::GetData { path, watch: true } | Request::Exists { path, watch: true } => {
                Some((WatchKind::Data, path.clone()))
            }
            Request::GetChildren {
                path, watch: true, ..
            } => Some((WatchKind::Child, path.clone())),
            _ => None,
        };
        let persistent = match &inv.request {
            Request::AddWatch { path, mode } => {
                Some((path.clone(), *mode == AddWatchMode::PersistentRecursive))
            }
            _ => None,
        };
        let removal = match &inv.request {
            Request::RemoveWatches { path, watcher_type } => Some((path.clone(), *watcher_type)),
            _ => None,
        };
        let set_path = watch
            .as_ref()
            .map(|(_, p)| p)
            .or(persistent.as_ref().map(|(p, _)| p));
        if let Some(path) = set_path {
            self.sets.push(WatchSet {
                session: inv.session,
                path: path.clone(),
                invoke_line: line,
                persistent: persistent.is_some(),
                recursive: persistent.as_ref().is_some_and(|(_, r)| *r),
            });
        }
        let is_exists = matches!(inv.request, Request::Exists { .. });
        self.pending.insert(
            inv.id,
            Pending {
                session: inv.session,
                watch,
                is_exists,
                persistent,
                removal,
                invoke_line: line,
            },
        );
    }

    fn on_complete(&mut self, line: usize, done: &Completion) {
        let Some(p) = self.pending.remove(&done.id) else {
            return;
        };
        let (zxid, err) = match &done.outcome {
            Outcome::Ok { zxid, .. } => (*zxid, None),
            Outcome::Error { zxid, err } => (*zxid, Some(*err)),
            Outcome::Unknown { .. } => {
                if let Some((_, path)) = p.watch {
                    self.uncertain.insert((p.session, path));
                }
                match p.persistent {
                    Some((path, true)) => {
                        self.uncertain_below.insert((p.session, path));
                    }
                    Some((path, false)) => {
                        self.uncertain.insert((p.session, path));
                    }
                    None => {}
                }
                if let Some((path, watcher_type)) = p.removal {
                    self.removals.push(Removal {
                        session: p.session,
                        path,
                        watcher_type,
                        invoke_line: p.invoke_line,
                        line,
                        zxid: None,
                        removed: None,
                    });
                }
                return;
            }
        };
        if let Some((path, watcher_type)) = p.removal.clone() {
            self.removals.push(Removal {
                session: p.session,
                path,
                watcher_type,
                invoke_line: p.invoke_line,
                line,
                zxid: Some(zxid),
                removed: removals::removed_of(err),
            });
        }
        if let (Some((path, recursive)), None) = (p.persistent.clone(), err) {
            self.persistent.push(PersistentReg {
                session: p.session,
                path,
                recursive,
                zxid,
                op: done.id,
                line,
                invoke_line: p.invoke_line,
            });
        }
        self.replies
            .entry(p.session)
            .or_default()
            .push((line, zxid));
        let Some((kind, path)) = p.watch else { return };
        // exists leaves a watch on a missing node (the client keeps it as an exist watch);
        // getData and getChildren do not.
        let kind = match err {
            None => kind,
            Some(ErrorCode::NONODE) if p.is_exists => WatchKind::Exist,
            Some(_) => return,
        };
        self.registrations.push(Registration {
            session: p.session,
            kind,
            path,
            zxid,
            op: done.id,
            line,
            invoke_line: p.invoke_line,
        });
    }

    fn on_observation(&mut self, observation: &Observation) -> Option<Violation> {
        match observation {
            Observation::Proposed { entry, .. } => {
                self.ephemerals
                    .headers
                    .insert(entry.header.zxid, entry.header);
                None
            }
            Observation::TxnApplied { server, header, .. } => {
                self.ephemerals
                    .headers
                    .entry(header.zxid)
                    .or_insert(*header);
                self.ephemerals.check_outlived(*server, header.zxid)
            }
            Observation::EphemeralCreated {
                server,
                session,
                path,
                zxid,
            } => self.ephemerals.created(*server, *session, path, *zxid),
            Observation::EphemeralDeleted {
                server,
                session,
                path,
                zxid,
            } => {
                self.deleted_at
                    .entry(*zxid)
                    .or_default()
                    .insert(path.clone());
                self.ephemerals.deleted(*server, *session, path, *zxid)
            }
            Observation::SessionClosed {
                server,
                session,
                zxid,
            } => {
                self.ephemerals.session_closed(*server, *session, *zxid);
                self.closed_at.entry(*session).or_insert(*zxid);
                None
            }
            Observation::Crashed { server }
            | Observation::SnapshotInstalled { server, .. }
            | Observation::LogTruncated { server, .. } => {
                self.ephemerals.forget(*server);
                None
            }
            _ => None,
        }
    }

    fn change_index(&self) -> ChangeIndex {
        let mut index = ChangeIndex::new();
        for zxid in self.model.committed_zxids() {
            let Some((_, entry)) = self.model.proposals.get(&zxid) else {
                continue;
            };
            if let Txn::CloseSession { paths_to_delete } = &entry.txn {
                let mut paths: BTreeSet<String> = paths_to_delete.iter().cloned().collect();
                paths.extend(self.deleted_at.get(&zxid).into_iter().flatten().cloned());
                let paths_to_delete = paths.into_iter().collect();
                watches::index_txn(&mut index, zxid, &Txn::CloseSession { paths_to_delete });
            } else {
                watches::index_txn(&mut index, zxid, &entry.txn);
            }
        }
        index
    }
}

impl Judge for SessionsJudge {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, event: Event<'_>) -> Option<Violation> {
        let found = match event.record {
            Record::Invoke(inv) => {
                self.on_invoke(event.line, inv);
                None
            }
            Record::Complete(done) => {
                self.on_complete(event.line, done);
                None
            }
            Record::Session(s) => {
                if let SessionChange::Connected { last_zxid_seen, .. } = s.change {
                    self.connects
                        .entry(s.session)
                        .or_default()
                        .push((event.line, last_zxid_seen));
                }
                None
            }
            Record::Watch(w) if w.event.event_type != EventType::None => {
                self.received.push(Received {
                    line: event.line,
                    session: w.session,
                    zxid: w.zxid,
                    event: w.event.event_type,
                    path: w.event.path.clone(),
                });
                None
            }
            Record::Observed(o) => {
                let found = self.on_observation(&o.observation);
                self.model.apply(o.time_ns, &o.observation);
                found
            }
            _ => None,
        }?;
        let found = found.at(event.line);
        self.violations.push(found.clone());
        Some(found)
    }

    fn finish(&mut self, _end: &EndState) -> Verdict {
        let mut undecided = Vec::new();
        for server in self.ephemerals.servers() {
            let outliving = self.ephemerals.outliving(server, None);
            self.violations.extend(outliving);
        }
        let removal_findings = removals::judge(&self.removals, &self.sets, &self.persistent);
        self.violations.extend(removal_findings);
        let watched = !self.registrations.is_empty()
            || !self.received.is_empty()
            || !self.persistent.is_empty();
        if watched && self.model.proposals.is_empty() {
            undecided.push("watches were used but no Proposed txn bodies were observed".into());
        } else if watched {
            let facts = watches::WatchFacts {
                registrations: &self.registrations,
                received: &self.received,
                replies: &self.replies,
                closed_at: &self.closed_at,
                uncertain: &self.uncertain,
                connects: &self.connects,
                persistent: &self.persistent,
                removals: &self.removals,
                sets: &self.sets,
                uncertain_below: &self.uncertain_below,
            };
            let (found, open) = watches::judge(&facts, &self.change_index());
            self.violations.extend(found);
            if open > 0 {
                undecided.push(format!(
                    "{open} triggered watches were never due: their sessions saw no later reply"
                ));
            }
        }
        if self.model.servers.is_empty() && !watched {
            undecided.push("no server observations and no watches: nothing to judge".into());
        }
        Verdict::from_parts(std::mem::take(&mut self.violations), undecided)
    }
}
