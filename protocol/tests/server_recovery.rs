//! Boot recovery (`FileTxnSnapLog.restore`, `QuorumPeer.loadDataBase`; research §3, §14): a
//! whole-ensemble restart recovers snapshot + log on every server and re-elects with the data;
//! snapshots are taken after `snapCount/2 + jitter` txns and the log rolls; a torn log tail is
//! dropped; a corrupt record makes the server halt at start-up.

mod server_support;

use server_support::client::{create, open_session, reply};
use server_support::Cluster;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::persist::txn_log::{parse_log, LogEnd, LogRecord};
use zabsim_protocol::server::QuorumConfig;
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

fn z(counter: u32) -> Zxid {
    Zxid::new(Epoch(1), counter)
}

fn with_writes(config: QuorumConfig, n: usize) -> Cluster {
    let mut c = Cluster::new(config);
    c.start_all();
    c.run_for(3000);
    assert_eq!(c.leader(), Some(3));
    let (conn, _) = open_session(&mut c, 1);
    for i in 0..n {
        create(&mut c, conn, 1 + i as i32, &format!("/n{i}"), b"v");
        c.settle();
    }
    assert_eq!(
        reply(&c, conn, n as i32),
        Some((z(n as u32 + 1), ErrorCode::OK))
    );
    c
}

fn recovered(c: &Cluster, s: u64) -> Option<(Zxid, Epoch)> {
    c.observations.iter().rev().find_map(|o| match o {
        Observation::RecoveryFinished {
            server,
            zxid,
            current_epoch,
            ..
        } if server.0 == s => Some((*zxid, *current_epoch)),
        _ => None,
    })
}

/// Crash all three, restart all three: each recovers 0x100000004 and epoch 1, they elect a
/// leader of epoch 2, and the tree is intact.
#[test]
fn a_whole_ensemble_restart_recovers_and_reelects() {
    let mut c = with_writes(QuorumConfig::with_voters(3), 3);
    let digest = c.peer(3).database().digest();
    for s in 1..=3 {
        c.crash(ServerId(s));
    }
    for s in 1..=3 {
        c.restart(ServerId(s));
    }
    c.run_for(3000);
    for s in 1..=3 {
        assert_eq!(recovered(&c, s), Some((z(4), Epoch(1))), "s{s}");
        assert_eq!(c.peer(s).database().digest(), digest, "s{s}");
    }
    assert!(c.leader().is_some());
    assert!(c.nodes.values().all(|n| n.peer.current_epoch() == Epoch(2)));
}

/// With snapCount 4 a snapshot is taken once more than `2 + randRoll` (randRoll in [0, 2))
/// txns were logged since the last one, i.e. every 3–4 txns, so 9 txns give at least two; the
/// next append after each opens a new `log.<zxid>`; a restart loads the newest snapshot plus
/// the later log.
#[test]
fn snapshots_roll_the_log_and_recovery_uses_them() {
    let mut config = QuorumConfig::with_voters(3);
    config.snap_count = 4;
    let mut c = with_writes(config, 8);
    let snaps: Vec<Zxid> = c
        .observations
        .iter()
        .filter_map(|o| match o {
            Observation::SnapshotTaken { server, zxid } if server.0 == 1 => Some(*zxid),
            _ => None,
        })
        .collect();
    assert!(snaps.len() >= 2, "snapshots on s1: {snaps:?}");
    let logs = c.nodes[&ServerId(1)]
        .durable
        .keys()
        .filter(|k| k.starts_with("log."))
        .count();
    assert!(logs >= 2, "the log rolled after snapshots");
    let digest = c.peer(1).database().digest();
    c.crash(ServerId(1));
    c.restart(ServerId(1));
    c.settle();
    assert_eq!(recovered(&c, 1), Some((z(9), Epoch(1))));
    assert_eq!(c.peer(1).database().digest(), digest);
}

fn newest_log(c: &Cluster, s: u64) -> String {
    c.nodes[&ServerId(s)]
        .durable
        .keys()
        .filter(|k| k.starts_with("log."))
        .max_by_key(|k| u64::from_str_radix(&k[4..], 16).unwrap_or(0))
        .cloned()
        .expect("a log file")
}

