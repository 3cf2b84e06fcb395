//! The driver: drops operations that cannot matter, partitions the rest by the objects they
//! touch (P-compositionality: operations that share a key land in one partition, and a
//! history is linearizable iff every partition is), and searches every partition — all of
//! them, never stopping at the first illegal one, so each key gets its own verdict.

use super::append_log::{Decision, Reason};
use super::model::{Model, Op};
use super::wgl::{search, Budget, SearchResult, SearchStats};
use super::windows::{search_windows, WindowedResult};
use super::witness::verify;
use std::collections::BTreeMap;

/// A verdict on a history or a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// A linearization exists (witness found).
    Linearizable,
    /// No linearization exists.
    NotLinearizable,
    /// The search budget ran out before deciding.
    Undecided,
}

impl Verdict {
    /// The JSON / CLI name: `linearizable`, `not_linearizable`, `undecided`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Linearizable => "linearizable",
            Verdict::NotLinearizable => "not_linearizable",
            Verdict::Undecided => "undecided",
        }
    }
}

/// How to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// Partition by the keys operations touch (on by default).
    pub partition: bool,
    /// The budget of each partition's search.
    pub budget: Budget,
    /// Let the model's own decision procedure ([`Model::decide`]) answer first (on by
    /// default); off, every partition is searched.
    pub deciders: bool,
    /// Search growing windows of each partition before the whole ([`super::windows`]; on by
    /// default).
    pub windows: bool,
}

/// How a partition was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// The WGL search ([`super::wgl`]).
    Search,
    /// The model's decision procedure ([`Model::decide`]).
    Decider,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            partition: true,
            budget: Budget::default(),
            deciders: true,
            windows: true,
        }
    }
}

/// One partition's outcome. Operation numbers index the history's `ops`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionReport {
    /// The keys of the partition, sorted.
    pub keys: Vec<String>,
    /// Its operations, in history order.
    pub ops: Vec<usize>,
    /// Its verdict.
    pub verdict: Verdict,
    /// The witness order (linearizable) or the longest linearizable prefix (otherwise).
    pub order: Vec<usize>,
    /// Work done (zero for a decider).
    pub stats: SearchStats,
    /// Who decided.
    pub method: Method,
    /// The operations a decider's proof names (history numbers; empty if none).
    pub witness: Vec<usize>,
    /// Why a violation is one, when more than the longest prefix says it: a decider's
    /// contradicting operations by line, or the failing window ([`super::windows`]).
    pub proof: Option<String>,
}

/// The outcome of checking a whole history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// Not linearizable if any partition is; else undecided if any is; else linearizable.
    pub verdict: Verdict,
    /// Every partition, ordered by its first operation.
    pub partitions: Vec<PartitionReport>,
    /// Operations dropped before the search (unknown-outcome reads): they constrain nothing.
    pub dropped: Vec<usize>,
}

impl CheckReport {
    /// The first non-linearizable partition (else the first undecided one).
    pub fn worst_partition(&self) -> Option<&PartitionReport> {
        let bad = self
            .partitions
            .iter()
            .find(|p| p.verdict == Verdict::NotLinearizable);
        bad.or_else(|| {
            self.partitions
                .iter()
                .find(|p| p.verdict == Verdict::Undecided)
        })
    }
}

