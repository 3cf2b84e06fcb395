//! `zabsim variants`: List the protocol variants.

use clap::Args;
use std::process::ExitCode;

/// Arguments of `zabsim variants`.
#[derive(Debug, Args)]
pub struct VariantsArgs {}

/// Runs the subcommand.
pub fn run(_args: VariantsArgs) -> ExitCode {
    super::exit::bad_input("`variants` is not built yet")
}
