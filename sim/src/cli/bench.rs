//! `zabsim bench [--only lin|sim|judges]... [--quick] [--runs N] [--seeds A..B] [--out DIR]`:
//! runs the benchmarks and writes their tables into `DIR/bench.md` and `DIR/bench.json`
//! (default `results/`).
//!
//! - **lin**: the black-box linearizability checker over every history of the corpora's
//!   `verdicts.tsv` (Porcupine's etcd and kv sets, Knossos's EDN set): our median over `--runs`
//!   runs of the check alone (reading, converting and drawing excluded, as Porcupine's recorded
//!   `CheckEvents` times exclude parsing), Porcupine's recorded median, their ratio, per history
//!   set, and whether every verdict matches the expected one.
//! - **sim**: whole seeds (simulation and judges) of `steady-3` and `swarm` over a fixed seed
//!   range, on one thread and on two: kernel events per second, simulated time per wall
//!   second, seeds per hour.
//! - **judges**: each judge's time over the histories of the swarm seeds.
//!
//! Wall time is read only here, never inside a simulation; a bench asserts no timing.

use super::check::timed;
use super::exit;
use super::run::prepare;
use super::sweep::parse_seeds;
use crate::runner::{self, RunSpec};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zabsim_checkers::formats::read_file;
use zabsim_checkers::history::History;
use zabsim_checkers::lin::run::{Initial, ModelName, Prepared};
use zabsim_checkers::lin::{CheckOptions, Verdict};
use zabsim_checkers::reference::ReferenceConfig;
use zabsim_checkers::zk::{all_judges, judge_history, EndState, Heal, JudgeConfig};

/// A part of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Part {
    /// The linearizability checker over the corpora.
    Lin,
    /// Simulator throughput.
    Sim,
    /// Judge times over swarm histories.
    Judges,
}

/// Arguments of `zabsim bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Run only these parts (repeatable; default: all).
    #[arg(long, value_enum)]
    pub only: Vec<Part>,
    /// A smoke run: one run per history, a few histories per set, a few seeds.
    #[arg(long)]
    pub quick: bool,
    /// Runs per history for the lin part (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Seeds for the sim part (`A..B`); the judges part uses the first 20 of them.
    #[arg(long, default_value = "1..201")]
    pub seeds: String,
    /// The corpora directory (Porcupine's and Knossos's histories with `verdicts.tsv`).
    #[arg(long, default_value = "../shared/corpora")]
    pub corpora: PathBuf,
    /// The scenario catalog (`steady-3.ron`, `swarm.ron`).
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Where to write `bench.md` and `bench.json`.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: BenchArgs) -> ExitCode {
    let parts = if args.only.is_empty() {
        vec![Part::Lin, Part::Sim, Part::Judges]
    } else {
        let mut p = args.only.clone();
        p.sort();
        p.dedup();
        p
    };
    let seeds = match parse_seeds(&args.seeds) {
        Ok(s) => s,
        Err(e) => return exit::bad_input(e),
    };
    let seeds: Vec<u64> = if args.quick {
        seeds.take(4).collect()
    } else {
        seeds.collect()
    };
    let runs = if args.quick { 1 } else { args.runs.max(1) };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: String = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let mut md = format!(
        "# zabsim bench\n\nRelease build, `zabsim bench{}`. Load average (1/5/15 min) at the start: {load}. \
         Lin times are the median of {runs} run(s) per history of the check alone; wall clock on a \
         shared 2-vCPU VM, so differences under about 2x are noise.\n",
        if args.quick { " --quick" } else { "" }
    );
    let mut out = json!({ "load_avg_start": load, "runs": runs, "quick": args.quick });
    let mut worst = exit::PASS;
    for part in parts {
        let result = match part {
            Part::Lin => lin(&args.corpora, runs, args.quick),
            Part::Sim => sim(&args.scenarios, &seeds),
            Part::Judges => judges(&args.scenarios, &seeds[..seeds.len().min(20)]),
        };
        match result {
            Ok((text, value, code)) => {
                md.push_str(&text);
                out[part_name(part)] = value;
                worst = worst.max(code);
            }
            Err(e) => return exit::bad_input(e),
        }
    }
    let end_load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let end_load: String = end_load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(md, "\nLoad average at the end: {end_load}.");
    out["load_avg_end"] = end_load.into();
    if let Err(e) = std::fs::create_dir_all(&args.out)
        .and_then(|()| std::fs::write(args.out.join("bench.md"), &md))
        .and_then(|()| std::fs::write(args.out.join("bench.json"), format!("{out:#}\n")))
    {
        return exit::bad_input(format!("--out {}: {e}", args.out.display()));
    }
    print!("{md}");
    println!(
        "wrote {} and {}",
        args.out.join("bench.md").display(),
        args.out.join("bench.json").display()
    );
    ExitCode::from(worst)
}

