//! A znode tree over paths: ZooKeeper's `create` (incl. sequential names), `delete`,
//! `setData`, `getData`, `exists`, `getChildren`, `multi` (all-or-nothing) and `multiRead`,
//! with versions and definite error codes (`NONODE`, `NODEEXISTS`, `BADVERSION`, `NOTEMPTY`).
//!
//! This is our own small specification, independent of the protocol's data tree and of the
//! reference model of [`crate::reference`]. It judges **strict linearizability** of every
//! operation, reads included — stronger than ZooKeeper's contract, under which a plain read
//! served by a lagging follower may be stale (the `zk` consistency judge encodes that
//! contract). Ephemeral nodes are treated as persistent: their removal at session expiry is
//! not a client operation. ACLs, watches and sync do not change the tree and are not checked.
//!
//! Partitioning: an operation touches its path; `create` and `delete` also touch the parent
//! (existence, children, the sequence counter `cversion`), and so does any operation on a
//! path whose name ends in ten digits (it may have been created sequentially under that
//! parent). So every partition is closed under what a step reads and writes.

use crate::history::{History, Outcome};
use crate::lin::{Model, Op};
use std::collections::{BTreeMap, BTreeSet};
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::request::{CreateMode, MultiOp, OpResult, Request, Response};

/// The tree, initially just `/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ZnodeTree;

/// One znode.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Node {
    /// Its data.
    pub data: Option<Vec<u8>>,
    /// `version`.
    pub version: i32,
    /// `cversion` (the sequential-name counter).
    pub cversion: i32,
    /// Child names.
    pub children: BTreeSet<String>,
}

/// The tree (only the paths a partition touches; `/` exists when absent).
pub type Tree = BTreeMap<String, Option<Node>>;

/// A znode operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ZkInput {
    /// `create` (the path before any sequential suffix).
    Create {
        /// Path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// Sequential mode.
        sequential: bool,
    },
    /// `delete`.
    Delete {
        /// Path.
        path: String,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// `setData`.
    SetData {
        /// Path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// `check` (in a multi).
    Check {
        /// Path.
        path: String,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// `getData`.
    GetData {
        /// Path.
        path: String,
    },
    /// `exists`.
    Exists {
        /// Path.
        path: String,
    },
    /// `getChildren`.
    GetChildren {
        /// Path.
        path: String,
    },
    /// `multi` / `multiRead`.
    Multi(Vec<ZkInput>),
}

/// A znode result.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ZkOutput {
    /// Created at this path.
    Created(String),
    /// Deleted.
    Deleted,
    /// setData done; the new version.
    Set(i32),
    /// check passed.
    Checked,
    /// getData: data and version.
    Data(Option<Vec<u8>>, i32),
    /// exists: the version, `None` if absent (`NONODE`).
    Exists(Option<i32>),
    /// getChildren: sorted names.
    Children(Vec<String>),
    /// A multi's results.
    Multi(Vec<ZkOutput>),
    /// A definite error; nothing changed.
    Error(ErrorCode),
}

fn parent_of(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn looks_sequential(path: &str) -> bool {
    let name = name_of(path);
    name.len() >= 10 && name.bytes().rev().take(10).all(|b| b.is_ascii_digit())
}

fn node<'t>(tree: &'t Tree, path: &str) -> Option<std::borrow::Cow<'t, Node>> {
    match tree.get(path) {
        Some(n) => n.as_ref().map(std::borrow::Cow::Borrowed),
        None if path == "/" => Some(std::borrow::Cow::Owned(Node::default())),
        None => None,
    }
}

fn version_ok(expected: i32, actual: i32) -> bool {
    expected == -1 || expected == actual
}

