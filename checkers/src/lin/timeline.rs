//! An SVG timeline of a violation's smallest failing window: one row per client, one box per
//! operation from call to return (dashed to the right edge when the outcome is unknown). The
//! longest linearizable prefix is green and numbered in linearization order, the first
//! operation that cannot be placed after it is red, other operations in the window are grey.

use super::check::PartitionReport;
use super::model::{Model, Op};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The most prefix operations drawn before the failure.
const PREFIX_TAIL: usize = 12;
/// The most operations drawn in all.
const WINDOW_MAX: usize = 60;

/// The window of a non-linearizable (or undecided) partition, as operation numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Operations drawn, in history order.
    pub ops: Vec<usize>,
    /// The first operation with a known outcome that the longest prefix could not take.
    pub failing: Option<usize>,
    /// The operations a decider's proof names (drawn red), when there is one.
    pub witness: Vec<usize>,
}

/// Chooses the window: the tail of the longest prefix, the failing operation and every
/// not-yet-linearized operation invoked before the failing one returned.
///
/// With a decider's proof, the window is the proof's operations and every operation of the
/// partition invoked before the last of them returned and returning after the first was
/// invoked.
pub fn window<M: Model>(ops: &[Op<M::Input, M::Output>], partition: &PartitionReport) -> Window {
    if !partition.witness.is_empty() {
        let from = partition.witness.iter().map(|&i| ops[i].call).min();
        let to = partition.witness.iter().filter_map(|&i| ops[i].ret).max();
        let (from, to) = (from.unwrap_or(0), to.unwrap_or(u64::MAX));
        let mut chosen: BTreeSet<usize> = partition.witness.iter().copied().collect();
        for &i in &partition.ops {
            if chosen.len() >= WINDOW_MAX {
                break;
            }
            if ops[i].call <= to && ops[i].ret.is_none_or(|r| r >= from) {
                chosen.insert(i);
            }
        }
        return Window {
            ops: chosen.into_iter().collect(),
            failing: None,
            witness: partition.witness.clone(),
        };
    }
    let in_prefix: BTreeSet<usize> = partition.order.iter().copied().collect();
    let failing = partition
        .ops
        .iter()
        .copied()
        .filter(|&i| !in_prefix.contains(&i) && ops[i].is_determinate())
        .min_by_key(|&i| (ops[i].ret, i));
    let horizon = failing.and_then(|i| ops[i].ret).unwrap_or(u64::MAX);
    let mut chosen: BTreeSet<usize> = partition
        .order
        .iter()
        .rev()
        .take(PREFIX_TAIL)
        .copied()
        .collect();
    for &i in &partition.ops {
        if chosen.len() >= WINDOW_MAX {
            break;
        }
        if !in_prefix.contains(&i) && ops[i].call <= horizon {
            chosen.insert(i);
        }
    }
    if let Some(f) = failing {
        chosen.insert(f);
    }
    Window {
        ops: chosen.into_iter().collect(),
        failing,
        witness: Vec::new(),
    }
}

/// Renders the window as a standalone SVG document.
pub fn render<M: Model>(
    model: &M,
    ops: &[Op<M::Input, M::Output>],
    partition: &PartitionReport,
    title: &str,
) -> String {
    let win = window::<M>(ops, partition);
    let rank: BTreeMap<usize, usize> = partition
        .order
        .iter()
        .enumerate()
        .map(|(k, &i)| (i, k + 1))
        .collect();
    let mut state = model.init();
    for &i in &partition.order {
        if let Some(next) = model.step(&state, &ops[i].input, ops[i].output.as_ref()) {
            state = next;
        }
    }
    let mut times: Vec<u64> = win
        .ops
        .iter()
        .flat_map(|&i| [Some(ops[i].call), ops[i].ret])
        .flatten()
        .collect();
    times.sort_unstable();
    times.dedup();
    let x_of = |t: u64| 180 + 60 * times.partition_point(|&u| u < t);
    let right = 180 + 60 * times.len() + 60;
    let clients: BTreeSet<u64> = win.ops.iter().map(|&i| ops[i].client).collect();
    let row: BTreeMap<u64, usize> = clients.iter().enumerate().map(|(r, &c)| (c, r)).collect();
    let height = 90 + 40 * clients.len();
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="monospace" font-size="11">"#,
        right + 20
    );
    let _ = writeln!(
        svg,
        r#"<text x="10" y="18" font-size="13">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r#"<text x="10" y="36">partition {:?}: longest linearizable prefix {} of {} ops (green, numbered); state after it: {}</text>"#,
        partition.keys,
        partition.order.len(),
        partition.ops.len(),
        escape(&model.describe_state(&state))
    );
    for (&client, &r) in &row {
        let _ = writeln!(
            svg,
            r#"<text x="10" y="{}">client {client}</text>"#,
            74 + 40 * r
        );
    }
    for &i in &win.ops {
        let op = &ops[i];
        let y = 58 + 40 * row.get(&op.client).copied().unwrap_or(0);
        let x0 = x_of(op.call);
        let x1 = op.ret.map_or(right, x_of).max(x0 + 30);
        let (fill, label) = match (rank.get(&i), Some(i) == win.failing) {
            _ if win.witness.contains(&i) => ("#f4a6a6", "in the proof: ".to_string()),
            (_, true) => ("#f4a6a6", "cannot be linearized: ".to_string()),
            (Some(k), _) => ("#b7e4b0", format!("#{k} ")),
            (None, _) => ("#dddddd", String::new()),
        };
        let dash = if op.ret.is_none() {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let text = format!(
            "{label}{} (line {})",
            model.describe_op(&op.input, op.output.as_ref()),
            op.line
        );
        let _ = writeln!(
            svg,
            r#"<g><title>{}</title><rect x="{x0}" y="{y}" width="{}" height="26" fill="{fill}" stroke="black"{dash}/><text x="{}" y="{}">{}</text></g>"#,
            escape(&text),
            x1 - x0,
            x0 + 3,
            y + 17,
            escape(&text)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
