//! The `zabsim` command line (clap). Each subcommand lives in its own file.
//!
//! Exit codes, for every subcommand: 0 pass, 1 violation, 2 bad input, 3 undecided.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod exit;

/// zabsim: break Apache ZooKeeper's replication on purpose, deterministically.
#[derive(Debug, Parser)]
#[command(name = "zabsim", version, about)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {}

/// Parses the command line and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {}
}