/// Checks `ops` against `model`.
pub fn check<M: Model>(
    model: &M,
    ops: &[Op<M::Input, M::Output>],
    options: CheckOptions,
) -> CheckReport {
    let mut dropped = Vec::new();
    let mut kept = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if !op.is_determinate() && model.unknown_is_noop(&op.input) {
            dropped.push(i);
        } else {
            kept.push(i);
        }
    }
    let groups = if options.partition {
        partitions(model, ops, &kept)
    } else {
        vec![(Vec::new(), kept)]
    };
    let mut reports = Vec::with_capacity(groups.len());
    for (keys, members) in groups {
        let local: Vec<&Op<M::Input, M::Output>> = members.iter().map(|&i| &ops[i]).collect();
        let mut witness: Vec<usize> = Vec::new();
        let decided = if options.deciders {
            model.decide(&local)
        } else {
            None
        };
        let (verdict, order, stats, method, proof) = match decided {
            Some(Decision::Linearizable { order }) => {
                if let Err(e) = verify(model, &local, &order) {
                    panic!("the decider's witness for partition {keys:?} is wrong: {e}");
                }
                let stats = SearchStats::default();
                (Verdict::Linearizable, order, stats, Method::Decider, None)
            }
            Some(Decision::Illegal { reason }) => {
                let proof = explain(model, &local, &reason);
                witness = reason.ops.clone();
                let stats = SearchStats::default();
                (
                    Verdict::NotLinearizable,
                    Vec::new(),
                    stats,
                    Method::Decider,
                    Some(proof),
                )
            }
            None => {
                let found = if options.windows {
                    search_windows(model, &local, options.budget, options.deciders)
                } else {
                    let (result, stats) = search(model, &local, options.budget);
                    WindowedResult {
                        result,
                        stats,
                        window: None,
                        reason: None,
                    }
                };
                let (verdict, order) = match found.result {
                    SearchResult::Linearizable { order } => (Verdict::Linearizable, order),
                    SearchResult::Illegal { longest } => (Verdict::NotLinearizable, longest),
                    SearchResult::Undecided { longest } => (Verdict::Undecided, longest),
                };
                if let Some(r) = &found.reason {
                    witness = r.ops.clone();
                }
                let proof = found.window.map(|w| {
                    let why = found.reason.as_ref().map_or(String::new(), |r| {
                        format!(": {}", explain(model, &local, r))
                    });
                    format!(
                        "the first {w} operations by invocation are already not linearizable{why}"
                    )
                });
                (verdict, order, found.stats, Method::Search, proof)
            }
        };
        reports.push(PartitionReport {
            keys,
            order: order.iter().map(|&l| members[l]).collect(),
            witness: witness.iter().map(|&l| members[l]).collect(),
            ops: members,
            verdict,
            stats,
            method,
            proof,
        });
    }
    let verdict = combine(reports.iter().map(|p| p.verdict));
    CheckReport {
        verdict,
        partitions: reports,
        dropped,
    }
}

/// A decider's reason with each `{k}` replaced by the operation and its line.
fn explain<M: Model>(model: &M, ops: &[&Op<M::Input, M::Output>], reason: &Reason) -> String {
    let mut text = reason.what.to_string();
    for (k, &i) in reason.ops.iter().enumerate() {
        let op = ops[i];
        let name = format!(
            "`{}` (line {})",
            model.describe_op(&op.input, op.output.as_ref()),
            op.line
        );
        text = text.replace(&format!("{{{k}}}"), &name);
    }
    text
}

fn combine(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    let mut overall = Verdict::Linearizable;
    for v in verdicts {
        match v {
            Verdict::NotLinearizable => return Verdict::NotLinearizable,
            Verdict::Undecided => overall = Verdict::Undecided,
            Verdict::Linearizable => {}
        }
    }
    overall
}

/// Connected components of "operation touches key", ordered by first operation.
fn partitions<M: Model>(
    model: &M,
    ops: &[Op<M::Input, M::Output>],
    kept: &[usize],
) -> Vec<(Vec<String>, Vec<usize>)> {
    let mut key_ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut op_key: Vec<usize> = Vec::with_capacity(kept.len());
    for &i in kept {
        let keys = model.keys(&ops[i].input);
        let mut first = None;
        for key in keys {
            let next_id = key_ids.len();
            let id = *key_ids.entry(key).or_insert_with(|| {
                parent.push(next_id);
                next_id
            });
            match first {
                None => first = Some(id),
                Some(f) => union(&mut parent, f, id),
            }
        }
        let id = first.unwrap_or_else(|| {
            let next_id = key_ids.len();
            *key_ids.entry(String::new()).or_insert_with(|| {
                parent.push(next_id);
                next_id
            })
        });
        op_key.push(id);
    }
    let mut groups: BTreeMap<usize, (Vec<String>, Vec<usize>)> = BTreeMap::new();
    let mut root_order: BTreeMap<usize, usize> = BTreeMap::new();
    for (k, &i) in kept.iter().enumerate() {
        let root = find(&mut parent, op_key[k]);
        let rank = root_order.len();
        let rank = *root_order.entry(root).or_insert(rank);
        groups.entry(rank).or_default().1.push(i);
    }
    for (key, id) in &key_ids {
        let root = find(&mut parent, *id);
        if let Some(rank) = root_order.get(&root) {
            if let Some(group) = groups.get_mut(rank) {
                group.0.push(key.clone());
            }
        }
    }
    groups.into_values().collect()
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}
