//! Wing & Gong's search with Lowe's memoisation (WGL), in the form of Horn & Kroening: the
//! history is a doubly-linked list of call and return entries held in index arrays; an
//! operation is linearized by lifting its call and return out of the list and re-linked on
//! backtrack in O(1). Every configuration (linearized bitset, interned model state) is
//! memoised, so the search never explores the same configuration twice.
//!
//! Two refinements keep the search small:
//! - **State interning and a transition memo**: model states become `u32` ids, and
//!   `step(state, op)` is computed once per (op, state) pair.
//! - **Eager read-only operations**: an operation that cannot change the state (a read, a
//!   failed compare-and-set) and fits the current state is linearized without a choice
//!   point. If a linearization exists from configuration C, one exists that starts with such an
//!   operation (moving it to the front changes no state and breaks no real-time edge, since
//!   every operation that returned before its call is already linearized), so when C + r
//!   fails, C fails too.
//! - **Look-ahead** (models that opt in, [`Model::lookahead`]): a state change after which some
//!   pending read can never fit — no pending writer may rescue it ([`Model::may_rescue`]) — is
//!   cut off at once instead of when that read becomes callable.
//!
//! Operations with an unknown outcome have their return at the end of time and need not be
//! linearized: the search succeeds as soon as every operation with a known outcome is.
//! A step budget bounds the work; running out yields [`SearchResult::Undecided`], never a pass.

use super::bitset::Bitset;
use super::model::{Model, Op};
use super::table::{ConfigSet, DetMap};

/// Limits on one partition's search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Search steps (entries visited) before giving up.
    pub max_steps: u64,
    /// Memoised configurations before giving up (bounds memory).
    pub max_configs: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_steps: 200_000_000,
            max_configs: 20_000_000,
        }
    }
}

/// The result of searching one partition. Operation numbers index the slice searched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchResult {
    /// A witness: the linearization order of the operations that took effect.
    Linearizable {
        /// The order.
        order: Vec<usize>,
    },
    /// No linearization exists.
    Illegal {
        /// The longest linearizable prefix found.
        longest: Vec<usize>,
    },
    /// The budget ran out.
    Undecided {
        /// The longest linearizable prefix found so far.
        longest: Vec<usize>,
    },
}

/// Work done by one search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Steps taken.
    pub steps: u64,
    /// Configurations memoised.
    pub configs: usize,
    /// Distinct model states seen.
    pub states: usize,
    /// State changes cut off by the look-ahead ([`Model::lookahead`]).
    pub pruned: u64,
}

const HEAD: usize = 0;
const NIL: usize = usize::MAX;
const INVALID: u32 = u32::MAX;

/// The entry list: entry 0 is the head; entry `e >= 1` is a call or a return.
struct Entries {
    next: Vec<usize>,
    prev: Vec<usize>,
    op: Vec<usize>,
    is_call: Vec<bool>,
    ret_of: Vec<usize>,
}

impl Entries {
    fn build<I, O>(ops: &[&Op<I, O>]) -> Entries {
        let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            events.push((op.call, 0, i));
            events.push((op.ret.unwrap_or(u64::MAX), 1, i));
        }
        // Calls before returns at equal times: closed intervals, equal times are concurrent.
        events.sort_unstable();
        let n = events.len() + 1;
        let mut list = Entries {
            next: (1..=n).map(|e| if e == n { NIL } else { e }).collect(),
            prev: (0..n).map(|e| if e == 0 { NIL } else { e - 1 }).collect(),
            op: vec![usize::MAX; n],
            is_call: vec![false; n],
            ret_of: vec![NIL; n],
        };
        let mut call_entry = vec![NIL; ops.len()];
        for (k, &(_, kind, i)) in events.iter().enumerate() {
            let e = k + 1;
            list.op[e] = i;
            list.is_call[e] = kind == 0;
            if kind == 0 {
                call_entry[i] = e;
            } else {
                assert_ne!(call_entry[i], NIL, "return before call");
                list.ret_of[call_entry[i]] = e;
            }
        }
        list
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        if n != NIL {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        if n != NIL {
            self.prev[n] = e;
        }
    }

    fn lift(&mut self, call: usize) {
        self.unlink(call);
        self.unlink(self.ret_of[call]);
    }

    fn unlift(&mut self, call: usize) {
        self.relink(self.ret_of[call]);
        self.relink(call);
    }
}

struct Frame {
    entry: usize,
    state: u32,
    eager: bool,
}

