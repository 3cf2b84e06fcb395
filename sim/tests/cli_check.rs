//! Goal: `zabsim check` exit codes and `--json` lines follow the contract (0 linearizable,
//! 1 not, 3 undecided, 2 bad input; one JSON line per file; several files in one process;
//! a timeline path for a violation). Method: run the binary on corpus files and small
//! hand-made ones.

use std::process::Command;

const ETCD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpora/porcupine-histories/jepsen"
);

fn zabsim(args: &[&str], dir: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zabsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run zabsim: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zabsim-cli-check-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

#[test]
fn cli_check_exit_codes_and_json_lines() {
    let dir = scratch("codes");
    let good = format!("{ETCD}/etcd_005.log");
    let bad = format!("{ETCD}/etcd_000.log");
    let (code, out, _) = zabsim(&["check", "--model", "cas-register", &good], &dir);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = zabsim(
        &["check", "--model", "cas-register", "--json", &good, &bad],
        &dir,
    );
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["verdict"], "linearizable");
    assert_eq!(lines[1]["verdict"], "not_linearizable");
    assert!(lines[1]["ms"].is_number());
    let timeline = lines[1]["timeline"]
        .as_str()
        .unwrap_or_else(|| panic!("no timeline: {}", lines[1]));
    let svg = std::fs::read_to_string(dir.join(timeline)).unwrap_or_else(|e| panic!("{e}"));
    assert!(svg.starts_with("<svg") && svg.contains("cannot be linearized"));
}

#[test]
fn cli_check_undecided_and_bad_input() {
    let dir = scratch("undecided");
    let hard = format!("{ETCD}/etcd_002.log");
    let (code, out, _) = zabsim(
        &[
            "check",
            "--model",
            "cas-register",
            "--max-steps",
            "20",
            "--json",
            &hard,
        ],
        &dir,
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("\"undecided\""));
    let broken = dir.join("broken.edn");
    std::fs::write(
        &broken,
        "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :nope :f :read}]",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let broken = broken.to_string_lossy().into_owned();
    let (code, _, err) = zabsim(&["check", "--model", "cas-register", &broken], &dir);
    assert_eq!(code, 2);
    assert!(err.contains("broken.edn:2: field `type`"), "{err}");
    let (code, _, _) = zabsim(&["check", "--model", "nonsense", &hard], &dir);
    assert_eq!(code, 2);
    let (code, _, err) = zabsim(&["check", "--model", "zookeeper", &hard], &dir);
    assert_eq!(code, 2, "{err}");
}

/// Goal (issue 5): `zabsim check` decides the 50-client kv history on every key and prints each
/// key's proof. Method: c50-bad (10 keys, every one illegal) exits 1 with 10 decided
/// partitions and a proof line per key; with `--no-deciders` the proofs of the decider are gone
/// (a plain search names no contradicting operations), shown on the small c10-bad.
#[test]
fn cli_check_kv_c50_bad_every_key_has_a_proof() {
    let dir = scratch("c50");
    let kv = "/work/shared/corpora/porcupine-histories/kv";
    let (code, out, err) = zabsim(
        &["check", "--model", "kv", &format!("{kv}/c50-bad.txt")],
        &dir,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("10 partitions, 10 decided"), "{out}");
    assert_eq!(out.matches("    proof: ").count(), 10, "{out}");
    let (code, out, _) = zabsim(
        &[
            "check",
            "--model",
            "kv",
            "--no-deciders",
            &format!("{kv}/c10-bad.txt"),
        ],
        &dir,
    );
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("proof:"), "{out}");
}
