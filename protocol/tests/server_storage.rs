//! The server's real `version-2` files (research §14): every log file is a `FileTxnLog` file
//! (header, Adler32 records, `FilePadding` zeros), a crash at every disk-operation boundary
//! recovers exactly what was durable, snapshot + replay equals the live tree, and autopurge
//! keeps `snapRetainCount` snapshots and the logs they need.

mod server_support;

use server_support::client::{create, open_session};
use server_support::{Cluster, Traced};
use std::collections::BTreeMap;
use zabsim_protocol::observe::Observation;
use zabsim_protocol::persist::load::load_database;
use zabsim_protocol::persist::recovery::recover;
use zabsim_protocol::persist::snapshot::looks_complete;
use zabsim_protocol::persist::txn_log::{parse_log, LogEnd, FILE_HEADER_LEN, TXNLOG_MAGIC};
use zabsim_protocol::server::QuorumConfig;
use zabsim_protocol::store::StoreConfig;
use zabsim_protocol::types::{Epoch, ServerId, Zxid};

fn z(counter: u32) -> Zxid {
    Zxid::new(Epoch(1), counter)
}

/// An elected 3-ensemble (s3 leads) with a session on s2.
fn elected(config: QuorumConfig) -> (Cluster, zabsim_protocol::server::Conn) {
    let mut c = Cluster::new(config);
    c.start_all();
    c.run_for(3000);
    assert_eq!(c.leader(), Some(3));
    let (conn, _) = open_session(&mut c, 2);
    (c, conn)
}

fn recovered(c: &Cluster, s: u64) -> Option<(Zxid, Option<i64>)> {
    c.observations.iter().rev().find_map(|o| match o {
        Observation::RecoveryFinished {
            server,
            zxid,
            digest,
            ..
        } if server.0 == s => Some((*zxid, *digest)),
        _ => None,
    })
}

/// The digest the leader reported when it applied `zxid`.
fn leader_digest_at(c: &Cluster, zxid: Zxid) -> Option<i64> {
    c.observations.iter().find_map(|o| match o {
        Observation::TxnApplied {
            server,
            header,
            digest,
            ..
        } if server.0 == 3 && header.zxid == zxid => *digest,
        _ => None,
    })
}

fn highest_acked(c: &Cluster, s: u64) -> Zxid {
    c.trace
        .iter()
        .filter_map(|t| match t {
            Traced::Ack(from, zx) if *from == s && zx.counter() > 0 => Some(*zx),
            _ => None,
        })
        .max()
        .unwrap_or(Zxid::ZERO)
}

/// s1's disk is held while four creates are proposed; its disk operations are then completed
/// one at a time. Crashing s1 after each of them and restarting it from its durable files
/// recovers a zxid no older than anything it ACKed, and exactly the leader's tree at that
/// zxid (digests equal): nothing half-written is replayed, nothing durable is lost.
#[test]
fn a_crash_at_every_disk_boundary_recovers_the_last_durable_zxid() {
    let script = |stop_after: Option<usize>| -> (Cluster, usize) {
        let (mut c, conn) = elected(QuorumConfig::with_voters(3));
        c.hold_disk.insert(ServerId(1));
        for i in 0..4 {
            create(&mut c, conn, 1 + i, &format!("/c{i}"), b"v");
        }
        c.settle();
        let mut done = 0;
        while Some(done) != stop_after && c.complete_disk(ServerId(1)) {
            c.settle();
            done += 1;
        }
        (c, done)
    };
    let (full, total) = script(None);
    assert!(
        total >= 4,
        "s1 wrote records, fsyncs and a new log file ({total} ops)"
    );
    assert_eq!(highest_acked(&full, 1), z(5));
    for k in 0..=total {
        let (mut c, done) = script(Some(k));
        assert_eq!(done, k);
        let acked = highest_acked(&c, 1);
        c.crash(ServerId(1));
        c.hold_disk.remove(&ServerId(1));
        c.restart(ServerId(1));
        c.settle();
        assert!(c.halts.is_empty(), "after {k} ops: {:?}", c.halts);
        let (zxid, digest) = recovered(&c, 1).expect("s1 recovered");
        assert!(
            zxid >= acked,
            "after {k} ops: recovered {zxid}, acked {acked}"
        );
        assert!(zxid <= z(5), "after {k} ops: recovered {zxid}");
        if zxid.counter() > 0 {
            assert_eq!(
                digest,
                leader_digest_at(&c, zxid),
                "after {k} ops at {zxid}"
            );
        }
    }
}

