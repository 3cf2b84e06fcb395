//! Model selection by name and checking a loaded history file end to end: what
//! `zabsim check` and the corpus tests call.

use super::check::{check, CheckOptions, CheckReport, Verdict};
use super::model::{Model, Op};
use super::models::{cas_register, kv, multi_register, mutex, znode};
use super::timeline;
use crate::formats::raw::Dialect;
use crate::formats::Loaded;
use crate::history::HistoryError;

/// The models `zabsim check --model` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    /// The znode tree ([`znode::ZnodeTree`]), for zabsim histories.
    Zookeeper,
    /// A compare-and-set register ([`cas_register::CasRegister`]).
    CasRegister,
    /// A key-value store ([`kv::Kv`]).
    Kv,
    /// Transactions over registers ([`multi_register::MultiRegister`]).
    MultiRegister,
    /// A mutex ([`mutex::Mutex`]).
    Mutex,
}

impl ModelName {
    /// Parses `zookeeper|cas-register|kv|multi-register|mutex`.
    pub fn parse(name: &str) -> Option<ModelName> {
        Some(match name {
            "zookeeper" => ModelName::Zookeeper,
            "cas-register" => ModelName::CasRegister,
            "kv" => ModelName::Kv,
            "multi-register" => ModelName::MultiRegister,
            "mutex" => ModelName::Mutex,
            _ => return None,
        })
    }
}

/// Initial register values; `None` takes the format's convention: `nil` for Jepsen logs
/// (Porcupine's etcd model), `0` for EDN (Knossos's `test-examples`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Initial {
    /// The register's (or every register's) initial value; `Some(None)` = nil.
    pub value: Option<Option<i64>>,
}

/// The outcome of checking one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCheck {
    /// The verdict.
    pub verdict: Verdict,
    /// Operations given to the search.
    pub ops: usize,
    /// The full report.
    pub report: CheckReport,
    /// An SVG timeline of the failing (or undecided) window, when not linearizable.
    pub timeline: Option<String>,
}

/// A loaded history converted to one model's operations, ready to check (what a benchmark
/// times: the check alone, without reading, converting or drawing).
#[derive(Clone, Debug)]
pub enum Prepared {
    /// Znode-tree operations.
    Zookeeper(Vec<Op<znode::ZkInput, znode::ZkOutput>>),
    /// Register operations and the register's initial value.
    CasRegister(
        cas_register::CasRegister,
        Vec<Op<cas_register::RegisterInput, cas_register::RegisterOutput>>,
    ),
    /// Key-value operations.
    Kv(Vec<Op<kv::KvInput, kv::KvOutput>>),
    /// Transactions over registers.
    MultiRegister(
        multi_register::MultiRegister,
        Vec<Op<multi_register::Txn, multi_register::Txn>>,
    ),
    /// Mutex operations.
    Mutex(Vec<Op<mutex::MutexInput, ()>>),
}

