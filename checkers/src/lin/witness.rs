//! Checking a claimed linearization: every operation with a known outcome appears exactly once,
//! unknown-outcome ones at most once, the order respects real time (no operation is placed
//! after one that was invoked only after it returned), and the model accepts every result.
//! A pass from a model-specific decision procedure is reported only once its witness passes
//! this check.

use super::model::{Model, Op};

/// Verifies `order` (indices into `ops`) as a linearization of `ops` under `model`; the error
/// names the offending position.
pub fn verify<M: Model>(
    model: &M,
    ops: &[&Op<M::Input, M::Output>],
    order: &[usize],
) -> Result<(), String> {
    let mut placed = vec![false; ops.len()];
    let mut state = model.init();
    // The latest invocation among the operations placed so far: a later operation must not
    // have returned before it.
    let mut latest_call: Option<(u64, usize)> = None;
    for (pos, &i) in order.iter().enumerate() {
        let Some(op) = ops.get(i) else {
            return Err(format!("position {pos}: no operation {i}"));
        };
        if std::mem::replace(&mut placed[i], true) {
            return Err(format!("position {pos}: operation {i} placed twice"));
        }
        if let (Some((call, j)), Some(ret)) = (latest_call, op.ret) {
            if ret < call {
                return Err(format!(
                    "position {pos}: operation {i} returned before operation {j}, placed earlier, was invoked"
                ));
            }
        }
        if latest_call.is_none_or(|(c, _)| op.call > c) {
            latest_call = Some((op.call, i));
        }
        match model.step(&state, &op.input, op.output.as_ref()) {
            Some(next) => state = next,
            None => {
                return Err(format!(
                    "position {pos}: operation {i} ({}) does not fit state {}",
                    model.describe_op(&op.input, op.output.as_ref()),
                    model.describe_state(&state)
                ))
            }
        }
    }
    if let Some(i) = (0..ops.len()).find(|&i| ops[i].is_determinate() && !placed[i]) {
        return Err(format!(
            "operation {i} has a known outcome but is not placed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::verify;
    use crate::lin::models::cas_register::{CasRegister, RegisterInput as I, RegisterOutput as O};
    use crate::lin::Op;

    fn op(input: I, output: O, call: u64, ret: u64) -> Op<I, O> {
        Op {
            client: 0,
            input,
            output: Some(output),
            call,
            ret: Some(ret),
            line: 0,
        }
    }

    #[test]
    fn accepts_a_linearization_and_names_each_kind_of_fault() {
        let model = CasRegister { initial: Some(0) };
        let w = op(I::Write(1), O::Written, 0, 1);
        let r = op(I::Read, O::Read(Some(1)), 2, 3);
        let ops = [&w, &r];
        assert_eq!(verify(&model, &ops, &[0, 1]), Ok(()));
        let w2 = op(I::Write(2), O::Written, 2, 3);
        let writes = [&w, &w2];
        assert!(verify(&model, &writes, &[1, 0]).is_err_and(|e| e.contains("returned before")));
        assert!(verify(&model, &ops, &[0]).is_err_and(|e| e.contains("not placed")));
        assert!(verify(&model, &ops, &[0, 0]).is_err_and(|e| e.contains("twice")));
        let stale = op(I::Read, O::Read(Some(0)), 2, 3);
        let ops = [&w, &stale];
        assert!(verify(&model, &ops, &[0, 1]).is_err_and(|e| e.contains("does not fit")));
    }
}
