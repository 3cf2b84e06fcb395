//! The persistence codec against a real ZooKeeper 3.8.0 data directory
//! (`../shared/corpora/zk-datadir`, see its README; zab-protocol.md §14): every log and
//! snapshot parses, re-encodes to identical bytes, and the dumps made by ZooKeeper's own tools
//! are reproduced; recovery picks the newest snapshot and replays the later logs.

use std::collections::BTreeMap;
use zabsim_protocol::persist::recovery::recover;
use zabsim_protocol::persist::snapshot::{decode_snapshot, encode_snapshot};
use zabsim_protocol::persist::txn_log::{encode_record, file_header, parse_log, LogEnd};
use zabsim_protocol::types::Zxid;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpora/zk-datadir"
);

fn files() -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(format!("{DIR}/version-2")).expect("corpus directory") {
        let entry = entry.expect("entry");
        let name = entry.file_name().into_string().expect("utf8 name");
        out.insert(name, std::fs::read(entry.path()).expect("read"));
    }
    out
}

#[test]
fn every_log_parses_and_reencodes_byte_for_byte() {
    let files = files();
    let mut total = 0;
    for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("log.")) {
        let parsed = parse_log(name, bytes).expect("log parses");
        assert!(
            matches!(parsed.end, LogEnd::Padding { .. }),
            "{name} ends in padding"
        );
        let first = parsed.records.first().expect("records").entry.header.zxid;
        assert_eq!(
            format!("log.{:x}", first.0),
            *name,
            "named after its first zxid"
        );
        let mut again = file_header(parsed.header.dbid);
        for r in &parsed.records {
            again.extend(encode_record(&r.entry));
        }
        let valid = parsed.valid_end() as usize;
        assert_eq!(again, bytes[..valid], "{name}: identical bytes");
        assert!(
            bytes[valid..].iter().all(|b| *b == 0),
            "{name}: zero padding"
        );
        assert_eq!(
            bytes.len() % 16384,
            16,
            "{name}: preallocated in 16 KiB steps"
        );
        total += parsed.records.len();
    }
    // The README's workload: txns 0x100000001 ..= 0x10000018b, all logged.
    assert_eq!(total, 0x18b);
}

#[test]
fn every_snapshot_decodes_and_reencodes_byte_for_byte() {
    for (name, bytes) in files().iter().filter(|(n, _)| n.starts_with("snapshot.")) {
        let image = decode_snapshot(name, bytes).expect("snapshot decodes");
        assert!(
            image.digest.is_some(),
            "{name}: 3.8 writes the digest section"
        );
        assert_eq!(encode_snapshot(&image), *bytes, "{name}: identical bytes");
    }
}

#[test]
fn recovery_takes_the_newest_snapshot_and_the_later_txns() {
    let rec = recover(&files()).expect("recovers");
    let snap = rec.snapshot.as_ref().expect("a snapshot");
    assert_eq!(snap.file, "snapshot.10000017d");
    assert_eq!(rec.txns.first().unwrap().header.zxid, Zxid(0x1_0000_017e));
    assert_eq!(rec.txns.len(), 0x18b - 0x17d);
    assert_eq!(rec.last_processed_zxid, Zxid(0x1_0000_018b));
    assert_eq!(rec.current_epoch.map(|e| e.0), Some(1));
    assert_eq!(rec.accepted_epoch.map(|e| e.0), Some(1));
}

/// `TxnLogToolkit -d` output, line for line (the multi lines hold raw record bytes, compared as
/// bytes after the same lossy UTF-8 decoding Java applies).
#[test]
fn log_dumps_match_txn_log_toolkit() {
    for (name, bytes) in files().iter().filter(|(n, _)| n.starts_with("log.")) {
        let parsed = parse_log(name, bytes).expect("log parses");
        let expected = std::fs::read(format!("{DIR}/dumps/{name}.txt")).expect("dump");
        let ours = zabsim_protocol::persist::dump::log_dump(&parsed);
        let expected = String::from_utf8_lossy(&expected);
        for (i, (a, b)) in ours.lines().zip(expected.lines()).enumerate() {
            assert_eq!(a, b, "{name}: dump line {}", i + 1);
        }
        assert_eq!(ours.lines().count(), expected.lines().count(), "{name}");
    }
}

/// `SnapshotFormatter -d` output: the same znode blocks and session lines (ZooKeeper prints them
/// in hash-set order, so they are compared as sets), the same count and last zxid.
#[test]
fn snapshot_dumps_match_snapshot_formatter() {
    use std::collections::BTreeSet;
    for (name, bytes) in files().iter().filter(|(n, _)| n.starts_with("snapshot.")) {
        let image = decode_snapshot(name, bytes).expect("snapshot decodes");
        let zxid = u64::from_str_radix(&name["snapshot.".len()..], 16).expect("hex");
        let ours = zabsim_protocol::persist::dump::snapshot_dump(&image, Zxid(zxid));
        let expected = std::fs::read_to_string(format!("{DIR}/dumps/{name}.txt")).expect("dump");
        let blocks =
            |s: &str| -> BTreeSet<String> { s.split("----\n").map(str::to_string).collect() };
        let session_lines = |s: &str| -> BTreeSet<String> {
            let tail = s.split("Session Details").nth(1).unwrap_or("").to_string();
            tail.lines().map(str::to_string).collect()
        };
        assert_eq!(blocks(&ours), blocks(&expected), "{name}: znode blocks");
        assert_eq!(session_lines(&ours), session_lines(&expected), "{name}");
        assert_eq!(
            ours.lines().next(),
            expected.lines().next(),
            "{name}: count"
        );
        assert_eq!(
            ours.lines().last(),
            expected.lines().last(),
            "{name}: last zxid"
        );
    }
}