/// The newest log's last complete record, parsed with `persist::txn_log` (the simulated server
/// writes real `FileTxnLog` files: header, Adler32 records, preallocated zeros).
fn last_record(c: &Cluster, s: u64) -> (String, LogRecord) {
    let log = newest_log(c, s);
    let bytes = &c.nodes[&ServerId(s)].durable[&log];
    let parsed = parse_log(&log, bytes).expect("the server's log parses");
    assert!(
        matches!(parsed.end, LogEnd::Padding { .. }),
        "a live log ends in preallocated zeros: {:?}",
        parsed.end
    );
    let last = parsed.records.last().cloned().expect("a record");
    (log, last)
}

/// A torn tail at every byte offset of the newest log's last record (the record cut there and,
/// as a torn sector write leaves it, the preallocated zeros after the cut) is dropped: the server
/// recovers exactly the previous record's zxid, and never halts.
#[test]
fn a_torn_tail_at_every_offset_of_the_last_record_recovers_the_previous_one() {
    let mut c = with_writes(QuorumConfig::with_voters(3), 3);
    c.crash(ServerId(1));
    let (log, last) = last_record(&c, 1);
    assert_eq!(last.entry.header.zxid, z(4));
    let whole = c.nodes[&ServerId(1)].durable.clone();
    for cut in last.offset..last.end {
        for zeros_after in [false, true] {
            let mut files = whole.clone();
            let file = files.get_mut(&log).expect("log");
            if zeros_after {
                file[cut as usize..last.end as usize].fill(0);
            } else {
                file.truncate(cut as usize);
            }
            c.node(ServerId(1)).durable = files.clone();
            c.node(ServerId(1)).cache = files;
            c.restart(ServerId(1));
            assert!(c.halts.is_empty(), "cut at {cut}: {:?}", c.halts);
            assert_eq!(
                recovered(&c, 1).map(|r| r.0),
                Some(z(3)),
                "cut at {cut} (zeros after: {zeros_after})"
            );
            c.crash(ServerId(1));
        }
    }
}

/// A flipped byte inside a complete record fails its Adler32: the server halts at start-up with
/// an error naming the file and the record's offset (`FileTxnLog`'s "CRC check failed").
#[test]
fn a_corrupt_log_record_halts_the_server() {
    let mut c = with_writes(QuorumConfig::with_voters(3), 3);
    c.crash(ServerId(1));
    let (log, last) = last_record(&c, 1);
    let file = c.node(ServerId(1)).durable.get_mut(&log).expect("log");
    file[last.offset as usize + 20] ^= 0x20;
    c.restart(ServerId(1));
    c.settle();
    assert_eq!(c.halts.len(), 1);
    assert_eq!(c.halts[0].0, ServerId(1));
    let reason = &c.halts[0].1;
    assert!(reason.contains(&log), "{reason}");
    assert!(reason.contains(&last.offset.to_string()), "{reason}");
}

/// A corrupt newest snapshot is passed over for the older one (`FileSnap.deserialize` tries the
/// newest valid snapshots in turn): the server recovers the same tree from the older snapshot
/// plus the logs.
#[test]
fn a_corrupt_newest_snapshot_is_skipped_for_an_older_one() {
    let mut config = QuorumConfig::with_voters(3);
    config.snap_count = 4;
    let mut c = with_writes(config, 8);
    let digest = c.peer(1).database().digest();
    let last = c.peer(1).database().last_processed_zxid();
    c.crash(ServerId(1));
    let snaps: Vec<String> = c.nodes[&ServerId(1)]
        .durable
        .keys()
        .filter(|k| k.starts_with("snapshot."))
        .cloned()
        .collect();
    assert!(snaps.len() >= 2, "{snaps:?}");
    let newest = snaps
        .iter()
        .max_by_key(|k| u64::from_str_radix(&k[9..], 16).unwrap_or(0))
        .cloned()
        .expect("a snapshot");
    let file = c
        .node(ServerId(1))
        .durable
        .get_mut(&newest)
        .expect("snapshot");
    let mid = file.len() / 2;
    file[mid] ^= 0x01;
    c.restart(ServerId(1));
    c.settle();
    assert!(c.halts.is_empty(), "{:?}", c.halts);
    assert_eq!(recovered(&c, 1).map(|r| r.0), Some(last));
    assert_eq!(c.peer(1).database().digest(), digest);
}
