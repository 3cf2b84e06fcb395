//! A server's static configuration (`zoo.cfg`): the ensemble, timing and persistence settings.

use super::variant::Variants;
use crate::types::ServerId;
use serde::{Deserialize, Serialize};

/// One ensemble member (`server.N=host:2888:3888[:observer]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerSpec {
    /// Its sid (`myid`).
    pub sid: ServerId,
    /// Whether it is a non-voting observer.
    pub observer: bool,
}

/// `zoo.cfg` as the simulated server sees it. Times are milliseconds of the server's local clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumConfig {
    /// The ensemble, in sid order.
    pub peers: Vec<PeerSpec>,
    /// `tickTime`.
    pub tick_time_ms: u32,
    /// `initLimit` (ticks a learner may take to connect and sync).
    pub init_limit: u32,
    /// `syncLimit` (ticks a learner may lag before it is dropped).
    pub sync_limit: u32,
    /// `snapCount`: a snapshot is taken after a randomised number of txns in
    /// `[snapCount/2, snapCount)`.
    pub snap_count: u32,
    /// `minSessionTimeout` (default 2 × tickTime).
    pub min_session_timeout_ms: u32,
    /// `maxSessionTimeout` (default 20 × tickTime).
    pub max_session_timeout_ms: u32,
    /// FLE's `finalizeWait` (200 ms in ZooKeeper).
    pub finalize_wait_ms: u32,
    /// FLE's `maxNotificationInterval` (60 s in ZooKeeper).
    pub max_notification_interval_ms: u32,
    /// `autopurge.snapRetainCount`: the snapshots (and the logs they need) a purge keeps
    /// (ZooKeeper's minimum, 3, applies; see [`QuorumConfig::purge_retain`]).
    pub snap_retain_count: u32,
    /// Autopurge, scaled for simulation: purge (`PurgeTxnLog.purge` with `snapRetainCount`)
    /// after every this many durable snapshots; 0 = off. ZooKeeper's `autopurge.purgeInterval`
    /// counts hours (default 0, off), far longer than a simulated run, so the simulation counts
    /// snapshots instead: the same purge, run at a rate a seconds-long run reaches.
    #[serde(default)]
    pub purge_every_snapshots: u32,
    /// `zookeeper.preAllocSize` in bytes: a log file grows in steps of this many zero bytes
    /// (`FilePadding`). ZooKeeper's default is 64 MiB; the simulation's default
    /// ([`DEFAULT_PRE_ALLOC_SIZE`], 64 KiB) keeps the simulated disks small while still
    /// padding every log file the way ZooKeeper does. 0 = no preallocation.
    #[serde(default = "default_pre_alloc_size")]
    pub pre_alloc_size: u64,
    /// `zookeeper.commitLogCount`: the leader's in-memory committed-log window for DIFF.
    pub commit_log_count: u32,
    /// `zookeeper.snapshotSizeFactor`: SNAP is preferred over DIFF from disk when the log to send
    /// is larger than this fraction of the snapshot (in percent; 33 in ZooKeeper).
    pub snapshot_size_factor_pct: u32,
    /// `zookeeper.digest.enabled`.
    pub digest_enabled: bool,
    /// Protocol variants (historical bugs) switched on.
    pub variants: Variants,
}

/// The simulation's default `preAllocSize`: 64 KiB (ZooKeeper's is 64 MiB).
pub const DEFAULT_PRE_ALLOC_SIZE: u64 = 64 * 1024;

fn default_pre_alloc_size() -> u64 {
    DEFAULT_PRE_ALLOC_SIZE
}

impl QuorumConfig {
    /// The `snapRetainCount` a purge uses, or `None` when autopurge is off. Like
    /// `DatadirCleanupManager`, a count below 3 is raised to 3.
    pub fn purge_retain(&self) -> Option<usize> {
        (self.purge_every_snapshots > 0).then(|| {
            (self.snap_retain_count as usize).max(crate::persist::purge::MIN_SNAP_RETAIN_COUNT)
        })
    }

    /// ZooKeeper's defaults for an ensemble of `n` voting servers with sids 1..=n.
    pub fn with_voters(n: u64) -> QuorumConfig {
        QuorumConfig {
            peers: (1..=n)
                .map(|sid| PeerSpec {
                    sid: ServerId(sid),
                    observer: false,
                })
                .collect(),
            tick_time_ms: 2000,
            init_limit: 10,
            sync_limit: 5,
            snap_count: 100_000,
            min_session_timeout_ms: 4000,
            max_session_timeout_ms: 40_000,
            finalize_wait_ms: 200,
            max_notification_interval_ms: 60_000,
            snap_retain_count: 3,
            purge_every_snapshots: 0,
            pre_alloc_size: DEFAULT_PRE_ALLOC_SIZE,
            commit_log_count: 500,
            snapshot_size_factor_pct: 33,
            digest_enabled: true,
            variants: Variants::default(),
        }
    }

    /// The voting members.
    pub fn voters(&self) -> impl Iterator<Item = ServerId> + '_ {
        self.peers.iter().filter(|p| !p.observer).map(|p| p.sid)
    }

    /// Whether `acks` (distinct voters) form a majority quorum (`QuorumMaj.containsQuorum`).
    pub fn is_quorum(&self, acks: &std::collections::BTreeSet<ServerId>) -> bool {
        let voters = self.voters().count();
        let counted = acks
            .iter()
            .filter(|sid| self.peers.iter().any(|p| p.sid == **sid && !p.observer))
            .count();
        counted > voters / 2
    }
}
