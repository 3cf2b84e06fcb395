//! Every catalog scenario meets its `expect` on each of its listed seeds, end to end: servers,
//! clients, faults, the heal phase and every judge. Negative scenarios must fail.

use std::path::{Path, PathBuf};
use zabsim_sim::runner::{self, meets_expectation, RunSpec};
use zabsim_sim::scenario;

fn scenario_files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.extension().is_some_and(|x| x == "ron"));
    files.sort();
    files
}

fn check_all(dir: &str) {
    let mut failures = Vec::new();
    for file in scenario_files(dir) {
        let s = scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let path = file.display().to_string();
        for &seed in &s.seeds {
            let spec = RunSpec {
                scenario_path: &path,
                scenario: &s,
                seed,
                variants: &[],
            };
            let (report, _) = runner::run(&spec);
            if !meets_expectation(&s, &report) {
                let first = report
                    .violations
                    .first()
                    .map(|v| v.message.clone())
                    .or_else(|| report.undecided.first().cloned())
                    .unwrap_or_default();
                failures.push(format!(
                    "{path} seed {seed}: {} (expected {:?}): {first}",
                    report.outcome.name(),
                    s.expect
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn catalog_scenarios_pass_their_seeds() {
    check_all("");
}

#[test]
fn negative_scenarios_are_caught() {
    check_all("negative");
}

#[test]
fn regression_scenarios_meet_their_expectation() {
    check_all("regressions");
}
