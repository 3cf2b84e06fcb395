//! `DataTree`: the znodes (an ordered map path → `DataNode`), the ACL cache, the ephemeral,
//! container and TTL indexes, the two watch managers and the incremental tree digest, with
//! ZooKeeper's rules for each change (`createNode`, `deleteNode`, `setData`, `setACL`).
//!
//! Stat rules (`DataNode.copyStat`): the stored `cversion` counts child *creates* only (a
//! create sets it to the txn's `parentCVersion`, a delete leaves it); a client sees
//! `cversion = 2 * stored - numChildren`. Delete raises the parent's pzxid (never lowers it).
//! Every change to a node updates the tree digest by the difference of its node digests.

use std::collections::{BTreeMap, BTreeSet};

use crate::acl::{Acl, Id};
use crate::error_code::ErrorCode;
use crate::request::EventType;
use crate::stat::{Stat, StatPersisted};
use crate::store::acl_cache::{AclCache, OPEN_UNSAFE_ACL_ID};
use crate::store::digest::node_digest;
use crate::store::path::{self, EphemeralType};
use crate::store::watch::{notifications, WatchManager, WatchNotification};
use crate::types::{SessionId, Zxid};

/// One znode (`DataNode`): data, ACL cache reference, persisted Stat, children names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataNode {
    /// Data (`None` is jute's null buffer).
    pub data: Option<Vec<u8>>,
    /// Reference into the ACL cache (`-1` is the open ACL).
    pub acl_ref: i64,
    /// Persisted Stat (stored cversion).
    pub stat: StatPersisted,
    /// Children names, ordered.
    pub children: BTreeSet<String>,
}

impl DataNode {
    /// `copyStat`: the Stat a client sees: visible cversion, dataLength, numChildren, and an
    /// ephemeralOwner of 0 for containers and TTL nodes.
    pub fn client_stat(&self, extended_types: bool) -> Stat {
        let s = &self.stat;
        let num_children = self.children.len() as i32;
        let owner = match EphemeralType::get(s.ephemeral_owner, extended_types) {
            EphemeralType::Normal => s.ephemeral_owner,
            _ => 0,
        };
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            ephemeral_owner: owner,
            data_length: self.data.as_ref().map_or(0, |d| d.len() as i32),
            num_children,
            pzxid: s.pzxid,
        }
    }
}

/// The znode tree. The root `/` always exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataTree {
    pub(crate) nodes: BTreeMap<String, DataNode>,
    pub(crate) acl_cache: AclCache,
    pub(crate) ephemerals: BTreeMap<i64, BTreeSet<String>>,
    pub(crate) containers: BTreeSet<String>,
    pub(crate) ttls: BTreeSet<String>,
    tree_digest: i64,
    pub(crate) data_watches: WatchManager,
    pub(crate) child_watches: WatchManager,
    /// Auth info of the sessions connected here (watch delivery is filtered by READ).
    pub(crate) watcher_auth: BTreeMap<SessionId, Vec<Id>>,
    pending_events: Vec<WatchNotification>,
    /// Last zxid applied (`lastProcessedZxid`).
    pub last_processed_zxid: Zxid,
    /// `zookeeper.extendedTypesEnabled`.
    pub extended_types: bool,
}

impl Default for DataTree {
    fn default() -> Self {
        Self::new(false)
    }
}

fn empty_node(acl_ref: i64) -> DataNode {
    DataNode {
        data: Some(Vec::new()),
        acl_ref,
        stat: StatPersisted::default(),
        children: BTreeSet::new(),
    }
}

