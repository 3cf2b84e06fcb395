//! Liveness, judged only after the faults heal (TigerBeetle's VOPR "liveness mode"; zab-protocol
//! §13.3 (7)): by the deadline `healed_at + bound` a leader is established and broadcasting,
//! every running server has finished synchronization, every operation invoked has completed,
//! and every disconnected session has reconnected or expired. Operations and disconnections
//! after the heal get the bound from their own start.
//!
//! A failure says why, from the observations: no quorum of servers running, servers LOOKING at
//! different epochs, a leader stuck in DISCOVERY/SYNCHRONIZATION, a learner stuck in sync, a
//! write proposed but never committed (which servers logged it) or never proposed.

mod diagnose;
mod timeline;

use super::{EndState, Event, Judge, Verdict, Violation, ViolationKind};
use crate::history::{OpId, Record, SessionChange, TimeNs};
use std::collections::BTreeMap;
use timeline::Timeline;
use zabsim_protocol::types::{SessionId, Xid};

const NAME: &str = "liveness";

/// An operation's life, as far as liveness cares.
#[derive(Clone, Debug)]
struct OpLife {
    session: SessionId,
    xid: Xid,
    name: &'static str,
    invoked: TimeNs,
    completed: Option<TimeNs>,
}

/// The liveness judge.
#[derive(Debug, Default)]
pub struct LivenessJudge {
    timeline: Timeline,
    ops: BTreeMap<OpId, OpLife>,
    /// Per session: when it last disconnected without reconnecting or expiring since.
    disconnected: BTreeMap<SessionId, TimeNs>,
    /// Per session: every (disconnect, resolution) interval.
    outages: Vec<(SessionId, TimeNs, Option<TimeNs>)>,
}

impl LivenessJudge {
    /// A fresh judge.
    pub fn new() -> LivenessJudge {
        LivenessJudge::default()
    }

    fn on_session(&mut self, session: SessionId, change: &SessionChange, time: TimeNs) {
        match change {
            SessionChange::Disconnected => {
                self.disconnected.entry(session).or_insert(time);
            }
            SessionChange::Connected { .. } | SessionChange::Expired | SessionChange::Closed => {
                if let Some(since) = self.disconnected.remove(&session) {
                    self.outages.push((session, since, Some(time)));
                }
            }
        }
    }

    fn check_ops(&self, deadline: TimeNs, bound: u64, end: TimeNs) -> Vec<Violation> {
        let mut found = Vec::new();
        for (id, op) in &self.ops {
            let due = deadline.max(op.invoked.saturating_add(bound));
            if end < due || op.completed.is_some_and(|c| c <= due) {
                continue;
            }
            let why = self.timeline.why_pending(op.session, op.xid);
            found.push(
                Violation::new(
                    NAME,
                    ViolationKind::OperationsStuck,
                    format!(
                        "op {} ({}) invoked at {} ns had not completed by {due} ns: {why}",
                        id.0, op.name, op.invoked
                    ),
                )
                .ops([*id])
                .sessions([op.session]),
            );
        }
        found
    }

    fn check_sessions(&self, deadline: TimeNs, bound: u64, end: TimeNs) -> Vec<Violation> {
        let open = self.disconnected.iter().map(|(s, t)| (*s, *t, None));
        let all = self.outages.iter().copied().chain(open);
        let mut found = Vec::new();
        for (session, since, resolved) in all {
            let due = deadline.max(since.saturating_add(bound));
            if end < due || resolved.is_some_and(|r| r <= due) {
                continue;
            }
            found.push(
                Violation::new(
                    NAME,
                    ViolationKind::SessionStuck,
                    format!(
                        "session {session} disconnected at {since} ns and had neither reconnected \
                         nor expired by {due} ns"
                    ),
                )
                .sessions([session]),
            );
        }
        found
    }
}

impl Judge for LivenessJudge {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, event: Event<'_>) -> Option<Violation> {
        match event.record {
            Record::Invoke(inv) => {
                let life = OpLife {
                    session: inv.session,
                    xid: inv.xid,
                    name: inv.request.op_code().name(),
                    invoked: inv.time_ns,
                    completed: None,
                };
                self.ops.insert(inv.id, life);
            }
            Record::Complete(done) => {
                if let Some(op) = self.ops.get_mut(&done.id) {
                    op.completed = Some(done.time_ns);
                }
            }
            Record::Session(s) => self.on_session(s.session, &s.change, s.time_ns),
            Record::Observed(o) => self.timeline.record(o.time_ns, &o.observation),
            Record::Watch(_) => {}
        }
        None
    }

    fn finish(&mut self, end: &EndState) -> Verdict {
        let Some(heal) = end.heal else {
            return Verdict::Undecided(
                "no heal phase: liveness is judged only after faults heal".into(),
            );
        };
        let deadline = heal.healed_at_ns.saturating_add(heal.bound_ns);
        if end.end_ns < deadline {
            return Verdict::Undecided(format!(
                "the run ended at {} ns, before the liveness deadline {deadline} ns",
                end.end_ns
            ));
        }
        let mut found = Vec::new();
        if !self.timeline.is_empty() {
            found.extend(diagnose::cluster_at(&self.timeline, deadline, end));
        }
        found.extend(self.check_ops(deadline, heal.bound_ns, end.end_ns));
        found.extend(self.check_sessions(deadline, heal.bound_ns, end.end_ns));
        let undecided = if self.timeline.is_empty() {
            vec!["no server observations: leader election and sync were not judged".to_string()]
        } else {
            Vec::new()
        };
        Verdict::from_parts(found, undecided)
    }
}
