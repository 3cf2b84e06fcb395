//! `zabsim sweep`: Run a range of seeds in parallel.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `zabsim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {}

/// Runs the subcommand.
pub fn run(_args: SweepArgs) -> ExitCode {
    super::exit::bad_input("`sweep` is not built yet")
}
