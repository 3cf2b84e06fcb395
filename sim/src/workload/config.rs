//! The workload section of a scenario (`serde(deny_unknown_fields)`, every field defaulted) and
//! its validation. A validation error names the field it is about, e.g.
//! `workload.keys.fan_out: must be between 1 and 1000, got 0`.

use serde::{Deserialize, Serialize};
use std::fmt;
use zabsim_protocol::request::Request;

/// What the clients of a scenario do.
///
/// ```
/// use zabsim_sim::workload::WorkloadConfig;
/// let config: WorkloadConfig = ron::from_str(
///     "(mix: (create: 2, set_data_versioned: 3, get_data: 5), concurrency: 4)",
/// ).unwrap();
/// assert_eq!(config.concurrency, 4);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// Relative weights of each kind of operation (ignored when `script` is given). Defaults to
    /// [`OpMix::balanced`]; a `mix` given in a scenario starts from all zeros.
    pub mix: OpMix,
    /// The znode paths operations touch.
    pub keys: KeySpace,
    /// How fast each client submits.
    pub rate: Rate,
    /// Operations a client keeps in flight: 1 is ZooKeeper's typical synchronous use; more
    /// pipelines requests on the one session.
    pub concurrency: u32,
    /// Session timeout and occasional close-and-reopen.
    pub session: SessionBehaviour,
    /// Operations each client submits before it stops (`None`: until the scenario ends).
    pub ops_per_client: Option<u64>,
    /// A fixed list of operations replayed exactly, instead of drawing from `mix`.
    pub script: Option<Vec<ScriptedOp>>,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            mix: OpMix::balanced(),
            keys: KeySpace::default(),
            rate: Rate::default(),
            concurrency: 1,
            session: SessionBehaviour::default(),
            ops_per_client: None,
            script: None,
        }
    }
}

/// Relative weights (any non-negative integers; at least one non-zero) of every client call.
/// Writes carry unique values; `_versioned` variants pass the version the client last saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpMix {
    /// `create` PERSISTENT (create2, with Stat).
    pub create: u32,
    /// `create` PERSISTENT_SEQUENTIAL.
    pub create_sequential: u32,
    /// `create` EPHEMERAL.
    pub create_ephemeral: u32,
    /// `create` EPHEMERAL_SEQUENTIAL.
    pub create_ephemeral_sequential: u32,
    /// `createContainer`.
    pub create_container: u32,
    /// `createTTL` PERSISTENT_WITH_TTL.
    pub create_ttl: u32,
    /// `createTTL` PERSISTENT_SEQUENTIAL_WITH_TTL.
    pub create_sequential_ttl: u32,
    /// `delete` with version -1.
    pub delete: u32,
    /// `delete` with the version last seen.
    pub delete_versioned: u32,
    /// `setData` with version -1.
    pub set_data: u32,
    /// `setData` with the version last seen.
    pub set_data_versioned: u32,
    /// `getData` without a watch.
    pub get_data: u32,
    /// `getData` leaving a data watch.
    pub get_data_watch: u32,
    /// `exists` without a watch.
    pub exists: u32,
    /// `exists` leaving a watch (an exist watch when the node is absent).
    pub exists_watch: u32,
    /// `getChildren` without a watch.
    pub get_children: u32,
    /// `getChildren` leaving a child watch.
    pub get_children_watch: u32,
    /// `getChildren2` (with the parent's Stat).
    pub get_children2: u32,
    /// `multi` of creates, setDatas, deletes and checks.
    pub multi: u32,
    /// `multiRead` of getDatas and getChildrens.
    pub multi_read: u32,
    /// `sync`.
    pub sync: u32,
    /// `getACL`.
    pub get_acl: u32,
    /// `setACL` (world:anyone, all permissions) with the aversion last seen.
    pub set_acl: u32,
    /// `addWatch` PERSISTENT.
    pub add_watch: u32,
    /// `addWatch` PERSISTENT_RECURSIVE.
    pub add_watch_recursive: u32,
    /// `removeWatches` of any type (NOWATCHER when none is set).
    pub remove_watches: u32,
    /// `getEphemerals` under the root.
    pub get_ephemerals: u32,
    /// `getAllChildrenNumber`.
    pub get_all_children_number: u32,
}

