//! Building one request of a chosen [`OpKind`]: paths from the key space, a unique value per
//! write, and — for conditional ops — the version this client last saw.

use super::config::KeySpace;
use super::keys::{below, child_of, parent_of, pick_key};
use super::seen::Seen;
use zabsim_protocol::acl::{perms, Acl};
use zabsim_protocol::request::{AddWatchMode, CreateMode, MultiOp, Request, WatcherType};

/// Every kind of operation the mix can weigh, in [`super::OpMix::weights`] order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum OpKind {
    Create,
    CreateSequential,
    CreateEphemeral,
    CreateEphemeralSequential,
    CreateContainer,
    CreateTtl,
    CreateSequentialTtl,
    Delete,
    DeleteVersioned,
    SetData,
    SetDataVersioned,
    GetData,
    GetDataWatch,
    Exists,
    ExistsWatch,
    GetChildren,
    GetChildrenWatch,
    GetChildren2,
    Multi,
    MultiRead,
    Sync,
    GetAcl,
    SetAcl,
    AddWatch,
    AddWatchRecursive,
    RemoveWatches,
    GetEphemerals,
    GetAllChildrenNumber,
}

impl OpKind {
    /// Every kind, in weight order.
    pub const ALL: [OpKind; 28] = [
        OpKind::Create,
        OpKind::CreateSequential,
        OpKind::CreateEphemeral,
        OpKind::CreateEphemeralSequential,
        OpKind::CreateContainer,
        OpKind::CreateTtl,
        OpKind::CreateSequentialTtl,
        OpKind::Delete,
        OpKind::DeleteVersioned,
        OpKind::SetData,
        OpKind::SetDataVersioned,
        OpKind::GetData,
        OpKind::GetDataWatch,
        OpKind::Exists,
        OpKind::ExistsWatch,
        OpKind::GetChildren,
        OpKind::GetChildrenWatch,
        OpKind::GetChildren2,
        OpKind::Multi,
        OpKind::MultiRead,
        OpKind::Sync,
        OpKind::GetAcl,
        OpKind::SetAcl,
        OpKind::AddWatch,
        OpKind::AddWatchRecursive,
        OpKind::RemoveWatches,
        OpKind::GetEphemerals,
        OpKind::GetAllChildrenNumber,
    ];

    /// The kind a generated request was drawn as (the inverse of [`build`], for tests and
    /// metrics).
    pub fn of(request: &Request) -> OpKind {
        match request {
            Request::Create { flags, .. } => match CreateMode::from_flag(*flags) {
                Some(CreateMode::PersistentSequential) => OpKind::CreateSequential,
                Some(CreateMode::Ephemeral) => OpKind::CreateEphemeral,
                Some(CreateMode::EphemeralSequential) => OpKind::CreateEphemeralSequential,
                Some(CreateMode::Container) => OpKind::CreateContainer,
                Some(CreateMode::PersistentWithTtl) => OpKind::CreateTtl,
                Some(CreateMode::PersistentSequentialWithTtl) => OpKind::CreateSequentialTtl,
                Some(CreateMode::Persistent) | None => OpKind::Create,
            },
            Request::Delete { version, .. } if *version >= 0 => OpKind::DeleteVersioned,
            Request::Delete { .. } => OpKind::Delete,
            Request::SetData { version, .. } if *version >= 0 => OpKind::SetDataVersioned,
            Request::SetData { .. } => OpKind::SetData,
            Request::GetData { watch: true, .. } => OpKind::GetDataWatch,
            Request::GetData { .. } => OpKind::GetData,
            Request::Exists { watch: true, .. } => OpKind::ExistsWatch,
            Request::Exists { .. } => OpKind::Exists,
            Request::GetChildren {
                with_stat: true, ..
            } => OpKind::GetChildren2,
            Request::GetChildren { watch: true, .. } => OpKind::GetChildrenWatch,
            Request::GetChildren { .. } => OpKind::GetChildren,
            Request::Multi { .. } => OpKind::Multi,
            Request::MultiRead { .. } => OpKind::MultiRead,
            Request::Sync { .. } => OpKind::Sync,
            Request::GetAcl { .. } => OpKind::GetAcl,
            Request::SetAcl { .. } => OpKind::SetAcl,
            Request::AddWatch {
                mode: AddWatchMode::Persistent,
                ..
            } => OpKind::AddWatch,
            Request::AddWatch { .. } => OpKind::AddWatchRecursive,
            Request::RemoveWatches { .. } | Request::CheckWatches { .. } => OpKind::RemoveWatches,
            Request::GetEphemerals { .. } => OpKind::GetEphemerals,
            Request::GetAllChildrenNumber { .. } | Request::AddAuth { .. } => {
                OpKind::GetAllChildrenNumber
            }
        }
    }
}

