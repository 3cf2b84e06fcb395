//! The scenario's fields. Defaults are ZooKeeper's (zoo.cfg) where ZooKeeper has one.

use crate::cluster::roles::Role;
use crate::kernel::{KernelConfig, NemesisConfig, ScheduledFault, SwarmConfig};
use crate::workload::WorkloadConfig;
use serde::{Deserialize, Serialize};
use zabsim_protocol::server::{PeerSpec, QuorumConfig, Variant, Variants};
use zabsim_protocol::types::ServerId;

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario exercises and why (every catalog file has one).
    pub description: String,
    /// The deployment.
    pub cluster: ClusterSpec,
    /// zoo.cfg and variant switches.
    #[serde(default)]
    pub protocol: ProtocolSpec,
    /// Network, disk, clocks, limits and trace mode (the seed comes from the command line).
    #[serde(default)]
    pub kernel: KernelConfig,
    /// Faults at fixed times.
    #[serde(default)]
    pub faults: Vec<ScheduledFault<Role>>,
    /// A random nemesis.
    #[serde(default)]
    pub nemesis: Option<NemesisConfig<Role>>,
    /// Swarm mode: each seed draws its own nemesis from these ranges.
    #[serde(default)]
    pub swarm: Option<SwarmConfig<Role>>,
    /// What the clients do.
    #[serde(default)]
    pub workload: WorkloadConfig,
    /// Chaos, then heal with a liveness deadline.
    #[serde(default)]
    pub phases: Phases,
    /// The judges to run (empty: all of them).
    #[serde(default)]
    pub checkers: Vec<String>,
    /// The seeds `cargo test` runs.
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// What every run must produce.
    #[serde(default)]
    pub expect: Expect,
    /// The files of `cluster.data_dir`, read when the scenario is loaded (name → bytes).
    #[serde(skip)]
    pub initial_files: std::collections::BTreeMap<String, Vec<u8>>,
}

/// The deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Voting servers (sids 1..=servers).
    pub servers: u32,
    /// Non-voting observers (sids after the voters).
    #[serde(default)]
    pub observers: u32,
    /// Clients, each with its own session.
    #[serde(default)]
    pub clients: u32,
    /// A ZooKeeper `version-2` data directory (real or exported by `zabsim run --out`), relative
    /// to the scenario file: its files are put on every server's disk, durable, before boot, so
    /// each server recovers that tree. `None`: empty disks.
    #[serde(default)]
    pub data_dir: Option<String>,
}

/// zoo.cfg settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtocolSpec {
    /// `tickTime` (ms).
    pub tick_time_ms: u32,
    /// `initLimit` (ticks).
    pub init_limit: u32,
    /// `syncLimit` (ticks).
    pub sync_limit: u32,
    /// `snapCount`.
    pub snap_count: u32,
    /// `minSessionTimeout` (default 2 × tickTime).
    pub min_session_timeout_ms: Option<u32>,
    /// `maxSessionTimeout` (default 20 × tickTime).
    pub max_session_timeout_ms: Option<u32>,
    /// `autopurge.snapRetainCount`.
    pub snap_retain_count: u32,
    /// Autopurge after every this many snapshots (0 = off): the simulation's scaling of
    /// `autopurge.purgeInterval`, which counts hours.
    pub purge_every_snapshots: u32,
    /// `zookeeper.preAllocSize` in bytes (ZooKeeper: 64 MiB; here 64 KiB by default).
    pub pre_alloc_size: u64,
    /// `zookeeper.digest.enabled`.
    pub digest_enabled: bool,
    /// Historical bugs switched on, by name (`"zk-1154"`; see `zabsim variants`).
    pub variants: Vec<String>,
}

