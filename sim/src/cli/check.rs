//! `zabsim check HISTORY... --model zookeeper|cas-register|kv|multi-register|mutex [--json]`:
//! black-box linearizability checking of history files (Jepsen logs, Jepsen/Knossos EDN,
//! zabsim JSON Lines — recognised from the content).
//!
//! Exit code over all files: 2 if any file is bad input, else 1 if any is not linearizable,
//! else 3 if any is undecided, else 0. With `--json`, one line per file:
//! `{"file": ..., "verdict": "linearizable"|"not_linearizable"|"undecided", "ms": ...}`
//! (a bad file gets `"verdict": "bad_input"` and an `"error"`). On a violation (or an undecided
//! search) an SVG timeline of the smallest failing window is written into `--report-dir` and its
//! path printed.

use super::exit;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zabsim_checkers::formats::read_file;
use zabsim_checkers::lin::run::{check_loaded, FileCheck, Initial, ModelName};
use zabsim_checkers::lin::{Budget, CheckOptions, Verdict};

/// Arguments of `zabsim check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// History files.
    #[arg(required = true)]
    pub histories: Vec<PathBuf>,
    /// The sequential model: zookeeper, cas-register, kv, multi-register or mutex.
    #[arg(long)]
    pub model: String,
    /// One JSON line per file.
    #[arg(long)]
    pub json: bool,
    /// Initial register value (`nil` or an integer). Default: nil for Jepsen logs, 0 for EDN.
    #[arg(long)]
    pub initial: Option<String>,
    /// Check the history as one partition (no P-compositional split by key).
    #[arg(long)]
    pub no_partition: bool,
    /// Search steps per partition before answering undecided.
    #[arg(long, default_value_t = Budget::default().max_steps)]
    pub max_steps: u64,
    /// Memoised configurations per partition before answering undecided.
    #[arg(long, default_value_t = Budget::default().max_configs)]
    pub max_configs: usize,
    /// Plain WGL search of every whole partition: no model decision procedure (the kv model's
    /// append-log decider) and no growing windows first.
    #[arg(long)]
    pub no_deciders: bool,
    /// Where to write SVG timelines of violations.
    #[arg(long, default_value = "lin-reports")]
    pub report_dir: PathBuf,
}

/// The outcome of one file.
enum FileOutcome {
    Checked(FileCheck),
    Bad(String),
}

/// Runs the subcommand.
pub fn run(args: CheckArgs) -> ExitCode {
    let Some(model) = ModelName::parse(&args.model) else {
        return exit::bad_input(format!(
            "--model `{}`: expected zookeeper, cas-register, kv, multi-register or mutex",
            args.model
        ));
    };
    let initial = match parse_initial(args.initial.as_deref()) {
        Ok(i) => i,
        Err(e) => return exit::bad_input(e),
    };
    let options = CheckOptions {
        partition: !args.no_partition,
        budget: Budget {
            max_steps: args.max_steps,
            max_configs: args.max_configs,
        },
        deciders: !args.no_deciders,
        windows: !args.no_deciders,
    };
    let mut worst = exit::PASS;
    for file in &args.histories {
        let (outcome, ms) = timed(|| check_file(file, model, initial, options));
        let code = match &outcome {
            FileOutcome::Bad(_) => exit::BAD_INPUT,
            FileOutcome::Checked(c) => verdict_code(c.verdict),
        };
        worst = combine(worst, code);
        report(&args, file, &outcome, ms);
    }
    ExitCode::from(worst)
}

fn parse_initial(text: Option<&str>) -> Result<Initial, String> {
    match text {
        None => Ok(Initial::default()),
        Some("nil") => Ok(Initial { value: Some(None) }),
        Some(t) => t
            .parse::<i64>()
            .map(|v| Initial {
                value: Some(Some(v)),
            })
            .map_err(|_| format!("--initial `{t}`: expected nil or an integer")),
    }
}

fn check_file(
    file: &Path,
    model: ModelName,
    initial: Initial,
    options: CheckOptions,
) -> FileOutcome {
    let loaded = match read_file(file) {
        Ok(l) => l,
        Err(e) => return FileOutcome::Bad(e.to_string()),
    };
    let title = file.display().to_string();
    match check_loaded(&loaded, model, initial, options, &title) {
        Ok(c) => FileOutcome::Checked(c),
        Err(e) => FileOutcome::Bad(format!(
            "{}:{}: field `{}`: {}",
            file.display(),
            e.line,
            e.field,
            e.message
        )),
    }
}

fn verdict_code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Linearizable => exit::PASS,
        Verdict::NotLinearizable => exit::VIOLATION,
        Verdict::Undecided => exit::UNDECIDED,
    }
}

/// Bad input beats a violation, which beats undecided, which beats a pass.
fn combine(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        exit::BAD_INPUT => 3,
        exit::VIOLATION => 2,
        exit::UNDECIDED => 1,
        _ => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn report(args: &CheckArgs, file: &Path, outcome: &FileOutcome, ms: f64) {
    let timeline = match outcome {
        FileOutcome::Checked(c) => c
            .timeline
            .as_ref()
            .and_then(|svg| write_timeline(&args.report_dir, file, svg)),
        FileOutcome::Bad(_) => None,
    };
    if args.json {
        let mut line = serde_json::json!({ "file": file.display().to_string(), "ms": (ms * 1000.0).round() / 1000.0 });
        match outcome {
            FileOutcome::Checked(c) => {
                line["verdict"] = c.verdict.name().into();
                if let Some(path) = &timeline {
                    line["timeline"] = path.display().to_string().into();
                }
            }
            FileOutcome::Bad(e) => {
                line["verdict"] = "bad_input".into();
                line["error"] = e.clone().into();
            }
        }
        println!("{line}");
        return;
    }
    match outcome {
        FileOutcome::Bad(e) => eprintln!("error: {e}"),
        FileOutcome::Checked(c) => {
            let parts = c.report.partitions.len();
            let decided = c
                .report
                .partitions
                .iter()
                .filter(|p| p.verdict != Verdict::Undecided)
                .count();
            println!(
                "{}: {} ({} ops, {parts} partitions, {decided} decided, {ms:.3} ms)",
                file.display(),
                c.verdict.name(),
                c.ops
            );
            for p in c
                .report
                .partitions
                .iter()
                .filter(|p| p.verdict != Verdict::Linearizable)
            {
                println!(
                    "  partition {:?}: {} (longest linearizable prefix {} of {} ops)",
                    p.keys,
                    p.verdict.name(),
                    p.order.len(),
                    p.ops.len()
                );
                if let Some(proof) = &p.proof {
                    println!("    proof: {proof}");
                }
            }
            if let Some(path) = timeline {
                println!("  timeline: {}", path.display());
            }
        }
    }
}

fn write_timeline(dir: &Path, file: &Path, svg: &str) -> Option<PathBuf> {
    let name: String = file
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{}.svg", name.trim_start_matches(['_', '.'])));
    let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, svg));
    match written {
        Ok(()) => Some(path),
        Err(e) => {
            eprintln!("warning: cannot write timeline {}: {e}", path.display());
            None
        }
    }
}

/// Runs `f` and measures its wall time in milliseconds (reporting only; never a verdict input).
#[expect(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "wall time is what `ms` and the benchmark report"
)]
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = std::time::Instant::now();
    let value = f();
    (value, start.elapsed().as_secs_f64() * 1000.0)
}
