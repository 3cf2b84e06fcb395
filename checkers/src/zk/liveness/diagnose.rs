//! The cluster at the liveness deadline: is there an established broadcasting leader, has every
//! running server finished synchronization, and if not, why.

use super::timeline::{Status, Timeline};
use super::NAME;
use crate::history::TimeNs;
use crate::zk::{EndState, Violation, ViolationKind};
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::observe::{ServerState, ZabState};
use zabsim_protocol::types::ServerId;

pub fn cluster_at(timeline: &Timeline, deadline: TimeNs, end: &EndState) -> Vec<Violation> {
    let status = timeline.status_at(deadline);
    let mut found = Vec::new();
    let leader = status.iter().find(|(id, s)| {
        s.alive
            && s.state == ServerState::Leading
            && s.zab_state == ZabState::Broadcast
            && timeline.established_by(deadline, s.accepted_epoch, **id)
    });
    let Some((leader_id, leader_status)) = leader else {
        let why = why_no_leader(&status, end);
        found.push(
            Violation::new(
                NAME,
                ViolationKind::NoLeader,
                format!("no established leader in BROADCAST at {deadline} ns: {why}"),
            )
            .servers(status.keys().copied()),
        );
        return found;
    };
    for (id, s) in status.iter().filter(|(id, s)| s.alive && *id != leader_id) {
        if s.zab_state == ZabState::Broadcast && s.accepted_epoch == leader_status.accepted_epoch {
            continue;
        }
        let sync = s
            .last_sync
            .map(|(l, m)| format!(", last sync {m:?} from {l}"))
            .unwrap_or_default();
        found.push(
            Violation::new(
                NAME,
                ViolationKind::SyncStuck,
                format!(
                    "{id} is {:?}/{:?} at epoch {} since {} ns while {leader_id} leads epoch {}{sync}",
                    s.state, s.zab_state, s.accepted_epoch, s.since, leader_status.accepted_epoch
                ),
            )
            .servers([*id, *leader_id]),
        );
    }
    found
}

fn why_no_leader(status: &BTreeMap<ServerId, Status>, end: &EndState) -> String {
    let ensemble: BTreeSet<ServerId> = status
        .keys()
        .copied()
        .chain(end.servers.iter().map(|s| s.server))
        .collect();
    let running: Vec<(&ServerId, &Status)> = status.iter().filter(|(_, s)| s.alive).collect();
    let quorum = ensemble.len() / 2 + 1;
    if running.len() < quorum {
        return format!(
            "only {} of {} servers are running, a quorum needs {quorum}",
            running.len(),
            ensemble.len()
        );
    }
    if let Some((id, s)) = running
        .iter()
        .find(|(_, s)| s.state == ServerState::Leading)
    {
        return format!(
            "{id} is LEADING but stuck in {:?} at epoch {} since {} ns (waiting for a quorum of \
             FOLLOWERINFO, ACKEPOCH or NEWLEADER acks)",
            s.zab_state, s.accepted_epoch, s.since
        );
    }
    let orphans: Vec<String> = running
        .iter()
        .filter_map(|(id, s)| {
            let (leader, _) = s.last_sync?;
            let gone = status.get(&leader).is_none_or(|l| !l.alive);
            (s.state != ServerState::Looking && gone).then(|| format!("{id} follows {leader}"))
        })
        .collect();
    if !orphans.is_empty() {
        return format!(
            "{} — a leader that is not running (the failure was never detected)",
            orphans.join(", ")
        );
    }
    let epochs: BTreeSet<_> = running.iter().map(|(_, s)| s.accepted_epoch.0).collect();
    let summary: Vec<String> = running
        .iter()
        .map(|(id, s)| format!("{id} {:?} epoch {}", s.state, s.accepted_epoch))
        .collect();
    if epochs.len() > 1 {
        return format!(
            "epoch stuck: running servers disagree on the epoch ({})",
            summary.join(", ")
        );
    }
    format!(
        "no server is LEADING ({}); election never converged",
        summary.join(", ")
    )
}
