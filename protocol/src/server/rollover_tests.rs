//! Unit tests that need the leader's internals: zxid counter rollover (ZK-1277, research §8.5).

use super::io::{DiskRequest, ServerAction, ServerInput, ServerTimer};
use super::{QuorumConfig, QuorumPeer, Role};
use crate::observe::{ServerState, ZabState};
use crate::store::WriteRequest;
use crate::types::{Epoch, LocalTime, ServerId, SessionId, Xid, Zxid};
use std::collections::VecDeque;

/// Drives a single-voter ensemble to an established leader: completes disk operations at once
/// and fires the timers it arms, in deadline order.
fn established_single_leader() -> (QuorumPeer, LocalTime) {
    let mut peer = QuorumPeer::boot(
        QuorumConfig::with_voters(1),
        ServerId(1),
        Default::default(),
    );
    let mut now = LocalTime(1_000_000_000);
    let mut inputs = VecDeque::from([ServerInput::Start { entropy: 1 }]);
    let mut timers: Vec<(LocalTime, ServerTimer)> = Vec::new();
    for _ in 0..1000 {
        if peer.zab_state() == ZabState::Broadcast {
            return (peer, now);
        }
        let input = match inputs.pop_front() {
            Some(i) => i,
            None => {
                timers.sort();
                assert!(!timers.is_empty(), "stalled before broadcast");
                let (at, t) = timers.remove(0);
                now = now.max(at);
                ServerInput::Timer(t)
            }
        };
        for a in peer.handle(now, input) {
            match a {
                ServerAction::Disk { io, op } => {
                    assert!(!matches!(op, DiskRequest::Delete { .. }));
                    inputs.push_back(ServerInput::DiskDone { io, result: Ok(()) });
                }
                ServerAction::SetTimer { timer, at } => {
                    timers.retain(|(_, t)| *t != timer);
                    timers.push((at, timer));
                }
                ServerAction::CancelTimer { timer } => timers.retain(|(_, t)| *t != timer),
                _ => {}
            }
        }
    }
    panic!("no broadcast");
}

fn propose_at(peer: &mut QuorumPeer, last_counter: u32) -> Vec<ServerAction> {
    let Role::Leading(l) = &mut peer.role else {
        panic!("not leading");
    };
    l.last_proposed = Zxid::new(Epoch(1), last_counter);
    let mut out = Vec::new();
    let write = WriteRequest::CreateSession { timeout_ms: 4000 };
    peer.propose(SessionId(7), Xid(0), write, &mut out);
    out
}

/// The last usable counter is 0xfffffffe; the next proposal would need 0xffffffff, so the leader
/// abdicates (`XidRolloverException`) and the peer goes LOOKING.
#[test]
fn the_leader_abdicates_at_zxid_counter_rollover() {
    let (mut peer, _) = established_single_leader();
    assert_eq!(peer.state(), ServerState::Leading);
    let out = propose_at(&mut peer, u32::MAX - 2);
    let proposed = out.iter().any(|a| {
        matches!(a, ServerAction::Observe(crate::observe::Observation::Proposed { entry, .. })
            if entry.header.zxid == Zxid::new(Epoch(1), u32::MAX - 1))
    });
    assert!(proposed, "0xfffffffe is still a valid counter");
    assert_eq!(peer.state(), ServerState::Leading);
    let (mut peer, _) = established_single_leader();
    let out = propose_at(&mut peer, u32::MAX - 1);
    assert!(out.iter().all(|a| !matches!(
        a,
        ServerAction::Observe(crate::observe::Observation::Proposed { .. })
    )));
    assert_eq!(peer.state(), ServerState::Looking);
    assert_eq!(peer.zab_state(), ZabState::Election);
}
