//! Heartbeats and failure detection (research §9) and observers (§12): a leader cut off from
//! its followers steps down ("Not sufficient followers synced") and they drop to LOOKING on
//! their read timeout; the majority side re-elects in a new epoch and keeps the database; an
//! observer syncs with OBSERVERINFO, never counts towards a quorum and receives INFORM.

mod server_support;

use server_support::client::{create, open_session, reply};
use server_support::Cluster;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::{Observation, ServerState, ZabState};
use zabsim_protocol::server::{PeerSpec, QuorumConfig};
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

fn elected() -> Cluster {
    let mut c = Cluster::new(QuorumConfig::with_voters(3));
    c.start_all();
    c.run_for(3000);
    assert_eq!(c.leader(), Some(3));
    c
}

/// Cut the leader off: within `syncLimit` ticks (5 × 2 s) it abdicates and its followers time
/// out; s1 and s2 elect s2 for epoch 2 and the database written in epoch 1 is still there.
#[test]
fn an_isolated_leader_steps_down_and_the_majority_reelects() {
    let mut c = elected();
    let (conn, _) = open_session(&mut c, 1);
    create(&mut c, conn, 1, "/a", b"1");
    c.settle();
    let cut_at = c.now;
    c.cut.insert((ServerId(3), ServerId(1)));
    c.cut.insert((ServerId(3), ServerId(2)));
    c.run_for(15_000);
    let stepped_down = c.observations.iter().any(|o| {
        matches!(o, Observation::ServerStateChanged { server, state: ServerState::Looking, .. } if server.0 == 3)
    });
    assert!(stepped_down);
    assert_eq!(c.leader(), Some(2));
    assert_eq!(c.peer(1).state(), ServerState::Following);
    assert_eq!(c.peer(2).current_epoch(), Epoch(2));
    assert!(c.peer(2).database().tree().node("/a").is_some());
    assert!(
        c.peer(3).state() == ServerState::Looking || c.peer(3).zab_state() != ZabState::Broadcast
    );
    // Neither side gave up before syncLimit ticks of silence.
    assert!(c.now.0 - cut_at.0 >= 10_000_000_000);
}

/// A follower that loses its leader's connection goes LOOKING at once and the ensemble
/// re-elects; the restarted ex-leader rejoins as a follower of the new epoch.
#[test]
fn followers_return_to_looking_when_the_leader_crashes() {
    let mut c = elected();
    c.crash(ServerId(3));
    c.settle();
    assert_eq!(c.peer(1).state(), ServerState::Looking);
    c.run_for(3000);
    assert_eq!(c.leader(), Some(2));
    c.restart(ServerId(3));
    c.run_for(3000);
    assert_eq!(c.peer(3).state(), ServerState::Following);
    assert_eq!(c.peer(3).current_epoch(), Epoch(2));
}

/// Three voters and an observer: the observer registers with OBSERVERINFO, gets INFORM for
/// every commit (never PROPOSAL), never ACKs a proposal, and the commit quorum is voters only.
#[test]
fn an_observer_learns_commits_by_inform() {
    let mut config = QuorumConfig::with_voters(3);
    config.peers.push(PeerSpec {
        sid: ServerId(4),
        observer: true,
    });
    let mut c = Cluster::new(config);
    c.start_all();
    c.run_for(3000);
    assert_eq!(c.leader(), Some(3));
    assert_eq!(c.peer(4).state(), ServerState::Observing);
    assert_eq!(
        c.packets_between(4, 3).first().map(|p| p.2),
        Some("OBSERVERINFO")
    );
    let (conn, _) = open_session(&mut c, 4);
    create(&mut c, conn, 1, "/o", b"1");
    c.settle();
    assert_eq!(
        reply(&c, conn, 1),
        Some((Zxid::new(Epoch(1), 2), ErrorCode::OK))
    );
    let to_observer: Vec<&str> = c
        .packets
        .iter()
        .filter(|p| p.0 == 3 && p.1 == 4)
        .map(|p| p.2)
        .collect();
    assert!(to_observer.contains(&"INFORM"));
    assert!(!to_observer.contains(&"PROPOSAL"));
    for o in &c.observations {
        if let Observation::Committed { acks, .. } = o {
            assert!(!acks.contains(&ServerId(4)), "observer counted: {acks:?}");
        }
    }
    assert!(c.peer(4).database().tree().node("/o").is_some());
}

/// `SyncLimitCheck`: a follower whose disk never completes the append cannot ACK; after
/// `syncLimit` ticks the leader closes its connection (it goes LOOKING) while s2 and s3 keep
/// the quorum.
#[test]
fn a_follower_that_never_acks_is_dropped_after_sync_limit() {
    let mut c = elected();
    let (conn, _) = open_session(&mut c, 2);
    c.hold_disk.insert(ServerId(1));
    let from = c.observations.len();
    create(&mut c, conn, 1, "/a", b"1");
    c.settle();
    assert_eq!(reply(&c, conn, 1).map(|r| r.1), Some(ErrorCode::OK));
    c.run_for(8000);
    let looking = |c: &Cluster| {
        c.observations[from..].iter().any(|o| {
            matches!(o, Observation::ServerStateChanged { server, state: ServerState::Looking, .. } if server.0 == 1)
        })
    };
    assert!(!looking(&c), "not before syncLimit");
    c.run_for(6000);
    assert!(looking(&c), "dropped after syncLimit");
    assert_eq!(c.leader(), Some(3));
}