impl DataTree {
    /// The tree a fresh ZooKeeper 3.8 server starts with: `/`, `/zookeeper`,
    /// `/zookeeper/quota` and `/zookeeper/config` (ACL read-only, aversion -1), added without
    /// touching any cversion (so a client sees cversion -1 on `/` and -2 on `/zookeeper`).
    pub fn new(extended_types: bool) -> DataTree {
        let mut tree = DataTree {
            nodes: BTreeMap::new(),
            acl_cache: AclCache::default(),
            ephemerals: BTreeMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            tree_digest: 0,
            data_watches: WatchManager::default(),
            child_watches: WatchManager::default(),
            watcher_auth: BTreeMap::new(),
            pending_events: Vec::new(),
            last_processed_zxid: Zxid::ZERO,
            extended_types,
        };
        let mut root = empty_node(OPEN_UNSAFE_ACL_ID);
        root.children.insert("zookeeper".into());
        let mut proc = empty_node(OPEN_UNSAFE_ACL_ID);
        proc.children.insert("quota".into());
        proc.children.insert("config".into());
        tree.put(path::ROOT, root);
        tree.put(path::PROC_ZOOKEEPER, proc);
        tree.put(path::QUOTA_ZOOKEEPER, empty_node(OPEN_UNSAFE_ACL_ID));
        let read_only = tree.acl_cache.convert_acls(&Acl::read_unsafe());
        let mut config = empty_node(read_only);
        config.stat.aversion = -1;
        tree.put(path::CONFIG_ZOOKEEPER, config);
        tree
    }

    /// A tree with no nodes at all (snapshot loading fills it).
    pub(crate) fn empty(extended_types: bool) -> DataTree {
        let mut tree = DataTree::new(extended_types);
        tree.nodes.clear();
        tree.acl_cache = AclCache::default();
        tree.tree_digest = 0;
        tree
    }

    /// Inserts or replaces a node, keeping the digest.
    pub(crate) fn put(&mut self, path: &str, node: DataNode) {
        if let Some(old) = self.nodes.get(path) {
            self.tree_digest = self.tree_digest.wrapping_sub(digest_of(path, old));
        }
        self.tree_digest = self.tree_digest.wrapping_add(digest_of(path, &node));
        self.nodes.insert(path.to_string(), node);
    }

    fn remove(&mut self, path: &str) -> Option<DataNode> {
        let old = self.nodes.remove(path)?;
        self.tree_digest = self.tree_digest.wrapping_sub(digest_of(path, &old));
        Some(old)
    }

    /// Applies `change` to the node at `path` in place, keeping the digest.
    fn modify<R>(&mut self, path: &str, change: impl FnOnce(&mut DataNode) -> R) -> Option<R> {
        let node = self.nodes.get_mut(path)?;
        let before = digest_of(path, node);
        let r = change(node);
        let after = digest_of(path, node);
        self.tree_digest = self.tree_digest.wrapping_sub(before).wrapping_add(after);
        Some(r)
    }

    /// The node at `path`, if any.
    pub fn node(&self, path: &str) -> Option<&DataNode> {
        self.nodes.get(path)
    }

    /// Every (path, node), in path order.
    pub fn nodes(&self) -> impl Iterator<Item = (&String, &DataNode)> {
        self.nodes.iter()
    }

    /// Number of znodes including the root and the system nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The client-visible Stat of a node.
    pub fn stat_of(&self, node: &DataNode) -> Stat {
        node.client_stat(self.extended_types)
    }

    /// The node's ACL list (`aclForNode`).
    pub fn acl_of(&self, node: &DataNode) -> Vec<Acl> {
        self.acl_cache
            .convert_long(node.acl_ref)
            .unwrap_or_default()
    }

    /// The ACL cache.
    pub fn acl_cache(&self) -> &AclCache {
        &self.acl_cache
    }

    /// The tree digest (sum of node digests, version 2).
    pub fn tree_digest(&self) -> i64 {
        self.tree_digest
    }

    /// Recomputes the digest from scratch (for tests and snapshot checks).
    pub fn recompute_digest(&self) -> i64 {
        self.nodes
            .iter()
            .fold(0i64, |acc, (p, n)| acc.wrapping_add(digest_of(p, n)))
    }

    /// `getEphemerals(session)`, sorted.
    pub fn ephemerals_of(&self, session: SessionId) -> BTreeSet<String> {
        self.ephemerals.get(&session.0).cloned().unwrap_or_default()
    }

