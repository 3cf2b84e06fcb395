//! `zabsim run SCENARIO [--seed N] [--variant NAME]... [--out DIR] [--json]`: runs one seed.
//! Prints the seed and every derived parameter first, a summary last, and on failure the line
//! that reproduces the run. Exit 0 pass, 1 violation, 2 bad input, 3 undecided.

use super::exit;
use crate::runner::{self, Artifacts, Report, RunOutcome, RunSpec};
use crate::scenario::{self, Scenario};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zabsim_protocol::server::Variant;

/// Arguments of `zabsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (RON).
    pub scenario: PathBuf,
    /// The seed (default: the scenario's first listed seed, else 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Switch a protocol variant on (repeatable); see `zabsim variants`.
    #[arg(long = "variant")]
    pub variants: Vec<String>,
    /// Write history.jsonl, report.json, trace.jsonl and each server's data directory here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Make the last stdout line one JSON object with the report.
    #[arg(long)]
    pub json: bool,
    /// Run every phase to its end instead of stopping at the first proven violation.
    #[arg(long)]
    pub keep_going: bool,
}

/// Loads the scenario and parses `--variant` names; errors are bad input.
pub fn prepare(path: &Path, names: &[String]) -> Result<(Scenario, Vec<Variant>), String> {
    let scenario = scenario::load(path).map_err(|e| e.to_string())?;
    let mut variants = Vec::new();
    for name in names {
        let v = Variant::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
            format!(
                "--variant {name}: unknown variant (known: {})",
                known.join(", ")
            )
        })?;
        variants.push(v);
    }
    Ok((scenario, variants))
}

/// Runs the subcommand.
pub fn run(args: RunArgs) -> ExitCode {
    let (mut scenario, variants) = match prepare(&args.scenario, &args.variants) {
        Ok(x) => x,
        Err(e) => return exit::bad_input(e),
    };
    if args.keep_going {
        scenario.phases.stop_at_first_violation = false;
    }
    if args.out.is_some() {
        // Full records for trace.jsonl; the fingerprint does not depend on the mode.
        scenario.kernel.trace = crate::kernel::TraceMode::Full;
    }
    let seed = args
        .seed
        .unwrap_or_else(|| scenario.seeds.first().copied().unwrap_or(1));
    let path = args.scenario.display().to_string();
    let spec = RunSpec {
        scenario_path: &path,
        scenario: &scenario,
        seed,
        variants: &variants,
    };
    print_header(&spec);
    #[allow(
        clippy::disallowed_methods,
        clippy::disallowed_types,
        reason = "wall-clock time of the run for the report; never enters the simulation"
    )]
    let started = std::time::Instant::now();
    let (report, artifacts) = runner::run(&spec);
    let wall_ms = started.elapsed().as_millis();
    print_summary(&report);
    if let Some(dir) = &args.out {
        if let Err(e) = write_out(dir, &report, &artifacts) {
            eprintln!("error: cannot write {}: {e}", dir.display());
            return ExitCode::from(exit::BAD_INPUT);
        }
        println!("wrote {}", dir.display());
    }
    if args.json {
        match serde_json::to_string(&json_report(&report, wall_ms)) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("error: cannot encode the report: {e}"),
        }
    }
    ExitCode::from(report.outcome.exit_code())
}

/// The `--json` object: the report plus issue 2's flat fields (`trace_hash`, `events`,
/// `sim_time_ms`, `wall_ms`, `ops`) and each violation's `checker`.
pub fn json_report(report: &Report, wall_ms: u128) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    let m = &report.metrics;
    object.insert("trace_hash".into(), report.fingerprint.clone().into());
    object.insert("events".into(), m.events.into());
    object.insert("sim_time_ms".into(), m.virtual_time_ms.into());
    object.insert("wall_ms".into(), (wall_ms as u64).into());
    object.insert("ops".into(), m.ops.invoked.into());
    if let Some(serde_json::Value::Array(list)) = object.get_mut("violations") {
        for v in list.iter_mut() {
            if let Some(v) = v.as_object_mut() {
                let judge = v.get("judge").cloned().unwrap_or_default();
                v.insert("checker".into(), judge);
            }
        }
    }
    value
}

