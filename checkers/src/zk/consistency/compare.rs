//! Comparing a reply with the reference model's answer: Stat times the model does not know are
//! wildcards, children and ephemeral lists compare as sets.

use crate::reference::UNKNOWN_TIME;
use zabsim_protocol::request::{OpResult, Response};
use zabsim_protocol::stat::Stat;

/// Whether `actual` is the Stat the model expects.
pub fn stat_matches(expected: &Stat, actual: &Stat) -> bool {
    let times = |e: i64, a: i64| e == UNKNOWN_TIME || e == a;
    expected.czxid == actual.czxid
        && expected.mzxid == actual.mzxid
        && expected.pzxid == actual.pzxid
        && times(expected.ctime, actual.ctime)
        && times(expected.mtime, actual.mtime)
        && expected.version == actual.version
        && expected.cversion == actual.cversion
        && expected.aversion == actual.aversion
        && expected.ephemeral_owner == actual.ephemeral_owner
        && expected.data_length == actual.data_length
        && expected.num_children == actual.num_children
}

fn opt_stat_matches(expected: &Option<Stat>, actual: &Option<Stat>) -> bool {
    match (expected, actual) {
        (Some(e), Some(a)) => stat_matches(e, a),
        (None, None) => true,
        _ => false,
    }
}

fn sorted(list: &[String]) -> Vec<&String> {
    let mut v: Vec<&String> = list.iter().collect();
    v.sort();
    v
}

/// Whether a reply body is the one the model expects.
pub fn response_matches(expected: &Response, actual: &Response) -> bool {
    use Response as R;
    match (expected, actual) {
        (R::Create { path: p, stat: s }, R::Create { path: q, stat: t }) => {
            p == q && opt_stat_matches(s, t)
        }
        (R::Exists { stat: s }, R::Exists { stat: t })
        | (R::SetData { stat: s }, R::SetData { stat: t })
        | (R::SetAcl { stat: s }, R::SetAcl { stat: t }) => stat_matches(s, t),
        (R::GetData { data: d, stat: s }, R::GetData { data: e, stat: t }) => {
            d == e && stat_matches(s, t)
        }
        (R::GetAcl { acl: a, stat: s }, R::GetAcl { acl: b, stat: t }) => {
            a == b && stat_matches(s, t)
        }
        (
            R::GetChildren {
                children: c,
                stat: s,
            },
            R::GetChildren {
                children: d,
                stat: t,
            },
        ) => sorted(c) == sorted(d) && opt_stat_matches(s, t),
        (R::Multi { results: a }, R::Multi { results: b }) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| op_result_matches(x, y))
        }
        (R::GetEphemerals { ephemerals: a }, R::GetEphemerals { ephemerals: b }) => {
            sorted(a) == sorted(b)
        }
        (e, a) => e == a,
    }
}

fn op_result_matches(expected: &OpResult, actual: &OpResult) -> bool {
    use OpResult as O;
    match (expected, actual) {
        (O::Create { path: p, stat: s }, O::Create { path: q, stat: t }) => {
            p == q && opt_stat_matches(s, t)
        }
        (O::SetData { stat: s }, O::SetData { stat: t }) => stat_matches(s, t),
        (O::GetData { data: d, stat: s }, O::GetData { data: e, stat: t }) => {
            d == e && stat_matches(s, t)
        }
        (O::GetChildren { children: c }, O::GetChildren { children: d }) => sorted(c) == sorted(d),
        (e, a) => e == a,
    }
}
