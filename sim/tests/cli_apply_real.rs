//! `zabsim apply` against recorded answers of a real ZooKeeper 3.8.0 server (see
//! `cli_apply_real/README.md`): every script's outcome — error codes, relative zxids, Stats,
//! data, children, ACLs, multi results, watch events per session, the final tree — must equal
//! what the real server answered.

use serde_json::Value;
use zabsim_sim::cli::apply::apply_text;

/// Events compared per session, in order (the README's rule): stable-sort by session.
fn normalise(mut v: Value) -> Value {
    if let Some(results) = v["results"].as_array_mut() {
        for r in results {
            if let Some(events) = r["events"].as_array_mut() {
                events.sort_by(|a, b| a["session"].as_str().cmp(&b["session"].as_str()));
            }
        }
    }
    v
}

#[test]
fn outcomes_equal_real_zookeeper() {
    compare("scripts.jsonl", "zookeeper-3.8.0.jsonl", 17);
}

/// 24 random scripts (`fuzz.py 1000 24`: one to three sessions, creates of every mode, deletes
/// and sets with versions, ACLs, multis, watches of every kind, auth, closes).
#[test]
fn random_scripts_equal_real_zookeeper() {
    compare("fuzz.jsonl", "zookeeper-3.8.0-fuzz.jsonl", 24);
}

/// 24 random scripts with extended types on (`fuzz.py 2000 24 ext`): also containers, TTL
/// nodes, connection drops and reconnects with SetWatches.
#[test]
fn random_scripts_with_extended_types_equal_real_zookeeper() {
    compare("fuzz-ext.jsonl", "zookeeper-3.8.0-fuzz-ext.jsonl", 24);
}

/// 20 more random scripts (`fuzz.py 3000 20`), recorded after the replayer learned to ping.
#[test]
fn more_random_scripts_equal_real_zookeeper() {
    compare("fuzz-3000.jsonl", "zookeeper-3.8.0-fuzz-3000.jsonl", 20);
}

fn compare(scripts: &str, answers: &str, count: usize) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli_apply_real");
    let scripts = std::fs::read_to_string(format!("{dir}/{scripts}")).expect("scripts");
    let real = std::fs::read_to_string(format!("{dir}/{answers}")).expect("answers");
    let ours = apply_text(&scripts).expect("scripts parse");
    let real: Vec<&str> = real.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(ours.len(), real.len());
    assert_eq!(ours.len(), count);
    for (o, r) in ours.iter().zip(real) {
        let o = normalise(serde_json::from_str(o).expect("our json"));
        let r = normalise(serde_json::from_str(r).expect("real json"));
        let name = r["name"].clone();
        for (k, (a, b)) in o["results"]
            .as_array()
            .expect("results")
            .iter()
            .zip(r["results"].as_array().expect("results"))
            .enumerate()
        {
            assert_eq!(a, b, "script {name} op {k}");
        }
        assert_eq!(o["final_tree"], r["final_tree"], "script {name} final tree");
        assert_eq!(o, r, "script {name}");
    }
}
