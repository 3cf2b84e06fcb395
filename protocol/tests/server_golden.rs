//! Golden interactions: three fresh servers elect, run discovery and synchronization, and
//! commit client writes. Pins the quorum-packet sequences ZooKeeper 3.9 produces
//! (research notes §5–§8) and the durability order around them (§3, §6, §7.4).

mod server_support;

use server_support::client::{create, open_session, reply};
use server_support::{Cluster, Traced};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::{ApplyReason, Observation, ServerState, ZabState};
use zabsim_protocol::server::QuorumConfig;
use zabsim_protocol::types::{Epoch, Zxid};

fn elected() -> Cluster {
    let mut c = Cluster::new(QuorumConfig::with_voters(3));
    c.start_all();
    c.run_for(3000);
    c
}

/// FLE over equal histories picks the largest sid; each learner then goes through
/// FOLLOWERINFO / LEADERINFO / ACKEPOCH, its sync, NEWLEADER and its ACK, UPTODATE and the
/// trailing ACK (`Learner.syncWithLeader` acks NEWLEADER's epoch again after UPTODATE).
/// s1 connects first and syncs while the leader's lastProcessedZxid is still 0 = its own:
/// an empty DIFF. s2's first connection attempt was refused (nobody led yet) and it comes
/// back after `startZkServer` set the leader's lastProcessedZxid to 0x100000000: the committed
/// log is empty and the txn log holds nothing before it, so `syncFollower` falls back to SNAP,
/// as real ZooKeeper does for a late follower of a fresh ensemble.
#[test]
fn election_discovery_sync_sequence_is_pinned() {
    let c = elected();
    assert_eq!(c.leader(), Some(3));
    for (s, sync) in [(1, "DIFF"), (2, "SNAP")] {
        assert_eq!(c.peer(s).state(), ServerState::Following);
        assert_eq!(c.peer(s).zab_state(), ZabState::Broadcast);
        assert_eq!(c.peer(s).current_epoch(), Epoch(1));
        let seq: Vec<&str> = c.packets_between(s, 3).iter().map(|p| p.2).collect();
        assert_eq!(
            seq,
            [
                "FOLLOWERINFO",
                "LEADERINFO",
                "ACKEPOCH",
                sync,
                "NEWLEADER",
                "ACK",
                "UPTODATE",
                "ACK"
            ],
            "learner s{s}"
        );
    }
    assert_eq!(
        c.peer(3).database().last_processed_zxid(),
        Zxid::new(Epoch(1), 0),
        "startZkServer: lastProcessedZxid = (newEpoch, 0)"
    );
    assert!(c.halts.is_empty());
}

/// Epoch files are durable at ZooKeeper's moments: the learner's `acceptedEpoch` before its
/// ACKEPOCH, the leader's `acceptedEpoch` before its first LEADERINFO, the leader's
/// `currentEpoch` before any sync packet, the learner's `currentEpoch` before its NEWLEADER ACK.
#[test]
fn epoch_files_are_durable_before_the_packets_that_depend_on_them() {
    let c = elected();
    let obs = |server: u64, current: bool| {
        c.position(|t| match t {
            Traced::Obs(Observation::AcceptedEpochPersisted { server: s, epoch }) if !current => {
                s.0 == server && *epoch == Epoch(1)
            }
            Traced::Obs(Observation::CurrentEpochPersisted { server: s, epoch }) if current => {
                s.0 == server && *epoch == Epoch(1)
            }
            _ => false,
        })
        .expect("persisted")
    };
    let pkt = |from: u64, to: u64, name: &str| {
        c.position(
            |t| matches!(t, Traced::Packet(f, to2, n) if *f == from && *to2 == to && *n == name),
        )
        .expect("sent")
    };
    assert!(obs(3, false) < pkt(3, 1, "LEADERINFO"));
    assert!(obs(1, false) < pkt(1, 3, "ACKEPOCH"));
    assert!(obs(3, true) < pkt(3, 1, "DIFF"));
    assert!(obs(1, true) < pkt(1, 3, "ACK"));
    let established = c
        .position(|t| matches!(t, Traced::Obs(Observation::LeaderEstablished { .. })))
        .expect("established");
    assert!(pkt(1, 3, "ACK") < established);
    assert!(established < pkt(3, 1, "UPTODATE"));
}

/// A write through a follower: REQUEST to the leader, PROPOSAL to both followers, ACKs after
/// each follower's fsync, COMMIT to both; every server applies it; the client's reply carries
/// the txn's zxid (epoch 1: createSession is 0x100000001, the create 0x100000002).
#[test]
fn a_write_through_a_follower_is_committed_by_a_quorum() {
    let mut c = elected();
    let (conn, _session) = open_session(&mut c, 1);
    let before = c.packets.len();
    create(&mut c, conn, 1, "/a", b"v1");
    c.settle();
    let create_zxid = Zxid::new(Epoch(1), 2);
    assert_eq!(reply(&c, conn, 1), Some((create_zxid, ErrorCode::OK)));
    let write: Vec<(u64, u64, &str)> = c.packets[before..]
        .iter()
        .filter(|p| p.2 != "PING")
        .copied()
        .collect();
    assert_eq!(write[0], (1, 3, "REQUEST"));
    let proposals: Vec<_> = write.iter().filter(|p| p.2 == "PROPOSAL").collect();
    let acks: Vec<_> = write.iter().filter(|p| p.2 == "ACK").collect();
    let commits: Vec<_> = write.iter().filter(|p| p.2 == "COMMIT").collect();
    assert_eq!(proposals, [&(3, 1, "PROPOSAL"), &(3, 2, "PROPOSAL")]);
    assert_eq!(acks.len(), 2);
    assert_eq!(commits.len(), 2);
    let committed = c.observations.iter().find_map(|o| match o {
        Observation::Committed { zxid, acks, .. } if *zxid == create_zxid => Some(acks.clone()),
        _ => None,
    });
    let acks = committed.expect("committed");
    assert!(acks.len() >= 2, "a majority acked: {acks:?}");
    for s in 1..=3u64 {
        let applied = c.observations.iter().any(|o| {
            matches!(o, Observation::TxnApplied { server, header, reason: ApplyReason::Commit, .. }
                if server.0 == s && header.zxid == create_zxid)
        });
        assert!(applied, "s{s} applied the create");
        assert!(c.peer(s).database().tree().node("/a").is_some());
    }
}

/// Every ACK a server sends for a proposal comes after that proposal is durable in its log.
#[test]
fn acks_follow_the_fsync_of_the_acked_proposal() {
    let mut c = elected();
    let (conn, _) = open_session(&mut c, 2);
    create(&mut c, conn, 1, "/b", b"x");
    c.settle();
    for s in [1u64, 2] {
        let logged = c
            .position(|t| {
                matches!(t, Traced::Obs(Observation::ProposalLogged { server, header })
                if server.0 == s && header.zxid == Zxid::new(Epoch(1), 2))
            })
            .expect("logged");
        let acked = c
            .position(|t| matches!(t, Traced::Ack(f, z) if *f == s && *z == Zxid::new(Epoch(1), 2)))
            .expect("acked");
        assert!(logged < acked, "s{s} acked before its fsync");
    }
}
