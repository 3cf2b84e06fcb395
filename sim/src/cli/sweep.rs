//! `zabsim sweep SCENARIO --seeds A..B [--jobs N] [--variant NAME]...`: runs a range of seeds in
//! parallel (rayon; each seed is its own single-threaded simulation), shows progress, prints a
//! summary with every failing seed's reproduce line, and exits with the worst outcome.

use super::exit;
use super::run::prepare;
use crate::runner::{self, meets_expectation, Report, RunOutcome, RunSpec};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `zabsim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file (RON).
    pub scenario: PathBuf,
    /// Seeds as `A..B` (B excluded) or a single seed.
    #[arg(long, default_value = "1..101")]
    pub seeds: String,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Switch a protocol variant on (repeatable).
    #[arg(long = "variant")]
    pub variants: Vec<String>,
    /// Print one JSON line per seed.
    #[arg(long)]
    pub json: bool,
}

/// Parses `A..B` or `N`.
pub fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let bad = || format!("--seeds {text}: expected A..B (B excluded) or a single seed");
    match text.split_once("..") {
        Some((a, b)) => {
            let a: u64 = a.trim().parse().map_err(|_| bad())?;
            let b: u64 = b.trim().parse().map_err(|_| bad())?;
            if a >= b {
                return Err(format!("--seeds {text}: the range is empty"));
            }
            Ok(a..b)
        }
        None => {
            let a: u64 = text.trim().parse().map_err(|_| bad())?;
            Ok(a..a + 1)
        }
    }
}

/// Runs the subcommand.
pub fn run(args: SweepArgs) -> ExitCode {
    let (scenario, variants) = match prepare(&args.scenario, &args.variants) {
        Ok(x) => x,
        Err(e) => return exit::bad_input(e),
    };
    let seeds = match parse_seeds(&args.seeds) {
        Ok(s) => s,
        Err(e) => return exit::bad_input(e),
    };
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => return exit::bad_input(format!("--jobs: {e}")),
    };
    let path = args.scenario.display().to_string();
    let bar = ProgressBar::new(seeds.end - seeds.start);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {elapsed} (eta {eta}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let reports: Vec<Report> = pool.install(|| {
        seeds
            .clone()
            .into_par_iter()
            .map(|seed| {
                let spec = RunSpec {
                    scenario_path: &path,
                    scenario: &scenario,
                    seed,
                    variants: &variants,
                };
                let (report, _) = runner::run(&spec);
                bar.inc(1);
                report
            })
            .collect()
    });
    bar.finish_and_clear();
    summarize(&scenario, &reports, args.json)
}

fn summarize(scenario: &crate::scenario::Scenario, reports: &[Report], json: bool) -> ExitCode {
    let count = |o: RunOutcome| reports.iter().filter(|r| r.outcome == o).count();
    if json {
        for r in reports {
            if let Ok(line) = serde_json::to_string(r) {
                println!("{line}");
            }
        }
    }
    let unmet: Vec<&Report> = reports
        .iter()
        .filter(|r| !meets_expectation(scenario, r))
        .collect();
    println!(
        "{} seeds: {} pass, {} violation, {} undecided; {} do not meet `expect: {:?}`",
        reports.len(),
        count(RunOutcome::Pass),
        count(RunOutcome::Violation),
        count(RunOutcome::Undecided),
        unmet.len(),
        scenario.expect
    );
    let events: u64 = reports.iter().map(|r| r.metrics.events).sum();
    let virtual_ms: f64 = reports.iter().map(|r| r.metrics.virtual_time_ms).sum();
    println!(
        "  {events} events, {:.1} s virtual in all",
        virtual_ms / 1000.0
    );
    for r in unmet.iter().take(20) {
        let first = r
            .violations
            .first()
            .map(|v| format!("[{}] {}", v.judge, v.kind))
            .or_else(|| r.undecided.first().cloned())
            .unwrap_or_default();
        println!("  seed {} {}: {first}", r.seed, r.outcome.name());
        println!("    reproduce: {}", r.reproduce);
    }
    let worst = reports
        .iter()
        .map(|r| r.outcome)
        .max_by_key(|o| match o {
            RunOutcome::Pass => 0,
            RunOutcome::Undecided => 1,
            RunOutcome::Violation => 2,
        })
        .unwrap_or(RunOutcome::Pass);
    if unmet.is_empty() {
        ExitCode::from(exit::PASS)
    } else {
        ExitCode::from(worst.exit_code().max(1))
    }
}
