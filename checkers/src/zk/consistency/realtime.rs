//! Real-time order: writes' zxid order against real time (reported as a concrete precedence
//! cycle), a session's writes in FIFO order, reads never from the future, sync freshness.

use super::witness::Witness;
use super::{Op, NAME};
use crate::history::{OpId, Outcome, TimeNs};
use crate::zk::cluster::ClusterModel;
use crate::zk::{Violation, ViolationKind};
use petgraph::graph::DiGraph;
use std::collections::BTreeMap;
use zabsim_protocol::request::Request;
use zabsim_protocol::types::{Epoch, SessionId, Zxid};

/// A write placed in the witness: its zxid and its real-time interval (an unknown write that
/// committed has no end).
#[derive(Clone, Copy, Debug)]
struct Placed {
    op: usize,
    zxid: Zxid,
    invoke: TimeNs,
    complete: Option<TimeNs>,
}

pub(crate) fn check(ops: &[Op], witness: &Witness, model: &ClusterModel) -> Vec<Violation> {
    let mut placed: Vec<Placed> = witness
        .op_zxid
        .iter()
        .filter_map(|(&op, &zxid)| {
            let o = ops.get(op)?;
            let complete = if o.is_determinate() {
                o.complete_ns
            } else {
                None
            };
            Some(Placed {
                op,
                zxid,
                invoke: o.invoke_ns,
                complete,
            })
        })
        .collect();
    placed.sort_by_key(|p| p.zxid);
    let mut found = Vec::new();
    found.extend(write_order(ops, &placed));
    found.extend(session_write_order(ops, &placed));
    found.extend(reads_from_future(ops, &placed, model));
    found.extend(stale_syncs(ops, &placed));
    found
}

/// A write with a larger zxid that returned before a smaller-zxid write was invoked: the cycle
/// `H →(real time) W →(zxid order) H`. The sweep goes down the zxid order keeping the earliest
/// completion among larger zxids.
fn write_order(ops: &[Op], placed: &[Placed]) -> Option<Violation> {
    let mut earliest_later: Option<Placed> = None;
    for w in placed.iter().rev() {
        if let Some(h) = earliest_later {
            if h.complete.is_some_and(|c| c < w.invoke) {
                return Some(cycle_violation(ops, &h, w));
            }
        }
        let earlier = match (earliest_later.and_then(|h| h.complete), w.complete) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(h), Some(c)) => c < h,
        };
        if earliest_later.is_none() || earlier {
            earliest_later = Some(*w);
        }
    }
    None
}

fn cycle_violation(ops: &[Op], later: &Placed, earlier: &Placed) -> Violation {
    let id = |p: &Placed| ops.get(p.op).map_or(OpId(0), |o| o.id);
    let mut graph: DiGraph<OpId, &str> = DiGraph::new();
    let h = graph.add_node(id(later));
    let w = graph.add_node(id(earlier));
    graph.add_edge(h, w, "returned before it was invoked");
    graph.add_edge(w, h, "has the smaller zxid");
    assert!(
        petgraph::algo::is_cyclic_directed(&graph),
        "a reported precedence cycle must be a cycle"
    );
    let cycle: Vec<String> = graph
        .edge_indices()
        .filter_map(|e| {
            let (a, b) = graph.edge_endpoints(e)?;
            Some(format!("op {} {} op {}", graph[a].0, graph[e], graph[b].0))
        })
        .collect();
    Violation::new(
        NAME,
        ViolationKind::WriteOrder,
        format!(
            "write precedence cycle: {} (zxids {} and {})",
            cycle.join("; "),
            later.zxid,
            earlier.zxid
        ),
    )
    .ops([id(later), id(earlier)])
    .zxids([earlier.zxid, later.zxid])
}

/// A session's determinate writes get zxids in the order it sent them.
fn session_write_order(ops: &[Op], placed: &[Placed]) -> Option<Violation> {
    let mut last: BTreeMap<SessionId, (usize, Zxid)> = BTreeMap::new();
    let mut by_invocation: Vec<&Placed> = placed
        .iter()
        .filter(|p| ops.get(p.op).is_some_and(Op::is_determinate))
        .collect();
    by_invocation.sort_by_key(|p| p.op);
    for p in by_invocation {
        let op = ops.get(p.op)?;
        if let Some(&(prev, zxid)) = last.get(&op.session) {
            if zxid > p.zxid {
                let prev_id = ops.get(prev).map_or(OpId(0), |o| o.id);
                return Some(
                    Violation::new(
                        NAME,
                        ViolationKind::SessionOrder,
                        format!(
                            "session {} sent op {} before op {}, but they were applied at {zxid} \
                             and {}",
                            op.session, prev_id.0, op.id.0, p.zxid
                        ),
                    )
                    .ops([prev_id, op.id])
                    .zxids([zxid, p.zxid])
                    .sessions([op.session]),
                );
            }
        }
        last.insert(op.session, (p.op, p.zxid));
    }
    None
}

