//! Txn log and recovery properties (zab-protocol.md §14.3, §14.6, §14.8): encode→decode round
//! trips of every txn type; a torn tail at every byte offset of the last record recovers to the
//! previous record; a flipped bit inside a complete record is a CRC error naming file and offset;
//! TRUNC cuts after the target record and deletes later files; purge keeps what recovery needs.

use proptest::prelude::*;
use std::collections::BTreeMap;
use zabsim_protocol::acl::Acl;
use zabsim_protocol::op_code::OpCode;
use zabsim_protocol::persist::purge::purge_plan;
use zabsim_protocol::persist::recovery::{recover, truncate_plan};
use zabsim_protocol::persist::snapshot::{encode_snapshot, snapshot_file_name};
use zabsim_protocol::persist::txn_log::{encode_record, file_header, log_file_name, parse_log};
use zabsim_protocol::persist::PersistError;
use zabsim_protocol::snapshot_image::SnapshotImage;
use zabsim_protocol::txn::{Txn, TxnDigest, TxnEntry, TxnHeader};
use zabsim_protocol::types::{SessionId, Xid, Zxid};

fn entry(zxid: u64, txn_type: OpCode, txn: Txn) -> TxnEntry {
    TxnEntry {
        header: TxnHeader {
            client_id: SessionId(0x0100_0019_850d_0000),
            cxid: Xid(zxid as i32),
            zxid: Zxid(zxid),
            time: 1_795_351_411_000,
            txn_type,
        },
        txn,
        digest: Some(TxnDigest {
            version: 2,
            tree_digest: zxid as i64 * 7919,
        }),
    }
}

fn create(zxid: u64, path: &str) -> TxnEntry {
    let txn = Txn::Create {
        path: path.to_string(),
        data: Some(b"v".to_vec()),
        acl: Acl::open_unsafe(),
        ephemeral: false,
        parent_cversion: 1,
    };
    entry(zxid, OpCode::Create2, txn)
}

fn log_bytes(entries: &[TxnEntry]) -> Vec<u8> {
    let mut bytes = file_header(0);
    for e in entries {
        bytes.extend(encode_record(e));
    }
    bytes
}

fn every_txn_type() -> Vec<TxnEntry> {
    let acl = Acl::open_unsafe();
    let sub_create = Txn::Create {
        path: "/m".into(),
        data: None,
        acl: acl.clone(),
        ephemeral: true,
        parent_cversion: 3,
    };
    vec![
        entry(
            1,
            OpCode::CreateSession,
            Txn::CreateSession { timeout_ms: 30000 },
        ),
        create(2, "/a"),
        entry(
            3,
            OpCode::CreateContainer,
            Txn::CreateContainer {
                path: "/c".into(),
                data: Some(vec![]),
                acl: acl.clone(),
                parent_cversion: 2,
            },
        ),
        entry(
            4,
            OpCode::CreateTtl,
            Txn::CreateTtl {
                path: "/t".into(),
                data: None,
                acl: acl.clone(),
                parent_cversion: 3,
                ttl: 3_600_000,
            },
        ),
        entry(
            5,
            OpCode::SetData,
            Txn::SetData {
                path: "/a".into(),
                data: Some(vec![0, 255]),
                version: 1,
            },
        ),
        entry(
            6,
            OpCode::SetAcl,
            Txn::SetAcl {
                path: "/a".into(),
                acl: Acl::read_unsafe(),
                version: 1,
            },
        ),
        entry(7, OpCode::Delete, Txn::Delete { path: "/t".into() }),
        entry(8, OpCode::Error, Txn::Error { err: -110 }),
        entry(
            9,
            OpCode::Multi,
            Txn::Multi {
                txns: vec![
                    (OpCode::Create, sub_create),
                    (
                        OpCode::Check,
                        Txn::CheckVersion {
                            path: "/a".into(),
                            version: 1,
                        },
                    ),
                    (
                        OpCode::SetData,
                        Txn::SetData {
                            path: "/a".into(),
                            data: None,
                            version: 2,
                        },
                    ),
                    (OpCode::Delete, Txn::Delete { path: "/c".into() }),
                    (OpCode::Error, Txn::Error { err: -101 }),
                ],
            },
        ),
        entry(
            10,
            OpCode::CloseSession,
            Txn::CloseSession {
                paths_to_delete: vec!["/m".into()],
            },
        ),
    ]
}

#[test]
fn every_txn_type_round_trips() {
    let entries = every_txn_type();
    let bytes = log_bytes(&entries);
    let parsed = parse_log("log.1", &bytes).expect("parses");
    let back: Vec<TxnEntry> = parsed.records.iter().map(|r| r.entry.clone()).collect();
    assert_eq!(back, entries);
}

#[test]
fn a_torn_tail_at_every_offset_recovers_to_the_previous_record() {
    let entries = every_txn_type();
    let bytes = log_bytes(&entries);
    let parsed = parse_log("log.1", &bytes).unwrap();
    let last = parsed.records.last().unwrap();
    for cut in last.offset as usize..bytes.len() {
        for padded in [false, true] {
            let mut torn = bytes[..cut].to_vec();
            if padded {
                torn.resize(bytes.len() + 64, 0);
            }
            let p = parse_log("log.1", &torn).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            assert_eq!(p.records.len(), entries.len() - 1, "cut at {cut}");
        }
    }
}

