//! Goal: the search never rejects a history a sequential execution produced, and always catches
//! a stale read and a lost write. Method: run random operations on the sequential model, give
//! each a linearization point `10·k` and a random interval around it (random concurrency);
//! those histories are linearizable by construction. Then mutate one read: to the value of a
//! write that another write overwrote before the read began (stale read), or to the initial
//! value after some write completed before it began (lost write). Written values are unique,
//! so both mutants are not linearizable.

use proptest::prelude::*;
use zabsim_checkers::lin::models::cas_register::{
    CasRegister, RegisterInput as I, RegisterOutput as O,
};
use zabsim_checkers::lin::models::kv::{Kv, KvAction, KvInput, KvOutput};
use zabsim_checkers::lin::{check, CheckOptions, Op, Verdict};

type RegOp = Op<I, O>;

/// A register history of writes (unique values 1, 2, ...) and reads, from (is_write, before,
/// after) triples.
fn register_history(spec: &[(bool, u64, u64)]) -> Vec<RegOp> {
    let mut value = 0i64;
    let mut next = 1i64;
    let mut ops = Vec::new();
    for (k, &(write, before, after)) in spec.iter().enumerate() {
        let point = 100 + 10 * k as u64;
        let (input, output) = if write {
            value = next;
            next += 1;
            (I::Write(value), O::Written)
        } else {
            (I::Read, O::Read(Some(value)))
        };
        ops.push(Op {
            client: k as u64,
            input,
            output: Some(output),
            call: point - before,
            ret: Some(point + after),
            line: k + 1,
        });
    }
    ops
}

fn writes(ops: &[RegOp]) -> Vec<(usize, i64)> {
    ops.iter()
        .enumerate()
        .filter_map(|(i, op)| match op.input {
            I::Write(v) => Some((i, v)),
            _ => None,
        })
        .collect()
}

fn verdict(ops: &[RegOp]) -> Verdict {
    check(
        &CasRegister { initial: Some(0) },
        ops,
        CheckOptions::default(),
    )
    .verdict
}

fn spec() -> impl Strategy<Value = Vec<(bool, u64, u64)>> {
    prop::collection::vec((any::<bool>(), 0u64..45, 0u64..45), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn lin_proptest_generated_register_histories_pass(spec in spec()) {
        prop_assert_eq!(verdict(&register_history(&spec)), Verdict::Linearizable);
    }

    #[test]
    fn lin_proptest_stale_read_is_caught(spec in spec(), pick in any::<prop::sample::Index>()) {
        let mut ops = register_history(&spec);
        let ws = writes(&ops);
        // (w1, w2, r): w1 returned before w2 was called, w2 returned before r was called.
        let mut candidates = Vec::new();
        for &(a, va) in &ws {
            for &(b, _) in &ws {
                for (r, op) in ops.iter().enumerate() {
                    let a_ret = ops[a].ret.unwrap_or(u64::MAX);
                    let b_ret = ops[b].ret.unwrap_or(u64::MAX);
                    if op.input == I::Read && a_ret < ops[b].call && b_ret < op.call {
                        candidates.push((r, va));
                    }
                }
            }
        }
        prop_assume!(!candidates.is_empty());
        let (r, stale) = candidates[pick.index(candidates.len())];
        ops[r].output = Some(O::Read(Some(stale)));
        prop_assert_eq!(verdict(&ops), Verdict::NotLinearizable);
    }

    #[test]
    fn lin_proptest_lost_write_is_caught(spec in spec(), pick in any::<prop::sample::Index>()) {
        let mut ops = register_history(&spec);
        let ws = writes(&ops);
        let reads: Vec<usize> = (0..ops.len())
            .filter(|&r| ops[r].input == I::Read && ws.iter().any(|&(w, _)| ops[w].ret.unwrap_or(u64::MAX) < ops[r].call))
            .collect();
        prop_assume!(!reads.is_empty());
        let r = reads[pick.index(reads.len())];
        ops[r].output = Some(O::Read(Some(0)));
        prop_assert_eq!(verdict(&ops), Verdict::NotLinearizable);
    }

    #[test]
    fn lin_proptest_generated_kv_histories_pass(
        spec in prop::collection::vec((0u8..3, 0u8..3, 0u64..45, 0u64..45), 1..60)
    ) {
        let mut store = std::collections::BTreeMap::<String, String>::new();
        let mut ops = Vec::new();
        for (k, &(kind, key, before, after)) in spec.iter().enumerate() {
            let key = key.to_string();
            let point = 100 + 10 * k as u64;
            let value = format!("x{k}y");
            let (action, output) = match kind {
                0 => (KvAction::Get, KvOutput::Value(store.get(&key).cloned().unwrap_or_default())),
                1 => {
                    store.insert(key.clone(), value.clone());
                    (KvAction::Put(value), KvOutput::Done)
                }
                _ => {
                    store.entry(key.clone()).or_default().push_str(&value);
                    (KvAction::Append(value), KvOutput::Done)
                }
            };
            ops.push(Op { client: k as u64, input: KvInput { key, action }, output: Some(output), call: point - before, ret: Some(point + after), line: k + 1 });
        }
        let report = check(&Kv, &ops, CheckOptions::default());
        prop_assert_eq!(report.verdict, Verdict::Linearizable);
        let unpartitioned = check(&Kv, &ops, CheckOptions { partition: false, ..CheckOptions::default() });
        prop_assert_eq!(unpartitioned.verdict, Verdict::Linearizable);
    }

    /// Goal: the kv append-log decider and the windows never disagree with the plain WGL
    /// search. Method: one key, unique written values, random intervals; a sequential run's
    /// reads, some of them replaced by another read's value or by a value one append short
    /// (so both verdicts occur); the default check against one with deciders and windows off.
    #[test]
    fn lin_proptest_kv_decider_agrees_with_the_search(
        spec in prop::collection::vec((0u8..4, 0u64..40, 0u64..40), 1..40),
        swaps in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<bool>()), 0..3),
    ) {
        let mut value = String::new();
        let mut ops = Vec::new();
        for (k, &(kind, before, after)) in spec.iter().enumerate() {
            let point = 100 + 10 * k as u64;
            let word = format!("x{k}y");
            let (action, output) = match kind {
                0 | 1 => (KvAction::Get, KvOutput::Value(value.clone())),
                2 => {
                    value = word.clone();
                    (KvAction::Put(word), KvOutput::Done)
                }
                _ => {
                    value.push_str(&word);
                    (KvAction::Append(word), KvOutput::Done)
                }
            };
            let input = KvInput { key: "k".to_string(), action };
            ops.push(Op { client: k as u64, input, output: Some(output), call: point - before, ret: Some(point + after), line: k + 1 });
        }
        let reads: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].input.action == KvAction::Get).collect();
        prop_assume!(!reads.is_empty());
        for (a, b, shorten) in swaps {
            let (a, b) = (reads[a.index(reads.len())], reads[b.index(reads.len())]);
            let Some(KvOutput::Value(v)) = ops[b].output.clone() else { continue };
            let v = if shorten { v.rfind('x').map_or(v.clone(), |cut| v[..cut].to_string()) } else { v };
            ops[a].output = Some(KvOutput::Value(v));
        }
        let fast = check(&Kv, &ops, CheckOptions::default());
        let plain = CheckOptions { deciders: false, windows: false, ..CheckOptions::default() };
        let slow = check(&Kv, &ops, plain);
        prop_assert_ne!(slow.verdict, Verdict::Undecided);
        prop_assert_eq!(fast.verdict, slow.verdict);
    }
}
