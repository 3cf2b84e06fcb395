//! `zabsim variants`: the protocol variants (historical ZooKeeper bugs that a switch re-enables).

use clap::Args;
use std::process::ExitCode;
use zabsim_protocol::server::Variant;

/// Arguments of `zabsim variants`.
#[derive(Debug, Args)]
pub struct VariantsArgs {}

/// Runs the subcommand.
pub fn run(_args: VariantsArgs) -> ExitCode {
    for v in Variant::ALL {
        println!("{:<10} {:<16} {}", v.name(), v.jira(), v.summary());
    }
    ExitCode::SUCCESS
}
