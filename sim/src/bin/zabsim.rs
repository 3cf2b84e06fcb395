//! The `zabsim` command line: see `zabsim --help`.

fn main() -> std::process::ExitCode {
    zabsim_sim::cli::main()
}