impl Default for ProtocolSpec {
    fn default() -> Self {
        ProtocolSpec {
            tick_time_ms: 200,
            init_limit: 10,
            sync_limit: 5,
            snap_count: 1000,
            min_session_timeout_ms: None,
            max_session_timeout_ms: None,
            snap_retain_count: 3,
            purge_every_snapshots: 0,
            pre_alloc_size: zabsim_protocol::server::config::DEFAULT_PRE_ALLOC_SIZE,
            digest_enabled: true,
            variants: Vec::new(),
        }
    }
}

/// The phases of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Phases {
    /// Faults may happen in `[0, chaos_ms)`; every fault is healed by then.
    pub chaos_ms: u64,
    /// Clients issue operations until this time (default: the end of chaos).
    pub workload_ms: Option<u64>,
    /// After the heal, the cluster must settle (leader established, replicas converged,
    /// operations completed) within this bound.
    pub liveness_ms: u64,
    /// Stop the run at the first step a judge proves a violation on (default), so that the trace
    /// ends at the bad step; `false` (`zabsim run --keep-going`) runs every phase to its end.
    pub stop_at_first_violation: bool,
}

impl Default for Phases {
    fn default() -> Self {
        Phases {
            chaos_ms: 10_000,
            workload_ms: None,
            liveness_ms: 30_000,
            stop_at_first_violation: true,
        }
    }
}

impl Phases {
    /// When clients stop issuing operations.
    pub fn workload_end_ms(&self) -> u64 {
        self.workload_ms.unwrap_or(self.chaos_ms)
    }
}

/// What a run must produce.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// Every judge passes.
    #[default]
    Pass,
    /// At least one violation, from this judge (`"durability"`, `"zab"` …, or `"any"`).
    Violation(String),
}

/// The judges a scenario may name.
pub const JUDGES: [&str; 6] = [
    "consistency",
    "durability",
    "agreement",
    "zab",
    "liveness",
    "sessions",
];

impl Scenario {
    /// The zoo.cfg every server gets, with `extra` variants switched on too.
    pub fn quorum_config(&self, extra: &[Variant]) -> QuorumConfig {
        let p = &self.protocol;
        let mut variants: Vec<Variant> = p
            .variants
            .iter()
            .filter_map(|n| Variant::from_name(n))
            .collect();
        for v in extra {
            if !variants.contains(v) {
                variants.push(*v);
            }
        }
        variants.sort();
        let voters = u64::from(self.cluster.servers);
        let mut peers: Vec<PeerSpec> = (1..=voters)
            .map(|sid| PeerSpec {
                sid: ServerId(sid),
                observer: false,
            })
            .collect();
        peers.extend((1..=u64::from(self.cluster.observers)).map(|i| PeerSpec {
            sid: ServerId(voters + i),
            observer: true,
        }));
        let mut config = QuorumConfig::with_voters(voters);
        config.peers = peers;
        config.tick_time_ms = p.tick_time_ms;
        config.init_limit = p.init_limit;
        config.sync_limit = p.sync_limit;
        config.snap_count = p.snap_count;
        config.min_session_timeout_ms = p.min_session_timeout_ms.unwrap_or(2 * p.tick_time_ms);
        config.max_session_timeout_ms = p.max_session_timeout_ms.unwrap_or(20 * p.tick_time_ms);
        config.snap_retain_count = p.snap_retain_count;
        config.purge_every_snapshots = p.purge_every_snapshots;
        config.pre_alloc_size = p.pre_alloc_size;
        config.digest_enabled = p.digest_enabled;
        config.variants = Variants(variants);
        config
    }

    /// Every server node (voters and observers).
    pub fn server_count(&self) -> u32 {
        self.cluster.servers + self.cluster.observers
    }