/// Applies one operation; `Err` is the error ZooKeeper would give (tree unchanged then).
fn apply(tree: &mut Tree, input: &ZkInput, created: Option<&str>) -> Result<ZkOutput, ErrorCode> {
    match input {
        ZkInput::Create {
            path,
            data,
            sequential,
        } => {
            let parent_path = parent_of(path).ok_or(ErrorCode::BADARGUMENTS)?;
            let mut parent = node(tree, parent_path)
                .ok_or(ErrorCode::NONODE)?
                .into_owned();
            let full = if *sequential {
                format!("{path}{:010}", parent.cversion)
            } else {
                path.clone()
            };
            if created.is_some_and(|c| c != full) {
                return Err(ErrorCode::SYSTEMERROR);
            }
            if node(tree, &full).is_some() {
                return Err(ErrorCode::NODEEXISTS);
            }
            parent.cversion += 1;
            parent.children.insert(name_of(&full).to_string());
            tree.insert(parent_path.to_string(), Some(parent));
            tree.insert(
                full.clone(),
                Some(Node {
                    data: data.clone(),
                    ..Node::default()
                }),
            );
            Ok(ZkOutput::Created(full))
        }
        ZkInput::Delete { path, version } => {
            let n = node(tree, path).ok_or(ErrorCode::NONODE)?;
            if !version_ok(*version, n.version) {
                return Err(ErrorCode::BADVERSION);
            }
            if !n.children.is_empty() {
                return Err(ErrorCode::NOTEMPTY);
            }
            let parent_path = parent_of(path).ok_or(ErrorCode::BADARGUMENTS)?;
            let mut parent = node(tree, parent_path)
                .ok_or(ErrorCode::NONODE)?
                .into_owned();
            parent.cversion += 1;
            parent.children.remove(name_of(path));
            tree.insert(parent_path.to_string(), Some(parent));
            tree.insert(path.clone(), None);
            Ok(ZkOutput::Deleted)
        }
        ZkInput::SetData {
            path,
            data,
            version,
        } => {
            let mut n = node(tree, path).ok_or(ErrorCode::NONODE)?.into_owned();
            if !version_ok(*version, n.version) {
                return Err(ErrorCode::BADVERSION);
            }
            n.version += 1;
            n.data = data.clone();
            let v = n.version;
            tree.insert(path.clone(), Some(n));
            Ok(ZkOutput::Set(v))
        }
        ZkInput::Check { path, version } => {
            let n = node(tree, path).ok_or(ErrorCode::NONODE)?;
            if version_ok(*version, n.version) {
                Ok(ZkOutput::Checked)
            } else {
                Err(ErrorCode::BADVERSION)
            }
        }
        ZkInput::GetData { path } => {
            let n = node(tree, path).ok_or(ErrorCode::NONODE)?;
            Ok(ZkOutput::Data(n.data.clone(), n.version))
        }
        ZkInput::Exists { path } => Ok(ZkOutput::Exists(node(tree, path).map(|n| n.version))),
        ZkInput::GetChildren { path } => {
            let n = node(tree, path).ok_or(ErrorCode::NONODE)?;
            Ok(ZkOutput::Children(n.children.iter().cloned().collect()))
        }
        ZkInput::Multi(ops) => apply_multi(tree, ops),
    }
}

fn apply_multi(tree: &mut Tree, ops: &[ZkInput]) -> Result<ZkOutput, ErrorCode> {
    let mut scratch = tree.clone();
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        results.push(apply(&mut scratch, op, None)?);
    }
    *tree = scratch;
    Ok(ZkOutput::Multi(results))
}

/// Whether `got` matches what the model computed (`want`); a created path is compared exactly.
fn matches(want: &ZkOutput, got: &ZkOutput) -> bool {
    match (want, got) {
        (ZkOutput::Multi(a), ZkOutput::Multi(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches(x, y))
        }
        _ => want == got,
    }
}

impl Model for ZnodeTree {
    type State = Tree;
    type Input = ZkInput;
    type Output = ZkOutput;

    fn init(&self) -> Tree {
        Tree::new()
    }

    fn step(&self, s: &Tree, input: &ZkInput, output: Option<&ZkOutput>) -> Option<Tree> {
        let mut next = s.clone();
        let created = match output {
            Some(ZkOutput::Created(path)) => Some(path.as_str()),
            _ => None,
        };
        let result = apply(&mut next, input, created);
        match (output, result) {
            (None, Ok(_)) => Some(next),
            (None, Err(_)) => Some(s.clone()),
            (Some(ZkOutput::Error(code)), Err(e)) => (*code == e).then(|| s.clone()),
            (Some(ZkOutput::Exists(None)), Ok(ZkOutput::Exists(None))) => Some(next),
            (Some(got), Ok(want)) => matches(&want, got).then_some(next),
            (Some(_), Err(_)) => None,
        }
    }

    fn is_read_only(&self, input: &ZkInput, output: Option<&ZkOutput>) -> bool {
        matches!(output, Some(ZkOutput::Error(_))) || self.unknown_is_noop(input)
    }

    fn unknown_is_noop(&self, input: &ZkInput) -> bool {
        match input {
            ZkInput::GetData { .. } | ZkInput::Exists { .. } | ZkInput::GetChildren { .. } => true,
            ZkInput::Check { .. } => true,
            ZkInput::Multi(ops) => ops.iter().all(|op| self.unknown_is_noop(op)),
            _ => false,
        }
    }

    fn keys(&self, input: &ZkInput) -> Vec<String> {
        let mut keys = Vec::new();
        collect_keys(input, &mut keys);
        keys
    }

    fn describe_op(&self, input: &ZkInput, output: Option<&ZkOutput>) -> String {
        let result = output.map_or("?".to_string(), |o| format!("{o:?}"));
        format!("{input:?} → {result}")
    }

    fn describe_state(&self, s: &Tree) -> String {
        format!("{s:?}")
    }
}

fn collect_keys(input: &ZkInput, keys: &mut Vec<String>) {
    let (path, structural) = match input {
        ZkInput::Create { path, .. } => (path, true),
        ZkInput::Delete { path, .. } => (path, true),
        ZkInput::SetData { path, .. }
        | ZkInput::Check { path, .. }
        | ZkInput::GetData { path }
        | ZkInput::Exists { path }
        | ZkInput::GetChildren { path } => (path, false),
        ZkInput::Multi(ops) => {
            ops.iter().for_each(|op| collect_keys(op, keys));
            return;
        }
    };
    keys.push(path.clone());
    if structural || looks_sequential(path) {
        if let Some(parent) = parent_of(path) {
            keys.push(parent.to_string());
        }
    }
}

