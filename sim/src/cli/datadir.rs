//! `zabsim datadir`: Inspect a ZooKeeper version-2 data directory.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `zabsim datadir`.
#[derive(Debug, Args)]
pub struct DatadirArgs {}

/// Runs the subcommand.
pub fn run(_args: DatadirArgs) -> ExitCode {
    super::exit::bad_input("`datadir` is not built yet")
}
