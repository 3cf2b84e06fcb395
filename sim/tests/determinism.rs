//! Same seed + same binary ⇒ byte-identical trace; different seeds ⇒ different runs.

use std::path::Path;
use zabsim_sim::kernel::TraceMode;
use zabsim_sim::runner::{self, RunSpec};
use zabsim_sim::scenario;

fn run(file: &str, seed: u64) -> (String, Vec<zabsim_sim::kernel::Record>, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(file);
    let mut s = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    s.kernel.trace = TraceMode::Full;
    let name = path.display().to_string();
    let spec = RunSpec {
        scenario_path: &name,
        scenario: &s,
        seed,
        variants: &[],
    };
    let (report, artifacts) = runner::run(&spec);
    (report.fingerprint, artifacts.trace, artifacts.records.len())
}

#[test]
fn the_same_seed_gives_the_same_trace_twice() {
    for file in ["leader-crash.ron", "swarm.ron"] {
        let (fa, ta, ha) = run(file, 7);
        let (fb, tb, hb) = run(file, 7);
        assert!(ta.len() > 1000, "{file}: a real run ({} trace records)", ta.len());
        assert_eq!(fa, fb, "{file}: fingerprints");
        assert_eq!(ha, hb, "{file}: history lengths");
        if let Some(i) = (0..ta.len().min(tb.len())).find(|&i| ta[i] != tb[i]) {
            panic!("{file}: first difference at record {i}: {:?} vs {:?}", ta[i], tb[i]);
        }
        assert_eq!(ta.len(), tb.len());
    }
}

#[test]
fn different_seeds_give_different_runs() {
    let (a, _, _) = run("swarm.ron", 1);
    let (b, _, _) = run("swarm.ron", 2);
    assert_ne!(a, b);
}
