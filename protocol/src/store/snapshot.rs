//! Conversion between the live database and a [`SnapshotImage`] (`FileSnap` content): the
//! sessions in id order, the ACL cache as it is, the nodes in pre-order (root first under the
//! path `""`, then each node before its children, children in name order), and the digest.
//! Loading rebuilds the ACL reference counts from the nodes and purges unused entries, as
//! `DataTree.deserialize` does, and rejects images that break the tree's shape.

use std::collections::BTreeMap;

use crate::snapshot_image::{SnapshotImage, SnapshotNode, ZxidDigest};
use crate::store::data_tree::{DataNode, DataTree};
use crate::store::database::{StoreConfig, ZkDatabase};
use crate::store::digest::DIGEST_VERSION;
use crate::store::outstanding::OutstandingChanges;
use crate::store::path;
use crate::store::session::SessionTracker;
use crate::types::{SessionId, Zxid};

/// Why an image cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// A node's parent is missing or comes after it.
    OrphanNode {
        /// The node's path.
        path: String,
    },
    /// A node refers to an ACL reference that is not in the cache.
    UnknownAclRef {
        /// The node's path.
        path: String,
        /// The reference.
        acl_ref: i64,
    },
    /// The image has no root node.
    NoRoot,
}

impl std::fmt::Display for ImageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageError::OrphanNode { path } => write!(f, "node {path:?} has no parent before it"),
            ImageError::UnknownAclRef { path, acl_ref } => {
                write!(f, "node {path:?} refers to unknown ACL reference {acl_ref}")
            }
            ImageError::NoRoot => write!(f, "snapshot has no root node"),
        }
    }
}

impl ZkDatabase {
    /// The snapshot image of the current state (what `FileSnap.serialize` writes).
    pub fn to_snapshot_image(&self) -> SnapshotImage {
        let tree = &self.tree;
        let mut nodes = Vec::with_capacity(tree.node_count());
        let mut stack = vec![path::ROOT.to_string()];
        while let Some(p) = stack.pop() {
            let Some(node) = tree.node(&p) else { continue };
            nodes.push(SnapshotNode {
                path: if p == path::ROOT {
                    String::new()
                } else {
                    p.clone()
                },
                data: node.data.clone(),
                acl_ref: node.acl_ref,
                stat: node.stat,
            });
            let prefix = if p == path::ROOT {
                String::new()
            } else {
                p.clone()
            };
            for child in node.children.iter().rev() {
                stack.push(format!("{prefix}/{child}"));
            }
        }
        assert_eq!(
            nodes.len(),
            tree.node_count(),
            "every node reachable from the root"
        );
        let last = tree.last_processed_zxid;
        SnapshotImage {
            sessions: self
                .sessions_with_timeouts
                .iter()
                .map(|(s, t)| (*s, *t))
                .collect(),
            acl_cache: tree.acl_cache().map().clone(),
            nodes,
            digest: self.config.digest_enabled.then(|| ZxidDigest {
                zxid: last,
                digest_version: DIGEST_VERSION,
                digest: tree.tree_digest(),
            }),
            last_processed_zxid: Some(last),
        }
    }

    /// Loads an image (`FileSnap.deserialize`); `last_processed_zxid` becomes the image's
    /// (or `fallback_zxid`, the zxid in the file name, when the image has none).
    pub fn from_snapshot_image(
        config: StoreConfig,
        image: &SnapshotImage,
        fallback_zxid: Zxid,
        now_ms: i64,
    ) -> Result<ZkDatabase, ImageError> {
        let mut tree = DataTree::empty(config.extended_types_enabled);
        tree.acl_cache.load(&image.acl_cache);
        for n in &image.nodes {
            load_node(&mut tree, n)?;
        }
        if tree.node(path::ROOT).is_none() {
            return Err(ImageError::NoRoot);
        }
        tree.acl_cache.purge_unused();
        tree.last_processed_zxid = image.last_processed_zxid.unwrap_or(fallback_zxid);
        let sessions: BTreeMap<SessionId, i32> = image.sessions.iter().copied().collect();
        let mut db = ZkDatabase {
            tree,
            sessions_with_timeouts: sessions,
            outstanding: OutstandingChanges::default(),
            session_tracker: SessionTracker::new(config.server_id, config.tick_time_ms, now_ms),
            config,
        };
        db.start_session_tracker(now_ms);
        Ok(db)
    }
}

fn load_node(tree: &mut DataTree, n: &SnapshotNode) -> Result<(), ImageError> {
    let key = if n.path.is_empty() {
        path::ROOT
    } else {
        n.path.as_str()
    };
    if tree.acl_cache.convert_long(n.acl_ref).is_none() {
        return Err(ImageError::UnknownAclRef {
            path: n.path.clone(),
            acl_ref: n.acl_ref,
        });
    }
    if key != path::ROOT {
        let orphan = || ImageError::OrphanNode {
            path: n.path.clone(),
        };
        let (parent, child) = path::split_last_slash(key).ok_or_else(orphan)?;
        let parent = path::parent_key(parent).to_string();
        let mut p = tree.node(&parent).cloned().ok_or_else(orphan)?;
        p.children.insert(child.to_string());
        tree.put(&parent, p);
    }
    tree.acl_cache.add_usage(n.acl_ref);
    let node = DataNode {
        data: n.data.clone(),
        acl_ref: n.acl_ref,
        stat: n.stat,
        children: Default::default(),
    };
    tree.put(key, node);
    tree.index_loaded(key, n.stat.ephemeral_owner);
    Ok(())
}