impl Prepared {
    /// Converts `loaded` for `model` (the same conversion as [`check_loaded`]).
    pub fn new(
        loaded: &Loaded,
        model: ModelName,
        initial: Initial,
    ) -> Result<Prepared, HistoryError> {
        let mismatch = |what: &str| {
            HistoryError::new(
                0,
                "model",
                format!("the {what} model needs a Jepsen log or EDN history, not a zabsim history"),
            )
        };
        Ok(match (model, loaded) {
            (ModelName::Zookeeper, Loaded::Zabsim(history)) => {
                Prepared::Zookeeper(znode::ops(history))
            }
            (ModelName::Zookeeper, Loaded::Jepsen(_)) => {
                return Err(HistoryError::new(
                    0,
                    "model",
                    "the zookeeper model needs a zabsim JSON Lines history",
                ))
            }
            (ModelName::CasRegister, Loaded::Jepsen(raw)) => {
                let default = match raw.dialect {
                    Dialect::JepsenLog => None,
                    Dialect::Knossos => Some(0),
                };
                let model = cas_register::CasRegister {
                    initial: initial.value.unwrap_or(default),
                };
                Prepared::CasRegister(model, cas_register::ops(raw)?)
            }
            (ModelName::Kv, Loaded::Jepsen(raw)) => Prepared::Kv(kv::ops(raw)?),
            (ModelName::MultiRegister, Loaded::Jepsen(raw)) => {
                let model = multi_register::MultiRegister {
                    initial: initial.value.flatten().unwrap_or(0),
                };
                Prepared::MultiRegister(model, multi_register::ops(raw)?)
            }
            (ModelName::Mutex, Loaded::Jepsen(raw)) => Prepared::Mutex(mutex::ops(raw)?),
            (ModelName::CasRegister, _) => return Err(mismatch("cas-register")),
            (ModelName::Kv, _) => return Err(mismatch("kv")),
            (ModelName::MultiRegister, _) => return Err(mismatch("multi-register")),
            (ModelName::Mutex, _) => return Err(mismatch("mutex")),
        })
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        match self {
            Prepared::Zookeeper(ops) => ops.len(),
            Prepared::CasRegister(_, ops) => ops.len(),
            Prepared::Kv(ops) => ops.len(),
            Prepared::MultiRegister(_, ops) => ops.len(),
            Prepared::Mutex(ops) => ops.len(),
        }
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the operations.
    pub fn check(&self, options: CheckOptions) -> CheckReport {
        match self {
            Prepared::Zookeeper(ops) => check(&znode::ZnodeTree, ops, options),
            Prepared::CasRegister(model, ops) => check(model, ops, options),
            Prepared::Kv(ops) => check(&kv::Kv, ops, options),
            Prepared::MultiRegister(model, ops) => check(model, ops, options),
            Prepared::Mutex(ops) => check(&mutex::Mutex, ops, options),
        }
    }
}

/// Checks a loaded history with the named model.
pub fn check_loaded(
    loaded: &Loaded,
    model: ModelName,
    initial: Initial,
    options: CheckOptions,
    title: &str,
) -> Result<FileCheck, HistoryError> {
    let mismatch = |what: &str| {
        HistoryError::new(
            0,
            "model",
            format!("the {what} model needs a Jepsen log or EDN history, not a zabsim history"),
        )
    };
    match (model, loaded) {
        (ModelName::Zookeeper, Loaded::Zabsim(history)) => Ok(finish(
            &znode::ZnodeTree,
            &znode::ops(history),
            options,
            title,
        )),
        (ModelName::Zookeeper, Loaded::Jepsen(_)) => Err(HistoryError::new(
            0,
            "model",
            "the zookeeper model needs a zabsim JSON Lines history",
        )),
        (ModelName::CasRegister, Loaded::Jepsen(raw)) => {
            let default = match raw.dialect {
                Dialect::JepsenLog => None,
                Dialect::Knossos => Some(0),
            };
            let model = cas_register::CasRegister {
                initial: initial.value.unwrap_or(default),
            };
            Ok(finish(&model, &cas_register::ops(raw)?, options, title))
        }
        (ModelName::Kv, Loaded::Jepsen(raw)) => Ok(finish(&kv::Kv, &kv::ops(raw)?, options, title)),
        (ModelName::MultiRegister, Loaded::Jepsen(raw)) => {
            let model = multi_register::MultiRegister {
                initial: initial.value.flatten().unwrap_or(0),
            };
            Ok(finish(&model, &multi_register::ops(raw)?, options, title))
        }
        (ModelName::Mutex, Loaded::Jepsen(raw)) => {
            Ok(finish(&mutex::Mutex, &mutex::ops(raw)?, options, title))
        }
        (ModelName::CasRegister, _) => Err(mismatch("cas-register")),
        (ModelName::Kv, _) => Err(mismatch("kv")),
        (ModelName::MultiRegister, _) => Err(mismatch("multi-register")),
        (ModelName::Mutex, _) => Err(mismatch("mutex")),
    }
}

fn finish<M: Model>(
    model: &M,
    ops: &[Op<M::Input, M::Output>],
    options: CheckOptions,
    title: &str,
) -> FileCheck {
    let report = check(model, ops, options);
    let timeline = match report.verdict {
        Verdict::Linearizable => None,
        _ => report.worst_partition().map(|p| {
            let heading = format!("{title}: {}", report.verdict.name());
            timeline::render(model, ops, p, &heading)
        }),
    };
    FileCheck {
        verdict: report.verdict,
        ops: ops.len(),
        report,
        timeline,
    }
}
