//! The runner: one seed of a scenario end to end — build the world, run the chaos phase, heal,
//! let the cluster settle within the liveness bound, judge the history as it is written (stopping
//! at the first proven violation), report.
//!
//! Outcomes: `pass` (every judge passed), `violation` (a judge proved a guarantee broken),
//! `undecided` (a stall, a guard rail, or a judge that could not decide). A stall is never a pass.

mod build;
mod metrics;
mod online;
mod report;
mod settle;

pub use build::{build, Built};
pub use metrics::Metrics;
pub use online::{FirstViolation, OnlineJudges};
pub use report::{JudgeReport, Report, RunOutcome, ViolationReport};
pub use settle::Artifacts;

use crate::scenario::{Expect, Scenario};
use zabsim_protocol::server::Variant;

/// What to run.
#[derive(Clone, Debug)]
pub struct RunSpec<'a> {
    /// The scenario's path as the user gave it (for the reproduce line).
    pub scenario_path: &'a str,
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The seed.
    pub seed: u64,
    /// Variants switched on by the command line (added to the scenario's).
    pub variants: &'a [Variant],
}

/// Runs one seed and judges it.
pub fn run(spec: &RunSpec<'_>) -> (Report, Artifacts) {
    let built = build(spec);
    settle::run_phases(spec, built)
}

/// Whether a report meets the scenario's expectation.
pub fn meets_expectation(scenario: &Scenario, report: &Report) -> bool {
    match &scenario.expect {
        Expect::Pass => report.outcome == RunOutcome::Pass,
        Expect::Violation(judge) => {
            report.outcome == RunOutcome::Violation
                && (judge == "any" || report.violations.iter().any(|v| &v.judge == judge))
        }
    }
}