/// Every log file the server writes is a real `FileTxnLog` file: `ZKLG` header, records that
/// parse, then preallocated zeros up to `preAllocSize` (64 KiB here) past the header.
#[test]
fn log_files_have_the_header_records_and_preallocation() {
    let (mut c, conn) = elected(QuorumConfig::with_voters(3));
    for i in 0..3 {
        create(&mut c, conn, 1 + i, &format!("/p{i}"), b"v");
        c.settle();
    }
    let files = &c.nodes[&ServerId(1)].durable;
    let logs: Vec<&String> = files.keys().filter(|k| k.starts_with("log.")).collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let bytes = &files[logs[0]];
    assert_eq!(&bytes[..4], &TXNLOG_MAGIC.to_be_bytes());
    assert_eq!(bytes.len() as u64, FILE_HEADER_LEN + 64 * 1024);
    let parsed = parse_log(logs[0], bytes).expect("parses");
    assert!(
        matches!(parsed.end, LogEnd::Padding { .. }),
        "{:?}",
        parsed.end
    );
    let zxids: Vec<Zxid> = parsed.records.iter().map(|r| r.entry.header.zxid).collect();
    // The session, then the three creates.
    assert_eq!(zxids, vec![z(1), z(2), z(3), z(4)]);
    assert!(
        files.contains_key("snapshot.0"),
        "a first boot writes snapshot.0"
    );
}

fn recover_digest(files: &BTreeMap<String, Vec<u8>>) -> (Zxid, i64) {
    let rec = recover(files).expect("recovers");
    let db = load_database(&rec, StoreConfig::new(1, 2000), 0).expect("loads");
    (rec.last_processed_zxid, db.digest())
}

/// With snapCount 4 the servers snapshot and roll every 3–4 txns: `persist::recovery` over the
/// durable files (newest snapshot, then the logs) rebuilds exactly the live tree.
#[test]
fn snapshot_plus_replay_equals_the_live_tree() {
    let mut config = QuorumConfig::with_voters(3);
    config.snap_count = 4;
    let (mut c, conn) = elected(config);
    for i in 0..10 {
        create(&mut c, conn, 1 + i, &format!("/s{i}"), b"v");
        c.settle();
    }
    for s in 1..=3 {
        let files = &c.nodes[&ServerId(s)].durable;
        let snaps = files.keys().filter(|k| k.starts_with("snapshot.")).count();
        assert!(snaps >= 3, "s{s}: {snaps} snapshots");
        let (zxid, digest) = recover_digest(files);
        let live = c.peer(s).database();
        assert_eq!(zxid, live.last_processed_zxid(), "s{s}");
        assert_eq!(digest, live.digest(), "s{s}");
    }
}

/// Autopurge after every snapshot with snapRetainCount 3: at most three snapshots stay, each
/// complete; the oldest log still holds the txn after the oldest kept snapshot, so recovery
/// still equals the live tree.
#[test]
fn autopurge_keeps_the_retained_snapshots_and_their_logs() {
    let mut config = QuorumConfig::with_voters(3);
    config.snap_count = 4;
    config.purge_every_snapshots = 1;
    let (mut c, conn) = elected(config);
    for i in 0..24 {
        create(&mut c, conn, 1 + i, &format!("/q{i}"), b"v");
        c.settle();
    }
    let taken = c
        .observations
        .iter()
        .filter(|o| matches!(o, Observation::SnapshotTaken { server, .. } if server.0 == 1))
        .count();
    assert!(taken >= 6, "s1 took {taken} snapshots");
    let files = &c.nodes[&ServerId(1)].durable;
    let snaps: Vec<&Vec<u8>> = files
        .iter()
        .filter(|(k, _)| k.starts_with("snapshot."))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(snaps.len(), 3, "{:?}", files.keys().collect::<Vec<_>>());
    assert!(snaps.iter().all(|b| looks_complete(b)));
    assert!(
        !files.contains_key("snapshot.0"),
        "the oldest snapshots were purged"
    );
    let live = c.peer(1).database();
    assert_eq!(
        recover_digest(files),
        (live.last_processed_zxid(), live.digest())
    );
}
