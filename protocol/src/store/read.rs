//! Reads served from the local tree (`FinalRequestProcessor` read paths), partial: exists,
//! getData, getChildren(2), getACL, getAllChildrenNumber, getEphemerals. No ACL checks and no
//! watch registration yet.

use crate::error_code::ErrorCode;
use crate::request::{Request, Response};
use crate::store::data_tree::DataTree;
use crate::types::SessionId;

/// Answers a read request from `tree`; write requests get `UNIMPLEMENTED`.
pub fn read(tree: &DataTree, session: SessionId, request: &Request) -> Result<Response, ErrorCode> {
    match request {
        Request::Exists { path, .. } => {
            let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
            Ok(Response::Exists {
                stat: node.client_stat(),
            })
        }
        Request::GetData { path, .. } => {
            let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
            Ok(Response::GetData {
                data: node.data.clone(),
                stat: node.client_stat(),
            })
        }
        Request::GetChildren {
            path, with_stat, ..
        } => {
            let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
            Ok(Response::GetChildren {
                children: node.children.iter().cloned().collect(),
                stat: with_stat.then(|| node.client_stat()),
            })
        }
        Request::GetAcl { path } => {
            let node = tree.node(path).ok_or(ErrorCode::NONODE)?;
            Ok(Response::GetAcl {
                acl: node.acl.clone(),
                stat: node.client_stat(),
            })
        }
        Request::Sync { path } => Ok(Response::Sync { path: path.clone() }),
        Request::GetEphemerals { prefix_path } => {
            let ephemerals = tree
                .ephemerals(session.0)
                .into_iter()
                .filter(|p| p.starts_with(prefix_path.as_str()))
                .collect();
            Ok(Response::GetEphemerals { ephemerals })
        }
        Request::GetAllChildrenNumber { path } => {
            tree.node(path).ok_or(ErrorCode::NONODE)?;
            let total_number = tree.descendant_count(path) as i32;
            Ok(Response::GetAllChildrenNumber { total_number })
        }
        _ => Err(ErrorCode::UNIMPLEMENTED),
    }
}