fn part_name(part: Part) -> &'static str {
    match part {
        Part::Lin => "lin",
        Part::Sim => "sim",
        Part::Judges => "judges",
    }
}

type PartResult = Result<(String, Value, u8), String>;

/// One corpus history: its set, path, expected verdict, the model and Porcupine's time.
struct Row {
    set: String,
    file: PathBuf,
    name: String,
    expected: bool,
    model: ModelName,
    porcupine_s: Option<f64>,
}

/// Reads `verdicts.tsv` of one corpus; the column numbers are the TSV's header names.
fn rows(corpora: &Path, corpus: &str) -> Result<Vec<Row>, String> {
    let dir = corpora.join(corpus);
    let tsv_path = dir.join("verdicts.tsv");
    let tsv =
        std::fs::read_to_string(&tsv_path).map_err(|e| format!("{}: {e}", tsv_path.display()))?;
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("{}:1: no column `{name}`", tsv_path.display()))
    };
    let (c_file, c_expected, c_model, c_time) = (
        col("file")?,
        col("expected_linearizable")?,
        col("model")?,
        col("porcupine_median_s")?,
    );
    let c_partitioned = col("partitioned").ok();
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |c: usize, field: &str| {
            cells
                .get(c)
                .copied()
                .ok_or_else(|| format!("{}:{}: field `{field}` missing", tsv_path.display(), n + 2))
        };
        let expected = match cell(c_expected, "expected_linearizable")? {
            "true" => true,
            "false" => false,
            _ => continue, // NA: the empty etcd_095
        };
        if let Some(c) = c_partitioned {
            if cell(c, "partitioned")? == "no" && cell(c_file, "file")?.starts_with("kv/") {
                continue; // the unpartitioned kv rows name the same files
            }
        }
        let name = cell(c_file, "file")?.to_string();
        let model = match cell(c_model, "model")? {
            "etcd-cas-register" | "cas-register" => ModelName::CasRegister,
            "kv-put-get-append" => ModelName::Kv,
            "multi-register" => ModelName::MultiRegister,
            "mutex" => ModelName::Mutex,
            other => {
                return Err(format!(
                    "{}:{}: field `model`: unknown model `{other}`",
                    tsv_path.display(),
                    n + 2
                ))
            }
        };
        let set = if corpus.starts_with("porcupine") {
            match name.split_once('/') {
                Some(("jepsen", _)) => "porcupine etcd".to_string(),
                Some(("kv", f)) => format!("porcupine kv {}", f.get(..3).unwrap_or(f)),
                _ => "porcupine other".to_string(),
            }
        } else {
            format!("knossos {}", name.split('/').next().unwrap_or(""))
        };
        out.push(Row {
            set,
            file: dir.join(&name),
            name: format!("{corpus}/{name}"),
            expected,
            model,
            porcupine_s: cell(c_time, "porcupine_median_s")?.parse().ok(),
        });
    }
    Ok(out)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