#[test]
fn a_flipped_bit_inside_a_complete_record_is_a_crc_error() {
    let entries = every_txn_type();
    let bytes = log_bytes(&entries);
    let parsed = parse_log("log.1", &bytes).unwrap();
    let second = &parsed.records[1];
    let mut bad = bytes.clone();
    bad[second.offset as usize + 20] ^= 0x10;
    match parse_log("log.1", &bad) {
        Err(PersistError::ChecksumMismatch { file, offset, .. }) => {
            assert_eq!(file, "log.1");
            assert_eq!(offset, second.offset);
        }
        other => panic!("expected a CRC error, got {other:?}"),
    }
}

fn dir_with(files: &[(String, Vec<u8>)]) -> BTreeMap<String, Vec<u8>> {
    files.iter().cloned().collect()
}

#[test]
fn recovery_replays_from_the_log_holding_snapshot_zxid_plus_one() {
    let log1: Vec<TxnEntry> = (1..=5).map(|z| create(z, &format!("/n{z}"))).collect();
    let log2: Vec<TxnEntry> = (6..=8).map(|z| create(z, &format!("/n{z}"))).collect();
    let dir = dir_with(&[
        (log_file_name(Zxid(1)), log_bytes(&log1)),
        (log_file_name(Zxid(6)), log_bytes(&log2)),
        (
            snapshot_file_name(Zxid(3)),
            encode_snapshot(&SnapshotImage::default()),
        ),
        (snapshot_file_name(Zxid(7)), b"torn snapshot".to_vec()),
    ]);
    let rec = recover(&dir).expect("recovers");
    assert_eq!(rec.snapshot.as_ref().unwrap().zxid, Zxid(3));
    assert_eq!(
        rec.skipped_snapshots.len(),
        1,
        "the incomplete newer one is skipped"
    );
    let zxids: Vec<u64> = rec.txns.iter().map(|t| t.header.zxid.0).collect();
    assert_eq!(zxids, vec![4, 5, 6, 7, 8]);
    assert_eq!(rec.last_processed_zxid, Zxid(8));
    let plan = truncate_plan(&dir, Zxid(4)).expect("plan");
    assert_eq!(plan.file, "log.1");
    assert_eq!(plan.delete, vec!["log.6".to_string()]);
    let parsed = parse_log("log.1", &dir["log.1"]).unwrap();
    assert_eq!(plan.len, parsed.records[3].end);
    assert!(matches!(
        truncate_plan(&dir, Zxid(9)),
        Err(PersistError::NothingToTruncate { .. })
    ));
}

#[test]
fn logs_without_a_snapshot_refuse_to_start() {
    let dir = dir_with(&[(log_file_name(Zxid(1)), log_bytes(&[create(1, "/a")]))]);
    assert!(matches!(
        recover(&dir),
        Err(PersistError::NoSnapshotButLogs { .. })
    ));
    let empty = dir_with(&[]);
    let rec = recover(&empty).expect("an empty directory is a fresh database");
    assert!(rec.snapshot.is_none());
    assert_eq!(rec.last_processed_zxid, Zxid(0));
}

#[test]
fn purge_keeps_the_log_preceding_the_oldest_retained_snapshot() {
    let snap = encode_snapshot(&SnapshotImage::default());
    let mut files = Vec::new();
    for z in [0x10u64, 0x20, 0x30, 0x40] {
        files.push((snapshot_file_name(Zxid(z)), snap.clone()));
    }
    for z in [0x1u64, 0x15, 0x18, 0x35] {
        files.push((log_file_name(Zxid(z)), file_header(0)));
    }
    let dir = dir_with(&files);
    // Keep 0x40, 0x30, 0x20: Z = 0x20; log.18 may hold txns after 0x20, so it stays.
    assert_eq!(
        purge_plan(&dir, 3),
        vec![
            "log.1".to_string(),
            "log.15".to_string(),
            "snapshot.10".to_string()
        ]
    );
}

proptest! {
    #[test]
    fn snapshots_round_trip(
        sessions in proptest::collection::vec((any::<i64>(), any::<i32>()), 0..4),
        datas in proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)), 1..6),
        digest in proptest::option::of(any::<i64>()),
    ) {
        use zabsim_protocol::snapshot_image::{SnapshotNode, ZxidDigest};
        let mut image = SnapshotImage {
            sessions: sessions.into_iter().map(|(s, t)| (SessionId(s), t)).collect(),
            ..SnapshotImage::default()
        };
        image.acl_cache.insert(1, Acl::read_unsafe());
        for (i, data) in datas.into_iter().enumerate() {
            let path = if i == 0 { String::new() } else { format!("/n{i}") };
            image.nodes.push(SnapshotNode { path, data, acl_ref: -1, stat: Default::default() });
        }
        image.digest = digest.map(|d| ZxidDigest { zxid: Zxid(5), digest_version: 2, digest: d });
        let bytes = encode_snapshot(&image);
        let back = zabsim_protocol::persist::snapshot::decode_snapshot("snapshot.5", &bytes).unwrap();
        prop_assert_eq!(back, image);
    }
}
