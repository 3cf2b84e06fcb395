//! The workload: what each simulated client asks of ZooKeeper. Writes carry unique values
//! (`c<client>-<n>`), so a history can tie every read to the one write that produced it.
//!
//! Keys are `/k0 … /k<keys-1>`; sequential children go under a key (`/k3/s-0000000007`), so the
//! parent's counter, cversion and pzxid are exercised too.

use crate::kernel::SimRng;
use serde::{Deserialize, Serialize};
use zabsim_protocol::acl::Acl;
use zabsim_protocol::request::{CreateMode, MultiOp, Request};

/// Relative weights of the operation kinds (0 = never).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpMix {
    /// `create` persistent.
    pub create: u32,
    /// `create` ephemeral.
    pub create_ephemeral: u32,
    /// `create` persistent-sequential child.
    pub create_sequential: u32,
    /// `create` ephemeral-sequential child.
    pub create_ephemeral_sequential: u32,
    /// `create` container.
    pub create_container: u32,
    /// `delete`.
    pub delete: u32,
    /// `setData`.
    pub set_data: u32,
    /// `getData`.
    pub get_data: u32,
    /// `exists`.
    pub exists: u32,
    /// `getChildren` (`getChildren2`).
    pub get_children: u32,
    /// `multi` (check + setData + create).
    pub multi: u32,
    /// `sync`.
    pub sync: u32,
}

impl Default for OpMix {
    fn default() -> Self {
        OpMix {
            create: 10,
            create_ephemeral: 4,
            create_sequential: 4,
            create_ephemeral_sequential: 2,
            create_container: 1,
            delete: 6,
            set_data: 25,
            get_data: 25,
            exists: 8,
            get_children: 6,
            multi: 5,
            sync: 4,
        }
    }
}

impl OpMix {
    fn weights(&self) -> [(u32, Kind); 12] {
        [
            (self.create, Kind::Create(CreateMode::Persistent)),
            (self.create_ephemeral, Kind::Create(CreateMode::Ephemeral)),
            (
                self.create_sequential,
                Kind::Create(CreateMode::PersistentSequential),
            ),
            (
                self.create_ephemeral_sequential,
                Kind::Create(CreateMode::EphemeralSequential),
            ),
            (self.create_container, Kind::Create(CreateMode::Container)),
            (self.delete, Kind::Delete),
            (self.set_data, Kind::SetData),
            (self.get_data, Kind::GetData),
            (self.exists, Kind::Exists),
            (self.get_children, Kind::GetChildren),
            (self.multi, Kind::Multi),
            (self.sync, Kind::Sync),
        ]
    }

    /// The sum of the weights.
    pub fn total(&self) -> u64 {
        self.weights().iter().map(|(w, _)| u64::from(*w)).sum()
    }
}

/// What the clients do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// How many keys (`/k0 …`).
    pub keys: u32,
    /// The operation mix.
    pub mix: OpMix,
    /// Think time between a completion and the next operation, ms (drawn uniformly).
    pub think_time_ms: (u64, u64),
    /// Percent of writes that are conditional on the last version this client saw.
    pub conditional_pct: u32,
    /// Percent of reads that leave a watch.
    pub watch_pct: u32,
    /// Requested session timeout (ms).
    pub session_timeout_ms: u32,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            keys: 5,
            mix: OpMix::default(),
            think_time_ms: (5, 50),
            conditional_pct: 30,
            watch_pct: 20,
            session_timeout_ms: 10_000,
        }
    }
}

impl WorkloadConfig {
    /// Checks the numbers; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.keys == 0 {
            return Err("workload.keys: at least one key".into());
        }
        if self.mix.total() == 0 {
            return Err("workload.mix: every weight is zero".into());
        }
        if self.think_time_ms.0 > self.think_time_ms.1 {
            return Err("workload.think_time_ms: min is above max".into());
        }
        if self.conditional_pct > 100 || self.watch_pct > 100 {
            return Err("workload.conditional_pct / watch_pct: a percentage is at most 100".into());
        }
        if self.session_timeout_ms == 0 {
            return Err("workload.session_timeout_ms: must be positive".into());
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Create(CreateMode),
    Delete,
    SetData,
    GetData,
    Exists,
    GetChildren,
    Multi,
    Sync,
}

