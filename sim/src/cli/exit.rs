//! The exit codes every `zabsim` subcommand shares.

use std::process::ExitCode;

/// A run or check passed (or a history is linearizable).
pub const PASS: u8 = 0;
/// A violation was found.
pub const VIOLATION: u8 = 1;
/// Bad input: a malformed scenario, history, file or command line.
pub const BAD_INPUT: u8 = 2;
/// Undecided: a stall, a limit hit, or a checker that could not decide.
pub const UNDECIDED: u8 = 3;

/// Prints `message` to stderr and returns the bad-input exit code.
pub fn bad_input(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(BAD_INPUT)
}
