//! `zabsim apply`: op scripts run against a simulated standalone server and print outcomes in
//! the op-scripts README format. Each test states the ZooKeeper 3.8 behaviour it pins
//! (PrepRequestProcessor check order, DataTree Stat rules, FinalRequestProcessor replies).

use serde_json::{json, Value};
use zabsim_sim::cli::apply::apply_text;

fn run(script: Value) -> Value {
    let lines = apply_text(&script.to_string()).expect("script parses");
    assert_eq!(lines.len(), 1);
    serde_json::from_str(&lines[0]).expect("outcome is JSON")
}

fn errs(outcome: &Value) -> Vec<String> {
    outcome["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["err"].as_str().expect("err").to_string())
        .collect()
}

/// The README's three examples: lifecycle with a one-shot data watch, an ephemeral sequential
/// node vanishing with its session (child watch of another session), a failed multi.
#[test]
fn readme_examples() {
    let text = std::fs::read_to_string("../../shared/op-scripts/examples.jsonl")
        .or_else(|_| {
            std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/op-scripts/examples.jsonl"
            ))
        })
        .expect("examples file");
    let out: Vec<Value> = apply_text(&text)
        .expect("examples parse")
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(out.len(), 3);
    let life = &out[0];
    assert_eq!(errs(life), ["OK", "OK", "OK", "BADVERSION", "OK"]);
    // Every write consumes a zxid, the failed one too.
    let zxids: Vec<i64> = life["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["zxid"].as_i64().expect("zxid"))
        .collect();
    assert_eq!(zxids, [1, 1, 2, 3, 4]);
    assert_eq!(life["results"][2]["stat"]["version"], json!(1));
    let ev = &life["results"][2]["events"][0];
    assert_eq!(ev["type"], json!("NodeDataChanged"));
    assert_eq!(ev["when"], json!("before_reply"));
    assert!(life["final_tree"].get("/cfg").is_none());

    let eph = &out[1];
    assert_eq!(eph["results"][0]["path"], json!("/lock0000000000"));
    let close = &eph["results"][2];
    assert_eq!(close["events"][0]["session"], json!("B"));
    assert_eq!(close["events"][0]["type"], json!("NodeChildrenChanged"));
    assert_eq!(close["events"][0]["when"], json!("after_reply"));
    assert_eq!(eph["results"][3]["children"], json!(["zookeeper"]));
    // The root's visible cversion: 2 * creates - children = 2 * 1 - 1.
    assert_eq!(eph["results"][3]["stat"]["cversion"], json!(1));

    let multi = &out[2];
    let results = &multi["results"][1]["results"];
    assert_eq!(results[0]["err"], json!("OK"));
    assert_eq!(results[1]["err"], json!("BADVERSION"));
    assert_eq!(results[2]["err"], json!("RUNTIMEINCONSISTENCY"));
    assert_eq!(multi["results"][2]["children"], json!([]));
}

/// Sequential suffixes come from the parent's stored child counter, shared by all prefixes
/// and not reused after deletes; the visible cversion is 2·creates − children.
#[test]
fn sequential_names_and_cversion() {
    let out = run(json!({"name": "seq", "ops": [
        {"op": "create", "path": "/q"},
        {"op": "create", "path": "/q/a-", "flags": {"sequential": true}},
        {"op": "create", "path": "/q/b-", "flags": {"sequential": true}},
        {"op": "delete", "path": "/q/a-0000000000"},
        {"op": "create", "path": "/q/a-", "flags": {"sequential": true}},
        {"op": "children", "path": "/q"},
    ]}));
    let r = &out["results"];
    assert_eq!(r[1]["path"], json!("/q/a-0000000000"));
    assert_eq!(r[2]["path"], json!("/q/b-0000000001"));
    assert_eq!(r[4]["path"], json!("/q/a-0000000002"));
    assert_eq!(r[5]["children"], json!(["a-0000000002", "b-0000000001"]));
    assert_eq!(r[5]["stat"]["cversion"], json!(2 * 3 - 2));
    // pzxid: the last child change (the create at relative zxid 5).
    assert_eq!(r[5]["stat"]["pzxid"], json!(5));
}