/// The znode paths a workload touches: `root/k<i>/k<j>/...`, up to `depth` levels below the
/// root with `fan_out` names per level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeySpace {
    /// The root every path lives under (created by [`crate::workload::Workload::setup`]).
    pub root: String,
    /// Levels below the root (1 = a flat key space).
    pub depth: u32,
    /// Names per level.
    pub fan_out: u32,
    /// TTL of TTL nodes, ms.
    pub ttl_ms: i64,
    /// Sub-operations per `multi` / `multiRead`: at least `multi_ops_min`...
    pub multi_ops_min: u32,
    /// ... and at most `multi_ops_max`.
    pub multi_ops_max: u32,
}

impl Default for KeySpace {
    fn default() -> Self {
        KeySpace {
            root: "/zabsim".to_string(),
            depth: 2,
            fan_out: 4,
            ttl_ms: 5_000,
            multi_ops_min: 2,
            multi_ops_max: 4,
        }
    }
}

/// Submission pacing per client. The default paces like the interactive application of the
/// old generator: no rate target, 5..=50 ms think time after each completion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rate {
    /// Mean operations per second per client (0 = as fast as completions allow). Gaps are drawn
    /// uniformly in `[0, 2 * 1000 / ops_per_sec]` ms, so the mean is exact.
    pub ops_per_sec: u32,
    /// Extra think time after each completion, shortest, ms.
    pub think_time_ms_min: u64,
    /// Extra think time after each completion, longest, ms.
    pub think_time_ms_max: u64,
}

/// Session settings and churn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionBehaviour {
    /// Requested session timeout, ms (the server negotiates it into [2, 20] ticks).
    pub timeout_ms: u32,
    /// After each completed operation, the chance in a thousand that the client closes its
    /// session and opens a new one.
    pub reopen_per_mille: u32,
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            ops_per_sec: 0,
            think_time_ms_min: 5,
            think_time_ms_max: 50,
        }
    }
}

impl Default for SessionBehaviour {
    fn default() -> Self {
        SessionBehaviour {
            timeout_ms: 10_000,
            reopen_per_mille: 0,
        }
    }
}

/// One step of a scripted workload: `client` (0-based index) submits `request`. Each client
/// replays its own steps in list order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedOp {
    /// The client's index.
    pub client: usize,
    /// The request, exactly as submitted.
    pub request: Request,
}

/// A workload configuration that does not make sense; `field` is the dotted path of the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadError {
    /// The field, e.g. `workload.keys.depth`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for WorkloadError {}

fn err(field: &str, message: String) -> WorkloadError {
    WorkloadError {
        field: format!("workload.{field}"),
        message,
    }
}

fn within(field: &str, value: u64, lo: u64, hi: u64) -> Result<(), WorkloadError> {
    if value < lo || value > hi {
        return Err(err(
            field,
            format!("must be between {lo} and {hi}, got {value}"),
        ));
    }
    Ok(())
}

/// Whether `path` is a valid absolute znode path (ZooKeeper's `PathUtils.validatePath`, minus
/// the unicode rules): starts with `/`, no empty segment, no trailing `/` (except the root), no
/// `.` or `..` segment.
pub fn valid_path(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    path.starts_with('/')
        && path[1..]
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\0'))
}

impl WorkloadConfig {
    /// Checks every field; the first problem found names its field.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        within("concurrency", u64::from(self.concurrency), 1, 1_000)?;
        self.keys.validate()?;
        self.rate.validate()?;
        self.session.validate()?;
        if self.ops_per_client == Some(0) {
            return Err(err("ops_per_client", "must be at least 1".to_string()));
        }
        match &self.script {
            Some(script) => validate_script(script),
            None => self.mix.validate(),
        }
    }
}