/// Interned states and memoised transitions.
struct Machine<'m, M: Model> {
    model: &'m M,
    states: DetMap<M::State, u32>,
    transitions: DetMap<(u32, u32), u32>,
}

impl<M: Model> Machine<'_, M> {
    fn intern(&mut self, state: M::State) -> u32 {
        self.states.get_or_insert_with(state, |n| n as u32)
    }

    fn step(
        &mut self,
        op_index: usize,
        op: &Op<M::Input, M::Output>,
        read_only: bool,
        state: u32,
    ) -> u32 {
        let key = (op_index as u32, state);
        if let Some(next) = self.transitions.get(&key) {
            return next;
        }
        let Some((current, _)) = self.states.entry(state as usize) else {
            unreachable!("state id {state} was interned");
        };
        let next = if read_only {
            if self.model.accepts(current, &op.input, op.output.as_ref()) {
                state
            } else {
                INVALID
            }
        } else {
            match self.model.step(current, &op.input, op.output.as_ref()) {
                Some(s) => self.intern(s),
                None => INVALID,
            }
        };
        self.transitions.get_or_insert_with(key, |_| next)
    }
}

/// Searches for a linearization of `ops` (one partition) under `model`.
pub fn search<M: Model>(
    model: &M,
    ops: &[&Op<M::Input, M::Output>],
    budget: Budget,
) -> (SearchResult, SearchStats) {
    assert!(ops.len() < u32::MAX as usize, "too many operations");
    let mut list = Entries::build(ops);
    let determinate: Vec<bool> = ops.iter().map(|op| op.is_determinate()).collect();
    let read_only: Vec<bool> = ops
        .iter()
        .map(|op| model.is_read_only(&op.input, op.output.as_ref()))
        .collect();
    let mut machine = Machine {
        model,
        states: DetMap::new(),
        transitions: DetMap::new(),
    };
    let writers = concurrent_writers(ops, &read_only, &determinate);
    let mut lookahead = Lookahead::new(model, ops, &read_only, &determinate);
    let mut writer_inputs: Vec<&M::Input> = Vec::new();
    let mut state = machine.intern(model.init());
    let mut bits = Bitset::new(ops.len());
    let mut memo = ConfigSet::new(bits.words().len());
    let mut remaining = determinate.iter().filter(|d| **d).count();
    let mut stack: Vec<Frame> = Vec::new();
    let mut longest: Vec<usize> = Vec::new();
    let mut stats = SearchStats::default();
    let mut entry = list.next[HEAD];
    let result = loop {
        if remaining == 0 {
            break SearchResult::Linearizable {
                order: stack.iter().map(|f| list.op[f.entry]).collect(),
            };
        }
        stats.steps += 1;
        if stats.steps > budget.max_steps || memo.len() > budget.max_configs {
            break SearchResult::Undecided { longest };
        }
        assert_ne!(entry, NIL, "a known-outcome return is still in the list");
        let mut backtrack = !list.is_call[entry];
        if !backtrack {
            let i = list.op[entry];
            let next = machine.step(i, ops[i], read_only[i], state);
            if next != INVALID {
                assert!(!read_only[i] || next == state, "read-only op changed state");
                bits.set(i);
                let dead = !read_only[i] && lookahead.dead(&machine, ops, next, &bits);
                if dead {
                    bits.clear(i);
                    stats.pruned += 1;
                    entry = list.next[entry];
                    continue;
                }
                if memo.insert(bits.hash(), bits.words(), next) {
                    stack.push(Frame {
                        entry,
                        state,
                        eager: read_only[i],
                    });
                    state = next;
                    list.lift(entry);
                    if determinate[i] {
                        remaining -= 1;
                    }
                    if stack.len() > longest.len() {
                        longest = stack.iter().map(|f| list.op[f.entry]).collect();
                    }
                    entry = list.next[HEAD];
                    continue;
                }
                bits.clear(i);
                backtrack = read_only[i];
            } else if read_only[i] && determinate[i] {
                // A read that must still be linearized and can never fit: this configuration
                // is dead.
                writer_inputs.clear();
                let pending = writers[i]
                    .iter()
                    .map(|&w| w as usize)
                    .filter(|&w| !bits.contains(w));
                writer_inputs.extend(pending.map(|w| &ops[w].input));
                let Some((current, _)) = machine.states.entry(state as usize) else {
                    unreachable!("state id {state} was interned");
                };
                backtrack = model.unreachable(
                    current,
                    &ops[i].input,
                    ops[i].output.as_ref(),
                    &writer_inputs,
                );
            }
            if !backtrack {
                entry = list.next[entry];
                continue;
            }
        }
        // Backtrack: undo eager frames (their failure is their parent's), then one choice.
        let mut resumed = false;
        while let Some(frame) = stack.pop() {
            let i = list.op[frame.entry];
            list.unlift(frame.entry);
            bits.clear(i);
            state = frame.state;
            if determinate[i] {
                remaining += 1;
            }
            if !frame.eager {
                entry = list.next[frame.entry];
                resumed = true;
                break;
            }
        }
        if !resumed {
            break SearchResult::Illegal { longest };
        }
    };
    stats.configs = memo.len();
    stats.states = machine.states.len();
    (result, stats)
}