/// One client's generator.
#[derive(Debug)]
pub struct Workload {
    config: WorkloadConfig,
    client: u32,
    writes: u64,
    /// The last version seen per key (from Stat replies), for conditional writes.
    versions: Vec<Option<i32>>,
}

impl Workload {
    /// The generator of client number `client`.
    pub fn new(config: WorkloadConfig, client: u32) -> Workload {
        let keys = config.keys as usize;
        Workload {
            config,
            client,
            writes: 0,
            versions: vec![None; keys],
        }
    }

    /// The configuration.
    pub fn config(&self) -> &WorkloadConfig {
        &self.config
    }

    /// The think time before the next operation, ms.
    pub fn think_ms(&self, rng: &mut SimRng) -> u64 {
        let (lo, hi) = self.config.think_time_ms;
        rng.range_inclusive(lo, hi)
    }

    /// Remembers a version seen for `path` (from a reply's Stat).
    pub fn saw_version(&mut self, path: &str, version: i32) {
        if let Some(i) = key_index(path) {
            if let Some(slot) = self.versions.get_mut(i) {
                *slot = Some(version);
            }
        }
    }

    fn unique_value(&mut self) -> Option<Vec<u8>> {
        self.writes += 1;
        Some(format!("c{}-{}", self.client, self.writes).into_bytes())
    }

    fn version(&self, key: usize, rng: &mut SimRng) -> i32 {
        if rng.below(100) < u64::from(self.config.conditional_pct) {
            self.versions.get(key).copied().flatten().unwrap_or(-1)
        } else {
            -1
        }
    }

    /// The next request.
    pub fn next_request(&mut self, rng: &mut SimRng) -> Request {
        let key = rng.below(u64::from(self.config.keys)) as usize;
        let path = format!("/k{key}");
        let watch = rng.below(100) < u64::from(self.config.watch_pct);
        match self.draw_kind(rng) {
            Kind::Create(mode) => {
                let path = if mode.is_sequential() {
                    format!("{path}/s-")
                } else {
                    path
                };
                Request::Create {
                    path,
                    data: self.unique_value(),
                    acl: Acl::open_unsafe(),
                    flags: mode.flag(),
                    ttl: -1,
                    with_stat: rng.below(2) == 0,
                }
            }
            Kind::Delete => Request::Delete {
                version: self.version(key, rng),
                path,
            },
            Kind::SetData => Request::SetData {
                version: self.version(key, rng),
                data: self.unique_value(),
                path,
            },
            Kind::GetData => Request::GetData { path, watch },
            Kind::Exists => Request::Exists { path, watch },
            Kind::GetChildren => Request::GetChildren {
                path,
                watch,
                with_stat: true,
            },
            Kind::Multi => self.multi(rng, key),
            Kind::Sync => Request::Sync { path },
        }
    }

    fn multi(&mut self, rng: &mut SimRng, key: usize) -> Request {
        let other = rng.below(u64::from(self.config.keys)) as usize;
        let version = self.versions.get(key).copied().flatten().unwrap_or(0);
        Request::Multi {
            ops: vec![
                MultiOp::Check {
                    path: format!("/k{key}"),
                    version,
                },
                MultiOp::SetData {
                    path: format!("/k{key}"),
                    data: self.unique_value(),
                    version: -1,
                },
                MultiOp::Create {
                    path: format!("/k{other}/m-"),
                    data: self.unique_value(),
                    acl: Acl::open_unsafe(),
                    flags: CreateMode::PersistentSequential.flag(),
                },
            ],
        }
    }

    fn draw_kind(&self, rng: &mut SimRng) -> Kind {
        let weights = self.config.mix.weights();
        let mut pick = rng.below(self.config.mix.total());
        for (w, kind) in weights {
            if pick < u64::from(w) {
                return kind;
            }
            pick -= u64::from(w);
        }
        unreachable!("the draw is below the total weight")
    }
}

/// `/k<i>` (or a child of it) → `i`.
fn key_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("/k")?;
    let digits: &str = rest.split('/').next()?;
    if rest.contains('/') {
        return None;
    }
    digits.parse().ok()
}