/// What building a request needs besides the kind.
pub(crate) struct Draw<'a, R: FnMut() -> u64> {
    pub keys: &'a KeySpace,
    pub rng: &'a mut R,
    pub seen: &'a Seen,
    /// Hands out the next unique value.
    pub value: &'a mut dyn FnMut() -> Vec<u8>,
}

impl<R: FnMut() -> u64> Draw<'_, R> {
    fn key(&mut self) -> String {
        pick_key(self.keys, self.rng)
    }

    /// A delete target: half the time a node this client saw created (sequential names
    /// included), otherwise a key.
    fn delete_target(&mut self) -> String {
        if below(self.rng, 2) == 0 {
            if let Some(path) = self.seen.pick_known(self.rng) {
                return path;
            }
        }
        self.key()
    }

    fn create(&mut self, mode: CreateMode) -> Request {
        let key = self.key();
        let path = if mode.is_sequential() {
            child_of(parent_of(&key), "seq-")
        } else {
            key
        };
        Request::Create {
            path,
            data: Some((self.value)()),
            acl: Acl::open_unsafe(),
            flags: mode.flag(),
            ttl: if mode.is_ttl() { self.keys.ttl_ms } else { -1 },
            with_stat: true,
        }
    }

    fn multi(&mut self) -> Request {
        let n = self.sub_op_count();
        let ops = (0..n)
            .map(|_| {
                let path = self.key();
                match below(self.rng, 4) {
                    0 => MultiOp::Create2 {
                        path,
                        data: Some((self.value)()),
                        acl: Acl::open_unsafe(),
                        flags: CreateMode::Persistent.flag(),
                    },
                    1 => MultiOp::SetData {
                        version: self.seen.version_or_new(&path),
                        data: Some((self.value)()),
                        path,
                    },
                    2 => MultiOp::Delete { version: -1, path },
                    _ => MultiOp::Check {
                        version: self.seen.version_or_new(&path),
                        path,
                    },
                }
            })
            .collect();
        Request::Multi { ops }
    }

    fn multi_read(&mut self) -> Request {
        let n = self.sub_op_count();
        let ops = (0..n)
            .map(|_| {
                let path = self.key();
                if below(self.rng, 2) == 0 {
                    MultiOp::GetData { path }
                } else {
                    MultiOp::GetChildren { path }
                }
            })
            .collect();
        Request::MultiRead { ops }
    }

    fn sub_op_count(&mut self) -> u32 {
        let span = self.keys.multi_ops_max - self.keys.multi_ops_min;
        self.keys.multi_ops_min + below(self.rng, u64::from(span) + 1) as u32
    }
}