/// A read whose reply zxid covers a write invoked only after the read returned, or a txn
/// committed only after it returned.
fn reads_from_future(ops: &[Op], placed: &[Placed], model: &ClusterModel) -> Vec<Violation> {
    let mut latest_invoke: Vec<(Zxid, TimeNs, usize)> = Vec::with_capacity(placed.len());
    for p in placed {
        let best = match latest_invoke.last() {
            Some(&(_, t, op)) if t >= p.invoke => (p.zxid, t, op),
            _ => (p.zxid, p.invoke, p.op),
        };
        latest_invoke.push(best);
    }
    let mut found = Vec::new();
    for op in ops.iter().filter(|o| !o.is_write()) {
        let zxid = match &op.outcome {
            Some(Outcome::Ok { zxid, .. }) => zxid,
            Some(Outcome::Error { zxid, err }) if !super::session::is_session_level(*err) => zxid,
            _ => continue,
        };
        let Some(done) = op.complete_ns else { continue };
        let upto = latest_invoke.partition_point(|(z, _, _)| z <= zxid);
        if let Some(&(_, invoked, w)) = upto.checked_sub(1).and_then(|i| latest_invoke.get(i)) {
            if invoked > done {
                let wid = ops.get(w).map_or(OpId(0), |o| o.id);
                found.push(future(
                    op,
                    *zxid,
                    format!("write op {} was invoked only at {invoked} ns", wid.0),
                    [wid],
                ));
                continue;
            }
        }
        let committed_late = model
            .committed_at
            .range(..=*zxid)
            .filter(|(_, t)| **t > done)
            .map(|(z, t)| (*z, *t))
            .next();
        if let Some((z, t)) = committed_late {
            found.push(future(
                op,
                *zxid,
                format!("txn {z} was committed only at {t} ns"),
                [],
            ));
        }
    }
    found
}

fn future<const N: usize>(op: &Op, zxid: Zxid, why: String, others: [OpId; N]) -> Violation {
    Violation::new(
        NAME,
        ViolationKind::ReadFromFuture,
        format!(
            "op {} ({}) returned at {} ns with the state at {zxid}, but {why}",
            op.id.0,
            op.request.op_code().name(),
            op.complete_ns.unwrap_or(0)
        ),
    )
    .ops(std::iter::once(op.id).chain(others))
    .zxids([zxid])
    .sessions([op.session])
}

/// A sync answered by a follower covers every write completed before it was invoked, within
/// the sync's epoch.
fn stale_syncs(ops: &[Op], placed: &[Placed]) -> Vec<Violation> {
    let mut done_by_epoch: BTreeMap<Epoch, Vec<(TimeNs, Zxid, usize)>> = BTreeMap::new();
    for p in placed {
        if let Some(c) = p.complete {
            done_by_epoch
                .entry(p.zxid.epoch())
                .or_default()
                .push((c, p.zxid, p.op));
        }
    }
    for list in done_by_epoch.values_mut() {
        list.sort();
        let mut best: Option<(Zxid, usize)> = None;
        for entry in list.iter_mut() {
            if best.is_none_or(|(z, _)| entry.1 > z) {
                best = Some((entry.1, entry.2));
            }
            if let Some((z, op)) = best {
                (entry.1, entry.2) = (z, op);
            }
        }
    }
    let mut found = Vec::new();
    for sync in ops
        .iter()
        .filter(|o| matches!(o.request, Request::Sync { .. }))
    {
        let Some(Outcome::Ok { zxid, .. }) = &sync.outcome else {
            continue;
        };
        if sync.answered_by_leader {
            continue; // a leader answers sync in session order without a flush
        }
        let Some(list) = done_by_epoch.get(&zxid.epoch()) else {
            continue;
        };
        let upto = list.partition_point(|(c, _, _)| *c < sync.invoke_ns);
        let Some(&(_, max, w)) = upto.checked_sub(1).and_then(|i| list.get(i)) else {
            continue;
        };
        if max > *zxid {
            let wid = ops.get(w).map_or(OpId(0), |o| o.id);
            found.push(
                Violation::new(
                    NAME,
                    ViolationKind::StaleSync,
                    format!(
                        "sync op {} was invoked after write op {} completed at {max}, in the same \
                         epoch, but the sync was answered at {zxid}",
                        sync.id.0, wid.0
                    ),
                )
                .ops([wid, sync.id])
                .zxids([max, *zxid])
                .sessions([sync.session]),
            );
        }
    }
    found
}
