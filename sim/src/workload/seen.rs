//! What one client last saw of each path: the data version and ACL version from the Stats in its
//! replies, and the nodes it saw created (so deletes can aim at sequential names). Conditional
//! ops use these versions, as an application doing read-modify-write would.

use super::keys::below;
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::client::OpResult;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{MultiOp, OpResult as SubResult, Request, Response};
use zabsim_protocol::stat::Stat;

/// The versions one client last saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    /// path → (version, aversion) from the newest Stat seen for it.
    versions: BTreeMap<String, (i32, i32)>,
    /// Nodes this client saw exist (created or read), for delete targets.
    known: BTreeSet<String>,
}

impl Seen {
    /// The data version last seen, or 0 (a fresh node's version) when never seen.
    pub(crate) fn version_or_new(&self, path: &str) -> i32 {
        self.versions.get(path).map_or(0, |v| v.0)
    }

    /// The ACL version last seen, or 0.
    pub(crate) fn aversion_or_new(&self, path: &str) -> i32 {
        self.versions.get(path).map_or(0, |v| v.1)
    }

    /// A node this client saw exist, uniformly.
    pub(crate) fn pick_known(&self, rng: &mut impl FnMut() -> u64) -> Option<String> {
        if self.known.is_empty() {
            return None;
        }
        let i = below(rng, self.known.len() as u64) as usize;
        self.known.iter().nth(i).cloned()
    }

    fn saw_stat(&mut self, path: &str, stat: &Stat) {
        self.versions
            .insert(path.to_string(), (stat.version, stat.aversion));
        self.known.insert(path.to_string());
    }

    fn saw_gone(&mut self, path: &str) {
        self.versions.remove(path);
        self.known.remove(path);
    }

    fn saw_fresh(&mut self, path: &str) {
        self.versions.insert(path.to_string(), (0, 0));
        self.known.insert(path.to_string());
    }

    /// Learns from one completed operation. Unknown outcomes teach nothing.
    pub(crate) fn observe(&mut self, request: &Request, result: &OpResult) {
        match result {
            OpResult::Ok { response, .. } => self.observe_ok(request, response),
            OpResult::Error {
                err: ErrorCode::NONODE,
                ..
            } => {
                if let Some(path) = single_path(request) {
                    self.saw_gone(path);
                }
            }
            _ => {}
        }
    }

    fn observe_ok(&mut self, request: &Request, response: &Response) {
        match (request, response) {
            (_, Response::Create { path, stat }) => match stat {
                Some(stat) => self.saw_stat(path, stat),
                None => self.saw_fresh(path),
            },
            (Request::Delete { path, .. }, Response::Delete) => self.saw_gone(path),
            (Request::Multi { ops }, Response::Multi { results })
            | (Request::MultiRead { ops }, Response::Multi { results }) => {
                for (op, result) in ops.iter().zip(results) {
                    self.observe_sub(op, result);
                }
            }
            (_, response) => {
                if let (Some(path), Some(stat)) = (single_path(request), stat_of(response)) {
                    self.saw_stat(path, stat);
                }
            }
        }
    }

    fn observe_sub(&mut self, op: &MultiOp, result: &SubResult) {
        match (op, result) {
            (_, SubResult::Create { path, stat }) => match stat {
                Some(stat) => self.saw_stat(path, stat),
                None => self.saw_fresh(path),
            },
            (MultiOp::Delete { path, .. }, SubResult::Delete) => self.saw_gone(path),
            (MultiOp::SetData { path, .. }, SubResult::SetData { stat })
            | (MultiOp::GetData { path }, SubResult::GetData { stat, .. }) => {
                self.saw_stat(path, stat)
            }
            _ => {}
        }
    }
}

fn single_path(request: &Request) -> Option<&str> {
    match request {
        Request::Delete { path, .. }
        | Request::Exists { path, .. }
        | Request::GetData { path, .. }
        | Request::SetData { path, .. }
        | Request::GetAcl { path }
        | Request::SetAcl { path, .. } => Some(path),
        _ => None,
    }
}

fn stat_of(response: &Response) -> Option<&Stat> {
    match response {
        Response::Exists { stat }
        | Response::GetData { stat, .. }
        | Response::SetData { stat }
        | Response::GetAcl { stat, .. }
        | Response::SetAcl { stat } => Some(stat),
        _ => None,
    }
}
