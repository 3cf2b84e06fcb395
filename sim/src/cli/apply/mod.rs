//! `zabsim apply SCRIPTS.jsonl`: runs ZooKeeper client op scripts (JSON Lines, the contract in
//! `../shared/op-scripts/README.md`) against a fresh simulated standalone server each, and
//! prints one outcome per script, in order, in the README's format. A malformed script is
//! reported with its line and field, exit code 2, and nothing is run.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

pub mod outcome;
pub mod result;
pub mod runner;
pub mod script;

/// Arguments of `zabsim apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The op scripts, one JSON object per line.
    pub scripts: PathBuf,
}

/// Parses and runs every script of `text`, returning the outcome lines.
pub fn apply_text(text: &str) -> Result<Vec<String>, script::ScriptError> {
    let scripts = script::parse_scripts(text)?;
    Ok(scripts
        .iter()
        .map(|s| runner::Runner::run(s).to_string())
        .collect())
}

/// Runs the subcommand.
pub fn run(args: ApplyArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.scripts) {
        Ok(t) => t,
        Err(e) => return super::exit::bad_input(format!("{}: {e}", args.scripts.display())),
    };
    match apply_text(&text) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::from(super::exit::PASS)
        }
        Err(e) => super::exit::bad_input(format!("{}: {e}", args.scripts.display())),
    }
}
