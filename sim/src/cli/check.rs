//! `zabsim check`: Check histories for linearizability.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `zabsim check`.
#[derive(Debug, Args)]
pub struct CheckArgs {}

/// Runs the subcommand.
pub fn run(_args: CheckArgs) -> ExitCode {
    super::exit::bad_input("`check` is not built yet")
}
