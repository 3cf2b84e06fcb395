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
    /// `autopurge.snapRetainCount` (0 = no purge).
    pub snap_retain_count: u32,
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

impl QuorumConfig {
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
