//! A complete decision procedure for one string-valued register written by `put` and `append`
//! whose written values are unique (the MIT 6.5840 kv lab's `"x <client> <seq> y"`), in
//! O(n² + n·log n) instead of the search's exponential worst case.
//!
//! Why it is exact: when the written values are distinct, non-empty and prefix-free (no value is
//! a prefix of another), every reachable state decodes uniquely into the writes that built it
//! (a prefix code), so a read's value names *the* last put before it (or none) and *the exact
//! sequence* of appends since then. That splits a linearization into **epochs**: the epoch of a
//! put (or the initial one) runs from the put to the next put, and its reads and observed appends
//! have fixed ranks (put 0, `j`-th append `2j`, a read that saw `j` appends `2j + 1`). A write no
//! read saw is linearized at the end of an epoch (after the epoch's last read), or — with an
//! unknown outcome — never. A linearization then exists iff
//!
//! 1. every read decodes, repeats no write and has a put only in front;
//! 2. the reads of one epoch form a prefix chain, and no append is seen in two epochs;
//! 3. inside an epoch, every real-time edge `x.ret < y.call` goes to an equal or higher rank;
//! 4. the epochs, ordered by "some op of A returned before some op of B was invoked", form an
//!    acyclic graph with the initial epoch first;
//! 5. no unseen completed write `u` sits between two ops of one epoch (`x.ret < u.call`,
//!    `u.ret < y.call`), nor before an op of the initial epoch.
//!
//! Sufficiency is constructive: epochs in topological order, each sorted by (rank, call), every
//! unseen write at the end of the latest epoch that must precede it. The caller checks that
//! witness with [`super::witness::verify`] before reporting a pass; a failure names the
//! operations that contradict each other.

use std::collections::BTreeMap;

/// What one operation did to the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogOp<'a> {
    /// Replaced the value.
    Put(&'a str),
    /// Appended to the value.
    Append(&'a str),
    /// Read the whole value (a known result).
    Read(&'a str),
}

/// One operation: what it did and its interval (`ret` is `None` for an unknown outcome; reads
/// must have a known one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The operation.
    pub op: LogOp<'a>,
    /// Invocation.
    pub call: u64,
    /// Return, `None` when unknown.
    pub ret: Option<u64>,
}

/// The procedure's answer. Operation numbers index the entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A linearization: every completed operation, and the unknown-outcome ones that took
    /// effect, in order.
    Linearizable {
        /// The witness order.
        order: Vec<usize>,
    },
    /// No linearization exists.
    Illegal {
        /// Why, naming operations by number (the caller maps them to lines).
        reason: Reason,
    },
}

/// A proof of non-linearizability: the operations involved and what contradicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// The operations the proof is about (entry numbers).
    pub ops: Vec<usize>,
    /// What is contradictory about them, with `{0}`, `{1}`, … standing for `ops[0]`, `ops[1]`, ….
    pub what: &'static str,
}

const INITIAL: usize = usize::MAX;

/// Decides the history, or `None` when the written values are not distinct, non-empty and
/// prefix-free (the search must decide then).
pub fn decide(entries: &[Entry<'_>]) -> Option<Decision> {
    let code = Code::new(entries)?;
    Some(match decide_with(entries, &code) {
        Ok(order) => Decision::Linearizable { order },
        Err(reason) => Decision::Illegal { reason },
    })
}

/// The written values as a prefix code: value → entry number.
struct Code<'a> {
    words: BTreeMap<&'a str, usize>,
}

