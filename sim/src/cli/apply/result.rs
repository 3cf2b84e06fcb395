//! The value fields of a successful reply (`path`, `stat`, `data`, `children`, `acl`,
//! `ephemerals`, `count`) and the per-op entries of multi / multiRead results.

use serde_json::{json, Map, Value};
use zabsim_protocol::request::{OpResult, Response};

use super::outcome::{self, Render};

/// Adds the fields of `r` to `m`.
pub fn response_fields(r: &Response, render: &Render<'_>, m: &mut Map<String, Value>) {
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    match r {
        Response::Create { path, stat } => {
            put("path", json!(path));
            if let Some(s) = stat {
                put("stat", render.stat(s));
            }
        }
        Response::Exists { stat } | Response::SetData { stat } | Response::SetAcl { stat } => {
            put("stat", render.stat(stat))
        }
        Response::GetData { data, stat } => {
            put("data", outcome::data(data));
            put("stat", render.stat(stat));
        }
        Response::GetAcl { acl, stat } => {
            put("acl", outcome::acl(acl));
            put("stat", render.stat(stat));
        }
        Response::GetChildren { children, stat } => {
            let mut c = children.clone();
            c.sort();
            put("children", json!(c));
            if let Some(s) = stat {
                put("stat", render.stat(s));
            }
        }
        Response::Sync { path } => put("path", json!(path)),
        Response::GetEphemerals { ephemerals } => {
            let mut e = ephemerals.clone();
            e.sort();
            put("ephemerals", json!(e));
        }
        Response::GetAllChildrenNumber { total_number } => put("count", json!(total_number)),
        Response::Delete | Response::Empty | Response::Multi { .. } => {}
    }
}

/// The `results` list of a multi or multiRead.
pub fn multi_results(results: &[OpResult], render: &Render<'_>) -> Value {
    Value::Array(
        results
            .iter()
            .map(|r| match r {
                OpResult::Create { path, stat } => {
                    let mut v = json!({"type": if stat.is_some() { "create2" } else { "create" }, "path": path});
                    if let Some(s) = stat {
                        v["stat"] = render.stat(s);
                    }
                    v
                }
                OpResult::Delete => json!({"type": "delete"}),
                OpResult::SetData { stat } => json!({"type": "setData", "stat": render.stat(stat)}),
                OpResult::Check => json!({"type": "check"}),
                OpResult::GetData { data, stat } => {
                    json!({"type": "getData", "data": outcome::data(data), "stat": render.stat(stat)})
                }
                OpResult::GetChildren { children } => {
                    let mut c = children.clone();
                    c.sort();
                    json!({"type": "getChildren", "children": c})
                }
                OpResult::Error { err } => json!({"type": "error", "err": err.name(), "code": err.code()}),
            })
            .collect(),
    )
}
