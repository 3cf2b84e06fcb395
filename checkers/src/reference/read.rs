//! Reads as `FinalRequestProcessor` answers them from the local tree (no path validation on the
//! server: the client validates paths before it sends them).

use super::acl;
use super::{Fail, Judged, ReferenceTree};
use zabsim_protocol::acl::perms;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{MultiOp, OpResult, Request, Response};
use zabsim_protocol::types::SessionId;

impl ReferenceTree {
    /// What a read request returns on this tree.
    pub fn read(&self, session: SessionId, request: &Request) -> Judged<Response> {
        match request {
            Request::Exists { path, .. } => {
                let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
                Ok(Response::Exists { stat: node.stat() })
            }
            Request::GetData { path, .. } => {
                let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
                acl::check(&node.acl, perms::READ)?;
                Ok(Response::GetData {
                    data: node.data.clone(),
                    stat: node.stat(),
                })
            }
            Request::GetChildren {
                path, with_stat, ..
            } => {
                let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
                acl::check(&node.acl, perms::READ)?;
                Ok(Response::GetChildren {
                    children: node.children.iter().cloned().collect(),
                    stat: with_stat.then(|| node.stat()),
                })
            }
            Request::GetAcl { path } => {
                let node = self.nodes.get(path).ok_or(ErrorCode::NONODE)?;
                acl::check(&node.acl, perms::READ | perms::ADMIN)?;
                Ok(Response::GetAcl {
                    acl: node.acl.clone(),
                    stat: node.stat(),
                })
            }
            Request::Sync { path } => Ok(Response::Sync { path: path.clone() }),
            Request::MultiRead { ops } => {
                let results = ops
                    .iter()
                    .map(|op| self.read_one(op))
                    .collect::<Judged<Vec<OpResult>>>()?;
                Ok(Response::Multi { results })
            }
            Request::GetEphemerals { prefix_path } => {
                let mut ephemerals: Vec<String> = self
                    .ephemerals_of(session)
                    .into_iter()
                    .filter(|p| prefix_path == "/" || p.starts_with(prefix_path.as_str()))
                    .collect();
                ephemerals.sort();
                Ok(Response::GetEphemerals { ephemerals })
            }
            Request::GetAllChildrenNumber { path } => {
                if !self.nodes.contains_key(path) {
                    return Err(Fail::Code(ErrorCode::NONODE));
                }
                Ok(Response::GetAllChildrenNumber {
                    total_number: self.descendants(path) as i32,
                })
            }
            Request::AddWatch { .. } | Request::AddAuth { .. } => Ok(Response::Empty),
            other => Err(Fail::Undecided(format!(
                "{} depends on state the model does not keep",
                other.op_code().name()
            ))),
        }
    }

    /// One multiRead sub-op: an error is a result entry, not a failure of the whole read.
    fn read_one(&self, op: &MultiOp) -> Judged<OpResult> {
        let result = match op {
            MultiOp::GetData { path } => self
                .read(
                    SessionId(0),
                    &Request::GetData {
                        path: path.clone(),
                        watch: false,
                    },
                )
                .map(|r| match r {
                    Response::GetData { data, stat } => OpResult::GetData { data, stat },
                    _ => unreachable!("getData answers GetData"),
                }),
            MultiOp::GetChildren { path } => self
                .read(
                    SessionId(0),
                    &Request::GetChildren {
                        path: path.clone(),
                        watch: false,
                        with_stat: false,
                    },
                )
                .map(|r| match r {
                    Response::GetChildren { children, .. } => OpResult::GetChildren { children },
                    _ => unreachable!("getChildren answers GetChildren"),
                }),
            _ => Err(Fail::Code(ErrorCode::BADARGUMENTS)),
        };
        match result {
            Ok(r) => Ok(r),
            Err(Fail::Code(err)) => Ok(OpResult::Error { err }),
            Err(undecided) => Err(undecided),
        }
    }

    /// Number of descendants of `path` (not counting itself).
    fn descendants(&self, path: &str) -> usize {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| p.as_str() != path)
            .count()
    }
}