    /// Every session that owns an ephemeral.
    pub fn ephemeral_owners(&self) -> Vec<SessionId> {
        self.ephemerals
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(o, _)| SessionId(*o))
            .collect()
    }

    /// Container node paths.
    pub fn containers(&self) -> &BTreeSet<String> {
        &self.containers
    }

    /// TTL node paths.
    pub fn ttls(&self) -> &BTreeSet<String> {
        &self.ttls
    }

    /// Takes the watch notifications produced since the last call, in trigger order.
    pub fn take_events(&mut self) -> Vec<WatchNotification> {
        std::mem::take(&mut self.pending_events)
    }

    fn index_owner(&mut self, path: &str, owner: i64, add: bool) {
        let set = match EphemeralType::get(owner, self.extended_types) {
            EphemeralType::Void => return,
            EphemeralType::Container => &mut self.containers,
            EphemeralType::Ttl => &mut self.ttls,
            EphemeralType::Normal => self.ephemerals.entry(owner).or_default(),
        };
        if add {
            set.insert(path.to_string());
        } else {
            set.remove(path);
        }
    }

    /// `createNode`. The parent's stored cversion becomes `parent_cversion` (or +1 when it is
    /// -1) only when that is larger (idempotent replay), with pzxid = `zxid`.
    #[allow(clippy::too_many_arguments)]
    pub fn create_node(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: &[Acl],
        ephemeral_owner: i64,
        parent_cversion: i32,
        zxid: Zxid,
        time: i64,
    ) -> Result<Stat, ErrorCode> {
        let (parent_name, child_name) = path::split_last_slash(path).ok_or(ErrorCode::NONODE)?;
        let parent_key = path::parent_key(parent_name).to_string();
        let parent = self.nodes.get(&parent_key).ok_or(ErrorCode::NONODE)?;
        let parent_acl = self.acl_of(parent);
        let acl_ref = self.acl_cache.convert_acls(acl);
        if let Some(existing) = self.nodes.get(path) {
            let old = existing.acl_ref;
            self.modify(path, |n| n.acl_ref = acl_ref);
            self.acl_cache.remove_usage(old);
            return Err(ErrorCode::NODEEXISTS);
        }
        self.modify(&parent_key, |p| {
            let cv = if parent_cversion == -1 {
                p.stat.cversion.wrapping_add(1)
            } else {
                parent_cversion
            };
            if cv > p.stat.cversion {
                p.stat.cversion = cv;
                p.stat.pzxid = zxid;
            }
            p.children.insert(child_name.to_string());
        });
        let node = DataNode {
            data,
            acl_ref,
            stat: StatPersisted {
                czxid: zxid,
                mzxid: zxid,
                ctime: time,
                mtime: time,
                version: 0,
                cversion: 0,
                aversion: 0,
                ephemeral_owner,
                pzxid: zxid,
            },
            children: BTreeSet::new(),
        };
        let stat = self.stat_of(&node);
        self.put(path, node);
        self.index_owner(path, ephemeral_owner, true);
        self.trigger_data(path, EventType::NodeCreated, acl, &BTreeSet::new());
        self.trigger_child(
            &parent_key,
            EventType::NodeChildrenChanged,
            &parent_acl,
            &BTreeSet::new(),
        );
        Ok(stat)
    }

    /// `deleteNode`: removes the child name from the parent (raising its pzxid) even when the
    /// node itself is already gone (fuzzy-snapshot replay), then removes the node.
    pub fn delete_node(&mut self, path: &str, zxid: Zxid) -> Result<(), ErrorCode> {
        let (parent_name, child_name) = path::split_last_slash(path).ok_or(ErrorCode::NONODE)?;
        let parent_key = path::parent_key(parent_name).to_string();
        if !self.nodes.contains_key(&parent_key) {
            return Err(ErrorCode::NONODE);
        }
        // Prep never deletes a node with children; a log that asks for it is refused rather
        // than leaving orphans (ZooKeeper would orphan them silently).
        if self.nodes.get(path).is_some_and(|n| !n.children.is_empty()) {
            return Err(ErrorCode::NOTEMPTY);
        }
        self.modify(&parent_key, |p| {
            p.children.remove(child_name);
            if zxid > p.stat.pzxid {
                p.stat.pzxid = zxid;
            }
        });
        let node = self.remove(path).ok_or(ErrorCode::NONODE)?;
        assert!(node.children.is_empty(), "checked above: {path}");
        let acl = self.acl_of(&node);
        self.acl_cache.remove_usage(node.acl_ref);
        self.index_owner(path, node.stat.ephemeral_owner, false);
        let parent_acl = self
            .nodes
            .get(&parent_key)
            .map(|p| self.acl_of(p))
            .unwrap_or_default();
        let processed = self.trigger_data(path, EventType::NodeDeleted, &acl, &BTreeSet::new());
        self.trigger_child(path, EventType::NodeDeleted, &acl, &processed);
        self.trigger_child(
            &parent_key,
            EventType::NodeChildrenChanged,
            &parent_acl,
            &BTreeSet::new(),
        );
        Ok(())
    }

    /// `setData`: replaces data, sets version, mzxid and mtime.
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        version: i32,
        zxid: Zxid,
        time: i64,
    ) -> Result<Stat, ErrorCode> {
        self.modify(path, |n| {
            n.data = data;
            n.stat.version = version;
            n.stat.mzxid = zxid;
            n.stat.mtime = time;
        })
        .ok_or(ErrorCode::NONODE)?;
        let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
        let (stat, acl) = (self.stat_of(node), self.acl_of(node));
        self.trigger_data(path, EventType::NodeDataChanged, &acl, &BTreeSet::new());
        Ok(stat)
    }

    /// `setACL`: replaces the ACL reference and sets aversion.
    pub fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, ErrorCode> {
        let old = self.nodes.get(path).ok_or(ErrorCode::NONODE)?.acl_ref;
        self.acl_cache.remove_usage(old);
        let acl_ref = self.acl_cache.convert_acls(acl);
        self.modify(path, |n| {
            n.stat.aversion = version;
            n.acl_ref = acl_ref;
        });
        let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
        Ok(self.stat_of(node))
    }

    /// `setCversionPzxid` (replay of a create that met NODEEXISTS).
    pub fn set_cversion_pzxid(
        &mut self,
        path: &str,
        cversion: i32,
        zxid: Zxid,
    ) -> Result<(), ErrorCode> {
        let path = path::parent_key(path.strip_suffix('/').unwrap_or(path)).to_string();
        self.modify(&path, |n| {
            let cv = if cversion == -1 {
                n.stat.cversion.wrapping_add(1)
            } else {
                cversion
            };
            if cv > n.stat.cversion {
                n.stat.cversion = cv;
                n.stat.pzxid = zxid;
            }
        })
        .ok_or(ErrorCode::NONODE)
    }

    /// Number of nodes strictly below `path` (`getAllChildrenNumber`; the root counts every
    /// node but itself, including the system nodes).
    pub fn descendant_count(&self, path: &str) -> usize {
        if path == "/" {
            return self.nodes.len() - 1;
        }
        let prefix = format!("{path}/");
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .count()
    }

    fn trigger_data(
        &mut self,
        path: &str,
        event_type: EventType,
        acl: &[Acl],
        suppress: &BTreeSet<SessionId>,
    ) -> BTreeSet<SessionId> {
        let fired = self.data_watches.trigger(path, event_type);
        let out = notifications(&fired, suppress, path, event_type, acl, &self.watcher_auth);
        self.pending_events.extend(out);
        fired
    }

    fn trigger_child(
        &mut self,
        path: &str,
        event_type: EventType,
        acl: &[Acl],
        suppress: &BTreeSet<SessionId>,
    ) -> BTreeSet<SessionId> {
        let fired = self.child_watches.trigger(path, event_type);
        let out = notifications(&fired, suppress, path, event_type, acl, &self.watcher_auth);
        self.pending_events.extend(out);
        fired
    }

    /// Queues a notification directly (SetWatches' missed changes).
    pub(crate) fn push_event(&mut self, n: WatchNotification) {
        self.pending_events.push(n);
    }
}

/// The digest of one node under its map key.
pub(crate) fn digest_of(path: &str, node: &DataNode) -> i64 {
    node_digest(path, node.data.as_deref(), &node.stat)
}

impl DataTree {
    /// Indexes a node loaded from a snapshot (ephemeral, container, TTL sets).
    pub(crate) fn index_loaded(&mut self, path: &str, owner: i64) {
        self.index_owner(path, owner, true);
    }
}
