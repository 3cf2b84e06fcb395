//! Durability around crashes (research §7.4, §8.2; zk-bug-zoo ZK-4643): a crash between a log
//! append and its fsync loses nothing a client was told; a server ACKs only what it fsynced; at
//! NEWLEADER the synced txns are durable before `currentEpoch` — except under
//! `Variant::Zk4643`, where a crash right after the epoch write leaves an epoch that claims data
//! the log lacks.

mod server_support;

use server_support::client::{create, open_session, reply};
use server_support::{Cluster, Traced};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::server::{DiskRequest, QuorumConfig, Variant, Variants};
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

fn z(epoch: u32, counter: u32) -> Zxid {
    Zxid::new(Epoch(epoch), counter)
}

fn cluster(variants: Variants) -> Cluster {
    let mut config = QuorumConfig::with_voters(3);
    config.variants = variants;
    let mut c = Cluster::new(config);
    c.start_all();
    c.run_for(3000);
    assert_eq!(c.leader(), Some(3));
    c
}

/// The leader's own append of 0x100000002 never reaches its disk; the followers' fsynced ACKs
/// commit it and the client hears OK. The leader crashes with the unsynced append: the
/// acknowledged write survives on the new leader and comes back to the old one by sync.
#[test]
fn a_crash_between_append_and_fsync_loses_nothing_acknowledged() {
    let mut c = cluster(Variants::default());
    let (conn, _) = open_session(&mut c, 2);
    c.hold_disk.insert(ServerId(3));
    create(&mut c, conn, 1, "/a", b"acked");
    c.settle();
    assert_eq!(reply(&c, conn, 1), Some((z(1, 2), ErrorCode::OK)));
    let committed_by = c.observations.iter().find_map(|o| match o {
        Observation::Committed { zxid, acks, .. } if *zxid == z(1, 2) => Some(acks.clone()),
        _ => None,
    });
    assert_eq!(committed_by, Some(vec![ServerId(1), ServerId(2)]));
    c.crash(ServerId(3));
    c.hold_disk.clear();
    c.run_for(3000);
    assert_eq!(c.leader(), Some(2));
    assert!(c.peer(2).database().tree().node("/a").is_some());
    c.restart(ServerId(3));
    c.run_for(3000);
    let recovered = c.observations.iter().rev().find_map(|o| match o {
        Observation::RecoveryFinished { server, zxid, .. } if server.0 == 3 => Some(*zxid),
        _ => None,
    });
    assert_eq!(recovered, Some(z(1, 1)), "the unsynced append was lost");
    assert!(
        c.peer(3).database().tree().node("/a").is_some(),
        "back by sync"
    );
}

/// A follower whose disk never completes the append never ACKs the proposal; the other two
/// commit it.
#[test]
fn a_follower_does_not_ack_what_it_has_not_fsynced() {
    let mut c = cluster(Variants::default());
    let (conn, _) = open_session(&mut c, 2);
    c.hold_disk.insert(ServerId(1));
    create(&mut c, conn, 1, "/a", b"x");
    c.settle();
    assert_eq!(reply(&c, conn, 1), Some((z(1, 2), ErrorCode::OK)));
    let s1_acked = c
        .trace
        .iter()
        .any(|t| matches!(t, Traced::Ack(1, zx) if *zx == z(1, 2)));
    assert!(!s1_acked);
    c.hold_disk.clear();
    c.settle();
    let s1_acked = c
        .trace
        .iter()
        .any(|t| matches!(t, Traced::Ack(1, zx) if *zx == z(1, 2)));
    assert!(s1_acked, "ACK once the fsync completed");
}