/// Check order: create checks the parent (NONODE) before path validity of the full name; delete
/// checks NONODE, then BADVERSION, then NOTEMPTY; ephemerals take no children; the root and
/// `/zookeeper` cannot be deleted (BADARGUMENTS).
#[test]
fn errors_in_zookeeper_order() {
    let out = run(json!({"name": "order", "ops": [
        {"op": "create", "path": "/missing/x/"},
        {"op": "create", "path": "/p"},
        {"op": "create", "path": "/p/c"},
        {"op": "delete", "path": "/p", "version": 5},
        {"op": "delete", "path": "/p"},
        {"op": "delete", "path": "/nope", "version": 5},
        {"op": "create", "path": "/e", "flags": {"ephemeral": true}},
        {"op": "create", "path": "/e/x"},
        {"op": "delete", "path": "/"},
        {"op": "delete", "path": "/zookeeper"},
        {"op": "create", "path": "/p/c"},
        {"op": "create", "path": "bad"},
        {"op": "create", "path": "/p/"},
        {"op": "create", "path": "/x", "acl": "empty"},
        {"op": "create", "path": "/x", "raw_flags": 9},
    ]}));
    assert_eq!(
        errs(&out),
        [
            "NONODE",
            "OK",
            "OK",
            "BADVERSION",
            "NOTEMPTY",
            "NONODE",
            "OK",
            "NOCHILDRENFOREPHEMERALS",
            "BADARGUMENTS",
            "BADARGUMENTS",
            "NODEEXISTS",
            "BADARGUMENTS",
            "BADARGUMENTS",
            "INVALIDACL",
            "BADARGUMENTS"
        ]
    );
}

/// ACLs: a digest-protected node answers NOAUTH until addAuth; `creator_all` without auth is
/// INVALIDACL; delete needs DELETE on the parent, not on the node.
#[test]
fn acl_checks_and_auth() {
    let out = run(json!({"name": "acl", "sessions": ["A", "B"], "ops": [
        {"op": "add_auth", "scheme": "digest", "auth": "u:p"},
        {"op": "create", "path": "/s", "acl": "creator_all"},
        {"session": "B", "op": "get", "path": "/s"},
        {"session": "B", "op": "create", "path": "/s/x"},
        {"session": "B", "op": "create", "path": "/t", "acl": "creator_all"},
        {"session": "B", "op": "add_auth", "scheme": "digest", "auth": "u:p"},
        {"session": "B", "op": "get", "path": "/s"},
        {"op": "create", "path": "/r", "acl": [["rc", "world", "anyone"]]},
        {"op": "create", "path": "/r/k"},
        {"session": "B", "op": "delete", "path": "/r/k"},
        {"op": "get_acl", "path": "/s"},
    ]}));
    assert_eq!(
        errs(&out),
        [
            "OK",
            "OK",
            "NOAUTH",
            "NOAUTH",
            "INVALIDACL",
            "OK",
            "OK",
            "OK",
            "OK",
            "NOAUTH",
            "OK"
        ]
    );
    let acl = &out["results"][10]["acl"][0];
    assert_eq!(acl[0], json!(31));
    assert_eq!(acl[1], json!("digest"));
    assert!(acl[2].as_str().expect("id").starts_with("u:"));
}

