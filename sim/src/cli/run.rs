//! `zabsim run`: Run one seed of a scenario.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `zabsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {}

/// Runs the subcommand.
pub fn run(_args: RunArgs) -> ExitCode {
    super::exit::bad_input("`run` is not built yet")
}
