//! The phases of a run: chaos until `chaos_ms` (every fault healed by then), then the cluster
//! must settle — a leader established, every running server at the leader's zxid, every client
//! operation completed — before `chaos_ms + liveness_ms`. Then the judges read the history.

use super::build::Built;
use super::metrics::Metrics;
use super::report::{JudgeReport, Report, RunOutcome, ViolationReport};
use super::RunSpec;
use crate::cluster::recorder::Recorder;
use crate::cluster::roles::ZkRoles;
use crate::cluster::server_node::node_of;
use crate::cluster::ZkNode;
use crate::kernel::{NodeStatus, Outcome, SimTime, Simulation, World};
use zabsim_checkers::history::History;
use zabsim_checkers::reference::ReferenceConfig;
use zabsim_checkers::zk::{
    all_judges_from, judge_history, EndState, Heal, JudgeConfig, ServerEnd, Verdict,
};
use zabsim_protocol::observe::ServerState;

/// Whether the cluster has settled: a running leader, every running voter synced to the leader's
/// zxid and in broadcast, no client operation outstanding.
fn settled(world: &World<ZkNode>, recorder: &Recorder, servers: u32) -> bool {
    let Some(leader) = recorder.leaders().first().copied() else {
        return false;
    };
    if world.status(node_of(leader)) != NodeStatus::Running {
        return false;
    }
    let Some(lv) = recorder.servers.get(&leader) else {
        return false;
    };
    for sid in 1..=u64::from(servers) {
        let sid = zabsim_protocol::types::ServerId(sid);
        if world.status(node_of(sid)) != NodeStatus::Running {
            continue;
        }
        let Some(v) = recorder.servers.get(&sid) else {
            return false;
        };
        let synced = matches!(
            v.state,
            Some(ServerState::Leading | ServerState::Following | ServerState::Observing)
        );
        if !synced || v.last_zxid != lv.last_zxid {
            return false;
        }
    }
    world
        .nodes()
        .into_iter()
        .filter_map(|n| world.process(n))
        .filter_map(ZkNode::as_client)
        .all(|c| !c.work_outstanding())
}

fn outcome_reason(outcome: Outcome) -> Option<String> {
    match outcome {
        Outcome::Reached => None,
        Outcome::Quiescent => {
            Some("the run went quiescent: no event left before the deadline".into())
        }
        Outcome::Stalled { at } => Some(format!(
            "stalled at {} ms: no event pending while work is outstanding",
            at.as_nanos() / 1_000_000
        )),
        Outcome::TimeLimit { at } => Some(format!(
            "virtual-time limit reached at {} ms",
            at.as_nanos() / 1_000_000
        )),
        Outcome::EventLimit { events } => {
            Some(format!("event limit reached after {events} events"))
        }
    }
}

/// One server's durable files: its name (`s1`) and file name → bytes.
pub type ServerDisk = (String, Vec<(String, Vec<u8>)>);

/// What a run leaves besides its report: the history, the trace records (full trace mode) and
/// each server's durable disk files.
#[derive(Debug, Default)]
pub struct Artifacts {
    /// The history, in order.
    pub records: Vec<zabsim_checkers::history::Record>,
    /// The kernel trace records (empty unless the trace mode is full).
    pub trace: Vec<crate::kernel::Record>,
    /// Per server name (`s1` …): file name → durable bytes.
    pub disks: Vec<ServerDisk>,
}

