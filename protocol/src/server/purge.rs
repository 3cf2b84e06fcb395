//! Autopurge (`DatadirCleanupManager` running `PurgeTxnLog.purge`): after every
//! `purge_every_snapshots` durable snapshots (the simulation's scaling of
//! `autopurge.purgeInterval`, which counts hours), delete what [`purge_plan`] says — snapshots
//! older than the `snapRetainCount` newest and the logs only they need — each deletion its own
//! disk action, then a directory fsync.

use super::disk::Then;
use super::io::{DiskRequest, ServerAction};
use super::QuorumPeer;
use crate::persist::purge::purge_plan;

impl QuorumPeer {
    /// A snapshot became durable: purge if autopurge is due.
    pub(crate) fn snapshot_durable_purge(&mut self, out: &mut Vec<ServerAction>) {
        let Some(retain) = self.config.purge_retain() else {
            return;
        };
        self.log.snapshots_since_purge += 1;
        if self.log.snapshots_since_purge < self.config.purge_every_snapshots {
            return;
        }
        self.log.snapshots_since_purge = 0;
        self.purge(retain, out);
    }

    /// `PurgeTxnLog.purge(dataDir, snapDir, retain)` over the files as the server sees them.
    /// The log being appended to is never deleted: it is the newest log file, which the plan
    /// always keeps.
    pub(crate) fn purge(&mut self, retain: usize, out: &mut Vec<ServerAction>) {
        let doomed = purge_plan(&self.mirror.files, retain);
        if let Some(current) = &self.log.current_file {
            assert!(
                !doomed.contains(current),
                "purge never deletes the log being written ({current})"
            );
        }
        if doomed.is_empty() {
            return;
        }
        let mut ops: Vec<DiskRequest> = doomed
            .into_iter()
            .map(|file| DiskRequest::Delete { file })
            .collect();
        ops.push(DiskRequest::FsyncDir);
        self.disk.push(&mut self.mirror, ops, Then::Nothing, out);
    }
}