impl<'a> Code<'a> {
    fn new(entries: &[Entry<'a>]) -> Option<Code<'a>> {
        let mut words = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            let value = match e.op {
                LogOp::Put(v) | LogOp::Append(v) => v,
                LogOp::Read(_) => {
                    e.ret?; // a read must have a known outcome
                    continue;
                }
            };
            if value.is_empty() || words.insert(value, i).is_some() {
                return None;
            }
        }
        // Prefix-free iff no word is a prefix of its successor in sorted order (every word
        // between a and a longer word starting with a also starts with a).
        let sorted: Vec<&str> = words.keys().copied().collect();
        if sorted.windows(2).any(|w| w[1].starts_with(w[0])) {
            return None;
        }
        Some(Code { words })
    }

    /// Splits `value` into writes, or `None` if it is not a concatenation of code words. The
    /// only word that can start `rest` is the greatest word not above it.
    fn parse(&self, value: &str) -> Option<Vec<usize>> {
        let mut out = Vec::new();
        let mut rest = value;
        while !rest.is_empty() {
            let (word, &i) = self.words.range(..=rest).next_back()?;
            if !rest.starts_with(word) {
                return None;
            }
            out.push(i);
            rest = &rest[word.len()..];
        }
        Some(out)
    }
}

fn reason(ops: Vec<usize>, what: &'static str) -> Reason {
    Reason { ops, what }
}

fn before(entries: &[Entry<'_>], x: usize, y: usize) -> bool {
    entries[x].ret.is_some_and(|r| r < entries[y].call)
}

fn decide_with(entries: &[Entry<'_>], code: &Code<'_>) -> Result<Vec<usize>, Reason> {
    let n = entries.len();
    // 1. Decode every read: its epoch (leading put or INITIAL) and its appends.
    // epoch id per entry (usize::MAX-1 = not placed yet), rank per entry.
    const UNSEEN: usize = usize::MAX - 1;
    let mut epoch = vec![UNSEEN; n];
    let mut rank = vec![0usize; n];
    // epoch leader -> (the read with the longest value, its appends)
    let mut chains: BTreeMap<usize, (usize, Vec<usize>)> = BTreeMap::new();
    let mut reads: Vec<(usize, usize, usize)> = Vec::new(); // (read, leader, appends seen)
    for (r, e) in entries.iter().enumerate() {
        let LogOp::Read(value) = e.op else { continue };
        let Some(words) = code.parse(value) else {
            return Err(reason(
                vec![r],
                "{0} read a value no sequence of this key's writes builds",
            ));
        };
        let (leader, appends) = match words.first() {
            Some(&w) if matches!(entries[w].op, LogOp::Put(_)) => (w, &words[1..]),
            _ => (INITIAL, &words[..]),
        };
        let mut seen = std::collections::BTreeSet::new();
        for &w in appends {
            if matches!(entries[w].op, LogOp::Put(_)) {
                return Err(reason(
                    vec![r, w],
                    "{0} read the value of put {1} after other writes, but a put replaces the value",
                ));
            }
            if !seen.insert(w) {
                return Err(reason(
                    vec![r, w],
                    "{0} read append {1} twice, but it happened once",
                ));
            }
        }
        let chain = chains.entry(leader).or_insert((r, Vec::new()));
        let (short, long, long_read) = if appends.len() > chain.1.len() {
            (chain.1.as_slice(), appends, r)
        } else {
            (appends, chain.1.as_slice(), chain.0)
        };
        if !long.starts_with(short) {
            return Err(reason(
                vec![r, chain.0],
                "{0} and {1} read values after the same put that are not prefixes of one another",
            ));
        }
        if long_read == r {
            *chain = (r, appends.to_vec());
        }
        reads.push((r, leader, appends.len()));
    }
    // 2. Place the observed writes: a put leads its epoch, appends take their chain position.
    for (&leader, (read, chain)) in &chains {
        if leader != INITIAL {
            epoch[leader] = leader;
            rank[leader] = 0;
        }
        for (j, &a) in chain.iter().enumerate() {
            if epoch[a] != UNSEEN {
                let other = chains
                    .values()
                    .find(|(_, c)| c.contains(&a))
                    .map_or(*read, |(r, _)| *r);
                return Err(reason(
                    vec![*read, other, a],
                    "{0} and {1} both read append {2}, after different puts",
                ));
            }
            epoch[a] = leader;
            rank[a] = 2 * (j + 1);
        }
    }
    for &(r, leader, seen) in &reads {
        epoch[r] = leader;
        rank[r] = 2 * seen + 1;
    }
    // 3. Inside an epoch, real time must not go down in rank.
    for x in 0..n {
        for y in 0..n {
            if epoch[x] != UNSEEN
                && epoch[x] == epoch[y]
                && before(entries, x, y)
                && rank[x] > rank[y]
            {
                return Err(reason(
                    vec![x, y],
                    "{0} returned before {1} was invoked, but the values read order {1} first",
                ));
            }
        }
    }
    // 4. Epoch order: an edge A → B when some op of A returned before some op of B began.
    let leaders: Vec<usize> = chains.keys().copied().collect();
    let index_of = |leader: usize| leaders.binary_search(&leader).ok();
    let m = leaders.len();
    let mut edge = vec![vec![None::<(usize, usize)>; m]; m];
    for x in 0..n {
        for y in 0..n {
            if epoch[x] == UNSEEN || epoch[y] == UNSEEN || epoch[x] == epoch[y] {
                continue;
            }
            if before(entries, x, y) {
                let (a, b) = (index_of(epoch[x]), index_of(epoch[y]));
                if let (Some(a), Some(b)) = (a, b) {
                    edge[a][b].get_or_insert((x, y));
                }
            }
        }
    }
    if let Some(init) = index_of(INITIAL) {
        if let Some(&(x, y)) = (0..m).find_map(|a| edge[a][init].as_ref()) {
            return Err(reason(
                vec![x, y],
                "{0} returned before {1} was invoked, but {1} read a value from before every put",
            ));
        }
    }
    let topo = topological(&edge).map_err(|cycle| {
        let mut ops = Vec::new();
        for k in 0..cycle.len() {
            let (a, b) = (cycle[k], cycle[(k + 1) % cycle.len()]);
            if let Some((x, y)) = edge[a][b] {
                ops.extend([x, y]);
            }
        }
        reason(
            ops,
            "the epochs of these puts are ordered in a cycle by real time ({0} before {1}, …)",
        )
    })?;
    // The initial epoch (if it has ops) is first: it has no incoming edge, and `topological`
    // prefers the lowest index, which INITIAL (usize::MAX) is not; move it to the front.
    let mut order_of_epochs: Vec<usize> = topo.iter().map(|&k| leaders[k]).collect();
    if let Some(pos) = order_of_epochs.iter().position(|&l| l == INITIAL) {
        order_of_epochs.remove(pos);
    }
    order_of_epochs.insert(0, INITIAL);
    let position: BTreeMap<usize, usize> = order_of_epochs
        .iter()
        .enumerate()
        .map(|(p, &l)| (l, p))
        .collect();
    // 5. Unseen completed writes go at the end of the latest epoch that must precede them.
    // The earliest return in each epoch: some op of epoch E returned before u began iff it is
    // before u's call.
    let mut first_ret: BTreeMap<usize, (u64, usize)> = BTreeMap::new();
    for (x, &l) in epoch.iter().enumerate() {
        if let (true, Some(r)) = (l != UNSEEN, entries[x].ret) {
            let slot = first_ret.entry(l).or_insert((r, x));
            if r < slot.0 {
                *slot = (r, x);
            }
        }
    }
    let mut gap = vec![Vec::new(); order_of_epochs.len()];
    for u in 0..n {
        if epoch[u] != UNSEEN || entries[u].ret.is_none() {
            continue; // observed, or an unknown outcome that never took effect
        }
        let mut lo = 0;
        for x in 0..n {
            if epoch[x] != UNSEEN && before(entries, x, u) {
                lo = lo.max(position[&epoch[x]]);
            }
        }
        for (y, &epoch_y) in epoch.iter().enumerate() {
            if epoch_y == UNSEEN || !before(entries, u, y) {
                continue;
            }
            if epoch_y == INITIAL {
                return Err(reason(
                    vec![u, y],
                    "{0} returned before {1} was invoked, yet no read shows {0} before the first put",
                ));
            }
            if let Some(&(_, x)) = first_ret
                .get(&epoch_y)
                .filter(|(r, _)| *r < entries[u].call)
            {
                return Err(reason(
                    vec![x, u, y],
                    "{1} ran between {0} and {2}, which saw the same put, but no read saw {1}",
                ));
            }
        }
        gap[lo].push(u);
    }
    // The witness.
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &l) in epoch.iter().enumerate() {
        if l != UNSEEN {
            members.entry(l).or_default().push(i);
        }
    }
    let mut order = Vec::with_capacity(n);
    for (p, leader) in order_of_epochs.iter().enumerate() {
        let mut block = members.remove(leader).unwrap_or_default();
        block.sort_by_key(|&i| (rank[i], entries[i].call, i));
        order.extend(block);
        gap[p].sort_by_key(|&i| (entries[i].call, i));
        order.extend(gap[p].iter().copied());
    }
    Ok(order)
}

/// A topological order of the graph (lowest index first among the ready), or a cycle.
fn topological<T>(edge: &[Vec<Option<T>>]) -> Result<Vec<usize>, Vec<usize>> {
    let m = edge.len();
    let mut indegree: Vec<usize> = (0..m)
        .map(|b| (0..m).filter(|&a| edge[a][b].is_some()).count())
        .collect();
    let mut done = vec![false; m];
    let mut order = Vec::with_capacity(m);
    while order.len() < m {
        let Some(next) = (0..m).find(|&k| !done[k] && indegree[k] == 0) else {
            return Err(find_cycle(edge, &done));
        };
        done[next] = true;
        order.push(next);
        for b in 0..m {
            if edge[next][b].is_some() {
                indegree[b] -= 1;
            }
        }
    }
    Ok(order)
}

/// A cycle among the nodes not `done` (every one of them has an incoming edge from another).
fn find_cycle<T>(edge: &[Vec<Option<T>>], done: &[bool]) -> Vec<usize> {
    let m = edge.len();
    let Some(start) = (0..m).find(|&k| !done[k]) else {
        unreachable!("find_cycle called with every node done");
    };
    // Walk backwards along incoming edges until a node repeats.
    let mut path = vec![start];
    let mut seen_at = vec![usize::MAX; m];
    seen_at[start] = 0;
    loop {
        let Some(&cur) = path.last() else {
            unreachable!("path starts non-empty");
        };
        let Some(prev) = (0..m).find(|&a| !done[a] && edge[a][cur].is_some()) else {
            unreachable!("an undone node has an undone predecessor");
        };
        if seen_at[prev] != usize::MAX {
            let mut cycle: Vec<usize> = path[seen_at[prev]..].to_vec();
            cycle.reverse();
            return cycle;
        }
        seen_at[prev] = path.len();
        path.push(prev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(op: LogOp<'static>, call: u64, ret: u64) -> Entry<'static> {
        Entry {
            op,
            call,
            ret: Some(ret),
        }
    }

    #[test]
    fn sequential_appends_and_reads_are_linearizable() {
        let h = [
            e(LogOp::Append("a;"), 0, 1),
            e(LogOp::Read("a;"), 2, 3),
            e(LogOp::Append("b;"), 4, 5),
            e(LogOp::Read("a;b;"), 6, 7),
            e(LogOp::Put("p;"), 8, 9),
            e(LogOp::Read("p;"), 10, 11),
            e(LogOp::Append("c;"), 12, 13), // unseen: at the end
        ];
        assert_eq!(
            decide(&h),
            Some(Decision::Linearizable {
                order: vec![0, 1, 2, 3, 4, 5, 6]
            })
        );
    }

    #[test]
    fn a_read_missing_an_earlier_append_is_illegal() {
        let h = [
            e(LogOp::Append("a;"), 0, 1),
            e(LogOp::Append("b;"), 2, 3),
            e(LogOp::Read("b;"), 4, 5),
        ];
        let Some(Decision::Illegal { reason }) = decide(&h) else {
            panic!("expected illegal");
        };
        // a returned before b began, so a is before every read that saw b.
        assert_eq!(reason.ops, vec![0, 1]);
    }

    #[test]
    fn reads_out_of_append_order_are_illegal() {
        let h = [
            e(LogOp::Append("a;"), 0, 10),
            e(LogOp::Append("b;"), 0, 10),
            e(LogOp::Read("a;b;"), 0, 10),
            e(LogOp::Read("b;"), 0, 10),
        ];
        assert!(matches!(decide(&h), Some(Decision::Illegal { .. })));
    }

    #[test]
    fn a_put_read_inside_a_value_is_illegal_and_a_cycle_of_epochs_too() {
        let inside = [
            e(LogOp::Put("p;"), 0, 1),
            e(LogOp::Append("a;"), 0, 1),
            e(LogOp::Read("a;p;"), 2, 3),
        ];
        assert!(matches!(decide(&inside), Some(Decision::Illegal { .. })));
        // Epoch p must precede q (read p; returned before put q began) and q precede p.
        let cycle = [
            e(LogOp::Put("p;"), 0, 1),
            e(LogOp::Read("p;"), 2, 3),
            e(LogOp::Put("q;"), 4, 5),
            e(LogOp::Read("q;"), 6, 7),
            e(LogOp::Read("p;"), 8, 9),
        ];
        let Some(Decision::Illegal { reason }) = decide(&cycle) else {
            panic!("expected illegal");
        };
        assert!(reason.what.contains("cycle"), "{reason:?}");
    }

    #[test]
    fn an_unseen_write_between_two_ops_of_an_epoch_is_illegal() {
        let h = [
            e(LogOp::Put("p;"), 0, 1),
            e(LogOp::Append("u;"), 2, 3),
            e(LogOp::Read("p;"), 4, 5),
        ];
        let Some(Decision::Illegal { reason }) = decide(&h) else {
            panic!("expected illegal");
        };
        assert_eq!(reason.ops, vec![0, 1, 2]);
    }

    #[test]
    fn values_that_are_not_a_prefix_code_are_left_to_the_search() {
        let h = [e(LogOp::Append("a"), 0, 1), e(LogOp::Append("ab"), 2, 3)];
        assert_eq!(decide(&h), None);
        let dup = [e(LogOp::Append("a"), 0, 1), e(LogOp::Put("a"), 2, 3)];
        assert_eq!(decide(&dup), None);
    }
}
