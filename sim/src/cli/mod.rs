//! The `zabsim` command line (clap). Each subcommand lives in its own file, owns its argument
//! struct and returns its exit code.
//!
//! Exit codes, for every subcommand: 0 pass, 1 violation, 2 bad input, 3 undecided.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod apply;
pub mod bench;
pub mod check;
pub mod check_determinism;
pub mod datadir;
pub mod exit;
pub mod run;
pub mod sweep;
pub mod variants;

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
pub enum Command {
    /// Run one seed of a scenario.
    Run(run::RunArgs),
    /// Run a range of seeds of a scenario in parallel.
    Sweep(sweep::SweepArgs),
    /// Run one seed twice and name the first differing trace record.
    CheckDeterminism(check_determinism::CheckDeterminismArgs),
    /// List the protocol variants, one line each.
    Variants(variants::VariantsArgs),
    /// Run ZooKeeper client op scripts (JSON Lines) against a simulated server.
    Apply(apply::ApplyArgs),
    /// Inspect a ZooKeeper `version-2` data directory.
    Datadir(datadir::DatadirArgs),
    /// Check histories for linearizability.
    Check(check::CheckArgs),
    /// Run the benchmarks and write their tables into `results/`.
    Bench(bench::BenchArgs),
}

/// Parses the command line and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr with virtual-time stamps and node ids, filtered by RUST_LOG (default
    // `warn`); a bad RUST_LOG is reported, not fatal.
    if let Err(e) = crate::kernel::logging::init(None) {
        eprintln!("warning: logging: {e}");
    }
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::CheckDeterminism(args) => check_determinism::run(args),
        Command::Variants(args) => variants::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Datadir(args) => datadir::run(args),
        Command::Check(args) => check::run(args),
        Command::Bench(args) => bench::run(args),
    }
}
