//! `zabsim check-determinism`: Run one seed twice and compare the traces.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `zabsim check-determinism`.
#[derive(Debug, Args)]
pub struct CheckDeterminismArgs {}

/// Runs the subcommand.
pub fn run(_args: CheckDeterminismArgs) -> ExitCode {
    super::exit::bad_input("`check-determinism` is not built yet")
}