impl OpMix {
    /// The weights in [`crate::workload::OpKind::ALL`] order.
    pub fn weights(&self) -> [u32; 28] {
        [
            self.create,
            self.create_sequential,
            self.create_ephemeral,
            self.create_ephemeral_sequential,
            self.create_container,
            self.create_ttl,
            self.create_sequential_ttl,
            self.delete,
            self.delete_versioned,
            self.set_data,
            self.set_data_versioned,
            self.get_data,
            self.get_data_watch,
            self.exists,
            self.exists_watch,
            self.get_children,
            self.get_children_watch,
            self.get_children2,
            self.multi,
            self.multi_read,
            self.sync,
            self.get_acl,
            self.set_acl,
            self.add_watch,
            self.add_watch_recursive,
            self.remove_watches,
            self.get_ephemerals,
            self.get_all_children_number,
        ]
    }

    /// A read-heavy mix touching every call, for scenarios that do not choose one.
    pub fn balanced() -> OpMix {
        OpMix {
            create: 8,
            create_sequential: 3,
            create_ephemeral: 3,
            create_ephemeral_sequential: 2,
            create_container: 1,
            create_ttl: 1,
            create_sequential_ttl: 1,
            delete: 3,
            delete_versioned: 2,
            set_data: 8,
            set_data_versioned: 8,
            get_data: 12,
            get_data_watch: 4,
            exists: 6,
            exists_watch: 3,
            get_children: 4,
            get_children_watch: 2,
            get_children2: 2,
            multi: 4,
            multi_read: 2,
            sync: 2,
            get_acl: 1,
            set_acl: 1,
            add_watch: 1,
            add_watch_recursive: 1,
            remove_watches: 1,
            get_ephemerals: 1,
            get_all_children_number: 1,
        }
    }

    fn validate(&self) -> Result<(), WorkloadError> {
        let total: u64 = self.weights().iter().map(|w| u64::from(*w)).sum();
        if total == 0 {
            return Err(err(
                "mix",
                "every weight is 0: give at least one operation a weight".to_string(),
            ));
        }
        if total > u64::from(u32::MAX) {
            return Err(err("mix", format!("weights sum to {total}, above 2^32-1")));
        }
        Ok(())
    }
}

impl KeySpace {
    fn validate(&self) -> Result<(), WorkloadError> {
        if !valid_path(&self.root) {
            return Err(err(
                "keys.root",
                format!("{:?} is not an absolute znode path", self.root),
            ));
        }
        if self.root.starts_with("/zookeeper") {
            return Err(err(
                "keys.root",
                "the /zookeeper subtree is reserved".to_string(),
            ));
        }
        within("keys.depth", u64::from(self.depth), 1, 16)?;
        within("keys.fan_out", u64::from(self.fan_out), 1, 1_000)?;
        if self.ttl_ms <= 0 {
            return Err(err(
                "keys.ttl_ms",
                format!("must be positive, got {}", self.ttl_ms),
            ));
        }
        within("keys.multi_ops_min", u64::from(self.multi_ops_min), 1, 64)?;
        within(
            "keys.multi_ops_max",
            u64::from(self.multi_ops_max),
            u64::from(self.multi_ops_min),
            64,
        )
    }
}

impl Rate {
    fn validate(&self) -> Result<(), WorkloadError> {
        within(
            "rate.ops_per_sec",
            u64::from(self.ops_per_sec),
            0,
            1_000_000,
        )?;
        within(
            "rate.think_time_ms_max",
            self.think_time_ms_max,
            self.think_time_ms_min,
            3_600_000,
        )
    }
}

impl SessionBehaviour {
    fn validate(&self) -> Result<(), WorkloadError> {
        within(
            "session.timeout_ms",
            u64::from(self.timeout_ms),
            1,
            3_600_000,
        )?;
        within(
            "session.reopen_per_mille",
            u64::from(self.reopen_per_mille),
            0,
            1_000,
        )
    }
}

fn validate_script(script: &[ScriptedOp]) -> Result<(), WorkloadError> {
    if script.is_empty() {
        return Err(err("script", "is empty".to_string()));
    }
    for (i, step) in script.iter().enumerate() {
        within(
            &format!("script[{i}].client"),
            step.client as u64,
            0,
            100_000,
        )?;
        for path in crate::workload::ops::paths_of(&step.request) {
            if !valid_path(path) {
                return Err(err(
                    &format!("script[{i}].request"),
                    format!("{path:?} is not an absolute znode path"),
                ));
            }
        }
    }
    Ok(())
}
