//! `zabsim datadir inspect` against the real ZooKeeper 3.8.0 directory in
//! `../shared/corpora/zk-datadir`: `--json` recovers exactly the tree of `expected_tree.json`
//! (snapshot.10000017d + replay of log.10000017e, zab-protocol.md §14.6); a corrupt record inside
//! a log exits 1 naming file and offset; a missing path exits 2.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpora/zk-datadir"
);

fn zabsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zabsim"))
        .args(args)
        .output()
        .expect("zabsim runs")
}

fn copy_corpus(to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(format!("{DIR}/version-2")).expect("corpus") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("zabsim-cli-datadir-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn json_recovers_the_expected_tree() {
    let out = zabsim(&["datadir", "inspect", DIR, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours: Value = serde_json::from_slice(&out.stdout).expect("json");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DIR}/expected_tree.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(ours["last_zxid_hex"], expected["last_zxid_hex"]);
    let (ours, expected) = (
        ours["tree"].as_object().unwrap(),
        expected["tree"].as_object().unwrap(),
    );
    for (path, node) in expected {
        assert_eq!(ours.get(path), Some(node), "node {path}");
    }
    assert_eq!(ours.len(), expected.len(), "same node set");
}

#[test]
fn text_output_dumps_files_and_the_recovered_tree() {
    let out = zabsim(&["datadir", "inspect", &format!("{DIR}/version-2")]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("==> snapshot.10000017d <=="));
    assert!(text.contains("EOF reached after 14 txns."));
    assert!(text.contains("snapshot: snapshot.10000017d (zxid 0x10000017d)"));
    assert!(text.contains("last zxid: 0x10000018b"));
}

#[test]
fn a_corrupt_record_inside_a_log_exits_1_naming_file_and_offset() {
    let dir = scratch("crc");
    copy_corpus(&dir);
    let log = dir.join("log.10000017e");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[16 + 12 + 20] ^= 0x01; // inside the first record's txn bytes
    std::fs::write(&log, bytes).unwrap();
    let out = zabsim(&["datadir", "inspect", dir.to_str().unwrap(), "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("log.10000017e: offset 16: CRC check failed"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_torn_tail_is_dropped() {
    let dir = scratch("torn");
    copy_corpus(&dir);
    let log = dir.join("log.10000017e");
    let bytes = std::fs::read(&log).unwrap();
    // Cut the last record (create /final, 0x10000018b) in its middle.
    let parsed = zabsim_protocol::persist::txn_log::parse_log("log.10000017e", &bytes).unwrap();
    let last = parsed.records.last().unwrap();
    std::fs::write(&log, &bytes[..(last.offset as usize + 30)]).unwrap();
    let out = zabsim(&["datadir", "inspect", dir.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ours["last_zxid_hex"], "0x10000018a");
    assert!(ours["tree"].get("/final").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_path_exits_2() {
    let out = zabsim(&[
        "datadir",
        "inspect",
        "/nonexistent/zabsim-datadir",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read directory"));
}