/// Builds one request of `kind`.
pub(crate) fn build<R: FnMut() -> u64>(kind: OpKind, d: &mut Draw<'_, R>) -> Request {
    match kind {
        OpKind::Create => d.create(CreateMode::Persistent),
        OpKind::CreateSequential => d.create(CreateMode::PersistentSequential),
        OpKind::CreateEphemeral => d.create(CreateMode::Ephemeral),
        OpKind::CreateEphemeralSequential => d.create(CreateMode::EphemeralSequential),
        OpKind::CreateContainer => d.create(CreateMode::Container),
        OpKind::CreateTtl => d.create(CreateMode::PersistentWithTtl),
        OpKind::CreateSequentialTtl => d.create(CreateMode::PersistentSequentialWithTtl),
        OpKind::Delete | OpKind::DeleteVersioned => {
            let path = d.delete_target();
            let version = match kind {
                OpKind::Delete => -1,
                _ => d.seen.version_or_new(&path),
            };
            Request::Delete { path, version }
        }
        OpKind::SetData | OpKind::SetDataVersioned => {
            let path = d.key();
            let version = match kind {
                OpKind::SetData => -1,
                _ => d.seen.version_or_new(&path),
            };
            let data = Some((d.value)());
            Request::SetData {
                path,
                data,
                version,
            }
        }
        _ => build_read_or_admin(kind, d),
    }
}

fn build_read_or_admin<R: FnMut() -> u64>(kind: OpKind, d: &mut Draw<'_, R>) -> Request {
    let path = d.key();
    match kind {
        OpKind::GetData | OpKind::GetDataWatch => Request::GetData {
            path,
            watch: kind == OpKind::GetDataWatch,
        },
        OpKind::Exists | OpKind::ExistsWatch => Request::Exists {
            path,
            watch: kind == OpKind::ExistsWatch,
        },
        OpKind::GetChildren | OpKind::GetChildrenWatch | OpKind::GetChildren2 => {
            Request::GetChildren {
                path,
                watch: kind == OpKind::GetChildrenWatch,
                with_stat: kind == OpKind::GetChildren2,
            }
        }
        OpKind::Multi => d.multi(),
        OpKind::MultiRead => d.multi_read(),
        OpKind::Sync => Request::Sync { path },
        OpKind::GetAcl => Request::GetAcl { path },
        OpKind::SetAcl => Request::SetAcl {
            version: d.seen.aversion_or_new(&path),
            path,
            acl: vec![Acl::world(perms::ALL)],
        },
        OpKind::AddWatch | OpKind::AddWatchRecursive => Request::AddWatch {
            path,
            mode: if kind == OpKind::AddWatch {
                AddWatchMode::Persistent
            } else {
                AddWatchMode::PersistentRecursive
            },
        },
        OpKind::RemoveWatches => Request::RemoveWatches {
            path,
            watcher_type: WatcherType::Any,
        },
        OpKind::GetEphemerals => Request::GetEphemerals {
            prefix_path: d.keys.root.clone(),
        },
        OpKind::GetAllChildrenNumber => Request::GetAllChildrenNumber { path },
        _ => unreachable!("writes are built by build(): {kind:?}"),
    }
}

/// Every path a request names (for validation of scripted requests).
pub(crate) fn paths_of(request: &Request) -> Vec<&str> {
    match request {
        Request::Create { path, .. }
        | Request::Delete { path, .. }
        | Request::Exists { path, .. }
        | Request::GetData { path, .. }
        | Request::SetData { path, .. }
        | Request::GetAcl { path }
        | Request::SetAcl { path, .. }
        | Request::GetChildren { path, .. }
        | Request::Sync { path }
        | Request::AddWatch { path, .. }
        | Request::RemoveWatches { path, .. }
        | Request::CheckWatches { path, .. }
        | Request::GetAllChildrenNumber { path } => vec![path.as_str()],
        Request::GetEphemerals { prefix_path } => vec![prefix_path.as_str()],
        Request::Multi { ops } | Request::MultiRead { ops } => {
            ops.iter().map(multi_op_path).collect()
        }
        Request::AddAuth { .. } => Vec::new(),
    }
}

fn multi_op_path(op: &MultiOp) -> &str {
    match op {
        MultiOp::Create { path, .. }
        | MultiOp::Create2 { path, .. }
        | MultiOp::Delete { path, .. }
        | MultiOp::SetData { path, .. }
        | MultiOp::Check { path, .. }
        | MultiOp::GetData { path }
        | MultiOp::GetChildren { path } => path,
    }
}