    /// Checks what serde cannot: `Err((field, message))`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let fail = |field: &str, message: String| Err((field.to_string(), message));
        if self.description.trim().is_empty() {
            return fail(
                "description",
                "every scenario says what it exercises".into(),
            );
        }
        for name in &self.protocol.variants {
            if Variant::from_name(name).is_none() {
                let known: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
                return fail(
                    "protocol.variants",
                    format!("unknown variant `{name}` (known: {})", known.join(", ")),
                );
            }
        }
        let c = &self.cluster;
        if c.servers == 0 {
            return fail("cluster.servers", "at least one voting server".into());
        }
        if c.servers + c.observers > 64 {
            return fail("cluster.servers", "at most 64 servers".into());
        }
        let p = &self.protocol;
        if p.tick_time_ms == 0 {
            return fail("protocol.tick_time_ms", "must be positive".into());
        }
        if p.init_limit == 0 || p.sync_limit == 0 {
            return fail(
                "protocol.sync_limit",
                "initLimit and syncLimit are at least 1".into(),
            );
        }
        if p.snap_count < 2 {
            return fail("protocol.snap_count", "snapCount is at least 2".into());
        }
        let min = p.min_session_timeout_ms.unwrap_or(2 * p.tick_time_ms);
        let max = p.max_session_timeout_ms.unwrap_or(20 * p.tick_time_ms);
        if min > max {
            return fail(
                "protocol.min_session_timeout_ms",
                format!("minSessionTimeout {min} is above maxSessionTimeout {max}"),
            );
        }
        self.kernel.validate().or_else(|e| {
            fail(
                &format!("kernel.{}", e.split(':').next().unwrap_or("")),
                e.clone(),
            )
        })?;
        self.workload.validate().map_err(|e| (e.field, e.message))?;
        self.validate_faults()?;
        self.validate_phases()?;
        for name in &self.checkers {
            if !JUDGES.contains(&name.as_str()) {
                return fail(
                    "checkers",
                    format!("unknown judge `{name}` (known: {JUDGES:?})"),
                );
            }
        }
        if let Expect::Violation(judge) = &self.expect {
            if judge != "any" && !JUDGES.contains(&judge.as_str()) {
                return fail("expect", format!("unknown judge `{judge}`"));
            }
        }
        Ok(())
    }

    fn validate_faults(&self) -> Result<(), (String, String)> {
        let nodes = (self.server_count() + self.cluster.clients) as usize;
        for (i, f) in self.faults.iter().enumerate() {
            let field = format!("faults[{i}]");
            f.fault.validate().map_err(|e| (field.clone(), e))?;
            if let Some(node) = f.fault.unknown_node(nodes) {
                return Err((
                    field,
                    format!("node {} does not exist ({nodes} nodes)", node.0),
                ));
            }
            if f.at_ms >= self.phases.chaos_ms {
                return Err((
                    format!("{field}.at_ms"),
                    format!(
                        "{} is not inside the chaos phase (chaos_ms {})",
                        f.at_ms, self.phases.chaos_ms
                    ),
                ));
            }
        }
        if let Some(n) = &self.nemesis {
            n.validate().map_err(|e| ("nemesis".to_string(), e))?;
            if n.end_ms > self.phases.chaos_ms {
                return Err(("nemesis.end_ms".into(), "ends after the chaos phase".into()));
            }
        }
        if let Some(s) = &self.swarm {
            s.validate().map_err(|e| ("swarm".to_string(), e))?;
            if s.end_ms > self.phases.chaos_ms {
                return Err(("swarm.end_ms".into(), "ends after the chaos phase".into()));
            }
        }
        if self.nemesis.is_some() && self.swarm.is_some() {
            return Err(("swarm".into(), "give a nemesis or a swarm, not both".into()));
        }
        Ok(())
    }

    fn validate_phases(&self) -> Result<(), (String, String)> {
        let ph = &self.phases;
        if ph.liveness_ms == 0 {
            return Err(("phases.liveness_ms".into(), "must be positive".into()));
        }
        if let Some(max) = self.kernel.limits.max_time_ms {
            if max < ph.chaos_ms + ph.liveness_ms {
                return Err((
                    "kernel.limits.max_time_ms".into(),
                    format!(
                        "{max} ms ends before chaos + liveness ({} ms)",
                        ph.chaos_ms + ph.liveness_ms
                    ),
                ));
            }
        }
        Ok(())
    }
}