/// Watches: exists on a missing node leaves a creation watch; persistent recursive watches fire
/// for descendants (never NodeChildrenChanged) and stay; removeWatches without a watch is
/// NOWATCHER.
#[test]
fn watches() {
    let out = run(json!({"name": "w", "sessions": ["A", "B"], "ops": [
        {"session": "B", "op": "exists", "path": "/n", "watch": true},
        {"session": "B", "op": "add_watch", "path": "/n", "mode": "persistent_recursive"},
        {"op": "create", "path": "/n"},
        {"op": "create", "path": "/n/m"},
        {"op": "set", "path": "/n/m", "data": "x"},
        {"session": "B", "op": "remove_watches", "path": "/n", "type": "data"},
        {"session": "B", "op": "remove_watches", "path": "/n", "type": "data"},
    ]}));
    assert_eq!(
        errs(&out),
        ["NONODE", "OK", "OK", "OK", "OK", "OK", "NOWATCHER"]
    );
    let types = |k: usize| -> Vec<String> {
        out["results"][k]["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["type"].as_str().expect("type").to_string())
            .collect()
    };
    // One notification per watcher per change, although two watches match.
    assert_eq!(types(2), ["NodeCreated"]);
    assert_eq!(types(3), ["NodeCreated"]);
    assert_eq!(types(4), ["NodeDataChanged"]);
}

/// Sessions: a dropped session keeps its ephemerals until it expires; reconnect re-registers the
/// client's watches and fires those whose condition changed while it was away; reconnecting
/// after expiry is refused.
#[test]
fn sessions_expire_and_watches_resume() {
    let out = run(json!({"name": "s", "sessions": ["A", "B"], "ops": [
        {"session": "B", "op": "get", "path": "/zookeeper", "watch": true},
        {"session": "B", "op": "drop"},
        {"op": "set", "path": "/zookeeper", "data": "d"},
        {"session": "B", "op": "get", "path": "/zookeeper"},
        {"session": "B", "op": "reconnect"},
        {"op": "create", "path": "/eph", "flags": {"ephemeral": true}},
        {"op": "expire"},
        {"op": "reconnect"},
        {"session": "B", "op": "exists", "path": "/eph"},
    ]}));
    assert_eq!(
        errs(&out),
        [
            "OK",
            "OK",
            "OK",
            "CLIENT_NOT_CONNECTED",
            "OK",
            "OK",
            "OK",
            "SESSION_EXPIRED_ON_CONNECT",
            "NONODE"
        ]
    );
    let ev = &out["results"][4]["events"][0];
    assert_eq!(ev["type"], json!("NodeDataChanged"));
    assert_eq!(ev["session"], json!("B"));
    assert_eq!(out["results"][4]["negotiated_timeout_ms"], json!(10000));
}

/// Timeouts are clamped to 2..20 ticks (tickTime 2000).
#[test]
fn timeout_negotiation() {
    let out = run(
        json!({"name": "t", "session_timeout_ms": 100, "sessions": ["A"], "ops": [
            {"session": "C", "op": "connect", "timeout_ms": 1000000},
        ]}),
    );
    assert_eq!(out["sessions"]["A"]["negotiated_timeout_ms"], json!(4000));
    assert_eq!(out["sessions"]["C"]["negotiated_timeout_ms"], json!(40000));
}

/// A request packet over jute.maxbuffer (1 MiB - 1) closes the connection; just under passes.
#[test]
fn one_mebibyte_limit() {
    let out = run(json!({"name": "big", "ops": [
        {"op": "create", "path": "/big", "data": {"fill": "x", "len": 1048000}},
        {"op": "set", "path": "/big", "data": {"fill": "x", "len": 1048576}},
        {"op": "get", "path": "/big"},
    ]}));
    assert_eq!(
        errs(&out),
        ["OK", "CONNECTION_LOST", "CLIENT_NOT_CONNECTED"]
    );
    assert_eq!(out["final_tree"]["/big"]["data"]["len"], json!(1048000));
}

/// Multi: all or nothing; a successful multi's results carry create paths and setData Stats.
#[test]
fn multi_success_and_reads() {
    let out = run(json!({"name": "m", "ops": [
        {"op": "multi", "ops": [
            {"op": "create", "path": "/a", "data": "1"},
            {"op": "create2", "path": "/a/b"},
            {"op": "set", "path": "/a", "data": "2", "version": 0},
            {"op": "check", "path": "/a", "version": 1},
        ]},
        {"op": "multi_read", "ops": [{"op": "get", "path": "/a"}, {"op": "children", "path": "/nope"}]},
    ]}));
    let r = &out["results"][0]["results"];
    assert_eq!(r[0], json!({"type": "create", "path": "/a"}));
    // MultiOperationRecord turns create2 into a plain create: path only.
    assert_eq!(r[1], json!({"type": "create", "path": "/a/b"}));
    assert_eq!(r[2]["stat"]["version"], json!(1));
    assert_eq!(r[3]["type"], json!("check"));
    let mr = &out["results"][1]["results"];
    assert_eq!(mr[0]["data"], json!({"utf8": "2"}));
    assert_eq!(mr[1]["err"], json!("NONODE"));
}

/// Malformed scripts name the line and the field, and the binary exits 2.
#[test]
fn malformed_scripts() {
    let good = json!({"name": "ok", "ops": []}).to_string();
    let cases = [
        ("{not json", "line 2", ""),
        (
            r#"{"name": "x", "ops": [{"op": "fly"}]}"#,
            "line 2",
            "ops[0].op",
        ),
        (
            r#"{"name": "x", "ops": [{"op": "delete", "path": "/a", "version": "one"}]}"#,
            "line 2",
            "ops[0].version",
        ),
        (
            r#"{"name": "x", "ops": [{"op": "create", "path": "/a", "acl": [["rz", "world", "anyone"]]}]}"#,
            "line 2",
            "ops[0].acl[0]",
        ),
        (r#"{"ops": []}"#, "line 2", "name"),
        (r#"{"name": "x", "ops": [], "extra": 1}"#, "line 2", "extra"),
    ];
    for (bad, line, field) in cases {
        let text = format!("{good}\n{bad}\n");
        let err = apply_text(&text).expect_err(bad).to_string();
        assert!(err.contains(line), "{err}");
        assert!(err.contains(field), "{err}");
    }
    let dir = std::env::temp_dir().join(format!("zabsim-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("bad.jsonl");
    std::fs::write(&file, "{\"name\": 1, \"ops\": []}\n").expect("write");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_zabsim"))
        .arg("apply")
        .arg(&file)
        .output()
        .expect("run zabsim");
    assert_eq!(status.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(
        stderr.contains("line 1") && stderr.contains("name"),
        "{stderr}"
    );
}
