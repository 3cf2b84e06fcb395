//! The workload generator: what the simulated applications ask of ZooKeeper.
//!
//! A scenario's `workload:` section is a [`WorkloadConfig`] (RON, `deny_unknown_fields`). The
//! runner builds one [`Workload`] per run and, for each client (0-based index), repeatedly:
//!
//! ```text
//!   setup()                      once, from one client: create the key-space root
//!   loop while the client has fewer than `concurrency()` ops in flight:
//!       next(rng, client, now) -> Some(request) | None (script or ops_per_client exhausted)
//!       ... submit it through the sans-IO ZooKeeper client ...
//!   on each ClientAction::Completed:
//!       observe(client, &request, &result)     learn versions / created names
//!       reopen_session(rng) -> close and reopen the session?
//!       delay_ms(rng) -> wait this long before the next submission
//! ```
//!
//! One `Workload` may serve every client of a run, or each client node may own its own copy
//! (built from the same config) as long as it always passes its own index: written values embed
//! the client index, so they stay unique either way. With a `SimRng`, pass
//! `&mut || rng.next_u64()`.
//!
//! Every random draw comes from the closure the caller passes (the kernel's `Stream::Workload`),
//! so runs are reproducible. Every write carries a value no other write of the run carries
//! (`<client>:<n>`), so a history checker can tell which write a read observed. Conditional ops
//! (`_versioned`, `setACL`, `check` inside `multi`) use the version this client last saw for the
//! path, or 0 when it never saw the node.
//!
//! ```
//! use zabsim_sim::workload::{Workload, WorkloadConfig};
//! let mut workload = Workload::new(WorkloadConfig::default()).unwrap();
//! let mut state = 7u64;
//! let mut rng = move || { state = state.wrapping_mul(6364136223846793005).wrapping_add(1); state >> 11 };
//! let request = workload.next(&mut rng, 0, Default::default()).unwrap();
//! assert!(!format!("{request:?}").is_empty());
//! ```

pub mod config;
mod keys;
pub mod ops;
mod seen;

#[cfg(test)]
mod tests;

pub use config::{
    KeySpace, OpMix, Rate, ScriptedOp, SessionBehaviour, WorkloadConfig, WorkloadError,
};
pub use ops::OpKind;

use keys::{below, root_chain};
use ops::Draw;
use seen::Seen;
use std::collections::VecDeque;
use zabsim_protocol::acl::Acl;
use zabsim_protocol::client::OpResult;
use zabsim_protocol::request::{CreateMode, Request};
use zabsim_protocol::types::LocalTime;

/// One client's generator state.
#[derive(Clone, Debug, Default)]
struct ClientState {
    seen: Seen,
    issued: u64,
    script: VecDeque<Request>,
}

/// The generator for all clients of one run.
#[derive(Clone, Debug)]
pub struct Workload {
    config: WorkloadConfig,
    weights: [u32; 28],
    clients: Vec<ClientState>,
    values_issued: u64,
}