/// s1 misses 0x100000003..4, then s1 and s2 elect s2 for epoch 2 (s3 is down); s1 receives them
/// by DIFF and processes NEWLEADER with its disk stepped one operation at a time; it crashes
/// the moment `currentEpoch = 2` is durable. Returns what it recovers: (zxid, currentEpoch),
/// and whether the epoch became durable before the synced txns did.
fn crash_right_after_newleader_epoch(variants: Variants) -> (Zxid, Epoch, bool) {
    let mut c = cluster(variants);
    let (conn, _) = open_session(&mut c, 2);
    create(&mut c, conn, 1, "/a", b"1");
    c.settle();
    c.crash(ServerId(1));
    create(&mut c, conn, 2, "/b", b"2");
    create(&mut c, conn, 3, "/c", b"3");
    c.settle();
    assert_eq!(reply(&c, conn, 3), Some((z(1, 4), ErrorCode::OK)));
    c.crash(ServerId(3));
    c.hold_disk.insert(ServerId(1));
    c.restart(ServerId(1));
    let epoch_durable = |c: &Cluster| {
        c.position(|t| {
            matches!(t, Traced::Obs(Observation::CurrentEpochPersisted { server, epoch })
                if server.0 == 1 && *epoch == Epoch(2))
        })
    };
    for _ in 0..10_000 {
        if epoch_durable(&c).is_some() {
            break;
        }
        if c.complete_disk(ServerId(1)) {
            c.settle();
        } else {
            c.run_for(50);
        }
    }
    let at = epoch_durable(&c).expect("s1 reached NEWLEADER's currentEpoch");
    let txns_logged = c.position(|t| {
        matches!(t, Traced::Obs(Observation::ProposalLogged { server, header })
            if server.0 == 1 && header.zxid == z(1, 4))
    });
    let epoch_first = txns_logged.is_none_or(|l| l > at);
    c.crash(ServerId(1));
    c.hold_disk.clear();
    c.crash(ServerId(2));
    c.restart(ServerId(1));
    c.settle();
    let recovered = c.observations.iter().rev().find_map(|o| match o {
        Observation::RecoveryFinished {
            server,
            zxid,
            current_epoch,
            ..
        } if server.0 == 1 => Some((*zxid, *current_epoch)),
        _ => None,
    });
    let (zxid, epoch) = recovered.expect("s1 recovered");
    (zxid, epoch, epoch_first)
}

/// Default (ZooKeeper 3.9.2+): the synced txns are appended and fsynced before `currentEpoch`,
/// so a crash right after the epoch write still has them.
#[test]
fn newleader_makes_synced_txns_durable_before_current_epoch() {
    let (zxid, epoch, epoch_first) = crash_right_after_newleader_epoch(Variants::default());
    assert!(!epoch_first);
    assert_eq!(epoch, Epoch(2));
    assert_eq!(zxid, z(1, 4));
}

/// `Variant::Zk4643`: `currentEpoch = 2` is durable while 0x100000003..4 are not; the crash
/// leaves a server whose epoch claims a history its log does not hold.
#[test]
fn zk_4643_writes_current_epoch_before_the_synced_txns() {
    let (zxid, epoch, epoch_first) =
        crash_right_after_newleader_epoch(Variants(vec![Variant::Zk4643]));
    assert!(epoch_first);
    assert_eq!(epoch, Epoch(2));
    assert_eq!(zxid, z(1, 2), "the synced txns were lost");
}

/// Group commit: while s1's first append is on the disk, the next two proposals queue as one
/// append under one fsync; s1 still ACKs each of the three after its fsync.
#[test]
fn proposals_queued_behind_an_fsync_share_the_next_one() {
    let mut c = cluster(Variants::default());
    let (conn, _) = open_session(&mut c, 2);
    c.hold_disk.insert(ServerId(1));
    for i in 0..3 {
        create(&mut c, conn, 1 + i, &format!("/g{i}"), b"x");
    }
    c.settle();
    let (mut appends, mut fsyncs) = (0, 0);
    while let Some((_, op)) = c.nodes[&ServerId(1)].disk_pending.front().cloned() {
        match op {
            // A record write (not the 16-byte file header, not a 1-byte preallocation).
            DiskRequest::Write {
                file,
                offset,
                bytes,
            } if file.starts_with("log.") && offset > 0 && bytes.len() > 1 => appends += 1,
            DiskRequest::Fsync { .. } => fsyncs += 1,
            _ => {}
        }
        c.complete_disk(ServerId(1));
        c.settle();
    }
    assert_eq!((appends, fsyncs), (2, 2));
    for counter in 2..=4 {
        let acked = c
            .trace
            .iter()
            .any(|t| matches!(t, Traced::Ack(1, zx) if *zx == z(1, counter)));
        assert!(acked, "s1 acked 0x10000000{counter}");
    }
}
