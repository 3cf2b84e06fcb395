//! `zabsim apply`: Run ZooKeeper client op scripts against a simulated server.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `zabsim apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {}

/// Runs the subcommand.
pub fn run(_args: ApplyArgs) -> ExitCode {
    super::exit::bad_input("`apply` is not built yet")
}