/// Converts a zabsim history. Requests that do not touch the tree (ACLs, watches, auth, sync,
/// ephemerals listings) are left out, as are writes that got a definite error other than the
/// four the model explains (they did not happen).
pub fn ops(history: &History) -> Vec<Op<ZkInput, ZkOutput>> {
    let mut ops = Vec::new();
    for op in &history.ops {
        let inv = &op.invocation;
        let Some(input) = input(&inv.request) else {
            continue;
        };
        let (output, ret) = match (op.outcome(), &op.completion) {
            (Some(Outcome::Ok { response, .. }), Some(c)) => match output(response) {
                Some(o) => (Some(o), Some(c.time_ns)),
                None => continue,
            },
            (Some(Outcome::Error { err, .. }), Some(c)) => match (&input, *err) {
                (ZkInput::Exists { .. }, ErrorCode::NONODE) => {
                    (Some(ZkOutput::Exists(None)), Some(c.time_ns))
                }
                (_, e) if is_semantic(e) => (Some(ZkOutput::Error(e)), Some(c.time_ns)),
                _ => continue,
            },
            _ => (None, None),
        };
        ops.push(Op {
            client: u64::from(inv.client.0),
            input,
            output,
            call: inv.time_ns,
            ret,
            line: op.invoke_line,
        });
    }
    ops
}

fn is_semantic(err: ErrorCode) -> bool {
    matches!(
        err,
        ErrorCode::NONODE | ErrorCode::NODEEXISTS | ErrorCode::BADVERSION | ErrorCode::NOTEMPTY
    )
}

fn input(request: &Request) -> Option<ZkInput> {
    Some(match request {
        Request::Create {
            path, data, flags, ..
        } => ZkInput::Create {
            path: path.clone(),
            data: data.clone(),
            sequential: CreateMode::from_flag(*flags).is_some_and(CreateMode::is_sequential),
        },
        Request::Delete { path, version } => ZkInput::Delete {
            path: path.clone(),
            version: *version,
        },
        Request::SetData {
            path,
            data,
            version,
        } => ZkInput::SetData {
            path: path.clone(),
            data: data.clone(),
            version: *version,
        },
        Request::GetData { path, .. } => ZkInput::GetData { path: path.clone() },
        Request::Exists { path, .. } => ZkInput::Exists { path: path.clone() },
        Request::GetChildren { path, .. } => ZkInput::GetChildren { path: path.clone() },
        Request::Multi { ops } | Request::MultiRead { ops } => {
            ZkInput::Multi(ops.iter().map(multi_input).collect::<Option<Vec<_>>>()?)
        }
        _ => return None,
    })
}

fn multi_input(op: &MultiOp) -> Option<ZkInput> {
    Some(match op {
        MultiOp::Create {
            path, data, flags, ..
        }
        | MultiOp::Create2 {
            path, data, flags, ..
        } => ZkInput::Create {
            path: path.clone(),
            data: data.clone(),
            sequential: CreateMode::from_flag(*flags).is_some_and(CreateMode::is_sequential),
        },
        MultiOp::Delete { path, version } => ZkInput::Delete {
            path: path.clone(),
            version: *version,
        },
        MultiOp::SetData {
            path,
            data,
            version,
        } => ZkInput::SetData {
            path: path.clone(),
            data: data.clone(),
            version: *version,
        },
        MultiOp::Check { path, version } => ZkInput::Check {
            path: path.clone(),
            version: *version,
        },
        MultiOp::GetData { path } => ZkInput::GetData { path: path.clone() },
        MultiOp::GetChildren { path } => ZkInput::GetChildren { path: path.clone() },
    })
}

fn output(response: &Response) -> Option<ZkOutput> {
    Some(match response {
        Response::Create { path, .. } => ZkOutput::Created(path.clone()),
        Response::Delete => ZkOutput::Deleted,
        Response::Exists { stat } => ZkOutput::Exists(Some(stat.version)),
        Response::GetData { data, stat } => ZkOutput::Data(data.clone(), stat.version),
        Response::SetData { stat } => ZkOutput::Set(stat.version),
        Response::GetChildren { children, .. } => {
            let mut sorted = children.clone();
            sorted.sort();
            ZkOutput::Children(sorted)
        }
        Response::Multi { results } => {
            ZkOutput::Multi(results.iter().map(op_result).collect::<Option<Vec<_>>>()?)
        }
        _ => return None,
    })
}

fn op_result(result: &OpResult) -> Option<ZkOutput> {
    Some(match result {
        OpResult::Create { path, .. } => ZkOutput::Created(path.clone()),
        OpResult::Delete => ZkOutput::Deleted,
        OpResult::SetData { stat } => ZkOutput::Set(stat.version),
        OpResult::Check => ZkOutput::Checked,
        OpResult::GetData { data, stat } => ZkOutput::Data(data.clone(), stat.version),
        OpResult::GetChildren { children } => {
            let mut sorted = children.clone();
            sorted.sort();
            ZkOutput::Children(sorted)
        }
        OpResult::Error { .. } => return None,
    })
}
