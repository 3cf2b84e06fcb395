//! Golden interaction tests: election → discovery → synchronization of three `QuorumPeer`s.

mod server_harness;

use server_harness::Cluster;
use zabsim_protocol::observe::{Observation, ServerState, ZabState};
use zabsim_protocol::types::{Epoch, ServerId};

fn started(n: u64) -> Cluster {
    let mut cluster = Cluster::new(n);
    for sid in 1..=n {
        cluster.start(sid);
    }
    cluster.run_until(10_000);
    cluster
}

#[test]
fn three_fresh_servers_elect_the_largest_sid_and_reach_broadcast() {
    let cluster = started(3);
    let leader = &cluster.peers[&3];
    assert_eq!(leader.state(), ServerState::Leading);
    for sid in [1, 2] {
        let peer = &cluster.peers[&sid];
        assert_eq!(peer.state(), ServerState::Following);
        let info = format!("{sid}->3 FOLLOWERINFO");
        assert!(cluster.transcript.contains(&info), "{sid} never followed 3");
    }
    for peer in cluster.peers.values() {
        assert_eq!(peer.zab_state(), ZabState::Broadcast);
        // Fresh servers all had acceptedEpoch 0: the new epoch is 1.
        assert_eq!(peer.accepted_epoch(), Epoch(1));
        assert_eq!(peer.current_epoch(), Epoch(1));
    }
}

#[test]
fn discovery_and_sync_messages_follow_zookeepers_order() {
    let cluster = started(3);
    for follower in [1, 2] {
        let lines = cluster.between(follower, 3);
        let first_ping = lines.iter().position(|l| l.ends_with("PING"));
        let (handshake, heartbeats) = lines.split_at(first_ping.unwrap_or(lines.len()));
        // Learner.syncWithLeader ACKs UPTODATE (zxid newEpoch << 32) before serving.
        assert_eq!(
            handshake,
            [
                format!("{follower}->3 FOLLOWERINFO"),
                format!("3->{follower} LEADERINFO"),
                format!("{follower}->3 ACKEPOCH"),
                format!("3->{follower} DIFF"),
                format!("3->{follower} NEWLEADER"),
                format!("{follower}->3 ACK"),
                format!("3->{follower} UPTODATE"),
                format!("{follower}->3 ACK"),
            ]
        );
        // Then heartbeats: every leader PING is answered by the learner's PING.
        assert!(heartbeats.len() >= 2, "no heartbeats: {lines:?}");
        for pair in heartbeats.chunks(2) {
            assert_eq!(pair[0], format!("3->{follower} PING"));
            if let Some(reply) = pair.get(1) {
                assert_eq!(*reply, format!("{follower}->3 PING"));
            }
        }
    }
}

#[test]
fn epoch_files_are_durable_and_hold_the_new_epoch() {
    let cluster = started(3);
    for sid in 1..=3 {
        let disk = &cluster.disks[&sid];
        assert_eq!(
            disk.get("acceptedEpoch").map(Vec::as_slice),
            Some(&b"1"[..])
        );
        assert_eq!(disk.get("currentEpoch").map(Vec::as_slice), Some(&b"1"[..]));
        assert!(!disk.contains_key("acceptedEpoch.tmp"));
    }
}

#[test]
fn leader_is_established_by_a_quorum_only_after_its_own_epoch_is_durable() {
    let cluster = started(3);
    let established: Vec<_> = cluster
        .observations
        .iter()
        .filter_map(|(_, o)| match o {
            Observation::LeaderEstablished {
                leader,
                epoch,
                quorum,
                ..
            } => Some((*leader, *epoch, quorum.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(established.len(), 1);
    let (leader, epoch, quorum) = &established[0];
    assert_eq!((*leader, *epoch), (ServerId(3), Epoch(1)));
    assert!(quorum.contains(&ServerId(3)) && quorum.len() >= 2);
    let persisted_at = cluster
        .observations
        .iter()
        .position(|(s, o)| {
            *s == 3
                && matches!(
                    o,
                    Observation::CurrentEpochPersisted {
                        epoch: Epoch(1),
                        ..
                    }
                )
        })
        .unwrap();
    let established_at = cluster
        .observations
        .iter()
        .position(|(_, o)| matches!(o, Observation::LeaderEstablished { .. }))
        .unwrap();
    assert!(persisted_at < established_at);
}

#[test]
fn no_ackepoch_is_sent_before_the_new_accepted_epoch_is_durable() {
    let mut cluster = Cluster::new(3);
    for sid in 1..=3 {
        cluster.start(sid);
    }
    cluster.run_until(10_000);
    // Restart from the durable state: a new election bumps the epoch to 2.
    for sid in 1..=3 {
        cluster.crash(sid);
    }
    cluster.transcript.clear();
    cluster.hold_disk = true;
    for sid in 1..=3 {
        cluster.start(sid);
    }
    cluster.run_until(20_000);
    // No disk write completed: the leader cannot announce its epoch, nobody ACKEPOCHs.
    assert!(!cluster.transcript.iter().any(|l| l.ends_with("LEADERINFO")));
    assert!(!cluster.transcript.iter().any(|l| l.ends_with("ACKEPOCH")));
    cluster.hold_disk = false;
    cluster.complete_disk(3);
    cluster.run_until(20_100);
    for sid in [1, 2] {
        cluster.complete_disk(sid);
    }
    cluster.run_until(30_000);
    for peer in cluster.peers.values() {
        assert_eq!(peer.current_epoch(), Epoch(2));
        assert_eq!(peer.zab_state(), ZabState::Broadcast);
    }
}

#[test]
fn a_garbled_epoch_file_halts_at_start() {
    let mut cluster = Cluster::new(3);
    cluster
        .disks
        .get_mut(&1)
        .unwrap()
        .insert("currentEpoch".into(), b"x1".to_vec());
    cluster.start(1);
    cluster.run_until(1000);
    assert!(cluster.halted[&1].contains("currentEpoch"));
}

#[test]
fn followers_elect_a_new_leader_in_a_higher_epoch_when_the_leader_crashes() {
    let mut cluster = started(3);
    cluster.crash(3);
    cluster.run_until(60_000);
    let leaders: Vec<u64> = [1, 2]
        .into_iter()
        .filter(|sid| cluster.peers[sid].state() == ServerState::Leading)
        .collect();
    // Both have the same history (epoch 1, nothing written): the larger sid wins.
    assert_eq!(leaders, [2]);
    assert_eq!(cluster.peers[&1].state(), ServerState::Following);
    for sid in [1, 2] {
        let peer = &cluster.peers[&sid];
        assert_eq!(peer.zab_state(), ZabState::Broadcast);
        assert_eq!(peer.current_epoch(), Epoch(2));
    }
}

#[test]
fn a_leader_left_alone_steps_down_to_looking() {
    let mut cluster = started(3);
    cluster.crash(1);
    cluster.crash(2);
    cluster.run_until(60_000);
    assert_eq!(cluster.peers[&3].state(), ServerState::Looking);
    assert_eq!(cluster.peers[&3].zab_state(), ZabState::Election);
}