/// The look-ahead of [`Model::lookahead`]: for each state, the pending-read candidates that
/// can never fit it unaided (computed once per state), and for each read the writers that may
/// rescue it.
struct Lookahead {
    enabled: bool,
    /// Read-only operations with a known outcome.
    reads: Vec<usize>,
    /// For each operation, the writers (invoked before it returned) that may rescue it.
    rescuers: Vec<Vec<u32>>,
    /// Per state id: the reads that can never fit it unaided.
    stuck: Vec<Option<Vec<u32>>>,
}

impl Lookahead {
    fn new<M: Model>(
        model: &M,
        ops: &[&Op<M::Input, M::Output>],
        read_only: &[bool],
        determinate: &[bool],
    ) -> Lookahead {
        let enabled = model.lookahead();
        let reads: Vec<usize> = if enabled {
            (0..ops.len())
                .filter(|&r| read_only[r] && determinate[r])
                .collect()
        } else {
            Vec::new()
        };
        let mut rescuers = vec![Vec::new(); ops.len()];
        for &r in &reads {
            let ret = ops[r].ret.unwrap_or(u64::MAX);
            rescuers[r] = (0..ops.len())
                .filter(|&w| !read_only[w] && ops[w].call <= ret)
                .filter(|&w| model.may_rescue(&ops[r].input, ops[r].output.as_ref(), &ops[w].input))
                .map(|w| w as u32)
                .collect();
        }
        Lookahead {
            enabled,
            reads,
            rescuers,
            stuck: Vec::new(),
        }
    }

    /// Whether the configuration (`bits`, `state`) has a pending read that can never fit.
    fn dead<M: Model>(
        &mut self,
        machine: &Machine<'_, M>,
        ops: &[&Op<M::Input, M::Output>],
        state: u32,
        bits: &Bitset,
    ) -> bool {
        if !self.enabled {
            return false;
        }
        let s = state as usize;
        if self.stuck.len() <= s {
            self.stuck.resize(s + 1, None);
        }
        if self.stuck[s].is_none() {
            let Some((current, _)) = machine.states.entry(s) else {
                unreachable!("state id {state} was interned");
            };
            let model = machine.model;
            let stuck = self
                .reads
                .iter()
                .copied()
                .filter(|&r| {
                    let (input, output) = (&ops[r].input, ops[r].output.as_ref());
                    !model.accepts(current, input, output)
                        && model.unreachable(current, input, output, &[])
                })
                .map(|r| r as u32)
                .collect();
            self.stuck[s] = Some(stuck);
        }
        let Some(stuck) = &self.stuck[s] else {
            unreachable!("just filled");
        };
        stuck.iter().any(|&r| {
            !bits.contains(r as usize)
                && self.rescuers[r as usize]
                    .iter()
                    .all(|&w| bits.contains(w as usize))
        })
    }
}

/// For each read-only operation with a known outcome, the state-changing operations that may
/// be linearized before it and are not necessarily linearized when it becomes callable: those
/// invoked before it returned and not returned before it was invoked.
fn concurrent_writers<I, O>(
    ops: &[&Op<I, O>],
    read_only: &[bool],
    determinate: &[bool],
) -> Vec<Vec<u32>> {
    let mut by_call: Vec<usize> = (0..ops.len()).filter(|&w| !read_only[w]).collect();
    by_call.sort_by_key(|&w| ops[w].call);
    (0..ops.len())
        .map(|r| {
            if !(read_only[r] && determinate[r]) {
                return Vec::new();
            }
            let (call, ret) = (ops[r].call, ops[r].ret.unwrap_or(u64::MAX));
            let end = by_call.partition_point(|&w| ops[w].call <= ret);
            by_call[..end]
                .iter()
                .copied()
                .filter(|&w| ops[w].ret.is_none_or(|t| t >= call))
                .map(|w| w as u32)
                .collect()
        })
        .collect()
}