impl Workload {
    /// Validates `config` and builds the generator.
    pub fn new(config: WorkloadConfig) -> Result<Workload, WorkloadError> {
        config.validate()?;
        let mut clients: Vec<ClientState> = Vec::new();
        for step in config.script.iter().flatten() {
            if clients.len() <= step.client {
                clients.resize_with(step.client + 1, ClientState::default);
            }
            clients[step.client].script.push_back(step.request.clone());
        }
        Ok(Workload {
            weights: config.mix.weights(),
            config,
            clients,
            values_issued: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &WorkloadConfig {
        &self.config
    }

    /// Operations a client keeps in flight.
    pub fn concurrency(&self) -> u32 {
        self.config.concurrency
    }

    /// The session timeout clients request, ms.
    pub fn session_timeout_ms(&self) -> u32 {
        self.config.session.timeout_ms
    }

    /// Requests to run once before the workload (from any one client, in order): create the
    /// key-space root and its ancestors. NODEEXISTS answers are expected and harmless. Empty for
    /// scripted workloads, which set up what they need themselves.
    pub fn setup(&self) -> Vec<Request> {
        if self.config.script.is_some() {
            return Vec::new();
        }
        root_chain(&self.config.keys.root)
            .into_iter()
            .map(|path| Request::Create {
                path,
                data: Some(Vec::new()),
                acl: Acl::open_unsafe(),
                flags: CreateMode::Persistent.flag(),
                ttl: -1,
                with_stat: false,
            })
            .collect()
    }

    /// The next request of `client` (0-based), or `None` when it has nothing more to do (its
    /// script is replayed, or it issued `ops_per_client` operations). `now` is the client's local
    /// time (reserved for time-varying mixes; the draw does not depend on it today).
    pub fn next(
        &mut self,
        rng: &mut impl FnMut() -> u64,
        client: usize,
        now: LocalTime,
    ) -> Option<Request> {
        let _ = now;
        if self.clients.len() <= client {
            self.clients.resize_with(client + 1, ClientState::default);
        }
        if let Some(limit) = self.config.ops_per_client {
            if self.clients[client].issued >= limit {
                return None;
            }
        }
        let request = if self.config.script.is_some() {
            self.clients[client].script.pop_front()?
        } else {
            self.draw(rng, client)
        };
        self.clients[client].issued += 1;
        Some(request)
    }

    fn draw(&mut self, rng: &mut impl FnMut() -> u64, client: usize) -> Request {
        let kind = pick_weighted(&self.weights, rng);
        let values_issued = &mut self.values_issued;
        let mut value = || {
            *values_issued += 1;
            format!("{client}:{values_issued}").into_bytes()
        };
        let mut draw = Draw {
            keys: &self.config.keys,
            rng,
            seen: &self.clients[client].seen,
            value: &mut value,
        };
        let request = ops::build(kind, &mut draw);
        debug_assert_eq!(OpKind::of(&request), kind, "built kind round-trips");
        request
    }

    /// Learns from a completed operation of `client`: versions in returned Stats, nodes created
    /// and deleted. Call it for every completion (unknown outcomes are ignored).
    pub fn observe(&mut self, client: usize, request: &Request, result: &OpResult) {
        if self.clients.len() <= client {
            self.clients.resize_with(client + 1, ClientState::default);
        }
        self.clients[client].seen.observe(request, result);
    }

    /// How long `client` waits after a completion before submitting again, ms: the think time
    /// plus, when `rate.ops_per_sec` is set, a gap with mean `1000 / ops_per_sec`.
    pub fn delay_ms(&self, rng: &mut impl FnMut() -> u64) -> u64 {
        let rate = &self.config.rate;
        let think_span = rate.think_time_ms_max - rate.think_time_ms_min;
        let think = rate.think_time_ms_min + below(rng, think_span + 1);
        let gap = match rate.ops_per_sec {
            0 => 0,
            per_sec => below(rng, 2 * 1_000_000 / u64::from(per_sec) + 1) / 1_000,
        };
        think + gap
    }

    /// Whether the client should now close its session and open a new one
    /// (`session.reopen_per_mille`).
    pub fn reopen_session(&self, rng: &mut impl FnMut() -> u64) -> bool {
        let per_mille = self.config.session.reopen_per_mille;
        per_mille > 0 && below(rng, 1_000) < u64::from(per_mille)
    }
}

/// Index of a weight, drawn proportionally (at least one weight is non-zero).
fn pick_weighted(weights: &[u32; 28], rng: &mut impl FnMut() -> u64) -> OpKind {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    assert!(total > 0, "validated: some weight is non-zero");
    let mut draw = below(rng, total);
    for (kind, weight) in OpKind::ALL.iter().zip(weights) {
        if draw < u64::from(*weight) {
            return *kind;
        }
        draw -= u64::from(*weight);
    }
    unreachable!("draw {draw} below total {total}")
}
