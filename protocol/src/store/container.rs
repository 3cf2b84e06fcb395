//! `ContainerManager.getCandidates`: which container and TTL nodes the leader deletes (each
//! with a `deleteContainer` request), checked every `znode.container.checkIntervalMs` (default
//! 60 s). A container is a candidate when it has no children and has had one (its stored
//! cversion is positive), or, if `maxNeverUsedIntervalMs` is set, when it has been empty for longer than that
//! since its last data change. A TTL node is a candidate when it has no children and more than
//! its TTL has passed since its mtime.

use crate::store::database::ZkDatabase;
use crate::store::path::EphemeralType;

/// `znode.container.checkIntervalMs` default.
pub const CONTAINER_CHECK_INTERVAL_MS: i64 = 60_000;
/// `znode.container.maxPerMinute` default.
pub const CONTAINER_MAX_PER_MINUTE: usize = 10_000;

impl ZkDatabase {
    /// The paths to delete at wall time `now_ms`, sorted (ZooKeeper iterates a hash set).
    pub fn container_candidates(&self, now_ms: i64) -> Vec<String> {
        let tree = &self.tree;
        let never_used = self.config.container_max_never_used_interval_ms;
        let mut out = Vec::new();
        for path in tree.containers() {
            let Some(node) = tree.node(path) else {
                continue;
            };
            if !node.children.is_empty() {
                continue;
            }
            let elapsed = now_ms - node.stat.mtime;
            if node.stat.cversion > 0 || (never_used != 0 && elapsed > never_used) {
                out.push(path.clone());
            }
        }
        for path in tree.ttls() {
            let Some(node) = tree.node(path) else {
                continue;
            };
            let owner = node.stat.ephemeral_owner;
            if !node.children.is_empty()
                || EphemeralType::get(owner, tree.extended_types) != EphemeralType::Ttl
            {
                continue;
            }
            let ttl = EphemeralType::ttl_value(owner);
            if ttl != 0 && now_ms - node.stat.mtime > ttl {
                out.push(path.clone());
            }
        }
        out.sort();
        out.dedup();
        out.truncate(CONTAINER_MAX_PER_MINUTE);
        out
    }
}
