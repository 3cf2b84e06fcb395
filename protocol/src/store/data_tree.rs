//! `DataTree`: znodes in an ordered map, with ZooKeeper's Stat rules for txn application
//! (`DataTree.processTxn`). Partial: see the module docs of `store`.

use std::collections::{BTreeMap, BTreeSet};

use crate::acl::Acl;
use crate::error_code::ErrorCode;
use crate::stat::{Stat, StatPersisted};
use crate::txn::{Txn, TxnEntry};
use crate::types::Zxid;

/// One znode (`DataNode`): data, ACL and persisted Stat, plus its children's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataNode {
    /// Data (`None` is jute's null buffer).
    pub data: Option<Vec<u8>>,
    /// The node's ACL.
    pub acl: Vec<Acl>,
    /// Persisted Stat.
    pub stat: StatPersisted,
    /// Children names, ordered.
    pub children: BTreeSet<String>,
}

impl DataNode {
    /// The Stat a client sees (adds dataLength and numChildren).
    pub fn client_stat(&self) -> Stat {
        let s = &self.stat;
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner,
            data_length: self.data.as_ref().map_or(0, |d| d.len() as i32),
            num_children: self.children.len() as i32,
            pzxid: s.pzxid,
        }
    }
}

/// The znode tree. The root `/` always exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataTree {
    nodes: BTreeMap<String, DataNode>,
    /// Last zxid applied (`lastProcessedZxid`).
    pub last_processed_zxid: Zxid,
}

impl Default for DataTree {
    fn default() -> Self {
        Self::new()
    }
}

