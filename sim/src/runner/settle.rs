//! The phases of a run: chaos until `chaos_ms` (every fault healed by then), then the cluster
//! must settle — a leader established, every running server at the leader's zxid, every client
//! operation completed — before `chaos_ms + liveness_ms`. The judges read the history as it is
//! written ([`super::online`]); the run stops at the first proven violation unless the scenario
//! (or `--keep-going`) says otherwise.

use super::build::Built;
use super::metrics::Metrics;
use super::online::OnlineJudges;
use super::report::{JudgeReport, Report, RunOutcome};
use super::RunSpec;
use crate::cluster::recorder::Recorder;
use crate::cluster::roles::ZkRoles;
use crate::cluster::server_node::node_of;
use crate::cluster::ZkNode;
use crate::kernel::{NodeStatus, Outcome, SimTime, Simulation, World};
use zabsim_checkers::zk::{EndState, Heal, ServerEnd};
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
    let mut online = OnlineJudges::new(spec);
    let stop_early = phases.stop_at_first_violation;
    let chaos = {
        let rec = recorder.clone();
        let online = &mut online;
        sim.run_until(|w| {
            (online.feed(&rec.borrow().records) && stop_early)
                || w.next_event_time().is_none_or(|t| t > chaos_end)
        })
    };
    let stopped = stop_early && online.first_violation().is_some();
    if chaos == Outcome::Reached && !stopped && chaos_end > sim.world.now() {
        sim.world.advance_to(chaos_end);
    }
    if !stopped {
        undecided.extend(outcome_reason(chaos));
    }
    let mut settled_at = None;
    if chaos == Outcome::Reached && !stopped {
        // The liveness judge needs the run to reach its deadline; note when it settled.
        let rec = recorder.clone();
        let online = &mut online;
        let heal = sim.run_until(|w| {
            if settled_at.is_none() && w.now() >= workload_end && settled(w, &rec.borrow(), servers)
            {
                settled_at = Some(w.now());
            }
            (online.feed(&rec.borrow().records) && stop_early)
                || w.next_event_time().is_none_or(|t| t > deadline)
        });
        let stopped_in_heal = stop_early && online.first_violation().is_some();
        if heal == Outcome::Reached && !stopped_in_heal && sim.world.now() < deadline {
            sim.world.advance_to(deadline);
        }
        if !stopped_in_heal {
            undecided.extend(outcome_reason(heal));
        }
    }
    let stopped_at = online.first_violation().filter(|_| stop_early).cloned();
    let mut end = end_state(&sim, &recorder.borrow(), chaos_end, phases.liveness_ms);
    if stopped_at.is_some() {
        // The run ended at the violation, before any heal: liveness is not judged.
        end.heal = None;
    }
    let records = recorder.borrow().records.clone();
    let (judges, history_error) = online.finish(&records, &end);
    if let Some(e) = history_error {
        undecided.push(e);
    }
    let metrics = Metrics::compute(&recorder.borrow(), &sim.world, settled_at);
    let mut report = Report::assemble(spec, &sim, nemesis, variants, judges, undecided, metrics);
    report.stopped_at = stopped_at;
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
