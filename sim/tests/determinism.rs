//! Determinism is tested, not assumed (house habit 14): the same scenario and seed run twice
//! give the same trace fingerprint and the same judged outcome; two different seeds give
//! different fingerprints (the seed really drives latencies, clocks and the workload).

use std::path::Path;
use zabsim_sim::runner::{self, RunSpec};
use zabsim_sim::scenario;

fn fingerprint(seed: u64) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/steady-3.ron");
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let spec = RunSpec {
        scenario_path: "scenarios/steady-3.ron",
        scenario: &scenario,
        seed,
        variants: &[],
    };
    let (report, _artifacts) = runner::run(&spec);
    (report.fingerprint, report.outcome.name().to_string())
}

#[test]
fn the_same_seed_twice_gives_the_same_fingerprint() {
    let first = fingerprint(7);
    let second = fingerprint(7);
    assert_eq!(first, second, "seed 7 of steady-3 ran twice");
    assert!(first.0.starts_with("0x"), "a hex fingerprint: {}", first.0);
}

#[test]
fn different_seeds_give_different_fingerprints() {
    let a = fingerprint(1);
    let b = fingerprint(2);
    assert_ne!(a.0, b.0, "seeds 1 and 2 of steady-3 ran the same trace");
}
