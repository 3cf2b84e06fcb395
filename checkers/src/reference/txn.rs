//! Applying a logged txn record directly, for committed txns that no recorded client operation
//! explains (server-internal session txns, operations of unrecorded clients). The records carry
//! absolute results (the parent's new cversion, the new version), as `DataTree.processTxn` uses
//! them.

use super::{ReferenceTree, Znode, CONTAINER_OWNER};
use zabsim_protocol::txn::{Txn, TxnEntry, TxnHeader};

const TTL_OWNER_BASE: i64 = 0xFF << 56;

impl ReferenceTree {
    /// Applies `entry`; an error names a record that cannot apply to this tree (a create under
    /// a missing parent, a delete of a missing node...).
    pub fn apply_txn(&mut self, entry: &TxnEntry) -> Result<(), String> {
        self.advance(entry.header.zxid);
        if let Txn::Multi { txns } = &entry.txn {
            if txns.iter().any(|(_, t)| matches!(t, Txn::Error { .. })) {
                return Ok(());
            }
            for (_, sub) in txns {
                self.apply_record(&entry.header, sub)?;
            }
            return Ok(());
        }
        self.apply_record(&entry.header, &entry.txn)
    }

    fn apply_record(&mut self, header: &TxnHeader, txn: &Txn) -> Result<(), String> {
        let zxid = header.zxid;
        match txn {
            Txn::Create {
                path,
                data,
                acl,
                ephemeral,
                parent_cversion,
            } => {
                let owner = if *ephemeral { header.client_id.0 } else { 0 };
                self.create_from_txn(path, data, acl, owner, *parent_cversion, header)
            }
            Txn::CreateContainer {
                path,
                data,
                acl,
                parent_cversion,
            } => self.create_from_txn(path, data, acl, CONTAINER_OWNER, *parent_cversion, header),
            Txn::CreateTtl {
                path,
                data,
                acl,
                parent_cversion,
                ttl,
            } => {
                let owner = TTL_OWNER_BASE | (ttl & 0x00ff_ffff_ffff_ffff);
                self.create_from_txn(path, data, acl, owner, *parent_cversion, header)
            }
            Txn::Delete { path } => {
                if !self.nodes.contains_key(path) {
                    return Err(format!("delete txn {zxid} of missing node {path}"));
                }
                self.remove_node(path, zxid);
                Ok(())
            }
            Txn::SetData {
                path,
                data,
                version,
            } => {
                let node = self
                    .nodes
                    .get_mut(path)
                    .ok_or_else(|| missing(zxid, path))?;
                node.data = data.clone();
                node.version = *version;
                node.mtime = header.time;
                node.mzxid = zxid;
                Ok(())
            }
            Txn::SetAcl { path, acl, version } => {
                let node = self
                    .nodes
                    .get_mut(path)
                    .ok_or_else(|| missing(zxid, path))?;
                node.acl = acl.clone();
                node.aversion = *version;
                Ok(())
            }
            Txn::CreateSession { .. } => {
                self.create_session(header.client_id, zxid);
                Ok(())
            }
            Txn::CloseSession { .. } => {
                self.close_session(header.client_id, zxid);
                Ok(())
            }
            Txn::CheckVersion { .. } | Txn::Error { .. } => Ok(()),
            Txn::Multi { .. } => Err(format!("nested multi in txn {zxid}")),
        }
    }

    fn create_from_txn(
        &mut self,
        path: &str,
        data: &Option<Vec<u8>>,
        acl: &[zabsim_protocol::acl::Acl],
        owner: i64,
        parent_cversion: i32,
        header: &TxnHeader,
    ) -> Result<(), String> {
        let zxid = header.zxid;
        let parent = super::parent_of(path).ok_or_else(|| format!("bad path {path}"))?;
        if !self.nodes.contains_key(parent) {
            return Err(format!(
                "create txn {zxid} of {path} under a missing parent"
            ));
        }
        if self.nodes.contains_key(path) {
            return Err(format!("create txn {zxid} of existing node {path}"));
        }
        let node = Znode::new(data.clone(), acl.to_vec(), zxid, header.time, owner);
        self.insert_node(path, node, zxid, parent_cversion);
        Ok(())
    }
}

fn missing(zxid: zabsim_protocol::types::Zxid, path: &str) -> String {
    format!("txn {zxid} changes missing node {path}")
}
