//! `zabsim sweep SCENARIO --seeds A..B [--jobs N] [--shard I/N] [--out DIR] [--resume] [--json]`:
//! runs a range of seeds in parallel (rayon; each seed is its own single-threaded simulation),
//! shows progress on a terminal, prints a summary with every failing seed's reproduce line, and
//! exits with the worst outcome.
//!
//! `--shard I/N` keeps the seeds `s` with `(s - A) % N == I`, so N machines of a batch scheduler
//! cover the range exactly once. With `--out DIR` each seed's result is appended to
//! `DIR/results.jsonl` as one line written in a single call (a killed sweep loses at most the seeds
//! in flight), and the summary is written as `summary.json` and `summary.md`; `--resume` skips
//! the seeds already in `results.jsonl`.

use super::exit;
use super::run::prepare;
use crate::runner::{self, meets_expectation, Report, RunOutcome, RunSpec};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `zabsim sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file (RON).
    pub scenario: PathBuf,
    /// Seeds as `A..B` (B excluded) or a single seed.
    #[arg(long, default_value = "1..101")]
    pub seeds: String,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Switch a protocol variant on (repeatable).
    #[arg(long = "variant")]
    pub variants: Vec<String>,
    /// Run only shard I of N (`I/N`, 0-based).
    #[arg(long)]
    pub shard: Option<String>,
    /// Append per-seed results and write the summary (JSON and Markdown) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the seeds already recorded in `--out`'s results.jsonl.
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Make the last stdout line the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Parses `I/N`.
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("--shard {text}: expected I/N with 0 <= I < N");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let i: u64 = i.trim().parse().map_err(|_| bad())?;
    let n: u64 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// One seed's result as `results.jsonl` keeps it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// pass / violation / undecided.
    pub outcome: String,
    /// Whether it met the scenario's `expect`.
    pub met: bool,
    /// Kernel events.
    pub events: u64,
    /// The first violation or undecided reason.
    pub first: String,
    /// The reproduce line.
    pub reproduce: String,
}

impl SeedResult {
    fn of(scenario: &crate::scenario::Scenario, r: &Report) -> SeedResult {
        SeedResult {
            seed: r.seed,
            outcome: r.outcome.name().to_string(),
            met: meets_expectation(scenario, r),
            events: r.metrics.events,
            first: r
                .violations
                .first()
                .map(|v| format!("[{}] {}", v.judge, v.kind))
                .or_else(|| r.undecided.first().cloned())
                .unwrap_or_default(),
            reproduce: r.reproduce.clone(),
        }
    }
}

fn read_done(dir: &std::path::Path) -> Result<Vec<SeedResult>, String> {
    let file = dir.join("results.jsonl");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(Vec::new());
    };
    let mut done = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<SeedResult>(line) {
            Ok(r) => done.push(r),
            // A line cut by a kill is the last one: it is re-run.
            Err(_) if i + 1 == text.lines().count() => {}
            Err(e) => return Err(format!("{}:{}: {e}", file.display(), i + 1)),
        }
    }
    Ok(done)
}

fn append_result(dir: &std::path::Path, r: &SeedResult) -> std::io::Result<()> {
    use std::io::Write;
    let mut line = serde_json::to_string(r).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("results.jsonl"))?;
    f.write_all(line.as_bytes())
}

/// Parses `A..B` or `N`.
pub fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let bad = || format!("--seeds {text}: expected A..B (B excluded) or a single seed");
    match text.split_once("..") {
        Some((a, b)) => {
            let a: u64 = a.trim().parse().map_err(|_| bad())?;
            let b: u64 = b.trim().parse().map_err(|_| bad())?;
            if a >= b {
                return Err(format!("--seeds {text}: the range is empty"));
            }
            Ok(a..b)
        }
        None => {
            let a: u64 = text.trim().parse().map_err(|_| bad())?;
            Ok(a..a + 1)
        }
    }
}

/// Runs the subcommand.
pub fn run(args: SweepArgs) -> ExitCode {
    let (scenario, variants) = match prepare(&args.scenario, &args.variants) {
        Ok(x) => x,
        Err(e) => return exit::bad_input(e),
    };
    let range = match parse_seeds(&args.seeds) {
        Ok(s) => s,
        Err(e) => return exit::bad_input(e),
    };
    let (shard, shards) = match args.shard.as_deref().map(parse_shard).transpose() {
        Ok(s) => s.unwrap_or((0, 1)),
        Err(e) => return exit::bad_input(e),
    };
    let mut done = Vec::new();
    if let Some(dir) = &args.out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return exit::bad_input(format!("--out {}: {e}", dir.display()));
        }
        if args.resume {
            done = match read_done(dir) {
                Ok(d) => d,
                Err(e) => return exit::bad_input(e),
            };
        } else if dir.join("results.jsonl").exists() {
            return exit::bad_input(format!(
                "--out {}: results.jsonl exists (use --resume to continue it)",
                dir.display()
            ));
        }
    }
    let seeds: Vec<u64> = range
        .clone()
        .filter(|s| (s - range.start) % shards == shard)
        .filter(|s| !done.iter().any(|d| d.seed == *s))
        .collect();
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => return exit::bad_input(format!("--jobs: {e}")),
    };
    let path = args.scenario.display().to_string();
    let bar = ProgressBar::new(seeds.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {elapsed} (eta {eta}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    #[allow(
        clippy::disallowed_methods,
        clippy::disallowed_types,
        reason = "wall-clock time of the sweep for its summary; never enters a simulation"
    )]
    let started = std::time::Instant::now();
    let write_lock = std::sync::Mutex::new(());
    let fresh: Vec<SeedResult> = pool.install(|| {
        seeds
            .par_iter()
            .map(|&seed| {
                let spec = RunSpec {
                    scenario_path: &path,
                    scenario: &scenario,
                    seed,
                    variants: &variants,
                };
                let (report, _) = runner::run(&spec);
                let result = SeedResult::of(&scenario, &report);
                if let Some(dir) = &args.out {
                    let _guard = write_lock.lock();
                    if let Err(e) = append_result(dir, &result) {
                        eprintln!("error: cannot append to {}: {e}", dir.display());
                    }
                }
                bar.inc(1);
                result
            })
            .collect()
    });
    bar.finish_and_clear();
    let wall_ms = started.elapsed().as_millis() as u64;
    let mut all = done;
    all.extend(fresh);
    all.sort_by_key(|r| r.seed);
    summarize(&scenario, &all, args.out.as_deref(), args.json, wall_ms)
}

fn summarize(
    scenario: &crate::scenario::Scenario,
    results: &[SeedResult],
    out: Option<&std::path::Path>,
    json: bool,
    wall_ms: u64,
) -> ExitCode {
    let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
    let unmet: Vec<&SeedResult> = results.iter().filter(|r| !r.met).collect();
    let events: u64 = results.iter().map(|r| r.events).sum();
    let rate = events as f64 / (wall_ms.max(1) as f64 / 1000.0);
    let headline = format!(
        "{} seeds: {} pass, {} violation, {} undecided; {} do not meet `expect: {:?}`",
        results.len(),
        count("pass"),
        count("violation"),
        count("undecided"),
        unmet.len(),
        scenario.expect
    );
    println!("{headline}");
    println!("  {events} events in {wall_ms} ms wall ({rate:.0} events/s)");
    let mut md = format!("# sweep\n\n{headline}\n\n{events} events in {wall_ms} ms wall ({rate:.0} events/s)\n\n| seed | outcome | first finding | reproduce |\n|---|---|---|---|\n");
    for r in &unmet {
        println!("  seed {} {}: {}", r.seed, r.outcome, r.first);
        println!("    reproduce: {}", r.reproduce);
        md.push_str(&format!(
            "| {} | {} | {} | `{}` |\n",
            r.seed, r.outcome, r.first, r.reproduce
        ));
    }
    let summary = serde_json::json!({
        "seeds": results.len(),
        "passed": results.iter().filter(|r| r.met).count(),
        "failed": unmet.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "undecided": results.iter().filter(|r| r.outcome == "undecided").map(|r| r.seed).collect::<Vec<_>>(),
        "events": events,
        "wall_ms": wall_ms,
    });
    if let Some(dir) = out {
        let written = std::fs::write(dir.join("summary.json"), summary.to_string())
            .and_then(|_| std::fs::write(dir.join("summary.md"), md));
        if let Err(e) = written {
            eprintln!("error: cannot write the summary in {}: {e}", dir.display());
        }
    }
    if json {
        println!("{summary}");
    }
    let worst = if unmet.iter().any(|r| r.outcome == "violation") {
        RunOutcome::Violation
    } else if unmet.is_empty() {
        RunOutcome::Pass
    } else {
        RunOutcome::Undecided
    };
    ExitCode::from(if unmet.is_empty() {
        exit::PASS
    } else {
        worst.exit_code().max(1)
    })
}