/// Splits `/a/b` into (`/a`, `b`); the root's parent is `""`.
pub fn split_path(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

impl DataTree {
    /// A tree holding only `/` (ZooKeeper also creates `/zookeeper` and `/zookeeper/quota`;
    /// not yet modelled).
    pub fn new() -> DataTree {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            "/".to_string(),
            DataNode {
                data: Some(Vec::new()),
                acl: Acl::open_unsafe(),
                stat: StatPersisted::default(),
                children: BTreeSet::new(),
            },
        );
        DataTree {
            nodes,
            last_processed_zxid: Zxid::ZERO,
        }
    }

    /// The node at `path`, if any.
    pub fn node(&self, path: &str) -> Option<&DataNode> {
        self.nodes.get(path)
    }

    /// Number of znodes including the root.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// `createNode`: adds a node; the parent's cversion becomes `parent_cversion` (when larger,
    /// as `setCversionPzxid` on replay) and its pzxid the txn's zxid.
    #[allow(clippy::too_many_arguments)]
    pub fn create_node(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        ephemeral_owner: i64,
        parent_cversion: i32,
        zxid: Zxid,
        time: i64,
    ) -> Result<Stat, ErrorCode> {
        let (parent_path, name) = split_path(path);
        let parent = self.nodes.get_mut(parent_path).ok_or(ErrorCode::NONODE)?;
        if parent.children.contains(name) {
            return Err(ErrorCode::NODEEXISTS);
        }
        let parent_cversion = if parent_cversion == -1 {
            parent.stat.cversion.wrapping_add(1)
        } else {
            parent_cversion
        };
        parent.stat.cversion = parent_cversion;
        parent.stat.pzxid = zxid;
        parent.children.insert(name.to_string());
        let node = DataNode {
            data,
            acl,
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
        let stat = node.client_stat();
        self.nodes.insert(path.to_string(), node);
        Ok(stat)
    }

    /// `deleteNode`: removes a leaf; the parent's cversion increments and pzxid becomes `zxid`.
    pub fn delete_node(&mut self, path: &str, zxid: Zxid) -> Result<(), ErrorCode> {
        let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
        assert!(
            node.children.is_empty(),
            "deleteNode of a node with children: {path}"
        );
        self.nodes.remove(path);
        let (parent_path, name) = split_path(path);
        if let Some(parent) = self.nodes.get_mut(parent_path) {
            parent.children.remove(name);
            parent.stat.cversion = parent.stat.cversion.wrapping_add(1);
            parent.stat.pzxid = zxid;
        }
        Ok(())
    }

    /// `setData`: replaces data, sets version and mzxid/mtime.
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        version: i32,
        zxid: Zxid,
        time: i64,
    ) -> Result<Stat, ErrorCode> {
        let node = self.nodes.get_mut(path).ok_or(ErrorCode::NONODE)?;
        node.data = data;
        node.stat.version = version;
        node.stat.mzxid = zxid;
        node.stat.mtime = time;
        Ok(node.client_stat())
    }

    /// `setACL`: replaces the ACL and sets aversion.
    pub fn set_acl(&mut self, path: &str, acl: Vec<Acl>, version: i32) -> Result<Stat, ErrorCode> {
        let node = self.nodes.get_mut(path).ok_or(ErrorCode::NONODE)?;
        node.acl = acl;
        node.stat.aversion = version;
        Ok(node.client_stat())
    }

    /// Number of nodes strictly below `path` (`getAllChildrenNumber`).
    pub fn descendant_count(&self, path: &str) -> usize {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| p.as_str() != "/")
            .count()
    }

    /// Paths of the ephemerals owned by `owner`.
    pub fn ephemerals(&self, owner: i64) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.stat.ephemeral_owner == owner && owner != 0)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// `processTxn`: applies one txn (not multi-atomic rollback; errors are returned).
    pub fn process_txn(&mut self, entry: &TxnEntry) -> Result<(), ErrorCode> {
        let h = &entry.header;
        let r = self.apply_record(&entry.txn, h.client_id.0, h.zxid, h.time);
        if h.zxid > self.last_processed_zxid {
            self.last_processed_zxid = h.zxid;
        }
        r
    }

    fn apply_record(
        &mut self,
        txn: &Txn,
        owner: i64,
        zxid: Zxid,
        time: i64,
    ) -> Result<(), ErrorCode> {
        match txn {
            Txn::Create {
                path,
                data,
                acl,
                ephemeral,
                parent_cversion,
            } => {
                let o = if *ephemeral { owner } else { 0 };
                self.create_node(
                    path,
                    data.clone(),
                    acl.clone(),
                    o,
                    *parent_cversion,
                    zxid,
                    time,
                )
                .map(|_| ())
            }
            Txn::CreateContainer {
                path,
                data,
                acl,
                parent_cversion,
            } => self
                .create_node(
                    path,
                    data.clone(),
                    acl.clone(),
                    i64::MIN,
                    *parent_cversion,
                    zxid,
                    time,
                )
                .map(|_| ()),
            Txn::CreateTtl {
                path,
                data,
                acl,
                parent_cversion,
                ttl,
            } => {
                let o = (0xFFi64 << 56) | (ttl & 0x00FF_FFFF_FFFF_FFFF);
                self.create_node(
                    path,
                    data.clone(),
                    acl.clone(),
                    o,
                    *parent_cversion,
                    zxid,
                    time,
                )
                .map(|_| ())
            }
            Txn::Delete { path } => self.delete_node(path, zxid),
            Txn::SetData {
                path,
                data,
                version,
            } => self
                .set_data(path, data.clone(), *version, zxid, time)
                .map(|_| ()),
            Txn::SetAcl { path, acl, version } => {
                self.set_acl(path, acl.clone(), *version).map(|_| ())
            }
            Txn::CloseSession { paths_to_delete } => {
                for p in paths_to_delete {
                    let _ = self.delete_node(p, zxid);
                }
                Ok(())
            }
            Txn::CreateSession { .. } | Txn::CheckVersion { .. } | Txn::Error { .. } => Ok(()),
            Txn::Multi { txns } => {
                for (_, t) in txns {
                    self.apply_record(t, owner, zxid, time)?;
                }
                Ok(())
            }
        }
    }
}
