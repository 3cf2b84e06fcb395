//! Goal: every history listed in the corpora's `verdicts.tsv` (Porcupine's etcd and kv sets,
//! Knossos's EDN set) gets its expected verdict. Method: read each file through the format
//! detector, check it with the model the TSV names, compare. In `cargo test` (debug) the etcd
//! set is sampled (every file whose number is divisible by 3, plus the hard ones 002, 007, 040,
//! 057, 085, 097, 099), Knossos's set and the kv set are complete, the 50-client kv files
//! decided key by key; the full sets run in release by `zabsim bench --only lin`
//! (results/bench.md).

use std::path::{Path, PathBuf};
use zabsim_checkers::formats::read_file;
use zabsim_checkers::lin::run::{check_loaded, Initial, ModelName};
use zabsim_checkers::lin::{CheckOptions, Verdict};

const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpora");

fn rows(set: &str) -> Vec<(PathBuf, bool, String)> {
    let dir = Path::new(CORPORA).join(set);
    let Ok(tsv) = std::fs::read_to_string(dir.join("verdicts.tsv")) else {
        panic!("corpus {set} missing at {}", dir.display());
    };
    let mut out = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let expected = match cols[1] {
            "true" => true,
            "false" => false,
            _ => continue,
        };
        let model = if set.starts_with("porcupine") {
            cols[6]
        } else {
            cols[2]
        };
        if set.starts_with("porcupine") && cols[0].starts_with("kv/") && cols[7] == "no" {
            continue; // the unpartitioned kv rows name the same files
        }
        out.push((dir.join(cols[0]), expected, model.to_string()));
    }
    out
}

fn model_of(name: &str) -> ModelName {
    match name {
        "etcd-cas-register" | "cas-register" => ModelName::CasRegister,
        "kv-put-get-append" => ModelName::Kv,
        "multi-register" => ModelName::MultiRegister,
        "mutex" => ModelName::Mutex,
        other => panic!("unknown model {other}"),
    }
}

fn assert_verdicts(set: &str, keep: impl Fn(&Path) -> bool) -> usize {
    let mut checked = 0;
    for (file, expected, model) in rows(set) {
        if !keep(&file) {
            continue;
        }
        let loaded = read_file(&file).unwrap_or_else(|e| panic!("{e}"));
        let result = check_loaded(
            &loaded,
            model_of(&model),
            Initial::default(),
            CheckOptions::default(),
            "t",
        )
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let want = if expected {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        assert_eq!(result.verdict, want, "{}", file.display());
        checked += 1;
    }
    checked
}

#[test]
fn lin_corpus_knossos_all_verdicts() {
    assert_eq!(assert_verdicts("knossos-histories", |_| true), 122);
}

#[test]
fn lin_corpus_porcupine_etcd_sample_verdicts() {
    let hard = ["002", "007", "040", "057", "085", "097", "099"];
    let n = assert_verdicts("porcupine-histories", |f| {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(num) = name
            .strip_prefix("etcd_")
            .and_then(|n| n.strip_suffix(".log"))
        else {
            return false;
        };
        hard.contains(&num) || num.parse::<u32>().is_ok_and(|n| n % 3 == 0)
    });
    assert!(n >= 40, "only {n} etcd files checked");
}

#[test]
fn lin_corpus_porcupine_kv_small_verdicts() {
    let n = assert_verdicts("porcupine-histories", |f| {
        let s = f.to_string_lossy();
        s.contains("/kv/") && !s.contains("c50")
    });
    assert_eq!(n, 4);
}

/// Goal (issue 5): the 50-client kv histories are decided in full, every key, not stopped at
/// the first failing one. c50-bad: every one of its 10 keys is proven not linearizable (none
/// undecided), each with a proof; c50-ok: every key linearizable.
#[test]
fn lin_corpus_porcupine_kv_c50_decided_on_every_key() {
    let check = |name: &str| {
        let file = Path::new(CORPORA).join("porcupine-histories/kv").join(name);
        let loaded = read_file(&file).unwrap_or_else(|e| panic!("{e}"));
        check_loaded(
            &loaded,
            ModelName::Kv,
            Initial::default(),
            CheckOptions::default(),
            name,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let bad = check("c50-bad.txt");
    assert_eq!(bad.verdict, Verdict::NotLinearizable);
    assert_eq!(bad.report.partitions.len(), 10);
    for p in &bad.report.partitions {
        assert_eq!(p.verdict, Verdict::NotLinearizable, "key {:?}", p.keys);
        assert!(p.proof.is_some(), "key {:?} has no proof", p.keys);
    }
    // The timeline draws the proof's operations.
    let svg = bad.timeline.as_deref().unwrap_or("");
    assert!(svg.contains("in the proof: "), "{svg}");
    let ok = check("c50-ok.txt");
    assert_eq!(ok.verdict, Verdict::Linearizable);
    assert_eq!(ok.report.partitions.len(), 10);
    assert!(ok
        .report
        .partitions
        .iter()
        .all(|p| p.verdict == Verdict::Linearizable));
}
