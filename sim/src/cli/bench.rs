//! `zabsim bench`: Run the benchmarks and write their tables into results/.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `zabsim bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {}

/// Runs the subcommand.
pub fn run(_args: BenchArgs) -> ExitCode {
    super::exit::bad_input("`bench` is not built yet")
}
