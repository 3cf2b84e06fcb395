//! The report of one run: what was run (seed and every derived parameter), what happened, each
//! judge's verdict, the metrics and the line that reproduces it.

use super::metrics::Metrics;
use super::online::FirstViolation;
use super::RunSpec;
use crate::cluster::roles::{Role, ZkRoles};
use crate::cluster::ZkNode;
use crate::kernel::{NemesisConfig, Simulation};
use serde::Serialize;

/// pass / violation / undecided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every judge passed and the run finished inside its guard rails.
    Pass,
    /// A judge proved a guarantee broken.
    Violation,
    /// A stall, a guard rail, a malformed history, or a judge that could not decide.
    Undecided,
}

impl RunOutcome {
    /// The process exit code: 0 pass, 1 violation, 3 undecided.
    pub fn exit_code(self) -> u8 {
        match self {
            RunOutcome::Pass => 0,
            RunOutcome::Violation => 1,
            RunOutcome::Undecided => 3,
        }
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            RunOutcome::Pass => "pass",
            RunOutcome::Violation => "violation",
            RunOutcome::Undecided => "undecided",
        }
    }
}

/// One violation.
#[derive(Clone, Debug, Serialize)]
pub struct ViolationReport {
    /// The judge that found it.
    pub judge: String,
    /// Its kind (`LostAcknowledgedWrite`, `Agreement` …).
    pub kind: String,
    /// The evidence.
    pub message: String,
}

/// One judge's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct JudgeReport {
    /// The judge.
    pub name: String,
    /// `pass`, `violation` or `undecided`.
    pub verdict: String,
    /// Why it could not decide.
    pub detail: Option<String>,
    /// What it found.
    pub violations: Vec<ViolationReport>,
}

/// The report of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The scenario file.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Variants switched on.
    pub variants: Vec<String>,
    /// Every parameter the run used: zoo.cfg as the servers got it (variants included), the
    /// kernel's network/disk/clock models and limits, the phases and the workload.
    pub derived: serde_json::Value,
    /// The nemesis this seed ran (swarm: drawn from the seed).
    pub nemesis: Option<String>,
    /// The faults that were applied, resolved (`at_ms`, what).
    pub faults: Vec<String>,
    /// pass / violation / undecided.
    pub outcome: RunOutcome,
    /// Every violation found.
    pub violations: Vec<ViolationReport>,
    /// Why the run is undecided, if it is.
    pub undecided: Vec<String>,
    /// Each judge's verdict.
    pub judges: Vec<JudgeReport>,
    /// The metrics.
    pub metrics: Metrics,
    /// The trace fingerprint (FNV-1a over every event).
    pub fingerprint: String,
    /// The command that reproduces this run.
    pub reproduce: String,
    /// Where the run stopped at its first proven violation (none: it ran to its end).
    pub stopped_at: Option<FirstViolation>,
}

impl Report {
    /// Puts a report together.
    pub fn assemble(
        spec: &RunSpec<'_>,
        sim: &Simulation<ZkNode, ZkRoles>,
        nemesis: Option<NemesisConfig<Role>>,
        variants: Vec<String>,
        judges: Vec<JudgeReport>,
        undecided: Vec<String>,
        metrics: Metrics,
    ) -> Report {
        let outcome = RunOutcome::from_parts(&judges, &undecided);
        let violations = judges.iter().flat_map(|j| j.violations.clone()).collect();
        let mut reproduce = format!(
            "cargo run --release -- run {} --seed {}",
            spec.scenario_path, spec.seed
        );
        for v in spec.variants {
            reproduce.push_str(&format!(" --variant {}", v.name()));
        }
        if !spec.scenario.phases.stop_at_first_violation {
            reproduce.push_str(" --keep-going");
        }
        let s = spec.scenario;
        let mut kernel = s.kernel.clone();
        kernel.seed = spec.seed;
        let derived = serde_json::json!({
            "zoo_cfg": s.quorum_config(spec.variants),
            "kernel": kernel,
            "phases": s.phases,
            "workload": s.workload,
            "cluster": s.cluster,
        });
        Report {
            scenario: spec.scenario_path.to_string(),
            seed: spec.seed,
            variants,
            derived,
            nemesis: nemesis.map(|n| n.to_string()),
            faults: sim.fault_log().iter().map(|e| format!("{e:?}")).collect(),
            outcome,
            violations,
            undecided,
            judges,
            metrics,
            fingerprint: format!("{:#018x}", sim.world.trace_hash()),
            reproduce,
            stopped_at: None,
        }
    }
}
