//! `zabsim run --out DIR` leaves each server's durable `version-2` directory: read back with
//! `persist::recovery` and with `zabsim datadir inspect --json`, it recovers the zxid and the
//! tree digest that server last reported in the run's own history.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use zabsim_protocol::persist::load::load_database;
use zabsim_protocol::persist::recovery::recover;
use zabsim_protocol::store::StoreConfig;

fn zabsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zabsim"))
        .args(args)
        .output()
        .expect("zabsim runs")
}

fn scenario(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.join("scenarios").join(name).display().to_string()
}

/// The last (zxid, digest) each server reported applying, from `history.jsonl`.
fn last_applied(history: &Path) -> BTreeMap<u64, (u64, i64)> {
    let text = std::fs::read_to_string(history).expect("history");
    let mut last = BTreeMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("json line");
        let Some(t) = v.pointer("/observed/observation/TxnApplied") else {
            continue;
        };
        let server = t["server"].as_u64().expect("server");
        let zxid = t["header"]["zxid"].as_u64().expect("zxid");
        let digest = t["digest"].as_i64().expect("digests are on");
        let entry = last.entry(server).or_insert((0, 0));
        if zxid >= entry.0 {
            *entry = (zxid, digest);
        }
    }
    last
}

fn read_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("version-2 exists")
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().into_string().expect("utf-8 name");
            (name, std::fs::read(e.path()).expect("read"))
        })
        .collect()
}

fn exported_dirs_read_back(scenario_file: &str, seed: &str, tag: &str) {
    let out_dir =
        std::env::temp_dir().join(format!("zabsim-run-datadir-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let run = zabsim(&[
        "run",
        scenario_file,
        "--seed",
        seed,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let expected = last_applied(&out_dir.join("history.jsonl"));
    assert_eq!(expected.len(), 3, "every server applied txns: {expected:?}");
    for (server, (zxid, digest)) in expected {
        let dir = out_dir.join(format!("s{server}")).join("version-2");
        // persist::recovery, in process.
        let files = read_files(&dir);
        assert!(
            files.keys().any(|k| k.starts_with("log.")),
            "s{server}: {files:?}"
        );
        let rec = recover(&files).expect("the exported directory recovers");
        let db = load_database(&rec, StoreConfig::new(server, 2000), 0).expect("loads");
        assert_eq!(rec.last_processed_zxid.0, zxid, "s{server}: persist zxid");
        assert_eq!(db.digest(), digest, "s{server}: persist digest");
        // zabsim datadir inspect --json.
        let inspect = zabsim(&["datadir", "inspect", "--json", dir.to_str().unwrap()]);
        assert_eq!(
            inspect.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&inspect.stderr)
        );
        let v: Value = serde_json::from_slice(&inspect.stdout).expect("json");
        assert_eq!(
            v["last_zxid"].as_u64(),
            Some(zxid),
            "s{server}: inspect zxid"
        );
        assert_eq!(
            v["digest"].as_i64(),
            Some(digest),
            "s{server}: inspect digest"
        );
        assert!(v["tree"].as_object().is_some_and(|t| t.contains_key("/")));
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn a_steady_run_exports_directories_that_recover_what_each_server_had() {
    exported_dirs_read_back(&scenario("steady-3.ron"), "1", "steady");
}

/// With a leader crash and restart the restarted server's directory holds its older logs, the
/// snapshot it took and the newer log: still what it last had.
#[test]
fn a_crash_run_exports_directories_that_recover_what_each_server_had() {
    exported_dirs_read_back(&scenario("leader-crash.ron"), "2", "crash");
}

/// `cluster.data_dir` naming a directory that does not exist is bad input: exit 2, and the
/// message names the field.
#[test]
fn a_missing_data_dir_is_bad_input_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("zabsim-bad-datadir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("bad.ron");
    std::fs::write(
        &file,
        r#"(
    description: "boots from a directory that is not there",
    cluster: (servers: 3, clients: 1, data_dir: "no-such-dir/version-2"),
)"#,
    )
    .expect("write");
    let out = zabsim(&["run", file.to_str().unwrap(), "--seed", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cluster.data_dir"), "{stderr}");
    assert!(stderr.contains("no-such-dir"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