/// Runs the phases, judges and reports.
pub fn run_phases(spec: &RunSpec<'_>, built: Built) -> (Report, Artifacts) {
    let Built {
        mut sim,
        recorder,
        nemesis,
        variants,
    } = built;
    let phases = spec.scenario.phases;
    let servers = spec.scenario.server_count();
    let chaos_end = SimTime::from_millis(phases.chaos_ms);
    let deadline = SimTime::from_millis(phases.chaos_ms + phases.liveness_ms);
    let workload_end = SimTime::from_millis(phases.workload_end_ms());
    let mut undecided = Vec::new();
    let chaos = sim.run_until_time(chaos_end);
    undecided.extend(outcome_reason(chaos));
    let mut settled_at = None;
    if chaos == Outcome::Reached {
        // The liveness judge needs the run to reach its deadline; note when it settled.
        let rec = recorder.clone();
        let heal = sim.run_until(|w| {
            if settled_at.is_none() && w.now() >= workload_end && settled(w, &rec.borrow(), servers)
            {
                settled_at = Some(w.now());
            }
            w.next_event_time().is_none_or(|t| t > deadline)
        });
        if heal == Outcome::Reached && sim.world.now() < deadline {
            sim.world.advance_to(deadline);
        }
        undecided.extend(outcome_reason(heal));
    }
    let end = end_state(&sim, &recorder.borrow(), chaos_end, phases.liveness_ms);
    let records = recorder.borrow().records.clone();
    let (judges, history_error) = judge(spec, records.clone(), &end);
    if let Some(e) = history_error {
        undecided.push(e);
    }
    let metrics = Metrics::compute(&recorder.borrow(), &sim.world, settled_at);
    let report = Report::assemble(spec, &sim, nemesis, variants, judges, undecided, metrics);
    let disks = (0..servers)
        .map(|i| {
            let node = crate::kernel::NodeId(i);
            let disk = sim.world.disk(node);
            let files = disk
                .list_durable()
                .into_iter()
                .filter_map(|f| disk.durable_content(&f).map(|bytes| (f, bytes)))
                .collect();
            (sim.world.node_name(node).to_string(), files)
        })
        .collect();
    let artifacts = Artifacts {
        records,
        trace: sim.world.trace().records().to_vec(),
        disks,
    };
    (report, artifacts)
}

fn end_state(
    sim: &Simulation<ZkNode, ZkRoles>,
    recorder: &Recorder,
    healed_at: SimTime,
    liveness_ms: u64,
) -> EndState {
    let servers = recorder
        .servers
        .iter()
        .map(|(sid, v)| {
            let node = node_of(*sid);
            let halted = sim
                .world
                .process(node)
                .and_then(ZkNode::as_server)
                .is_some_and(|s| s.halted());
            let alive = sim.world.status(node) == NodeStatus::Running && !halted;
            ServerEnd {
                server: *sid,
                alive,
                state: if alive { v.state } else { None },
                last_processed_zxid: v.last_zxid,
                digest: v.digest,
            }
        })
        .collect();
    EndState {
        end_ns: sim.world.now().as_nanos(),
        heal: Some(Heal {
            healed_at_ns: healed_at.as_nanos(),
            bound_ns: liveness_ms * 1_000_000,
        }),
        servers,
    }
}

fn judge(
    spec: &RunSpec<'_>,
    records: Vec<zabsim_checkers::history::Record>,
    end: &EndState,
) -> (Vec<JudgeReport>, Option<String>) {
    let history = match History::from_records(records) {
        Ok(h) => h,
        Err(e) => {
            return (
                Vec::new(),
                Some(format!("harness error: the history is malformed: {e}")),
            )
        }
    };
    let config = JudgeConfig {
        reference: ReferenceConfig {
            extended_types: false,
            system_nodes: true,
        },
        ..JudgeConfig::default()
    };
    let wanted = &spec.scenario.checkers;
    let initial = crate::scenario::data_dir::initial_data(&spec.scenario.initial_files);
    let mut judges: Vec<_> = all_judges_from(config, initial)
        .into_iter()
        .filter(|j| wanted.is_empty() || wanted.iter().any(|w| w == j.name()))
        .collect();
    let verdicts = judge_history(&history, end, &mut judges, false);
    let reports = verdicts
        .into_iter()
        .map(|(name, verdict)| JudgeReport::from_verdict(name, verdict))
        .collect();
    (reports, None)
}

impl JudgeReport {
    fn from_verdict(name: &str, verdict: Verdict) -> JudgeReport {
        let (verdict_name, detail, violations) = match verdict {
            Verdict::Pass => ("pass", None, Vec::new()),
            Verdict::Undecided(reason) => ("undecided", Some(reason), Vec::new()),
            Verdict::Violation(vs) => (
                "violation",
                None,
                vs.iter()
                    .map(|v| ViolationReport {
                        judge: name.to_string(),
                        kind: format!("{:?}", v.kind),
                        message: v.to_string(),
                    })
                    .collect(),
            ),
        };
        JudgeReport {
            name: name.to_string(),
            verdict: verdict_name.to_string(),
            detail,
            violations,
        }
    }
}

impl RunOutcome {
    /// The outcome of a run from its judges and the reasons it could not be decided.
    pub fn from_parts(judges: &[JudgeReport], undecided: &[String]) -> RunOutcome {
        if judges.iter().any(|j| j.verdict == "violation") {
            RunOutcome::Violation
        } else if !undecided.is_empty()
            || judges.iter().any(|j| j.verdict == "undecided")
            || judges.is_empty()
        {
            RunOutcome::Undecided
        } else {
            RunOutcome::Pass
        }
    }
}
