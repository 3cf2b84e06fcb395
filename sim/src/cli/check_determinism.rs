//! `zabsim check-determinism SCENARIO [--seed N]`: runs one seed twice with a full trace and
//! compares the fingerprints; on a difference it names the first differing trace record.

use super::exit;
use super::run::prepare;
use crate::kernel::TraceMode;
use crate::runner::{self, RunSpec};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `zabsim check-determinism`.
#[derive(Debug, Args)]
pub struct CheckDeterminismArgs {
    /// The scenario file (RON).
    pub scenario: PathBuf,
    /// The seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Switch a protocol variant on (repeatable).
    #[arg(long = "variant")]
    pub variants: Vec<String>,
}

/// Runs the subcommand.
pub fn run(args: CheckDeterminismArgs) -> ExitCode {
    let (mut scenario, variants) = match prepare(&args.scenario, &args.variants) {
        Ok(x) => x,
        Err(e) => return exit::bad_input(e),
    };
    scenario.kernel.trace = TraceMode::Full;
    let path = args.scenario.display().to_string();
    let spec = RunSpec {
        scenario_path: &path,
        scenario: &scenario,
        seed: args.seed,
        variants: &variants,
    };
    let (a, trace_a) = runner::run(&spec);
    let (b, trace_b) = runner::run(&spec);
    println!(
        "run 1: fingerprint {} ({} trace records)",
        a.fingerprint,
        trace_a.trace.len()
    );
    println!(
        "run 2: fingerprint {} ({} trace records)",
        b.fingerprint,
        trace_b.trace.len()
    );
    let first = trace_a
        .trace
        .iter()
        .zip(trace_b.trace.iter())
        .find(|(x, y)| x != y)
        .map(|(x, y)| (Some(x), Some(y)))
        .or_else(|| match trace_a.trace.len().cmp(&trace_b.trace.len()) {
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Less => Some((None, trace_b.trace.get(trace_a.trace.len()))),
            std::cmp::Ordering::Greater => Some((trace_a.trace.get(trace_b.trace.len()), None)),
        });
    if a.fingerprint == b.fingerprint && first.is_none() {
        println!(
            "deterministic: seed {} gives the same trace twice",
            args.seed
        );
        return ExitCode::from(exit::PASS);
    }
    println!("NOT deterministic: seed {}", args.seed);
    if let Some((x, y)) = first {
        println!("  first difference:\n    run 1: {x:?}\n    run 2: {y:?}");
    }
    ExitCode::from(exit::VIOLATION)
}