fn print_header(spec: &RunSpec<'_>) {
    let s = spec.scenario;
    println!("scenario {}  seed {}", spec.scenario_path, spec.seed);
    println!("  {}", s.description.lines().next().unwrap_or(""));
    let config = s.quorum_config(spec.variants);
    println!(
        "  cluster: {} servers, {} observers, {} clients; tickTime {} ms, initLimit {}, syncLimit {}, snapCount {}",
        s.cluster.servers, s.cluster.observers, s.cluster.clients, config.tick_time_ms,
        config.init_limit, config.sync_limit, config.snap_count
    );
    let names: Vec<&str> = config.variants.0.iter().map(|v| v.name()).collect();
    println!(
        "  variants: {}",
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    );
    println!(
        "  phases: chaos {} ms, workload until {} ms, liveness bound {} ms",
        s.phases.chaos_ms,
        s.phases.workload_end_ms(),
        s.phases.liveness_ms
    );
    println!("  faults: {} scheduled", s.faults.len());
    if let Some(swarm) = &s.swarm {
        let mut rng = crate::kernel::SimRng::new(spec.seed, crate::kernel::Stream::Custom(1));
        println!("  swarm draws: {}", swarm.derive(&mut rng));
    } else if let Some(n) = &s.nemesis {
        println!("  {n}");
    }
}

fn print_summary(report: &Report) {
    let m = &report.metrics;
    println!(
        "ran {:.0} ms virtual, {} events; {} elections, unavailable {:.0} ms; ops {} invoked, {} ok, {} errors, {} unknown",
        m.virtual_time_ms, m.events, m.elections, m.unavailable_total_ms, m.ops.invoked, m.ops.ok, m.ops.error, m.ops.unknown
    );
    println!(
        "  commit latency p50 {:.1} ms p99 {:.1} ms; sync DIFF {} TRUNC {} SNAP {}; snapshots {}",
        m.commit_latency_ms.p50,
        m.commit_latency_ms.p99,
        m.sync_modes.diff,
        m.sync_modes.trunc,
        m.sync_modes.snap,
        m.snapshots
    );
    for j in &report.judges {
        let detail = j.detail.as_deref().unwrap_or("");
        println!("  judge {:<12} {} {}", j.name, j.verdict, detail);
    }
    for v in &report.violations {
        println!("  VIOLATION [{}] {}: {}", v.judge, v.kind, v.message);
    }
    for u in &report.undecided {
        println!("  UNDECIDED {u}");
    }
    if let Some(stop) = &report.stopped_at {
        println!(
            "  stopped at the first violation: [{}] at {:.3} ms virtual, history line {} (--keep-going runs every phase)",
            stop.judge,
            stop.time_ns as f64 / 1e6,
            stop.line
        );
    }
    println!(
        "outcome {}  fingerprint {}",
        report.outcome.name(),
        report.fingerprint
    );
    if report.outcome != RunOutcome::Pass {
        println!("reproduce: {}", report.reproduce);
    }
}

fn write_out(dir: &Path, report: &Report, artifacts: &Artifacts) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut history = Vec::new();
    zabsim_checkers::history::write_records(&mut history, artifacts.records.iter())?;
    std::fs::write(dir.join("history.jsonl"), history)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("report.json"), json)?;
    let mut trace = String::new();
    for r in &artifacts.trace {
        trace.push_str(&serde_json::to_string(r).map_err(std::io::Error::other)?);
        trace.push('\n');
    }
    std::fs::write(dir.join("trace.jsonl"), trace)?;
    // Each server's durable files: what a power cut at the end of the run would leave. Bytes
    // still only in the page cache (written, not fsynced) are not included, so the directory
    // is what that server would recover from (`zabsim datadir inspect` reads it back).
    for (server, files) in &artifacts.disks {
        let data = dir.join(server).join("version-2");
        std::fs::create_dir_all(&data)?;
        for (name, bytes) in files {
            std::fs::write(data.join(name), bytes)?;
        }
    }
    Ok(())
}
