//! Per-run metrics, computed from the history and the kernel: elections and their virtual
//! durations, unavailability windows (no established leader), commit latency percentiles of
//! acknowledged writes, messages and bytes by type, sync modes used.

use crate::cluster::recorder::{MessageCount, Recorder};
use crate::cluster::ZkNode;
use crate::kernel::{SimTime, World};
use serde::Serialize;
use std::collections::BTreeMap;
use zabsim_checkers::history::{Outcome, Record};
use zabsim_protocol::observe::{Observation, ServerState, SyncMode};

const NS_PER_MS: f64 = 1_000_000.0;

/// What one run measured (virtual times in milliseconds).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Metrics {
    /// Kernel events processed.
    pub events: u64,
    /// Virtual time at the end, ms.
    pub virtual_time_ms: f64,
    /// When the cluster settled after the heal, ms (None: it did not).
    pub settled_at_ms: Option<f64>,
    /// Leaders established.
    pub elections: u64,
    /// Each election's duration: from the first server going LOOKING to the leader established.
    pub election_durations_ms: Vec<f64>,
    /// Windows without an established leader, `(start, end)` ms.
    pub unavailability_ms: Vec<(f64, f64)>,
    /// Total time without an established leader, ms.
    pub unavailable_total_ms: f64,
    /// Operations invoked / completed OK / definite errors / unknown.
    pub ops: OpCounts,
    /// Commit latency of acknowledged writes: p50, p90, p99, max (ms).
    pub commit_latency_ms: Percentiles,
    /// Read latency: p50, p90, p99, max (ms).
    pub read_latency_ms: Percentiles,
    /// Messages and bytes by type.
    pub messages: BTreeMap<&'static str, MessageCount>,
    /// Sync modes the leaders chose.
    pub sync_modes: SyncModes,
    /// Snapshots taken.
    pub snapshots: u64,
    /// Servers that stopped themselves, with the reason.
    pub halts: Vec<String>,
}

/// Operation counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OpCounts {
    /// Invoked.
    pub invoked: u64,
    /// Completed OK.
    pub ok: u64,
    /// Definite errors.
    pub error: u64,
    /// Unknown outcomes.
    pub unknown: u64,
}

/// Latency percentiles (ms).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Percentiles {
    fn of(mut samples: Vec<u64>) -> Percentiles {
        samples.sort_unstable();
        let at = |q: usize| {
            if samples.is_empty() {
                0.0
            } else {
                samples[((samples.len() - 1) * q) / 100] as f64 / NS_PER_MS
            }
        };
        Percentiles {
            count: samples.len(),
            p50: at(50),
            p90: at(90),
            p99: at(99),
            max: at(100),
        }
    }
}

/// DIFF / TRUNC / SNAP counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncModes {
    /// DIFF.
    pub diff: u64,
    /// TRUNC (+DIFF).
    pub trunc: u64,
    /// SNAP.
    pub snap: u64,
}

impl Metrics {
    /// Computes the metrics of a finished run.
    pub fn compute(
        recorder: &Recorder,
        world: &World<ZkNode>,
        settled_at: Option<SimTime>,
    ) -> Metrics {
        let mut m = Metrics {
            events: world.events_processed(),
            virtual_time_ms: world.now().as_nanos() as f64 / NS_PER_MS,
            settled_at_ms: settled_at.map(|t| t.as_nanos() as f64 / NS_PER_MS),
            messages: recorder.messages.clone(),
            halts: recorder
                .halts
                .iter()
                .map(|(sid, why)| format!("server {}: {why}", sid.0))
                .collect(),
            ..Metrics::default()
        };
        m.leadership(&recorder.records, world.now().as_nanos());
        m.latencies(&recorder.records);
        m
    }

    fn leadership(&mut self, records: &[Record], end_ns: u64) {
        let mut down_since: Option<u64> = Some(0);
        let mut looking_since: Option<u64> = None;
        let mut leader: Option<zabsim_protocol::types::ServerId> = None;
        for r in records {
            let Record::Observed(o) = r else { continue };
            let t = o.time_ns;
            match &o.observation {
                Observation::ServerStateChanged { server, state, .. } => {
                    if *state == ServerState::Looking {
                        looking_since.get_or_insert(t);
                    }
                    if leader == Some(*server) && *state != ServerState::Leading {
                        leader = None;
                        down_since.get_or_insert(t);
                    }
                }
                Observation::Crashed { server } if leader == Some(*server) => {
                    leader = None;
                    down_since.get_or_insert(t);
                }
                Observation::LeaderEstablished { leader: l, .. } => {
                    self.elections += 1;
                    if let Some(since) = looking_since.take() {
                        self.election_durations_ms
                            .push((t - since) as f64 / NS_PER_MS);
                    }
                    if let Some(since) = down_since.take() {
                        self.unavailability_ms
                            .push((since as f64 / NS_PER_MS, t as f64 / NS_PER_MS));
                    }
                    leader = Some(*l);
                }
                Observation::SyncModeChosen { mode, .. } => match mode {
                    SyncMode::Diff => self.sync_modes.diff += 1,
                    SyncMode::Trunc => self.sync_modes.trunc += 1,
                    SyncMode::Snap => self.sync_modes.snap += 1,
                },
                Observation::SnapshotTaken { .. } => self.snapshots += 1,
                _ => {}
            }
        }
        if let Some(since) = down_since {
            self.unavailability_ms
                .push((since as f64 / NS_PER_MS, end_ns as f64 / NS_PER_MS));
        }
        self.unavailable_total_ms = self.unavailability_ms.iter().map(|(a, b)| b - a).sum();
    }

    fn latencies(&mut self, records: &[Record]) {
        let mut invoked = BTreeMap::new();
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        for r in records {
            match r {
                Record::Invoke(i) => {
                    self.ops.invoked += 1;
                    invoked.insert(i.id, (i.time_ns, i.request.op_code().is_write()));
                }
                Record::Complete(c) => {
                    let Some((start, write)) = invoked.remove(&c.id) else {
                        continue;
                    };
                    match &c.outcome {
                        Outcome::Ok { .. } => {
                            self.ops.ok += 1;
                            let latency = c.time_ns.saturating_sub(start);
                            if write {
                                writes.push(latency)
                            } else {
                                reads.push(latency)
                            }
                        }
                        Outcome::Error { .. } => self.ops.error += 1,
                        Outcome::Unknown { .. } => self.ops.unknown += 1,
                    }
                }
                _ => {}
            }
        }
        self.commit_latency_ms = Percentiles::of(writes);
        self.read_latency_ms = Percentiles::of(reads);
    }
}