fn lin(corpora: &Path, runs: usize, quick: bool) -> PartResult {
    let mut all = rows(corpora, "porcupine-histories")?;
    all.extend(rows(corpora, "knossos-histories")?);
    if quick {
        // A few of each set, c50 kept out (the smoke run checks the tables' shape).
        let mut kept: Vec<Row> = Vec::new();
        for row in all {
            let in_set = kept.iter().filter(|r| r.set == row.set).count();
            if in_set < 2 && !row.name.contains("c50") {
                kept.push(row);
            }
        }
        all = kept;
    }
    let mut files = Vec::new();
    let mut code = exit::PASS;
    for row in &all {
        let loaded = read_file(&row.file).map_err(|e| e.to_string())?;
        let prepared = Prepared::new(&loaded, row.model, Initial::default()).map_err(|e| {
            format!(
                "{}:{}: field `{}`: {}",
                row.file.display(),
                e.line,
                e.field,
                e.message
            )
        })?;
        let mut times = Vec::with_capacity(runs);
        let mut report = None;
        for _ in 0..runs {
            let (r, ms) = timed(|| prepared.check(CheckOptions::default()));
            times.push(ms);
            report = Some(r);
        }
        let Some(report) = report else {
            unreachable!("runs >= 1");
        };
        let want = if row.expected {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        let agree = report.verdict == want;
        if !agree {
            code = exit::VIOLATION;
        }
        let parts = report.partitions.len();
        let undecided = report
            .partitions
            .iter()
            .filter(|p| p.verdict == Verdict::Undecided)
            .count();
        let ours = median(times);
        files.push((
            row,
            ours,
            report.verdict,
            agree,
            parts,
            undecided,
            prepared.len(),
        ));
    }
    let mut md = String::from(
        "\n## Linearizability checker vs Porcupine\n\n\
         Every history of `verdicts.tsv` (Porcupine's partitioned kv rows; etcd_095 is empty and has no verdict). \
         *ratio* = ours / Porcupine (below 1 = faster). Porcupine's times are its recorded medians \
         (`shared/corpora/*/verdicts.tsv`, Go, GOMAXPROCS=2; c50-bad's 22 ms stops at the first illegal key, \
         we decide every key).\n\n\
         | history set | files | verdicts as expected | keys undecided | ours (sum of medians) | Porcupine (sum) | ratio of sums | median ratio | worst ratio |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let mut sets: Vec<String> = all.iter().map(|r| r.set.clone()).collect();
    sets.dedup();
    let mut set_json = Vec::new();
    for set in &sets {
        let members: Vec<_> = files.iter().filter(|f| &f.0.set == set).collect();
        let ours: f64 = members.iter().map(|f| f.1).sum();
        let theirs: f64 = members
            .iter()
            .filter_map(|f| f.0.porcupine_s)
            .map(|s| s * 1000.0)
            .sum();
        let ratios: Vec<f64> = members
            .iter()
            .filter_map(|f| f.0.porcupine_s.map(|p| f.1 / (p * 1000.0)))
            .collect();
        let worst = ratios.iter().copied().fold(f64::NAN, f64::max);
        let agree = members.iter().filter(|f| f.3).count();
        let undecided: usize = members.iter().map(|f| f.5).sum();
        let _ = writeln!(
            md,
            "| {set} | {} | {agree}/{} | {undecided} | {} | {} | {:.2} | {:.2} | {:.2} |",
            members.len(),
            members.len(),
            fmt_ms(ours),
            fmt_ms(theirs),
            ours / theirs,
            median(ratios.clone()),
            worst
        );
        set_json.push(json!({
            "set": set, "files": members.len(), "agree": agree, "keys_undecided": undecided,
            "ours_ms": ours, "porcupine_ms": theirs, "ratio_of_sums": ours / theirs,
            "median_ratio": median(ratios), "worst_ratio": worst,
        }));
    }
    md.push_str(
        "\nThe slowest histories (Porcupine over 1 ms, and every kv file):\n\n\
         | history | ops | verdict | partitions | ours (median) | Porcupine | ratio |\n|---|---|---|---|---|---|---|\n",
    );
    let mut file_json = Vec::new();
    for (row, ours, verdict, agree, parts, undecided, ops) in &files {
        let theirs = row.porcupine_s.map(|s| s * 1000.0);
        if theirs.is_some_and(|t| t > 1.0) || row.name.contains("/kv/") {
            let _ = writeln!(
                md,
                "| {} | {ops} | {}{} | {parts}{} | {} | {} | {} |",
                row.name,
                verdict.name(),
                if *agree {
                    ""
                } else {
                    " (**expected otherwise**)"
                },
                if *undecided > 0 {
                    format!(" ({undecided} undecided)")
                } else {
                    String::new()
                },
                fmt_ms(*ours),
                theirs.map_or("–".to_string(), fmt_ms),
                theirs.map_or("–".to_string(), |t| format!("{:.2}", ours / t)),
            );
        }
        file_json.push(json!({
            "file": row.name, "set": row.set, "ops": ops, "verdict": verdict.name(),
            "expected_linearizable": row.expected, "agree": agree, "partitions": parts,
            "partitions_undecided": undecided, "ours_ms": ours, "porcupine_ms": theirs,
        }));
    }
    Ok((md, json!({ "sets": set_json, "files": file_json }), code))
}

/// The whole-seed measurements of one scenario at one thread count.
fn sim(scenarios: &Path, seeds: &[u64]) -> PartResult {
    let mut md = format!(
        "\n## Simulator\n\nWhole seeds (build, chaos, heal, judges) over seeds {}..{}; \
         `jobs` = worker threads, each seed single-threaded.\n\n\
         | scenario | jobs | seeds | wall | kernel events/s | simulated s per wall s | seeds/hour |\n|---|---|---|---|---|---|---|\n",
        seeds.first().copied().unwrap_or(0),
        seeds.last().map_or(0, |s| s + 1)
    );
    let mut rows_json = Vec::new();
    for name in ["steady-3.ron", "swarm.ron"] {
        let path = scenarios.join(name);
        let (scenario, variants) = prepare(&path, &[])?;
        let shown = path.display().to_string();
        for jobs in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(jobs)
                .build()
                .map_err(|e| format!("thread pool: {e}"))?;
            let (totals, ms) = timed(|| {
                pool.install(|| {
                    seeds
                        .par_iter()
                        .map(|&seed| {
                            let spec = RunSpec {
                                scenario_path: &shown,
                                scenario: &scenario,
                                seed,
                                variants: &variants,
                            };
                            let (report, _) = runner::run(&spec);
                            (report.metrics.events, report.metrics.virtual_time_ms)
                        })
                        .collect::<Vec<_>>()
                })
            });
            let events: u64 = totals.iter().map(|t| t.0).sum();
            let virtual_ms: f64 = totals.iter().map(|t| t.1).sum();
            let secs = ms / 1000.0;
            let _ = writeln!(
                md,
                "| {name} | {jobs} | {} | {:.2} s | {:.0} | {:.1} | {:.0} |",
                seeds.len(),
                secs,
                events as f64 / secs,
                virtual_ms / ms,
                seeds.len() as f64 * 3600.0 / secs
            );
            rows_json.push(json!({
                "scenario": name, "jobs": jobs, "seeds": seeds.len(), "wall_s": secs,
                "events": events, "events_per_s": events as f64 / secs,
                "simulated_s_per_wall_s": virtual_ms / ms,
                "seeds_per_hour": seeds.len() as f64 * 3600.0 / secs,
            }));
        }
    }
    Ok((md, json!(rows_json), exit::PASS))
}

/// Each judge's time over the swarm seeds' histories, one judge at a time.
fn judges(scenarios: &Path, seeds: &[u64]) -> PartResult {
    let path = scenarios.join("swarm.ron");
    let (scenario, variants) = prepare(&path, &[])?;
    let shown = path.display().to_string();
    let config = JudgeConfig {
        reference: ReferenceConfig {
            extended_types: false,
            system_nodes: true,
        },
        ..JudgeConfig::default()
    };
    // judge name -> per-seed ms
    let mut per_judge: Vec<(&'static str, Vec<f64>)> = Vec::new();
    let mut records_total = 0usize;
    let mut whole_ms = Vec::new();
    for &seed in seeds {
        let spec = RunSpec {
            scenario_path: &shown,
            scenario: &scenario,
            seed,
            variants: &variants,
        };
        let (report, artifacts) = runner::run(&spec);
        records_total += artifacts.records.len();
        let history = History::from_records(artifacts.records)
            .map_err(|e| format!("seed {seed}: the history is malformed: {e}"))?;
        // The servers' final states are not part of the artifacts: the end-of-run checks
        // that read them see none (the per-record stream, the bulk of the work, is complete).
        let end = EndState {
            end_ns: (report.metrics.virtual_time_ms * 1e6) as u64,
            heal: Some(Heal {
                healed_at_ns: scenario.phases.chaos_ms * 1_000_000,
                bound_ns: scenario.phases.liveness_ms * 1_000_000,
            }),
            servers: Vec::new(),
        };
        let (_, ms) = timed(|| judge_history(&history, &end, &mut all_judges(config), false));
        whole_ms.push(ms);
        for judge in all_judges(config) {
            let name = judge.name();
            let mut one = vec![judge];
            let (_, ms) = timed(|| judge_history(&history, &end, &mut one, false));
            match per_judge.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(ms),
                None => per_judge.push((name, vec![ms])),
            }
        }
    }
    let mut md = format!(
        "\n## Judges\n\nEach judge alone over the histories of swarm seeds {}..{} ({} records in all), \
         after the run (the servers' final states, which the runner passes, are left out here).\n\n\
         | judge | median per seed | max per seed | total |\n|---|---|---|---|\n",
        seeds.first().copied().unwrap_or(0),
        seeds.last().map_or(0, |s| s + 1),
        records_total
    );
    let mut rows_json = Vec::new();
    let mut row = |name: &str, v: &[f64], md: &mut String| {
        let total: f64 = v.iter().sum();
        let max = v.iter().copied().fold(0.0, f64::max);
        let med = median(v.to_vec());
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} |",
            fmt_ms(med),
            fmt_ms(max),
            fmt_ms(total)
        );
        rows_json
            .push(json!({ "judge": name, "median_ms": med, "max_ms": max, "total_ms": total }));
    };
    for (name, v) in &per_judge {
        row(name, v, &mut md);
    }
    row("all judges together", &whole_ms, &mut md);
    Ok((
        md,
        json!({ "seeds": seeds.len(), "records": records_total, "judges": rows_json }),
        exit::PASS,
    ))
}
