//! Smallest failing window first: search growing prefixes of a partition (by invocation)
//! before the whole of it, so that a violation early in a long history is found by a small
//! search instead of a search that must first exhaust every interleaving of what follows.
//!
//! The window up to time `T` keeps every operation invoked at or before `T`; one that returned
//! after `T` (or never) becomes an unknown outcome there (it may or may not have taken effect).
//! **A window is a relaxation of the history**: take any linearization of the history and keep
//! the window's operations. A kept operation with a known outcome returned by `T`, so
//! everything linearized before it was invoked by `T` and is kept too; it sees the same state
//! and gives the same result, and real-time order is inherited. Unknown outcomes constrain
//! nothing. So a window that is not linearizable proves the history is not; a linearizable
//! window proves nothing, and the next, larger window is searched, up to the whole partition.

use super::append_log::{Decision, Reason};
use super::model::{Model, Op};
use super::wgl::{search, Budget, SearchResult, SearchStats};

/// The first window's size (operations); each next one grows by a quarter, at least by
/// [`WINDOW_STEP`].
pub const FIRST_WINDOW: usize = 16;
/// Steps of the first, short search of the whole partition (before any window).
pub const QUICK_STEPS: u64 = 20_000;
/// Partitions of at most this many operations skip the searched windows: their whole search
/// is hardly bigger than a window's (the etcd histories, about 80 operations, took twice as
/// long with them).
pub const MIN_WINDOWED: usize = 100;
/// The least growth from one window to the next.
pub const WINDOW_STEP: usize = 8;

/// The outcome of a windowed search: the result on the smallest window that decided a
/// violation (or the whole partition), the work summed over every window searched, and the
/// window's size when one smaller than the partition failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowedResult {
    /// The result; operation numbers index the partition's slice. For a failing window,
    /// `longest` is a linearizable prefix of that window.
    pub result: SearchResult,
    /// Work summed over the windows.
    pub stats: SearchStats,
    /// The size of the failing window, when it is smaller than the partition.
    pub window: Option<usize>,
    /// The model's decider's proof, when it decided the failing window
    /// ([`Model::decide`] is tried on every window first); operations index the partition.
    pub reason: Option<Reason>,
}

/// Decides a partition, smallest failing window first:
/// 1. with `decider`, the model's own decision procedure on growing windows, while it can
///    answer and finds them linearizable (it is polynomial: a failing window ends the check);
/// 2. a short search ([`QUICK_STEPS`]) of the whole partition, which decides most;
/// 3. for partitions of more than [`MIN_WINDOWED`] operations, the search on growing windows
///    from [`FIRST_WINDOW`] operations; then the search of the whole.
///
/// The budget applies to each search.
pub fn search_windows<M: Model>(
    model: &M,
    ops: &[&Op<M::Input, M::Output>],
    budget: Budget,
    decider: bool,
) -> WindowedResult {
    let windows = Windows::new(ops);
    if decider {
        for (end, kept, window) in windows.iter(model) {
            let refs: Vec<&Op<M::Input, M::Output>> = window.iter().collect();
            match model.decide(&refs) {
                Some(Decision::Linearizable { .. }) => continue,
                Some(Decision::Illegal { mut reason }) => {
                    for op in &mut reason.ops {
                        *op = kept[*op];
                    }
                    return WindowedResult {
                        result: SearchResult::Illegal {
                            longest: Vec::new(),
                        },
                        stats: SearchStats::default(),
                        window: Some(end),
                        reason: Some(reason),
                    };
                }
                None => break,
            }
        }
    }
    let quick = Budget {
        max_steps: budget.max_steps.min(QUICK_STEPS),
        ..budget
    };
    let (result, first) = search(model, ops, quick);
    if !matches!(result, SearchResult::Undecided { .. }) || quick == budget {
        return WindowedResult {
            result,
            stats: first,
            window: None,
            reason: None,
        };
    }
    let mut total = first;
    let searched_windows = windows.iter(model).filter(|_| ops.len() > MIN_WINDOWED);
    for (end, kept, window) in searched_windows {
        let refs: Vec<&Op<M::Input, M::Output>> = window.iter().collect();
        let (result, stats) = search(model, &refs, budget);
        add(&mut total, stats);
        if let SearchResult::Illegal { longest } = result {
            let longest = longest.iter().map(|&w| kept[w]).collect();
            return WindowedResult {
                result: SearchResult::Illegal { longest },
                stats: total,
                window: Some(end),
                reason: None,
            };
        }
    }
    let (result, stats) = search(model, ops, budget);
    add(&mut total, stats);
    WindowedResult {
        result,
        stats: total,
        window: None,
        reason: None,
    }
}

/// The partition's operations by invocation, for cutting windows.
struct Windows<'a, I, O> {
    ops: &'a [&'a Op<I, O>],
    by_call: Vec<usize>,
}

impl<'a, I: Clone, O: Clone> Windows<'a, I, O> {
    fn new(ops: &'a [&'a Op<I, O>]) -> Self {
        let mut by_call: Vec<usize> = (0..ops.len()).collect();
        by_call.sort_by_key(|&i| (ops[i].call, i));
        Windows { ops, by_call }
    }

    /// Every window smaller than the partition, smallest first: (its size, its operations'
    /// partition numbers, their truncated copies).
    fn iter<'w, M: Model<Input = I, Output = O>>(
        &'w self,
        model: &'w M,
    ) -> impl Iterator<Item = (usize, Vec<usize>, Vec<Op<I, O>>)> + 'w {
        let mut size = FIRST_WINDOW;
        std::iter::from_fn(move || {
            if size >= self.ops.len() {
                return None;
            }
            let horizon = self.ops[self.by_call[size - 1]].call;
            let end = self
                .by_call
                .partition_point(|&i| self.ops[i].call <= horizon);
            if end >= self.ops.len() {
                return None;
            }
            size = end + (end / 4).max(WINDOW_STEP);
            let (kept, window) = truncate(model, self.ops, &self.by_call[..end], horizon);
            Some((end, kept, window))
        })
    }
}

/// A window: its operations' partition numbers and their truncated copies.
type Window<I, O> = (Vec<usize>, Vec<Op<I, O>>);

/// The window's operations (partition numbers) and their truncated copies.
fn truncate<M: Model>(
    model: &M,
    ops: &[&Op<M::Input, M::Output>],
    members: &[usize],
    horizon: u64,
) -> Window<M::Input, M::Output> {
    let mut kept = Vec::with_capacity(members.len());
    let mut window = Vec::with_capacity(members.len());
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    for i in sorted {
        let op = ops[i];
        let known = op.is_determinate() && op.ret.is_some_and(|r| r <= horizon);
        if !known && model.unknown_is_noop(&op.input) {
            continue; // an unknown-outcome read constrains nothing
        }
        let mut copy = op.clone();
        if !known {
            copy.output = None;
            copy.ret = None;
        }
        kept.push(i);
        window.push(copy);
    }
    (kept, window)
}

fn add(total: &mut SearchStats, stats: SearchStats) {
    total.steps += stats.steps;
    total.configs = total.configs.max(stats.configs);
    total.states = total.states.max(stats.states);
}
